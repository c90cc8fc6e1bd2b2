//! Why the Python packages of a spec could not be prepared or resolved. PubGrub's derivation
//! tree is kept as a tree and rendered to text only when the error is displayed.

use std::sync::Arc;

use pep440_rs::{Version, VersionParseError};
use pubgrub::{DefaultStringReporter, DerivationTree, Ranges, Reporter};

use super::solver::{ProviderError, PyPackage};
use crate::fetch::FetchError;

/// PubGrub's proof that a layer has no solution.
pub type NoSolution = DerivationTree<PyPackage, Ranges<Version>, String>;

/// Anything that stops the Python packages of a spec.
#[derive(Debug, thiserror::Error)]
pub enum PypiError {
    /// A malformed Python requirement, interpreter, platform or index in the spec.
    #[error(transparent)]
    Spec(#[from] crate::spec::SpecError),

    #[error("{}: image.python is not a version PEP 508 markers can use", path.display())]
    MarkerEnvironment {
        path: std::path::PathBuf,
        #[source]
        source: VersionParseError,
    },

    /// No set of versions satisfies the layer: PubGrub's explanation, rendered on display.
    #[error("{}", render(layer, tree))]
    NoSolution {
        layer: String,
        tree: Box<NoSolution>,
    },

    #[error("choosing a version of {package}")]
    ChoosingVersion {
        package: PyPackage,
        #[source]
        source: Box<ProviderError>,
    },

    #[error("reading the dependencies of {package} {version}")]
    ReadingDependencies {
        package: PyPackage,
        version: Version,
        #[source]
        source: Box<ProviderError>,
    },

    #[error("the solver was cancelled")]
    Cancelled(#[source] Box<ProviderError>),

    /// An index page or metadata file of a chosen version that could not be used.
    #[error(transparent)]
    Index(Box<IndexError>),

    #[error("{name} vanished from the index")]
    Vanished { name: String },
}

impl From<IndexError> for PypiError {
    fn from(error: IndexError) -> Self {
        Self::Index(Box::new(error))
    }
}

/// PubGrub's report of `tree`, its root package named as the layer.
fn render(layer: &str, tree: &NoSolution) -> String {
    DefaultStringReporter::report(tree).replace(
        &format!("{} 0", PyPackage::Root),
        &format!("layer `{layer}`"),
    )
}

/// Why a project page or a version's metadata cannot be had. Kept in the index's cache and
/// cloned to every question about the same page or version, so its sources are shared.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IndexError {
    #[error("the page of {project} could not be fetched")]
    PageFetch {
        project: String,
        #[source]
        source: Arc<FetchError>,
    },

    /// A JSON page that is not PEP 691's.
    #[error("`{url}`: not a PEP 691 page")]
    Page {
        url: String,
        #[source]
        source: Arc<serde_json::Error>,
    },

    #[error("its metadata `{url}` could not be fetched")]
    MetadataFetch {
        url: String,
        #[source]
        source: Arc<FetchError>,
    },

    #[error("{filename} could not be downloaded to read its metadata")]
    Download {
        filename: String,
        #[source]
        source: Arc<FetchError>,
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

    #[error("the sdist {filename} has no PKG-INFO")]
    NoPkgInfo { filename: String },

    #[error(
        "{name} {version} has only a source distribution, whose dependencies are not static metadata (Metadata-Version {metadata_version}); imglock never runs setup.py or a build backend, so pin a version of {name} that has a wheel"
    )]
    DynamicSdist {
        name: String,
        version: String,
        metadata_version: String,
    },

    #[error("{name} {version} is not in the index")]
    NotInIndex { name: String, version: String },
}
