//! `imglock emit`: the lock → a Dockerfile whose every download is pinned and verified.
//!
//! One section per lock layer, in order, after `FROM` the base image by digest. R packages are
//! installed by [`r`] in the steps [`plan`] chooses, through a binary cache mount. The output is a
//! function of the lock and the options alone: the same lock gives the same bytes. Artifacts of
//! `file:` repositories are copied beside the Dockerfile (`imglock-artifacts/`), so the folder
//! the Dockerfile is written to is a complete build context.

mod apt;
mod conda;
mod maven;
mod plan;
mod python;
mod r;
mod shell;

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use self::shell::{quote, words};
use crate::ecosystem::{Ecosystem, SettingValue};
use crate::error::Error;
use crate::lock::{Lock, LockedLayer, LockedPackage};

/// What `imglock emit` was asked to do.
#[derive(Debug, Clone)]
pub struct EmitOptions {
    pub lock: PathBuf,
    /// The Dockerfile to write.
    pub dockerfile: PathBuf,
    pub content: DockerfileOptions,
}

/// Options that shape the Dockerfile's text.
#[derive(Debug, Clone)]
pub struct DockerfileOptions {
    /// The R library to install into; the lock's `r-library`, else R's site library, when not given.
    pub library: Option<String>,
    /// Parallel make jobs for compiled code.
    pub ncpus: u32,
    /// Add the Debian build dependencies the packages' `SystemRequirements` name.
    pub apt: bool,
}

impl Default for DockerfileOptions {
    fn default() -> Self {
        Self {
            library: None,
            ncpus: 2,
            apt: false,
        }
    }
}

/// What an emit wrote.
#[derive(Debug)]
pub struct EmitReport {
    pub dockerfile: PathBuf,
    /// How many `RUN` steps install packages.
    pub install_steps: usize,
    /// Things `--verbose` reports, like requirements no apt rule covers.
    pub notes: Vec<String>,
}

/// A rendered Dockerfile, step by step.
#[derive(Debug)]
pub struct Dockerfile {
    header: String,
    pub steps: Vec<Step>,
    /// Files of `file:` repositories the build context must hold: source, name, sha256.
    context_files: Vec<(PathBuf, String, String)>,
    pub notes: Vec<String>,
}

/// One instruction of the Dockerfile (with its comment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The lock layer it belongs to; `None` for `FROM` and the installer.
    pub layer: Option<String>,
    pub text: String,
    /// How many packages it installs.
    pub packages: usize,
}

impl Dockerfile {
    /// The whole file.
    pub fn text(&self) -> String {
        let mut out = self.header.clone();
        let mut layer: Option<&str> = None;
        for step in &self.steps {
            if step.layer.is_some() && step.layer.as_deref() != layer {
                layer = step.layer.as_deref();
                let _ = write!(out, "\n# ---- layer `{}` ----\n", layer.unwrap_or_default());
            }
            let _ = write!(out, "\n{}", step.text);
        }
        out
    }
}

/// Where an artifact comes from inside the build.
pub enum Source {
    Url(String),
    /// A file of the build context, below its root (mounted at `/imglock-context`).
    Context(String),
}

/// The folder, below the Dockerfile's, that holds artifacts of `file:` repositories.
const CONTEXT_ARTIFACTS: &str = "imglock-artifacts";

/// Reads the lock and writes the Dockerfile (and the artifacts of `file:` repositories).
pub fn emit(options: &EmitOptions) -> Result<EmitReport, Error> {
    let lock_bytes =
        std::fs::read(&options.lock).map_err(|source| crate::lock::LockError::Read {
            path: options.lock.clone(),
            source,
        })?;
    let lock = Lock::parse(&options.lock, &String::from_utf8_lossy(&lock_bytes))?;
    let dockerfile = render(&lock, &options.lock, &lock_bytes, &options.content)?;
    let out_dir = crate::files::parent_dir(&options.dockerfile);
    for (from, name, sha256) in &dockerfile.context_files {
        copy_verified(from, &out_dir.join(CONTEXT_ARTIFACTS).join(name), sha256)?;
    }
    crate::files::write_atomic(&options.dockerfile, dockerfile.text().as_bytes()).map_err(
        |source| Error::Write {
            path: options.dockerfile.clone(),
            source,
        },
    )?;
    Ok(EmitReport {
        dockerfile: options.dockerfile.clone(),
        install_steps: dockerfile.steps.iter().filter(|s| s.packages > 0).count(),
        notes: dockerfile.notes,
    })
}

/// Renders the Dockerfile of `lock` (read from `lock_path`, whose bytes were `lock_bytes`).
/// Touches no file: `file:` artifacts are only listed for [`emit`] to copy.
pub fn render(
    lock: &Lock,
    lock_path: &Path,
    lock_bytes: &[u8],
    options: &DockerfileOptions,
) -> Result<Dockerfile, Error> {
    let mut header = generated_header(lock_path, lock_bytes);
    let mut writer = StepWriter {
        lock,
        lock_path,
        lock_dir: crate::files::parent_dir(lock_path),
        r_settings: r_settings(lock, options),
        apt: options.apt,
        steps: vec![Step {
            layer: None,
            text: format!("FROM {}\n", lock.image.base),
            packages: 0,
        }],
        context_files: Vec::new(),
        notes: Vec::new(),
    };
    if lock
        .layers
        .iter()
        .flat_map(|l| &l.packages)
        .any(|p| p.ecosystem.is_r())
    {
        let _ = writeln!(
            header,
            "# R library: {}",
            writer
                .r_settings
                .library
                .as_deref()
                .unwrap_or("R's site library")
        );
        writer.steps.push(Step {
            layer: None,
            text: r::helper_step(),
            packages: 0,
        });
    }
    for layer in &lock.layers {
        writer.push_r_steps(layer)?;
        writer.push_other_steps(layer)?;
    }
    Ok(Dockerfile {
        header,
        steps: writer.steps,
        context_files: writer.context_files,
        notes: writer.notes,
    })
}

/// The first lines of the Dockerfile: that imglock generated it from which lock (and its
/// sha256), and how to build it.
fn generated_header(lock_path: &Path, lock_bytes: &[u8]) -> String {
    let lock_name = lock_path.file_name().map_or_else(
        || "imglock.lock".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut header = String::new();
    let _ = writeln!(
        header,
        "# This file is @generated by imglock from {lock_name} (sha256:{}). Do not edit it by hand: run `imglock emit`.",
        hex::encode(Sha256::digest(lock_bytes))
    );
    let _ = writeln!(
        header,
        "# Build it with this folder as the context: `docker build .` or `buildah bud --layers .`"
    );
    header
}

/// How R packages are installed: the binary cache key (R version and platform), the library
/// and the make jobs.
fn r_settings(lock: &Lock, options: &DockerfileOptions) -> r::RSettings {
    let r_version = match lock.resolution.get("r-version") {
        Some(SettingValue::Text(version)) => version.clone(),
        _ => String::new(),
    };
    r::RSettings {
        cache_key: format!("{r_version}/{}", lock.image.platform.replace('/', "-")),
        // `--library` wins over the spec's `r-library`, which the lock records.
        library: options
            .library
            .clone()
            .or_else(|| lock.image.r_library.clone()),
        ncpus: options.ncpus,
    }
}

/// The Dockerfile's steps as they are rendered, with the context files and notes they gather.
struct StepWriter<'a> {
    lock: &'a Lock,
    lock_path: &'a Path,
    /// The folder relative `file:` URLs are relative to.
    lock_dir: PathBuf,
    r_settings: r::RSettings,
    /// Whether to add the apt step of the R packages' build dependencies.
    apt: bool,
    steps: Vec<Step>,
    context_files: Vec<(PathBuf, String, String)>,
    notes: Vec<String>,
}

impl StepWriter<'_> {
    /// The steps of a layer's R packages: the apt step when asked for, then one install step per
    /// group [`plan::plan`] forms.
    fn push_r_steps(&mut self, layer: &LockedLayer) -> Result<(), Error> {
        let r_packages: Vec<&LockedPackage> = layer
            .packages
            .iter()
            .filter(|p| p.ecosystem.is_r())
            .collect();
        if self.apt
            && let Some(text) = apt_step(&r_packages, &mut self.notes)
        {
            self.steps.push(Step {
                layer: Some(layer.name.clone()),
                text,
                packages: 0,
            });
        }
        let planned = plan::plan(&r_packages);
        for (number, step) in planned.iter().enumerate() {
            let packages = sources_of(step, &self.lock_dir, &mut self.context_files)?;
            let names: Vec<&str> = step.iter().map(|p| p.name.as_str()).collect();
            let title = format!(
                "layer `{}`, R step {} of {}: {}",
                layer.name,
                number + 1,
                planned.len(),
                names.join(" ")
            );
            self.steps.push(Step {
                layer: Some(layer.name.clone()),
                text: r::install_step(&title, &packages, &self.r_settings),
                packages: step.len(),
            });
        }
        Ok(())
    }

    /// The steps of a layer's other packages: one per ecosystem that has any, PyPI, conda, then
    /// Maven.
    fn push_other_steps(&mut self, layer: &LockedLayer) -> Result<(), Error> {
        for ecosystem in [Ecosystem::Pypi, Ecosystem::Conda, Ecosystem::Maven] {
            let selected: Vec<&LockedPackage> = layer
                .packages
                .iter()
                .filter(|p| p.ecosystem == ecosystem)
                .collect();
            if selected.is_empty() {
                continue;
            }
            let packages = sources_of(&selected, &self.lock_dir, &mut self.context_files)?;
            let text = self.install_step(layer, ecosystem, &packages)?;
            self.steps.push(Step {
                layer: Some(layer.name.clone()),
                text,
                packages: selected.len(),
            });
        }
        Ok(())
    }

    /// The `RUN` that installs `packages` of a non-R `ecosystem` in `layer`.
    fn install_step(
        &self,
        layer: &LockedLayer,
        ecosystem: Ecosystem,
        packages: &[(&LockedPackage, Source)],
    ) -> Result<String, Error> {
        let image = &self.lock.image;
        Ok(match ecosystem {
            Ecosystem::Pypi => python::install_step(&layer.name, packages),
            Ecosystem::Conda => conda::install_step(
                &layer.name,
                packages,
                image
                    .conda_prefix
                    .as_deref()
                    .unwrap_or(crate::spec::CONDA_PREFIX),
                image.conda_installer.unwrap_or_default(),
            ),
            Ecosystem::Cran | Ecosystem::Bioconductor | Ecosystem::Maven => {
                let target = layer.maven_target.as_deref().ok_or_else(|| {
                    Error::Lock(crate::lock::LockError::Invalid {
                        path: self.lock_path.to_path_buf(),
                        message: format!(
                            "layer `{}` has Maven artifacts but no `maven-target`",
                            layer.name
                        ),
                    })
                })?;
                maven::install_step(&layer.name, packages, target)
            }
        })
    }
}

/// Shell commands (each starting with ` \\\n    && `) that put every package's file in the
/// current folder, fetched with curl or copied from the build context, then check every sha256
/// against `sums_file` and fail with `failure` when one differs.
fn fetch_verified(files: &[(&LockedPackage, &Source)], sums_file: &str, failure: &str) -> String {
    let mut out = String::new();
    let mut checks = Vec::new();
    for (package, source) in files {
        let file = file_name(package);
        match source {
            Source::Url(url) => {
                let _ = write!(
                    out,
                    " \\\n    && curl -fsSL -o {} {}",
                    quote(&file),
                    quote(url)
                );
            }
            Source::Context(path) => {
                let _ = write!(
                    out,
                    " \\\n    && cp {} {}",
                    quote(&format!("/imglock-context/{path}")),
                    quote(&file)
                );
            }
        }
        checks.push(format!("{}  {file}", package.sha256));
    }
    let _ = write!(
        out,
        " \\\n    && printf '%s\\n' {} > {sums_file} \\\n    && {{ sha256sum -c --quiet {sums_file} || {{ echo {} >&2; exit 1; }}; }}",
        words(&checks),
        quote(&format!("imglock: {failure}"))
    );
    out
}

/// Each package with where its artifact comes from in the build.
fn sources_of<'a>(
    packages: &[&'a LockedPackage],
    lock_dir: &Path,
    context_files: &mut Vec<(PathBuf, String, String)>,
) -> Result<Vec<(&'a LockedPackage, Source)>, Error> {
    packages
        .iter()
        .map(|package| Ok((*package, source_of(package, lock_dir, context_files)?)))
        .collect()
}

/// The artifact's file name, the last part of its URL: installers read versions, tags and the
/// archive format from it.
fn file_name(package: &LockedPackage) -> String {
    package
        .url
        .rsplit('/')
        .next()
        .unwrap_or(&package.name)
        .to_string()
}

/// Where a package's tarball comes from in the build: its URL, or for a `file:` repository a
/// copy in the build context (queued in `context_files` as source path, name, sha256).
fn source_of(
    package: &LockedPackage,
    lock_dir: &Path,
    context_files: &mut Vec<(PathBuf, String, String)>,
) -> Result<Source, Error> {
    let Some(path) = package.url.strip_prefix("file:") else {
        return Ok(Source::Url(package.url.clone()));
    };
    let local = match url::Url::parse(&package.url) {
        Ok(url) if path.starts_with("//") => url.to_file_path().map_err(|()| Error::Artifact {
            url: package.url.clone(),
            reason: "not a local path".into(),
        })?,
        _ => lock_dir.join(path),
    };
    let file_name = file_name(package);
    context_files.push((local, file_name.clone(), package.sha256.clone()));
    Ok(Source::Context(format!("{CONTEXT_ARTIFACTS}/{file_name}")))
}

/// Copies a `file:` artifact into the build context, refusing bytes that differ from the lock.
fn copy_verified(from: &Path, to: &Path, sha256: &str) -> Result<(), Error> {
    let bytes = std::fs::read(from).map_err(|e| Error::Artifact {
        url: from.display().to_string(),
        reason: e.to_string(),
    })?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual != sha256 {
        return Err(Error::Artifact {
            url: from.display().to_string(),
            reason: format!(
                "the lock says sha256 {sha256}, the file has {actual}; re-run `imglock resolve` or restore the file"
            ),
        });
    }
    crate::files::write_atomic(to, &bytes).map_err(|source| Error::Write {
        path: to.to_path_buf(),
        source,
    })
}

/// The `RUN` that installs the Debian packages a layer's R packages need to build, if any.
fn apt_step(packages: &[&LockedPackage], notes: &mut Vec<String>) -> Option<String> {
    let mut debian = BTreeSet::new();
    for package in packages {
        let Some(requirements) = package
            .details
            .r()
            .and_then(|r| r.system_requirements.as_ref())
        else {
            continue;
        };
        let (found, unmatched) = apt::packages_for(requirements);
        debian.extend(found);
        for part in unmatched {
            notes.push(format!(
                "{}: no apt rule for `{part}`; make sure the base image provides it",
                package.name
            ));
        }
    }
    if debian.is_empty() {
        return None;
    }
    let list: Vec<&str> = debian.into_iter().collect();
    Some(format!(
        "# Build dependencies named by the packages' SystemRequirements\nRUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {} && rm -rf /var/lib/apt/lists/*\n",
        list.join(" ")
    ))
}
