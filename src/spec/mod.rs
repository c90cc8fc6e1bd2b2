//! `imglock.toml`, the user's spec: the base image, the repositories and the ordered layers.
//!
//! Reading is strict. Unknown keys, a base image without a digest, a malformed requirement and a
//! key reserved for an ecosystem this build does not support yet are errors that name the file,
//! line and column; nothing is ignored silently.

mod parse;
mod wire;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use crate::conda::CondaInstaller;

/// The spec file name looked for when none is given.
pub const DEFAULT_SPEC: &str = "imglock.toml";

/// A validated spec.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The spec file, as given on the command line.
    pub path: PathBuf,
    pub image: Image,
    pub repositories: Repositories,
    pub layers: Vec<Layer>,
}

/// The `[image]` table.
#[derive(Debug, Clone, Serialize)]
pub struct Image {
    pub name: String,
    pub base: String,
    pub platform: crate::platform::Platform,
    pub r: Option<String>,
    /// The R library imglock installs into (absolute); R's site library when not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r_library: Option<String>,
    pub python: Option<String>,
    /// The image's glibc as a manylinux level (`2_17` when not set), for choosing wheels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manylinux: Option<String>,
    /// The image's glibc version, like `2.17`: conda's `__glibc` virtual package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glibc: Option<String>,
    /// The CUDA driver version the image runs with, like `11.8`: conda's `__cuda` (none if unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuda: Option<String>,
    /// Where the image's conda environment lives (absolute), `/opt/conda` when not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conda_prefix: Option<String>,
    /// The program that installs conda packages in the image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conda_installer: Option<CondaInstaller>,
}

/// The conda prefix used when the spec names none.
pub const CONDA_PREFIX: &str = "/opt/conda";

/// The `[repositories]` table, as written (paths are resolved when the repositories are used).
#[derive(Debug, Clone, Serialize)]
pub struct Repositories {
    pub cran: Vec<String>,
    pub bioconductor: BioconductorSource,
    /// Python package indexes, in priority order: the first that has a project serves it
    /// (PyPI when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pypi: Vec<String>,
    /// conda channels, in strict priority order: the first channel that has a name serves it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conda: Vec<String>,
    /// Maven repositories, in order (Maven Central when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub maven: Vec<String>,
}

/// Where Bioconductor packages come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum BioconductorSource {
    /// The release matching the image's R, from bioconductor.org.
    Auto,
    /// An explicit release, like `3.16`, from bioconductor.org.
    Release(String),
    /// A mirror laid out like bioconductor.org (`<url>/packages/<release>/bioc`), with the release
    /// matching the image's R.
    Mirror(String),
}

/// The Bioconductor site used when the spec names none.
pub const BIOCONDUCTOR_URL: &str = "https://bioconductor.org";
/// The CRAN mirror used when the spec names none.
pub const CRAN_URL: &str = "https://cloud.r-project.org";

/// One `[[layer]]`.
#[derive(Debug, Clone, Serialize)]
pub struct Layer {
    pub name: String,
    pub requirements: Vec<RequirementEntry>,
    /// Where the layer's jars go in the image (`maven-target`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maven_target: Option<String>,
}

/// Which list of a layer a requirement was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RequirementKind {
    Cran,
    Bioconductor,
    Pypi,
    Conda,
    Maven,
    /// Coordinates the runtime already ships (`maven-provided`): their trees are left out.
    MavenProvided,
}

impl RequirementKind {
    /// The key's spelling in the spec and the lock.
    pub fn key(self) -> &'static str {
        match self {
            Self::Cran => "cran",
            Self::Bioconductor => "bioconductor",
            Self::Pypi => "pypi",
            Self::Conda => "conda",
            Self::Maven => "maven",
            Self::MavenProvided => "maven-provided",
        }
    }
}

/// One requirement string of a layer and where it was written.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementEntry {
    pub kind: RequirementKind,
    pub text: String,
    /// `group:artifact` patterns left out of a Maven requirement's tree (`*` matches anything).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<String>,
    #[serde(skip)]
    pub location: Location,
}

/// A line and column (both 1-based) in the spec file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// A problem with the spec, at a place in it when one is known.
#[derive(Debug, thiserror::Error)]
pub struct SpecError {
    pub path: PathBuf,
    pub location: Option<Location>,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some(at) => write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                at.line,
                at.column,
                self.message
            ),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl Spec {
    /// Reads and validates the spec at `path`.
    pub fn read(path: &Path) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|error| SpecError {
            path: path.to_path_buf(),
            location: None,
            message: format!("cannot read the spec ({error}); create it or pass `--spec PATH`"),
        })?;
        Self::parse(path, &text)
    }

    /// The folder the spec's relative paths are relative to.
    pub fn dir(&self) -> PathBuf {
        crate::files::parent_dir(&self.path)
    }

    /// A hash of the normalised spec: what `imglock check` compares with the lock's.
    pub fn hash(&self) -> String {
        #[derive(Serialize)]
        struct Normalised<'a> {
            image: &'a Image,
            repositories: &'a Repositories,
            layers: &'a [Layer],
        }
        let json = serde_json::to_vec(&Normalised {
            image: &self.image,
            repositories: &self.repositories,
            layers: &self.layers,
        })
        .unwrap_or_default();
        format!("sha256:{}", hex::encode(Sha256::digest(json)))
    }

    /// An error about a requirement of this spec, located at its line and column.
    pub fn error_at(&self, entry: &RequirementEntry, message: String) -> SpecError {
        SpecError {
            path: self.path.clone(),
            location: Some(entry.location),
            message,
        }
    }
}
