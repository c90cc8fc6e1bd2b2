//! Building a layer's sdists inside the image from locked inputs only, by
//! `imglock-build-sdist` (`imglock-build-sdist.sh`, whose header says what it does and what it
//! records): per sdist, a throw-away build virtualenv gets exactly its locked build dependencies
//! (wheels, hash-checked, no index) and builds the exact sdist file into a wheel, kept in the
//! wheel cache mount under the wheel cache key ([`wheel_cache_key`]). A cached wheel is taken
//! only when the lock records its sha256 (`binary-sha256`, recorded by `imglock verify IMAGE
//! --record-binaries`, [`BUILT`]).

use std::fmt::Write;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;

use crate::built_binaries::{BuiltBinaries, base_image_key};
use crate::emit::shell::quote;
use crate::emit::step::{Source, Step, StepError, script_step};
use crate::lock::{Lock, LockedPackage};
use crate::package::{Ecosystem, SettingValue};

/// Where built wheels are kept between builds (a cache mount).
pub const WHEEL_CACHE: &str = "/var/cache/imglock/wheels";

/// The builder every sdist's build calls, written into the image by [`preamble`].
const BUILDER: &str = include_str!("imglock-build-sdist.sh");
const BUILDER_PATH: &str = "/usr/local/bin/imglock-build-sdist";

/// The wheels built from sdists, and the records the builder leaves in the image.
pub(crate) const BUILT: BuiltBinaries = BuiltBinaries {
    what: "Python wheel",
    records: "usr/local/share/imglock/python-wheels",
    header: "# imglock Python wheel record 1",
    serves: |ecosystem| ecosystem == Ecosystem::Pypi,
    cache_key: |lock, _| wheel_cache_key(lock).ok(),
};

/// What a wheel built from one of `lock`'s sdists depends on besides the sdist itself, as the
/// wheel cache's key spells it: `<interpreter>-<platform>/<base image>`, like
/// `cp38-manylinux_2_17_x86_64/<the base image's sha256>`. The lock's `binary-sha256`s of
/// sdists hold for this key only.
pub fn wheel_cache_key(lock: &Lock) -> Result<String, StepError> {
    let setting = |key: &str| match lock.resolution.get(key) {
        Some(SettingValue::Text(text)) => Ok(text.clone()),
        _ => Err(StepError::InvalidLock(format!(
            "the lock has sdists to build but no `{key}` in [resolution]; re-create it with `imglock resolve`"
        ))),
    };
    let version = setting("python-version")?;
    let platform = setting("python-platform")?;
    let tag = format!("cp{}", version.replace('.', ""));
    let safe = |text: &str| {
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    };
    if !safe(&tag) || !safe(&platform) {
        return Err(StepError::InvalidLock(format!(
            "the lock's python-version `{version}` or python-platform `{platform}` is not a plain tag"
        )));
    }
    Ok(format!("{tag}-{platform}/{}", base_image_key(lock)))
}

/// The step that writes the builder into the image, when `lock` has sdists to build; the line
/// that says so in the Dockerfile's header.
pub fn preamble(lock: &Lock) -> Option<(String, Step)> {
    let has_sdists = lock
        .layers
        .iter()
        .flat_map(|layer| &layer.packages)
        .any(|p| p.ecosystem == Ecosystem::Pypi && !p.url.ends_with(".whl"));
    has_sdists.then(|| {
        let step = Step {
            layer: None,
            text: script_step("imglock's Python sdist builder", &[(BUILDER, BUILDER_PATH)]),
            packages: 0,
        };
        let header = format!("# Python sdists: built in the image from locked build dependencies, wheels cached in {WHEEL_CACHE}\n");
        (header, step)
    })
}

/// One sdist to build, with the files of its build environment.
pub struct SdistBuild<'a> {
    pub sdist: &'a LockedPackage,
    pub source: &'a Source,
    /// Its locked build dependencies, with where each file comes from.
    pub build_packages: Vec<(&'a LockedPackage, &'a Source)>,
}

/// The build packages of `layer_build_packages` that `sdist` pins (its `build-requires`); an
/// error names a pin the layer does not lock, or an sdist that pins none (a lock written before
/// build dependencies were locked: its build could only fail in the image).
pub fn build_packages_of<'a>(
    sdist: &LockedPackage,
    layer_build_packages: &'a [(&'a LockedPackage, Source)],
) -> Result<Vec<(&'a LockedPackage, &'a Source)>, StepError> {
    let pins = sdist
        .details
        .pypi()
        .map(|details| details.build_requires.as_slice())
        .unwrap_or_default();
    if pins.is_empty() {
        return Err(StepError::InvalidLock(format!(
            "the sdist {} {} has no `build-requires`, so it cannot be built in the image (the lock was written before imglock locked build dependencies); re-create it with `imglock resolve`",
            sdist.name, sdist.version
        )));
    }
    pins.iter()
        .map(|pin| {
            layer_build_packages
                .iter()
                .find(|(package, _)| format!("{}=={}", package.name, package.version) == *pin)
                .map(|(package, source)| (*package, source))
                .ok_or_else(|| {
                    StepError::InvalidLock(format!(
                        "the sdist {} {} pins the build dependency `{pin}`, which its layer's [[layer.build-package]] tables do not lock; re-create the lock with `imglock resolve`",
                        sdist.name, sdist.version
                    ))
                })
        })
        .collect()
}

/// A requirements line pinning `package`'s exact file by its sha256.
pub fn requirement_line(package: &LockedPackage, source: &Source) -> String {
    let location = match source {
        Source::Url(url) | Source::Authenticated(url) => url.clone(),
        Source::Context(path) => format!("file:///imglock-context/{path}"),
    };
    format!(
        "{} @ {location} --hash=sha256:{}",
        package.name, package.sha256
    )
}

/// `printf` of `lines` (each quoted, sorted) into `path`.
pub fn write_lines(mut lines: Vec<String>, path: &str) -> String {
    lines.sort();
    let mut command = String::from("printf '%s\\n' \\\n");
    for line in lines {
        let _ = writeln!(command, "        {} \\", quote(&line));
    }
    let _ = write!(command, "        > {path}");
    command
}

impl SdistBuild<'_> {
    /// The command that builds the sdist (or takes its recorded wheel from the cache) for the
    /// wheel cache key `key` and installs the wheel with `python` (the layer environment's
    /// interpreter, a shell word).
    pub fn command(&self, key: &str, python: &str) -> Result<String, StepError> {
        let sdist = self.sdist;
        let invalid = || {
            StepError::InvalidLock(format!(
                "the sdist `{}` `{}` has no valid PEP 508 name and PEP 440 version",
                sdist.name.escape_debug(),
                sdist.version.escape_debug()
            ))
        };
        let name = PackageName::from_str(&sdist.name).map_err(|_| invalid())?;
        let version = Version::from_str(&sdist.version).map_err(|_| invalid())?;
        let binary = sdist.details.binary_sha256().unwrap_or("-");
        let mut out = format!(
            "imglock-build-sdist {python} {} {} {} {binary} {} \\\n        {}",
            quote(name.as_ref()),
            quote(&version.to_string()),
            sdist.sha256,
            quote(key),
            quote(&requirement_line(sdist, self.source)),
        );
        let mut build_lines: Vec<String> = self
            .build_packages
            .iter()
            .map(|(package, source)| requirement_line(package, source))
            .collect();
        build_lines.sort();
        for line in build_lines {
            let _ = write!(out, " \\\n        {}", quote(&line));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::{Ecosystem, PackageDetails};
    use crate::pypi::PypiDetails;

    fn package(name: &str, version: &str, build_requires: &[&str]) -> LockedPackage {
        LockedPackage {
            ecosystem: Ecosystem::Pypi,
            name: name.into(),
            version: version.into(),
            repository: "https://pypi.org/simple".into(),
            url: format!("https://x.invalid/{name}-{version}.tar.gz"),
            sha256: "a".repeat(64),
            size: 1,
            license: None,
            requested: true,
            dependencies: Vec::new(),
            details: PackageDetails::Pypi(PypiDetails {
                markers: Vec::new(),
                build_requires: build_requires.iter().map(|s| s.to_string()).collect(),
                binary_sha256: None,
                git: None,
            }),
        }
    }

    #[test]
    fn an_sdist_takes_exactly_the_build_packages_it_pins() {
        let (old, new) = (
            package("setuptools", "51.1.1", &[]),
            package("setuptools", "60.9.3", &[]),
        );
        let layer = [
            (&old, Source::Url(old.url.clone())),
            (&new, Source::Url(new.url.clone())),
        ];
        let sdist = package("alembic", "1.4.1", &["setuptools==60.9.3"]);
        let taken = build_packages_of(&sdist, &layer).unwrap();
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].0.version, "60.9.3");
        let missing = package("alembic", "1.4.1", &["wheel==0.37.1"]);
        let error = build_packages_of(&missing, &layer).unwrap_err().to_string();
        assert!(
            error.contains("pins the build dependency `wheel==0.37.1`"),
            "{error}"
        );
        let old_lock = package("alembic", "1.4.1", &[]);
        let error = build_packages_of(&old_lock, &layer)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("alembic 1.4.1 has no `build-requires`"),
            "{error}"
        );
    }
}
