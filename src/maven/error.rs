//! Why the Maven artifacts of a spec could not be resolved, and why a POM, coordinate or version
//! range could not be read.

use std::sync::Arc;

use super::coordinate::Gav;

/// Anything that stops the Maven artifacts of a spec.
#[derive(Debug, thiserror::Error)]
pub enum MavenError {
    /// A malformed coordinate, exclusion or repository in the spec.
    #[error(transparent)]
    Spec(#[from] crate::spec::SpecError),

    #[error("{group}:{artifact} has an unusable version range")]
    Range {
        group: String,
        artifact: String,
        #[source]
        source: RangeError,
    },

    #[error(
        "{}no version of {group}:{artifact} the repositories' maven-metadata.xml list ({}) is in {range}: widen the range, or add the repository that has a fitting version to `[repositories]`",
        match via.as_slice() {
            [] => String::new(),
            via => format!("{} → ", via.join(" → ")),
        },
        match listed.as_slice() {
            [] => "none".to_string(),
            listed => listed.join(", "),
        }
    )]
    NoVersionInRange {
        group: String,
        artifact: String,
        range: String,
        /// The versions the repositories list.
        listed: Vec<String>,
        /// The artifacts that brought the range in, from the layer's request (empty for one).
        via: Vec<String>,
    },

    /// A layer asks for one artifact at two versions; a layer installs one.
    #[error(
        "layer `{layer}` asks for both {first} and {second}: a layer installs one version of an artifact, so keep one of the two"
    )]
    TwoVersions {
        layer: String,
        /// The first request, as the spec writes it.
        first: String,
        /// The request at another version.
        second: String,
    },

    /// A layer asks for an artifact no repository has: no POM, no version list.
    #[error(
        "layer `{layer}` asks for {requirement}, which no Maven repository has: {} answered \"not found\" and none lists a version of it; {}",
        quoted(tried),
        crate::suggest::then_advice(suggestion.as_deref(), &format!("correct the coordinate in layer `{layer}`, or add the repository that has it to `[repositories]`"))
    )]
    UnknownArtifact {
        layer: String,
        /// The coordinate as the spec writes it.
        requirement: String,
        /// The POM URLs asked for.
        tried: Vec<String>,
        /// The closest `group:artifact` the resolve has seen.
        suggestion: Option<String>,
    },

    /// A layer asks for a version of an artifact the repositories do not have.
    #[error(
        "layer `{layer}` asks for {requirement}, a version no Maven repository has: {} answered \"not found\"; the repositories list {}: ask for one of those in layer `{layer}`",
        quoted(tried),
        listed.join(", ")
    )]
    UnknownVersion {
        layer: String,
        /// The coordinate as the spec writes it.
        requirement: String,
        /// The POM URLs asked for.
        tried: Vec<String>,
        /// The versions the repositories' `maven-metadata.xml` list.
        listed: Vec<String>,
    },

    /// A POM the resolution needs that could not be had or used.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Each of `items` in backquotes, joined by commas.
fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a project's effective model cannot be built yet, or at all. Cloned, like the POMs, from
/// one fetch to every model that needs it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ModelError {
    /// A POM that is not fetched yet: fetch it and build again.
    #[error("the POM of {0} was not fetched yet")]
    Missing(Gav),

    /// A project with more parents above it than imglock follows.
    #[error(
        "the POM of {gav} needs more than {levels} levels of parents (the next one is {next}): imglock stops there, since a chain that deep is a cycle in disguise or a hostile repository"
    )]
    TooDeep {
        gav: Box<Gav>,
        next: Box<Gav>,
        levels: usize,
    },

    #[error("the POM of {0} is in none of the Maven repositories")]
    Absent(Gav),

    #[error("the POM of {gav} could not be fetched")]
    Fetch {
        gav: Gav,
        #[source]
        source: Arc<crate::fetch::FetchError>,
    },

    #[error("the POM `{url}` is unusable")]
    Unusable {
        url: String,
        #[source]
        source: PomError,
    },

    /// A model that cannot be built from its POMs (a cycle, an unknown property), with the
    /// reason.
    #[error("{0}")]
    Invalid(String),
}

/// Why a POM's text is not a POM imglock can read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PomError {
    #[error(transparent)]
    Xml(#[from] XmlError),

    #[error("the root element is <{root}>, not <project>")]
    NotAProject { root: String },

    /// An element Maven requires is missing: says which.
    #[error("{0}")]
    Incomplete(&'static str),
}

/// Why a text is not the XML imglock reads.
#[derive(Debug, Clone, thiserror::Error)]
pub enum XmlError {
    #[error("not well-formed XML at byte {position}")]
    NotWellFormed {
        position: u64,
        #[source]
        source: quick_xml::Error,
    },

    #[error("an end tag without a start tag")]
    UnmatchedEnd,

    #[error("a bad character reference")]
    BadCharacterReference(#[source] quick_xml::Error),

    #[error(
        "the entity `&{0};` is not one of XML's predefined entities; imglock does not expand entities a document declares"
    )]
    DeclaredEntity(String),

    #[error(
        "elements are nested more than {0} deep; imglock refuses such documents (no POM needs that many levels)"
    )]
    TooDeep(usize),

    #[error("the document ends before its root element does")]
    Truncated,
}

/// Why a text is not a Maven version range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("the version range `{0}` is not closed")]
    NotClosed(String),

    #[error("the version range `{text}` pins one version, so it must be written `[{inner}]`")]
    OpenPin { text: String, inner: String },

    #[error("the version range `{0}` is malformed")]
    Malformed(String),
}
