//! `imglock.lock`: the Lock model, reading it back (validated), and where it is written.
//!
//! The lock is a public format (documented in the README): TOML, `version = 1`, a hash of the
//! normalised spec, the settings the resolution depended on, and per layer its packages sorted by
//! ecosystem and name, each with version, repository, URL, sha256, size and dependencies. The same
//! inputs give the same bytes on any machine and with any thread count: no timestamps, no
//! machine paths, no map order. [`mod@write`] renders it by hand so that stays true.

pub(crate) mod fields;
mod lines;
mod wire;
mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use lines::PackageLines;
pub use write::render;

use crate::custom_steps::{CustomStep, ImageCommand};
use crate::dockerfile_values::{check_image_path, check_layer_name, check_one_line};
use crate::package::{Ecosystem, PackageDetails, Pin, SettingValue};

/// The lock format this build reads and writes.
pub const LOCK_VERSION: u32 = 1;

/// The `[resolution]` key listing the origins (`https://host:port`) whose downloads need
/// credentials: the emitted steps read them from the build's netrc secret.
pub const AUTHENTICATED_ORIGINS: &str = "authenticated-origins";

/// The lock file name used when none is given.
pub const DEFAULT_LOCK: &str = "imglock.lock";

/// A whole lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    pub(crate) spec_hash: String,
    /// The spec's parts and their hashes when it was resolved (`crate::spec::SpecParts`), so
    /// that `imglock check` can name what changed (empty in older locks).
    pub(crate) spec_parts: crate::spec::SpecParts,
    pub(crate) image: LockedImage,
    /// The parent image's lock, when the spec `extends` one (none in older locks): its layers
    /// are this lock's first ones, as it pins them.
    pub(crate) parent: Option<LockedParent>,
    /// What the resolution depended on: repositories, R version, Bioconductor release.
    pub(crate) resolution: BTreeMap<String, SettingValue>,
    /// The spec's layers in build order, lowest (installed first) first.
    pub layers: Vec<LockedLayer>,
}

/// The image settings the lock was made for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct LockedImage {
    pub name: String,
    pub base: String,
    pub platform: String,
    /// The R library packages are installed into, when not R's site library.
    pub r_library: Option<String>,
    /// The conda environment conda packages are installed into, when the lock has any.
    pub conda_prefix: Option<String>,
    /// The program that installs them.
    pub conda_installer: Option<crate::conda::installer::CondaInstaller>,
    /// The Python environment PyPI packages are installed into, when not the image's `python3`.
    pub python_prefix: Option<String>,
    /// Whether, and how, that environment is created as a virtualenv.
    pub python_venv: Option<crate::pypi::spec::PythonVenv>,
    /// The image's `ENTRYPOINT`, when the spec sets one (a custom step).
    pub entrypoint: Option<Vec<String>>,
    /// The image's `CMD`, when the spec sets one (a custom step).
    pub cmd: Option<Vec<String>>,
}

impl Lock {
    /// The origins whose downloads need credentials ([`AUTHENTICATED_ORIGINS`]).
    pub(crate) fn authenticated_origins(&self) -> Vec<String> {
        match self.resolution.get(AUTHENTICATED_ORIGINS) {
            Some(SettingValue::List(origins)) => origins.clone(),
            Some(SettingValue::Text(origin)) => vec![origin.clone()],
            None => Vec::new(),
        }
    }

    /// Adds `origins` to those whose downloads need credentials (kept sorted, each once).
    pub(crate) fn add_authenticated_origins(&mut self, origins: Vec<String>) {
        let all: std::collections::BTreeSet<String> = self
            .authenticated_origins()
            .into_iter()
            .chain(origins)
            .collect();
        if !all.is_empty() {
            self.resolution.insert(
                AUTHENTICATED_ORIGINS.to_string(),
                SettingValue::List(all.into_iter().collect()),
            );
        }
    }
}

impl LockedImage {
    /// The image's `entrypoint` and `cmd`.
    pub(crate) fn command(&self) -> ImageCommand {
        ImageCommand {
            entrypoint: self.entrypoint.clone(),
            cmd: self.cmd.clone(),
        }
    }
}

/// The `[parent]` of a child image's lock: where its parent's spec and lock are, and the
/// sha256 of that lock's bytes when this one was resolved, so `imglock check` sees it move.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct LockedParent {
    /// The parent spec, relative to this lock's folder, `/`-separated.
    pub spec: String,
    /// The parent's lock, relative to this lock's folder, `/`-separated.
    pub lock: String,
    /// The sha256 (hex) of the parent lock's bytes.
    pub lock_sha256: String,
}

/// A layer and the packages locked in it (those a lower layer locks are not repeated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedLayer {
    pub(crate) name: String,
    /// Where the layer's jars go in the image, when it has Maven artifacts.
    pub(crate) maven_target: Option<String>,
    /// The packages first locked in this layer, sorted by ecosystem and name; empty if a lower
    /// layer already locks all it needs.
    pub packages: Vec<LockedPackage>,
    /// What only builds the layer's source distributions (their locked build dependencies):
    /// never installed in the image, unique by ecosystem, name and version, sorted.
    pub build_packages: Vec<LockedPackage>,
    /// The layer's custom steps, in the spec's order (none in locks of specs without them).
    pub(crate) steps: Vec<CustomStep>,
}

/// One locked package: its identity, its artifact pin, and what its ecosystem adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    pub(crate) ecosystem: Ecosystem,
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) repository: String,
    pub(crate) url: String,
    pub(crate) sha256: String,
    pub(crate) size: u64,
    /// The license its metadata declares, as written there (an SPDX expression or free text,
    /// like CRAN's `GPL-2 | GPL-3`); `None` when the metadata gives none, or in older locks.
    pub(crate) license: Option<String>,
    /// Whether the spec names it in this layer (rather than only as a dependency).
    pub(crate) requested: bool,
    /// Names of the locked packages it depends on (this or lower layers).
    pub(crate) dependencies: Vec<String>,
    pub(crate) details: PackageDetails,
}

/// A lock that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The lock file is missing or unreadable (permissions, not UTF-8).
    #[error("cannot read the lock `{path}`")]
    Read {
        /// The lock file as given, like `imglock.lock`.
        path: PathBuf,
        /// The file system's error.
        #[source]
        source: std::io::Error,
    },
    /// The lock is not TOML of the lock's shape, or a value in it fails validation (like a hostile
    /// path, two layers of one name, or a sha256 that is not 64 hex digits).
    #[error(
        "`{path}` is not a valid imglock lock: {message}; restore it from version control or re-create it with `imglock resolve --upgrade`"
    )]
    Invalid {
        /// The lock file as given.
        path: PathBuf,
        /// What is wrong, like the TOML parser's message with its line and column.
        message: String,
    },
    /// The lock's `version` is not [`LOCK_VERSION`]: written by a newer or an older imglock.
    #[error(
        "`{path}` has lock version {found}, but this imglock reads version {LOCK_VERSION}: {advice}"
    )]
    Version {
        /// The lock file as given.
        path: PathBuf,
        /// The `version` the lock declares, like `2`.
        found: u32,
        /// What to do: upgrade imglock for a newer lock, re-resolve for an older one.
        advice: &'static str,
    },
    /// Writing the new lock (a temporary file, then a rename) failed.
    #[error("cannot write the lock `{path}`; the previous lock, if any, is unchanged")]
    Write {
        /// The lock file being written.
        path: PathBuf,
        /// The file system's error.
        #[source]
        source: std::io::Error,
    },
}

impl Lock {
    /// Reads and validates the lock at `path`.
    pub fn read(path: &Path) -> Result<Self, LockError> {
        let text = std::fs::read_to_string(path).map_err(|source| LockError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Validates lock `text` read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, LockError> {
        let invalid = |message: String| LockError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        crate::toml_nesting::check(text).map_err(|deep| invalid(deep.with_place()))?;
        // The version is checked first, so a lock of another version gets the right advice
        // rather than a complaint about fields this version does not know.
        check_version(path, text)?;
        let wire: wire::Lock =
            toml::from_str(text).map_err(|e| invalid(e.to_string().trim().to_string()))?;
        check_image(&wire.image).map_err(invalid)?;
        if let Some(parent) = &wire.parent {
            check_parent(parent).map_err(invalid)?;
        }
        check_layers(&wire.layer).map_err(invalid)?;
        check_unique_packages(&wire.layer).map_err(invalid)?;
        check_unique_build_packages(&wire.layer).map_err(invalid)?;
        Ok(Self {
            spec_hash: wire.spec_hash,
            spec_parts: wire.spec_parts,
            image: wire.image,
            parent: wire.parent,
            resolution: wire.resolution,
            layers: wire
                .layer
                .into_iter()
                .map(|layer| validate_layer(layer, text))
                .collect::<Result<_, _>>()
                .map_err(invalid)?,
        })
    }

    /// Every locked package as a pin, with the layer that locks it.
    pub fn pins(&self) -> Vec<Pin> {
        self.layers
            .iter()
            .flat_map(|layer| {
                layer.packages.iter().map(|package| Pin {
                    ecosystem: package.ecosystem,
                    name: package.name.clone(),
                    version: package.version.clone(),
                    layer: layer.name.clone(),
                    build: package.details.conda().map(|c| c.build.clone()),
                })
            })
            .collect()
    }

    /// The build pins of every package built from source, for the next resolve to prefer; the
    /// pins of `upgrading` names (and all pins of an sdist named there) are left out.
    pub fn build_pins(&self, upgrading: &[String]) -> crate::package::PreferredBuilds {
        self.layers
            .iter()
            .flat_map(|layer| &layer.packages)
            .filter(|package| !upgrading.contains(&package.name))
            .filter(|package| !package.details.build_requires().is_empty())
            .map(|package| {
                let pins = package
                    .details
                    .build_requires()
                    .iter()
                    .filter(|pin| !upgrading.iter().any(|u| u == build_pin_name(pin)))
                    .cloned()
                    .collect();
                let key = (
                    package.ecosystem,
                    package.name.clone(),
                    package.version.clone(),
                );
                (key, pins)
            })
            .collect()
    }

    /// The names of every build dependency pinned for a package of the lock.
    pub fn build_pin_names(&self) -> std::collections::BTreeSet<&str> {
        self.layers
            .iter()
            .flat_map(|layer| &layer.packages)
            .flat_map(|package| package.details.build_requires())
            .map(|pin| build_pin_name(pin))
            .collect()
    }

    /// Writes the lock to `path` atomically: a temporary file in the same folder, then a rename,
    /// so an error or a kill never leaves a partial lock.
    pub fn write(&self, path: &Path) -> Result<(), LockError> {
        write_rendered(path, &render(self))
    }
}

/// Writes a lock already rendered ([`render`]) to `path`, as [`Lock::write`] does.
pub fn write_rendered(path: &Path, rendered: &str) -> Result<(), LockError> {
    crate::files::write_atomic(path, rendered.as_bytes()).map_err(|source| LockError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Refuses a lock whose `version` is not [`LOCK_VERSION`], with advice that depends on whether it
/// is newer or older. A lock without a readable version passes, for the full read to explain.
fn check_version(path: &Path, text: &str) -> Result<(), LockError> {
    #[derive(Deserialize)]
    struct Versioned {
        version: Option<u32>,
    }
    let version = toml::from_str::<Versioned>(text)
        .ok()
        .and_then(|v| v.version);
    match version {
        Some(found) if found != LOCK_VERSION => Err(LockError::Version {
            path: path.to_path_buf(),
            found,
            advice: if found > LOCK_VERSION {
                "upgrade imglock to read it"
            } else {
                "re-create it with `imglock resolve --upgrade`"
            },
        }),
        _ => Ok(()),
    }
}

/// Checks the image: its `name` and `platform` on one line, its `base` a base image reference
/// ([`crate::base::BaseReference`]), its `r-library`, `conda-prefix` and `python-prefix`, when set,
/// paths the image can use.
fn check_image(image: &LockedImage) -> Result<(), String> {
    check_one_line("image.name", &image.name)?;
    check_one_line("image.platform", &image.platform)?;
    crate::base::BaseReference::parse(&image.base)
        .map_err(|problem| format!("image.base {problem}"))?;
    for (key, path) in [
        ("image.r-library", &image.r_library),
        ("image.conda-prefix", &image.conda_prefix),
        ("image.python-prefix", &image.python_prefix),
    ] {
        if let Some(path) = path {
            check_image_path(path).map_err(|problem| format!("{key}: {problem}"))?;
        }
    }
    image
        .command()
        .check()
        .map_err(|problem| format!("image: {problem}"))
}

/// Checks the parent: one-line relative paths and a sha256.
fn check_parent(parent: &LockedParent) -> Result<(), String> {
    for (key, path) in [("parent.spec", &parent.spec), ("parent.lock", &parent.lock)] {
        check_one_line(key, path)?;
        if Path::new(path).is_absolute() {
            return Err(format!(
                "{key} `{}` is an absolute path: a lock names its parent relative to its folder",
                path.escape_debug()
            ));
        }
    }
    crate::dockerfile_values::check_sha256("parent.lock-sha256", &parent.lock_sha256)
}

/// Checks the layers' names (valid and unique) and their `maven-target`s: a valid path, present
/// whenever the layer has Maven artifacts.
fn check_layers(layers: &[wire::Layer]) -> Result<(), String> {
    let mut names = std::collections::HashSet::new();
    for layer in layers {
        check_layer_name(&layer.name)?;
        if !names.insert(layer.name.as_str()) {
            return Err(format!("two layers are named `{}`", layer.name));
        }
        match &layer.maven_target {
            Some(target) => check_image_path(target)
                .map_err(|problem| format!("layer `{}`: maven-target: {problem}", layer.name))?,
            None if layer.package.iter().any(|p| p.get_ref().is_maven()) => {
                return Err(format!(
                    "layer `{}` has Maven artifacts but no `maven-target`",
                    layer.name
                ));
            }
            None => {}
        }
    }
    Ok(())
}

/// Refuses a package (ecosystem and name) locked twice, in one layer or in two: a lock names
/// each package once, in the lowest layer that needs it.
fn check_unique_packages(layers: &[wire::Layer]) -> Result<(), String> {
    let mut seen = std::collections::HashMap::new();
    for layer in layers {
        for package in &layer.package {
            let (ecosystem, name) = package.get_ref().key();
            if let Some(first) = seen.insert((ecosystem, name), layer.name.as_str()) {
                let name = name.escape_debug();
                return Err(if first == layer.name {
                    format!("{ecosystem} package `{name}` is locked twice in layer `{first}`")
                } else {
                    format!(
                        "{ecosystem} package `{name}` is locked in layer `{first}` and again in layer `{}`",
                        layer.name
                    )
                });
            }
        }
    }
    Ok(())
}

/// Refuses a build package (ecosystem, name and version) listed twice in one layer: sdists that
/// pin the same build dependency share its entry.
fn check_unique_build_packages(layers: &[wire::Layer]) -> Result<(), String> {
    for layer in layers {
        let mut seen = std::collections::HashSet::new();
        for package in &layer.build_package {
            let package = package.get_ref();
            let ((ecosystem, name), version) = (package.key(), package.version());
            if !seen.insert((ecosystem, name, version)) {
                return Err(format!(
                    "{ecosystem} build package `{} {}` is listed twice in layer `{}`",
                    name.escape_debug(),
                    version.escape_debug(),
                    layer.name
                ));
            }
        }
    }
    Ok(())
}

/// A layer of the lock `text` with every package and build package validated (see
/// [`wire::Package::validate`]).
fn validate_layer(layer: wire::Layer, text: &str) -> Result<LockedLayer, String> {
    let validate = |tables: Vec<toml::Spanned<wire::Package>>, what: &str| {
        tables
            .into_iter()
            .map(|package| {
                let origin = fields::Origin::new(text, package.span());
                package.into_inner().validate(&layer.name, what, origin)
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let packages = validate(layer.package, "package")?;
    let build_packages = validate(layer.build_package, "build package")?;
    let steps = crate::custom_steps::lock::read_steps(&layer.name, layer.step)?;
    Ok(LockedLayer {
        name: layer.name,
        maven_target: layer.maven_target,
        packages,
        build_packages,
        steps,
    })
}

#[cfg(test)]
pub(crate) mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;

    /// A lock of one PyPI sdist built with setuptools, its build package table `build` appended.
    fn lock_with(build: &str) -> String {
        let sha = |c: char| c.to_string().repeat(64);
        format!(
            "version = 1\nspec-hash = \"x\"\n\n[image]\nname = \"py\"\nbase = \"docker.io/library/python@sha256:{}\"\nplatform = \"linux/amd64\"\n\n[[layer]]\nname = \"py\"\n\n[[layer.package]]\necosystem = \"pypi\"\nname = \"alembic\"\nversion = \"1.4.1\"\nrepository = \"https://pypi.org/simple\"\nurl = \"https://x.invalid/alembic-1.4.1.tar.gz\"\nsha256 = \"{}\"\nsize = 1\nrequested = true\nbuild-requires = [\"setuptools==60.9.3\"]\ndependencies = []\n{build}",
            sha('b'),
            sha('a')
        )
    }

    fn build_table(version: &str, sha256: &str) -> String {
        format!(
            "\n[[layer.build-package]]\necosystem = \"pypi\"\nname = \"setuptools\"\nversion = \"{version}\"\nrepository = \"https://pypi.org/simple\"\nurl = \"https://x.invalid/setuptools-{version}-py3-none-any.whl\"\nsha256 = \"{sha256}\"\nsize = 2\ndependencies = []\n"
        )
    }

    #[test]
    fn build_packages_round_trip_and_old_locks_without_them_still_read() {
        let path = Path::new("imglock.lock");
        let text = lock_with(&build_table("60.9.3", &"c".repeat(64)));
        let lock = Lock::parse(path, &text).unwrap();
        let layer = &lock.layers[0];
        assert_eq!(layer.packages.len(), 1);
        assert_eq!(layer.build_packages.len(), 1);
        assert_eq!(
            layer.packages[0].details.pypi().unwrap().build_requires,
            ["setuptools==60.9.3"]
        );
        assert!(render(&lock).ends_with(&build_table("60.9.3", &"c".repeat(64))));
        assert_eq!(Lock::parse(path, &render(&lock)).unwrap(), lock);
        // A lock written before build packages existed.
        let old = Lock::parse(path, &lock_with("")).unwrap();
        assert!(old.layers[0].build_packages.is_empty());
        assert!(!render(&old).contains("build-package"));
    }

    #[test]
    fn build_packages_are_validated_like_packages() {
        let path = Path::new("imglock.lock");
        let twice = lock_with(&format!(
            "{}{}",
            build_table("60.9.3", &"c".repeat(64)),
            build_table("60.9.3", &"d".repeat(64))
        ));
        let error = Lock::parse(path, &twice).unwrap_err().to_string();
        assert!(
            error.contains("pypi build package `setuptools 60.9.3` is listed twice in layer `py`"),
            "{error}"
        );
        let two_versions = lock_with(&format!(
            "{}{}",
            build_table("60.9.3", &"c".repeat(64)),
            build_table("51.1.1", &"d".repeat(64))
        ));
        let lock = Lock::parse(path, &two_versions).unwrap();
        let rendered = render(&lock);
        assert!(rendered.find("51.1.1").unwrap() < rendered.find("version = \"60.9.3\"").unwrap());
        let bad = lock_with(&build_table("60.9.3", "not-hex"));
        let error = Lock::parse(path, &bad).unwrap_err().to_string();
        assert!(
            error.contains("pypi build package `setuptools` in layer `py` has sha256 `not-hex`"),
            "{error}"
        );
    }
}

#[cfg(test)]
mod parent_tests {
    use super::*;

    /// A lock of no package, with `parent` (a `[parent]` table, or nothing) after its image.
    fn lock_with_parent(parent: &str) -> String {
        format!(
            "version = 1\nspec-hash = \"x\"\n\n[image]\nname = \"child\"\nbase = \"docker.io/library/debian@sha256:{}\"\nplatform = \"linux/amd64\"\n{parent}\n[[layer]]\nname = \"app\"\n",
            "b".repeat(64)
        )
    }

    #[test]
    fn the_parent_round_trips_and_locks_without_one_still_read() {
        let path = Path::new("imglock.lock");
        let table = format!(
            "\n[parent]\nspec = \"../python/imglock.toml\"\nlock = \"../python/imglock.lock\"\nlock-sha256 = \"{}\"\n",
            "c".repeat(64)
        );
        let lock = Lock::parse(path, &lock_with_parent(&table)).unwrap();
        let parent = lock.parent.clone().unwrap();
        assert_eq!(parent.lock, "../python/imglock.lock");
        assert!(render(&lock).contains(&table), "{}", render(&lock));
        assert_eq!(Lock::parse(path, &render(&lock)).unwrap(), lock);
        let old = Lock::parse(path, &lock_with_parent("")).unwrap();
        assert_eq!(old.parent, None);
        assert!(!render(&old).contains("[parent]"));
    }

    #[test]
    fn a_parent_with_a_machine_path_or_a_bad_sha256_is_refused() {
        let path = Path::new("imglock.lock");
        let absolute = format!(
            "\n[parent]\nspec = \"/home/me/python/imglock.toml\"\nlock = \"../python/imglock.lock\"\nlock-sha256 = \"{}\"\n",
            "c".repeat(64)
        );
        let error = Lock::parse(path, &lock_with_parent(&absolute))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("parent.spec `/home/me/python/imglock.toml` is an absolute path"),
            "{error}"
        );
        let short = "\n[parent]\nspec = \"a.toml\"\nlock = \"a.lock\"\nlock-sha256 = \"abc\"\n";
        let error = Lock::parse(path, &lock_with_parent(short))
            .unwrap_err()
            .to_string();
        assert!(error.contains("parent.lock-sha256 `abc`"), "{error}");
    }
}

/// The name of a build dependency's pin (`name==version`).
fn build_pin_name(pin: &str) -> &str {
    pin.split_once("==").map_or(pin, |(name, _)| name)
}
