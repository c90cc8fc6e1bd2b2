//! The errors a command can end with, and how they are printed.

use crate::cran::ResolveError;
use crate::cran::bioc::ReleaseError;
use crate::fetch::FetchError;
use crate::lock::LockError;
use crate::spec::SpecError;

/// Anything that stops a command. The CLI prints it with its causes and exits with 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Spec(#[from] SpecError),

    #[error(transparent)]
    Lock(#[from] LockError),

    #[error(transparent)]
    Fetch(#[from] FetchError),

    #[error("cannot resolve layer `{layer}`")]
    Resolve {
        layer: String,
        #[source]
        source: Box<ResolveError>,
    },

    #[error("cannot resolve the {ecosystem} packages of layer `{layer}`:\n{message}")]
    Solve {
        /// The ecosystem's name in messages: "Python", "conda".
        ecosystem: &'static str,
        layer: String,
        message: String,
    },

    #[error("the index `{url}` is unusable: {reason}")]
    Index { url: String, reason: String },

    #[error("the artifact `{url}` is unusable: {reason}")]
    Artifact { url: String, reason: String },

    #[error(transparent)]
    Bioconductor(#[from] ReleaseError),

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
    Image(#[from] crate::verify::image::ImageError),

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

    #[error("{} {what} could not be fetched:\n{}", errors.len(), list(errors))]
    Fetches {
        /// What was being fetched, in the plural: "R indexes", "artifacts".
        what: &'static str,
        errors: Vec<FetchError>,
    },
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

fn list(errors: &[FetchError]) -> String {
    errors
        .iter()
        .map(|error| format!("  - {}", chain(error)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// An error and its causes on one line each: `error`, then `Caused by: cause`.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!("\n  Caused by: {cause}"));
        source = cause.source();
    }
    text
}
