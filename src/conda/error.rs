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

    /// No set of records satisfies the layer: the solver's explanation, reworded on display,
    /// each package it says is locked named with the layer that locked it.
    #[error("{}", explain(layer, reasons, locked_below))]
    Unsolvable {
        /// The layer being resolved; empty until [`CondaError::in_layer`] names it.
        layer: String,
        reasons: Vec<String>,
        /// The pins of lower layers (or the base image) the explanation names.
        locked_below: Vec<crate::package::Pin>,
    },

    #[error(transparent)]
    Solver(SolveError),
}

impl CondaError {
    /// The error of resolving layer `layer` over the pins `below`: an unsolvable layer's
    /// explanation then names the lower layer that locked each package it says is locked.
    pub(super) fn in_layer(self, layer: &str, below: &[crate::package::Pin]) -> Self {
        let Self::Unsolvable { reasons, .. } = self else {
            return self;
        };
        let locked_below = below
            .iter()
            .filter(|pin| pin.ecosystem == crate::package::Ecosystem::Conda)
            .filter(|pin| {
                let locked = format!("{} {} is locked", pin.name, pin.version);
                reasons.iter().any(|reason| reason.contains(&locked))
            })
            .cloned()
            .collect();
        Self::Unsolvable {
            layer: layer.to_string(),
            reasons,
            locked_below,
        }
    }
}

/// The solver's explanation, with its internal root package named for what it is, each package
/// locked below named with where it was locked, then what to do.
fn explain(layer: &str, reasons: &[String], locked_below: &[crate::package::Pin]) -> String {
    let mut text = reasons
        .join("\n")
        .trim_end()
        .replace(
            "The following packages are incompatible",
            "These requirements cannot all hold",
        )
        .replace("__root__", "the layer's specs");
    let mut advice = Vec::new();
    for pin in locked_below {
        let locked = format!("{} {} is locked", pin.name, pin.version);
        let place = crate::ecosystem::locked_below(pin);
        text = text.replace(&locked, &format!("{locked} in {place}"));
        advice.push(format!(
            "{} {} is locked in {place}, and a higher layer cannot change a lower layer's pins: relax the specs of layer `{layer}` that need another version, or change {place}.",
            pin.name, pin.version
        ));
    }
    advice.push(
        "Change or relax the specs above (or add a channel that has a fitting version).".into(),
    );
    format!("{text}\n\n{}", advice.join("\n"))
}
