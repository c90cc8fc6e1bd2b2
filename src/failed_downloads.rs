//! The artifacts a resolve could not download or verify, each named by its package and the layer
//! that locks it: one report of every ecosystem's failures, so one run shows them all.

use crate::fetch::FetchError;
use crate::package::Ecosystem;

/// An artifact of a resolved package that could not be downloaded or verified.
#[derive(Debug)]
pub struct FailedArtifact {
    /// The layer the package would be locked in.
    pub(crate) layer: String,
    pub(crate) ecosystem: Ecosystem,
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) error: FetchError,
}

/// Every artifact of a resolve that could not be downloaded or verified, with its causes.
#[derive(Debug, thiserror::Error)]
#[error("{} artifact(s) could not be fetched:\n{}", .0.len(), list(.0))]
pub struct FailedDownloads(pub(crate) Vec<FailedArtifact>);

fn list(failures: &[FailedArtifact]) -> String {
    failures
        .iter()
        .map(|failure| {
            crate::causes::list_item(&format!(
                "the {} package `{}` {} (layer `{}`): {}",
                failure.ecosystem.packages_name(),
                failure.name,
                failure.version,
                failure.layer,
                crate::causes::chain(&failure.error)
            ))
        })
        .collect::<Vec<_>>()
        .join("\n")
}
