//! Why an R layer could not be resolved, told as the chain of requirements that led there.

pub use crate::ecosystem::Chain;

/// A failed R resolution.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No repository the spec lists, CRAN or Bioconductor, has the package.
    #[error("no repository has `{name}` ({chain}){}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownPackage {
        /// The package asked for, like `ggplot3`.
        name: String,
        /// How the walk came to need it, from the layer's list down to this requirement.
        chain: Chain,
        /// The closest name an index has, when one is close enough, like `ggplot2`.
        suggestion: Option<String>,
    },

    /// A layer entry names the repository a package comes from, and that repository does not
    /// have it.
    #[error(
        "{chain}: {name} is not in {repository}; {}",
        match elsewhere.as_slice() {
            [] => "no other repository has it either: check the name and the entry's `repository`".to_string(),
            others => format!("it is in {}: name that one in the entry's `repository`, or remove `repository`", others.join(", ")),
        }
    )]
    NotInRepository {
        /// The package, like `hwriterPlus`.
        name: String,
        /// How the walk came to need it, from the layer's list down to this requirement.
        chain: Chain,
        /// The repository the entry names, as the lock would record it.
        repository: String,
        /// The other repositories that have it.
        elsewhere: Vec<String>,
    },

    /// With a date (`cran-snapshot`, `--exclude-newer`), no version of the package was published
    /// by then.
    #[error(
        "{chain}: no version of {name} in {repository} was published by the date the spec's `cran-snapshot` or `--exclude-newer` gives: use a later date, or pin a version (`{name} == <version>`)"
    )]
    NotYetPublished {
        /// The package.
        name: String,
        /// How the walk came to need it, from the layer's list down to this requirement.
        chain: Chain,
        /// The repository it was looked for in.
        repository: String,
    },

    /// A root is written in one list (`cran` or `bioconductor`) but only the other kind of
    /// repository has it.
    #[error(
        "`{name}` is listed under `{listed}` but is a {found} package ({repository}): move it to the layer's `{found}` list"
    )]
    WrongList {
        /// The package, like `limma`.
        name: String,
        /// The list the spec wrote it in.
        listed: crate::package::Ecosystem,
        /// The kind of the repository that has it.
        found: crate::package::Ecosystem,
        /// That repository, as the lock would record it.
        repository: String,
    },

    /// The repository's version (and, for a pin, its archive) does not satisfy the requirement.
    #[error("{chain}: {requirement} cannot be met; {repository} has {name} {available}{}", hint.as_deref().map(|h| format!(". {h}")).unwrap_or_default())]
    NoMatchingVersion {
        /// The package, like `rlang`.
        name: String,
        /// The requirement that failed, like `rlang (>= 1.1.0)`.
        requirement: String,
        /// How the walk came to need it, from the layer's list down to this requirement.
        chain: Chain,
        /// The repository the package was taken from.
        repository: String,
        /// The version that repository's index has, like `1.0.6`.
        available: String,
        /// What to try next, like pinning an archived version; `None` when there is no advice.
        hint: Option<String>,
    },

    /// Two requirements in one layer want versions of a package that no single version meets.
    #[error(
        "{chain}: {requirement} conflicts with {name} {chosen}, already chosen because {chosen_because}; no single version satisfies both"
    )]
    Conflict {
        /// The package, like `Matrix`.
        name: String,
        /// The requirement that failed, like `rlang (>= 1.1.0)`.
        requirement: String,
        /// How the walk came to need it, from the layer's list down to this requirement.
        chain: Chain,
        /// The version already chosen for the package, like `1.6-5`.
        chosen: String,
        /// How the walk came to choose that version.
        chosen_because: Chain,
    },

    /// A requirement in this layer does not fit the version a lower layer already locked.
    #[error(
        "{chain}: {requirement} conflicts with {name} {version}, locked in the lower layer `{lower_layer}`; a higher layer cannot change a lower layer's pins, so move or relax the requirement"
    )]
    LowerLayer {
        /// The package, like `Rcpp`.
        name: String,
        /// The requirement that failed, like `rlang (>= 1.1.0)`.
        requirement: String,
        /// How the walk came to need it, from the layer's list down to this requirement.
        chain: Chain,
        /// The version the lower layer locked.
        version: String,
        /// The name of the lower layer that locked it.
        lower_layer: String,
    },

    /// The chosen version's `Depends: R (>= x)` excludes the image's R version.
    #[error(
        "{chain}: {name} {version} needs R {needs}, but the image has R {image_r}; pin an older {name} (`{name} == <version>`) or use a newer base image"
    )]
    RTooOld {
        /// The package, like `MASS`.
        name: String,
        /// The version that needs a newer R.
        version: String,
        /// How the walk came to need it, from the layer's list down to this requirement.
        chain: Chain,
        /// The R constraint it declares, like `>= 4.4.0`.
        needs: String,
        /// The image's R version, like `4.3.2`.
        image_r: String,
    },

    /// The repository's index has a record for the package that cannot be read as an entry.
    #[error(
        "{chain}: the index of {repository} has an unreadable entry for `{name}` at line {line}"
    )]
    BrokenEntry {
        /// The package whose record is broken.
        name: String,
        /// How the walk came to need it, from the layer's list down to this requirement.
        chain: Chain,
        /// The repository whose index it is.
        repository: String,
        /// The 1-based line of the index where the record starts.
        line: usize,
        /// What is wrong with the record, like a missing `Version:` field.
        #[source]
        source: EntryError,
    },

    /// An exactly pinned (or previously locked) version is only in CRAN's archive, and fetching
    /// or reading its tarball failed.
    #[error("{chain}: cannot use the archived {name} {version} from {repository}")]
    Archive {
        /// The package, like `dplyr`.
        name: String,
        /// The archived version wanted, like `1.0.10`.
        version: String,
        /// How the walk came to need it, from the layer's list down to this requirement.
        chain: Chain,
        /// The repository whose archive was tried.
        repository: String,
        /// Why the archived tarball could not be used.
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

    #[error("its tarball `{url}` is unusable")]
    Description {
        url: String,
        #[source]
        source: DescriptionError,
    },

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
    Github(#[from] Box<super::github::error::GithubError>),

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
    IndexTooLarge {
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

    #[error("a tar.gz that expands too far before its DESCRIPTION")]
    TooLarge(#[source] std::io::Error),

    #[error("its DESCRIPTION is unreadable")]
    Unreadable(#[source] std::io::Error),

    #[error("the tarball has no `{0}`")]
    Missing(String),

    #[error("a GitHub archive whose entries are not all below one folder (`{0}/` and `{1}/`)")]
    NotOneFolder(String, String),
}

/// Why an index is unusable as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("it has text but no `Package:` records, so it is not a PACKAGES index")]
pub struct NotAnIndex;
