//! Why a project page or a version's metadata could not be had or used.

use std::sync::Arc;

/// Why a project page or a version's metadata cannot be had. Kept in the index's cache and
/// cloned to every question about the same page or version, so its sources are shared.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IndexError {
    #[error("the page of {project} could not be fetched")]
    PageFetch {
        project: String,
        #[source]
        source: Arc<crate::fetch::FetchError>,
    },

    /// A page that is not PEP 691's, or gives a malformed digest.
    #[error("the index page `{url}` of {project} is unusable")]
    Page {
        url: String,
        project: String,
        #[source]
        source: Arc<super::simple::PageError>,
    },

    /// A page of a remote index that names a file by a local URL.
    #[error(transparent)]
    ForeignUrl(#[from] crate::repository::ForeignUrl),

    #[error("its metadata `{url}` could not be fetched")]
    MetadataFetch {
        url: String,
        #[source]
        source: Arc<crate::fetch::FetchError>,
    },

    #[error("{filename} could not be downloaded to read its metadata")]
    Download {
        filename: String,
        #[source]
        source: Arc<crate::fetch::FetchError>,
    },

    #[error("the downloaded {filename} could not be read")]
    Read {
        filename: String,
        #[source]
        source: Arc<std::io::Error>,
    },

    #[error("{filename} is not a valid wheel")]
    Wheel {
        filename: String,
        #[source]
        source: Arc<zip::result::ZipError>,
    },

    #[error("{filename} has no .dist-info/METADATA")]
    NoWheelMetadata { filename: String },

    #[error("the METADATA of {filename} could not be read")]
    WheelMetadata {
        filename: String,
        #[source]
        source: Arc<std::io::Error>,
    },

    #[error(
        "the sdist {filename} has no PKG-INFO (nor a static name and version in pyproject.toml)"
    )]
    NoPkgInfo { filename: String },

    #[error("the sdist {filename} is not a readable .tar.gz or .zip archive")]
    SdistArchive {
        filename: String,
        #[source]
        source: Arc<std::io::Error>,
    },

    #[error(
        "{name} {version} has only a source distribution ({filename}) and no static source of its dependencies; looked at: {looked_at}. Pin a version of {name} that has a wheel, or let imglock build its metadata"
    )]
    NoStaticMetadata {
        name: String,
        version: String,
        filename: String,
        looked_at: super::sdist::source::LookedAt,
    },

    /// An sdist whose `pyproject.toml` does not say what builds it.
    #[error(
        "the sdist {filename} cannot be built: its pyproject.toml gives no usable [build-system] requires ({problem}); pin a version that has a wheel or a valid pyproject.toml"
    )]
    BuildSystem { filename: String, problem: String },

    #[error(
        "{name} {version} has only a source distribution and no static source of its dependencies (looked at: {looked_at}); its metadata could not be built"
    )]
    MetadataBuild {
        name: String,
        version: String,
        looked_at: super::sdist::source::LookedAt,
        #[source]
        source: Arc<super::build::BuildError>,
    },

    #[error("the build environment of {name} {version} cannot be had: {reason}")]
    BuildEnvironment {
        name: String,
        version: String,
        reason: String,
    },

    #[error("the metadata of {name} {version} read from `{source_url}` is unusable")]
    WrongMetadata {
        name: String,
        version: String,
        source_url: String,
        #[source]
        source: super::metadata::WrongMetadata,
    },

    #[error("{name} {version} is not in the index")]
    NotInIndex { name: String, version: String },
}
