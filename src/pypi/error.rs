//! Why the Python packages of a spec could not be prepared or resolved. PubGrub's derivation
//! tree is kept as a tree and rendered to text only when the error is displayed.

use pep440_rs::{Version, VersionParseError};
use pubgrub::{DefaultStringReporter, Reporter};

use super::explain::{Finding, NoSolution};
use super::index_error::IndexError;
use super::solver::{ProviderError, PyPackage};

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

    /// No set of versions satisfies the layer: the findings said plainly (a project no index
    /// has, a lower layer's pin), then PubGrub's explanation, rendered on display, unless the
    /// findings tell all of it, then why each project that offered no version offered none.
    #[error("{}", render(layer, tree, findings, *complete, unavailable))]
    NoSolution {
        layer: String,
        tree: Box<NoSolution>,
        findings: Vec<Finding>,
        /// Whether the findings name every package of the tree.
        complete: bool,
        unavailable: Vec<String>,
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

    /// A direct reference (`name @ URL`) of a layer that cannot be locked.
    #[error("in layer `{layer}`")]
    Direct {
        layer: String,
        #[source]
        source: Box<super::direct::DirectError>,
    },

    /// The build environment of a chosen sdist could not be resolved.
    #[error("resolving the build requirements of the sdist {name} {version} in layer `{layer}`")]
    BuildRequirements {
        name: String,
        version: String,
        layer: String,
        #[source]
        source: Box<PypiError>,
    },

    #[error("its build requirement `{text}` is not a PEP 508 requirement: {reason}")]
    BuildRequirement { text: String, reason: String },

    /// A build dependency with no wheel for the image: imglock builds sdists only with wheels.
    #[error(
        "the build dependency {name} {version} has only a source distribution ({filename}); build environments are installed from wheels only, so pin a version of {name} that has a wheel for the image"
    )]
    SdistBuildDependency {
        name: String,
        version: String,
        filename: String,
    },

    #[error("{name} vanished from the index")]
    Vanished { name: String },
}

impl From<IndexError> for PypiError {
    fn from(error: IndexError) -> Self {
        Self::Index(Box::new(error))
    }
}

/// The `findings`, then PubGrub's report of `tree` (its root package named as the layer)
/// unless they are `complete`, then the `unavailable` notes.
fn render(
    layer: &str,
    tree: &NoSolution,
    findings: &[Finding],
    complete: bool,
    unavailable: &[String],
) -> String {
    let mut lines: Vec<String> = findings.iter().map(ToString::to_string).collect();
    if !complete {
        lines.push(DefaultStringReporter::report(tree).replace(
            &format!("{} 0", PyPackage::Root),
            &format!("layer `{layer}`"),
        ));
    }
    let mut report = lines.join("\n");
    for note in unavailable {
        report.push_str("\nnote: ");
        report.push_str(note);
    }
    report
}
