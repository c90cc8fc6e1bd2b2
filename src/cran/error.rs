//! Why an R layer could not be resolved, told as the chain of requirements that led there.

use std::fmt;

/// How a package came to be required: from a layer's list, or from another package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain(pub Vec<String>);

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" → "))
    }
}

/// A failed R resolution.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("no repository has `{name}` ({chain}){}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownPackage {
        name: String,
        chain: Chain,
        suggestion: Option<String>,
    },

    #[error(
        "`{name}` is listed under `{listed}` but is a {found} package ({repository}): move it to the layer's `{found}` list"
    )]
    WrongList {
        name: String,
        listed: crate::package::Ecosystem,
        found: crate::package::Ecosystem,
        repository: String,
    },

    #[error("{chain}: {requirement} cannot be met; {repository} has {name} {available}{}", hint.as_deref().map(|h| format!(". {h}")).unwrap_or_default())]
    NoMatchingVersion {
        name: String,
        requirement: String,
        chain: Chain,
        repository: String,
        available: String,
        hint: Option<String>,
    },

    #[error(
        "{chain}: {requirement} conflicts with {name} {chosen}, already chosen because {chosen_because}; no single version satisfies both"
    )]
    Conflict {
        name: String,
        requirement: String,
        chain: Chain,
        chosen: String,
        chosen_because: Chain,
    },

    #[error(
        "{chain}: {requirement} conflicts with {name} {version}, locked in the lower layer `{lower_layer}`; a higher layer cannot change a lower layer's pins, so move or relax the requirement"
    )]
    LowerLayer {
        name: String,
        requirement: String,
        chain: Chain,
        version: String,
        lower_layer: String,
    },

    #[error(
        "{chain}: {name} {version} needs R {needs}, but the image has R {image_r}; pin an older {name} (`{name} == <version>`) or use a newer base image"
    )]
    RTooOld {
        name: String,
        version: String,
        chain: Chain,
        needs: String,
        image_r: String,
    },

    #[error(
        "{chain}: the index of {repository} has an unreadable entry for `{name}` at line {line}"
    )]
    BrokenEntry {
        name: String,
        chain: Chain,
        repository: String,
        line: usize,
        #[source]
        source: EntryError,
    },

    #[error("{chain}: cannot use the archived {name} {version} from {repository}")]
    Archive {
        name: String,
        version: String,
        chain: Chain,
        repository: String,
        #[source]
        source: ArchiveError,
    },
}

/// Why an archived version (CRAN's `Archive/`) could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("its tarball could not be fetched")]
    Fetch(#[source] crate::fetch::FetchError),

    #[error("its downloaded tarball could not be read")]
    Read(#[source] std::io::Error),

    #[error(transparent)]
    Description(#[from] DescriptionError),

    #[error("its DESCRIPTION is not a package's")]
    Entry(#[source] EntryError),

    #[error("the tarball describes {found_name} {found_version}, not {name} {version}")]
    Mismatch {
        name: String,
        version: String,
        found_name: String,
        found_version: String,
    },
}

/// Anything that stops the R packages of a spec: reading the spec's R lists and the image's R
/// version, fetching the repositories' indexes, resolving a layer, reading a downloaded package.
#[derive(Debug, thiserror::Error)]
pub enum CranError {
    /// A malformed R requirement or repository in the spec.
    #[error(transparent)]
    Spec(#[from] crate::spec::SpecError),

    #[error("`[image] r` is not an R version")]
    ImageR(#[source] super::version::InvalidVersion),

    #[error(transparent)]
    Bioconductor(#[from] super::bioc::ReleaseError),

    #[error(transparent)]
    Fetches(#[from] crate::fetch::FetchErrors),

    #[error(
        "the index `{url}` is unusable: the gzip stream is corrupt or truncated; nothing of it was used"
    )]
    CorruptIndex {
        url: String,
        #[source]
        source: std::io::Error,
    },

    #[error("the index `{url}` is unusable")]
    NotAnIndex {
        url: String,
        #[source]
        source: NotAnIndex,
    },

    #[error(transparent)]
    Resolve(#[from] Box<ResolveError>),

    #[error("cannot read the downloaded artifact of `{url}`")]
    UnreadableArtifact {
        url: String,
        #[source]
        source: std::io::Error,
    },

    #[error("the artifact `{url}` is unusable")]
    NoDescription {
        url: String,
        #[source]
        source: DescriptionError,
    },

    #[error("the artifact `{url}` is unusable: its DESCRIPTION is malformed")]
    BadDescription {
        url: String,
        #[source]
        source: super::dcf::DcfError,
    },
}

/// Why an index record or a DESCRIPTION is not a package entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error(transparent)]
    Dcf(#[from] super::dcf::DcfError),

    #[error("the record is empty")]
    Empty,

    #[error("the record has no `{0}` field")]
    NoField(&'static str),

    #[error(transparent)]
    Version(#[from] super::version::InvalidVersion),

    #[error("its {field} field")]
    Field {
        field: &'static str,
        #[source]
        source: super::requirement::InvalidRequirement,
    },
}

/// Why a source tarball's `DESCRIPTION` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DescriptionError {
    #[error("not a tar.gz")]
    NotTarGz(#[source] std::io::Error),

    #[error("a corrupt or truncated tar.gz")]
    Corrupt(#[source] std::io::Error),

    #[error("its DESCRIPTION is unreadable")]
    Unreadable(#[source] std::io::Error),

    #[error("the tarball has no `{0}`")]
    Missing(String),
}

/// Why an index is unusable as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("it has text but no `Package:` records, so it is not a PACKAGES index")]
pub struct NotAnIndex;
