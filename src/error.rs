//! The errors a command can end with, and how they are printed.

use crate::ecosystem::EcosystemError;
use crate::fetch::{FetchError, FetchErrors};
use crate::lock::LockError;
use crate::package::Ecosystem;
use crate::spec::SpecError;

pub use crate::causes::chain;

/// Anything that stops a command. The CLI prints it with its causes and exits with 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Spec(#[from] SpecError),

    #[error(transparent)]
    Lock(#[from] LockError),

    #[error(transparent)]
    Fetch(#[from] FetchError),

    /// `init`, `import`, `add` or `remove` could not write the spec.
    #[error(transparent)]
    WriteSpec(#[from] crate::import::write::WriteError),

    /// The shared R binary cache (`imglock cache`) could not be read or tidied.
    #[error(transparent)]
    Cache(#[from] crate::cran::binary_cache::registry::CacheError),

    /// A child image's parent lock is missing, stale, or disagrees with the child (boxed: it
    /// names three files).
    #[error(transparent)]
    Family(Box<crate::family::FamilyError>),

    /// An ecosystem could not read its part of the spec or fetch its indexes.
    #[error("cannot prepare the {} packages of `{}`", ecosystem.packages_name(), spec.display())]
    Load {
        ecosystem: Ecosystem,
        spec: std::path::PathBuf,
        #[source]
        source: EcosystemError,
    },

    /// An ecosystem could not resolve its packages of one layer.
    #[error("{}", cannot_resolve(*ecosystem, layer))]
    Resolve {
        layer: String,
        ecosystem: Ecosystem,
        #[source]
        source: EcosystemError,
    },

    /// An ecosystem could not read what it needs from a downloaded, verified artifact.
    #[error("cannot inspect the {} package `{name}`", ecosystem.packages_name())]
    Inspect {
        ecosystem: Ecosystem,
        name: String,
        #[source]
        source: EcosystemError,
    },

    #[error("the artifact `{url}` is unusable: {reason}")]
    Artifact { url: String, reason: String },

    /// An artifact imglock makes itself for a step cannot be made.
    #[error(transparent)]
    Step(Box<crate::emit::step::StepError>),

    #[error("{0}")]
    Usage(String),

    #[error("cannot read `{lock}` at git revision `{revision}`: {reason}")]
    Git {
        lock: std::path::PathBuf,
        revision: String,
        /// What git said, or that it could not be started.
        reason: String,
        #[source]
        source: Option<std::io::Error>,
    },

    #[error(transparent)]
    Image(#[from] crate::image::ImageError),

    /// Boxed: a base image's errors carry its name and blob digests.
    #[error(transparent)]
    Base(Box<crate::base::BaseError>),

    /// `verify` could not read the base image of a lock with Debian packages.
    #[error(
        "`{}` has Debian packages, so verify reads its base image to tell the base's packages from unexpected ones, and cannot (a local base's path is relative to the lock's folder)",
        lock.display()
    )]
    VerifyBase {
        lock: std::path::PathBuf,
        #[source]
        source: Box<crate::base::BaseError>,
    },

    #[error("cannot write `{path}`")]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "{} locked artifact(s) now have other bytes under the same name, version and URL (re-published, or tampered with):\n{}\nThe lock is unchanged. Find out why the repository changed them; to accept the new bytes, run `imglock resolve{}`",
        .0.len(),
        .0.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n"),
        .0.iter().map(|r| format!(" --upgrade-package {}", r.name)).collect::<String>()
    )]
    Republished(Vec<Republished>),

    #[error(transparent)]
    Fetches(#[from] FetchErrors),

    /// Artifacts of resolved packages could not be downloaded or verified.
    #[error(transparent)]
    Downloads(#[from] crate::failed_downloads::FailedDownloads),

    #[error(transparent)]
    NotLocked(#[from] crate::tree::NotLocked),

    /// `imglock export` cannot write what was asked.
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),

    /// `resolve --locked` found the lock would change.
    #[error(
        "`{}` is not what its spec resolves to (--locked){}\nRun `imglock resolve` and commit the lock it writes",
        lock.display(),
        if changes.is_empty() {
            ": it does not exist or cannot be compared".to_string()
        } else {
            format!(", resolving changes:\n{}", changes.iter().map(|c| format!("  {c}")).collect::<Vec<_>>().join("\n"))
        }
    )]
    LockWouldChange {
        lock: std::path::PathBuf,
        changes: Vec<String>,
    },

    /// Names in `--upgrade-package` that no locked package has.
    #[error(
        "{}\nThe lock is unchanged. Name packages as the lock does (`imglock diff` and the lock list them)",
        .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    )]
    UnknownUpgrades(Vec<UnknownUpgrade>),
}

/// A name given to `--upgrade-package` that no locked package has, with the closest locked name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownUpgrade {
    pub name: String,
    pub suggestion: Option<String>,
}

impl std::fmt::Display for UnknownUpgrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--upgrade-package {}: no package of that name is in the lock",
            self.name
        )?;
        match &self.suggestion {
            Some(suggestion) => write!(f, " (did you mean `{suggestion}`?)"),
            None => Ok(()),
        }
    }
}

/// An artifact the lock pinned whose repository now serves other bytes for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Republished {
    pub ecosystem: crate::package::Ecosystem,
    pub name: String,
    pub version: String,
    pub url: String,
    /// The sha256 the lock has.
    pub locked: String,
    /// The sha256 of what the repository serves now.
    pub served: String,
}

impl std::fmt::Display for Republished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} ({}) at {}: locked sha256 {}, served sha256 {}",
            self.name, self.version, self.ecosystem, self.url, self.locked, self.served
        )
    }
}

/// The first line of a failed layer: R's chain of requirements reads as the cause; the other
/// solvers' explanations follow the colon.
fn cannot_resolve(ecosystem: Ecosystem, layer: &str) -> String {
    if ecosystem.is_r() {
        format!("cannot resolve layer `{layer}`")
    } else {
        format!(
            "cannot resolve the {} packages of layer `{layer}`:",
            ecosystem.packages_name()
        )
    }
}

impl From<Box<crate::family::FamilyError>> for Error {
    fn from(error: Box<crate::family::FamilyError>) -> Self {
        Self::Family(error)
    }
}

impl From<crate::base::BaseError> for Error {
    fn from(error: crate::base::BaseError) -> Self {
        Self::Base(Box::new(error))
    }
}
