//! Why the conda packages of a spec could not be prepared or resolved.

use rattler_conda_types::{ParseMatchSpecError, ParseVersionError};
use rattler_solve::SolveError;

/// Anything that stops the conda packages of a spec.
#[derive(Debug, thiserror::Error)]
pub enum CondaError {
    /// A malformed conda spec or channel in the spec.
    #[error(transparent)]
    Spec(#[from] crate::spec::SpecError),

    #[error(
        "image.platform `{platform}` has no conda subdir: conda packages exist for linux/amd64, linux/arm64, linux/ppc64le and linux/s390x"
    )]
    NoSubdir { platform: String },

    /// `[image] glibc` or `cuda` is not a conda version.
    #[error("`{version}` is not a version for {name}: fix `[image] glibc` or `cuda`")]
    VirtualPackage {
        name: String,
        version: String,
        #[source]
        source: ParseVersionError,
    },

    #[error(transparent)]
    Fetches(#[from] crate::fetch::FetchErrors),

    #[error("the index `{url}` is unusable: cannot decompress it")]
    Decompress {
        url: String,
        #[source]
        source: std::io::Error,
    },

    #[error("the index `{url}` is unusable")]
    TooLarge {
        url: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "the index `{url}` is unusable: it gives the package `{package}` the {digest}; the channel serves a malformed digest: ask its maintainers to fix it, or use another channel"
    )]
    MalformedDigest {
        url: String,
        package: String,
        digest: crate::index_digest::MalformedDigest,
    },

    /// A record of a remote channel whose URL (or the repodata's `base_url`) is not remote.
    #[error(transparent)]
    ForeignUrl(#[from] crate::repository::ForeignUrl),

    #[error("the index `{url}` is unusable: not conda repodata")]
    NotRepodata {
        url: String,
        #[source]
        source: serde_json::Error,
    },

    /// A record of the repodata, read when the resolve reached its package, is unreadable.
    #[error("the index `{url}` is unusable: a record of `{package}` is not a conda record")]
    BadRecord {
        url: String,
        package: String,
        #[source]
        source: std::io::Error,
    },

    /// Repodata whose `base_url`, or a record's subdir or file name, makes no URL on the channel.
    #[error("the index `{url}` is unusable: {reason}; ask the channel's maintainers to fix it")]
    UnjoinableRecord { url: String, reason: String },

    /// A record a lower layer locked no longer reads as a match spec.
    #[error("the locked record `{record}` is unreadable")]
    LockedRecord {
        record: String,
        #[source]
        source: ParseMatchSpecError,
    },

    /// No set of records satisfies the layer: the solver's explanation, reworded on display.
    #[error("{}", explain(reasons))]
    Unsolvable { reasons: Vec<String> },

    #[error(transparent)]
    Solver(SolveError),
}

/// The solver's explanation, with its internal root package named for what it is.
fn explain(reasons: &[String]) -> String {
    let text = reasons.join("\n");
    let text = text
        .replace(
            "The following packages are incompatible",
            "These requirements cannot all hold",
        )
        .replace("__root__", "the layer's specs");
    format!(
        "{text}\n\nChange or relax the specs above (or add a channel that has a fitting version)."
    )
}
