//! `imglock emit`: the lock → a Dockerfile whose every download is pinned and verified.
//!
//! One section per lock layer, in order, after `FROM` the base image by digest; in each, every
//! ecosystem of [`crate::registry::ALL`] that has packages there writes its steps (R, Python,
//! conda, Maven), with the blocks of [`step`], then come the layer's custom steps
//! ([`crate::custom_steps`]); the image's `ENTRYPOINT` and `CMD` end the file. The output is a
//! function of the lock and the options alone: the same lock gives the same bytes. Artifacts of
//! `file:` repositories and `copy` files are copied beside the Dockerfile (`imglock-artifacts/`),
//! so the folder the Dockerfile is written to is a complete build context.

pub mod instructions;
pub(crate) mod shell;
pub(crate) mod step;

use std::fmt::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use self::instructions::instructions;
pub use self::step::DockerfileOptions;
pub(crate) use self::step::Step;
use self::step::{CONTEXT_ARTIFACTS, StepContext, StepError};
use crate::custom_steps;
use crate::error::Error;
use crate::lock::{Lock, LockedLayer};

/// What `imglock emit` was asked to do.
#[derive(Debug, Clone)]
pub(crate) struct EmitOptions {
    pub lock: PathBuf,
    /// The Dockerfile to write.
    pub dockerfile: PathBuf,
    pub content: DockerfileOptions,
}

/// What an emit wrote.
#[derive(Debug)]
pub(crate) struct EmitReport {
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
    pub(crate) steps: Vec<Step>,
    /// Files of `file:` repositories the build context must hold.
    context_files: Vec<step::ContextFile>,
    pub(crate) notes: Vec<String>,
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

/// Reads the lock and writes the Dockerfile (and the artifacts of `file:` repositories).
pub(crate) fn emit(options: &EmitOptions) -> Result<EmitReport, Error> {
    let lock_bytes =
        std::fs::read(&options.lock).map_err(|source| crate::lock::LockError::Read {
            path: options.lock.clone(),
            source,
        })?;
    let lock = Lock::parse(&options.lock, &String::from_utf8_lossy(&lock_bytes))?;
    let dockerfile = render(&lock, &options.lock, &lock_bytes, &options.content)?;
    let out_dir = crate::files::parent_dir(&options.dockerfile);
    for file in &dockerfile.context_files {
        copy_verified(
            &file.from,
            &out_dir.join(CONTEXT_ARTIFACTS).join(&file.name),
            &file.sha256,
        )?;
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
    let mut steps = vec![Step {
        layer: None,
        text: format!("FROM {}\n", from_line(&lock.image.base)),
        packages: 0,
    }];
    for support in crate::registry::ALL {
        let used = lock
            .layers
            .iter()
            .any(|layer| layer.packages.iter().any(|p| support.serves(p)));
        if used && let Some((line, step)) = support.preamble(lock, options) {
            header.push_str(&line);
            steps.push(step);
        }
    }
    let mut context = StepContext::new(crate::files::parent_dir(lock_path));
    context.authenticate(lock.authenticated_origins());
    let mut user = custom_steps::emit::ActiveUser::default();
    for layer in &lock.layers {
        let packages = layer_steps(lock, layer, options, &mut context)
            .map_err(|error| step_error(lock_path, error))?;
        steps.extend(user.around_packages(&layer.name, packages));
        steps.extend(custom_steps::emit::layer_steps(
            &layer.name,
            &layer.steps,
            &mut context,
            &mut user,
        ));
    }
    steps.extend(custom_steps::emit::image_steps(&lock.image.command()));
    Ok(Dockerfile {
        header,
        steps,
        context_files: context.context_files,
        notes: context.notes,
    })
}

/// The steps of one layer: each ecosystem's, in the registry's order.
fn layer_steps(
    lock: &Lock,
    layer: &LockedLayer,
    options: &DockerfileOptions,
    context: &mut StepContext,
) -> Result<Vec<Step>, StepError> {
    let mut steps = Vec::new();
    for support in crate::registry::ALL {
        let packages: Vec<_> = layer
            .packages
            .iter()
            .filter(|p| support.serves(p))
            .collect();
        if !packages.is_empty() {
            steps.extend(support.install_steps(lock, layer, &packages, options, context)?);
        }
    }
    Ok(steps)
}

/// A step that could not be written, as the error of the command.
fn step_error(lock_path: &Path, error: StepError) -> Error {
    match error {
        StepError::InvalidLock(message) => Error::Lock(crate::lock::LockError::Invalid {
            path: lock_path.to_path_buf(),
            message,
        }),
        StepError::NotLocal { url } => Error::Artifact {
            url,
            reason: "not a local path".into(),
        },
        made @ StepError::Made { .. } => Error::Step(Box::new(made)),
    }
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

/// What `FROM` names for the lock's base (a local image by its transport and path: a `FROM`
/// cannot carry its digest); the lock's reference was checked when the lock was read.
fn from_line(base: &str) -> String {
    crate::base::BaseReference::parse(base)
        .map(|reference| reference.from_line())
        .unwrap_or_else(|_| base.to_string())
}

#[cfg(test)]
mod fuzz;
