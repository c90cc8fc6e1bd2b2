//! The one trait every ecosystem implements, and the types that cross it.
//!
//! The pipeline knows nothing of any ecosystem's rules: for each layer, in order, it hands every
//! ecosystem the layer's spec, the pins of lower layers (fixed) and the pins of the previous lock
//! (preferred), and gets back the packages to lock, each with the artifact to pin. Fetching,
//! version rules and the resolution algorithm (a closure walk for R, PubGrub for PyPI, a SAT
//! solve for conda, Maven's tree walk) stay inside the ecosystem.

use std::collections::BTreeMap;
use std::path::Path;

use crate::conda::CondaBuild;
use crate::cran::RDetails;
use crate::fetch::ArtifactRequest;
use crate::lock::LockedPackage;
use crate::maven::MavenDetails;
use crate::pypi::PypiDetails;
use crate::spec::Layer;

/// The package ecosystems a lock holds. A closed set: an exhaustive `match` on it names every
/// place a new ecosystem must fill. Spelled in the lock and in reports as [`Ecosystem::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Cran,
    Bioconductor,
    Pypi,
    Conda,
    Maven,
}

impl Ecosystem {
    /// Its spelling in the lock, in reports and in the spec's keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cran => "cran",
            Self::Bioconductor => "bioconductor",
            Self::Pypi => "pypi",
            Self::Conda => "conda",
            Self::Maven => "maven",
        }
    }

    /// Whether its packages are R packages (CRAN and Bioconductor share R's library and rules).
    pub fn is_r(self) -> bool {
        matches!(self, Self::Cran | Self::Bioconductor)
    }

    /// The direction and level of a version change, by this ecosystem's own version order;
    /// `None` when either side is not a version it can read.
    pub fn version_change(self, old: &str, new: &str) -> Option<(std::cmp::Ordering, ChangeLevel)> {
        match self {
            Self::Cran | Self::Bioconductor => crate::cran::version_change(old, new),
            Self::Pypi => crate::pypi::version_change(old, new),
            Self::Conda => crate::conda::version_change(old, new),
            Self::Maven => crate::maven::version_change(old, new),
        }
    }
}

/// Ordered by spelling, so a lock's packages sort the same as they always have.
impl Ord for Ecosystem {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Ecosystem {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A package version already locked: by a lower layer, or by the previous lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    /// The layer that locks it.
    pub layer: String,
    /// The conda build string, for conda packages (a version has many builds).
    pub build: Option<String>,
}

/// What an ecosystem is asked to resolve for one layer.
pub struct LayerRequest<'a> {
    pub layer: &'a Layer,
    /// Packages locked by lower layers: fixed, never changed by this layer.
    pub below: &'a [Pin],
    /// Packages of the previous lock: kept while they still satisfy the spec.
    pub preferred: &'a [Pin],
}

/// A package an ecosystem chose, before its artifact is downloaded and hashed.
#[derive(Debug, Clone)]
pub struct ResolvedPackage {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    /// The repository, as the lock records it.
    pub repository: String,
    /// The artifact's URL, as the lock records it.
    pub url: String,
    /// How its artifact's sha256 and size are pinned.
    pub artifact: PinSource,
    /// Whether the layer's own list names it.
    pub requested: bool,
    /// Names of the locked packages it depends on.
    pub dependencies: Vec<String>,
    /// What its ecosystem adds.
    pub details: PackageDetails,
}

/// What a package's ecosystem adds to its identity and artifact pin: one variant per kind of
/// package, each with only its own facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageDetails {
    /// CRAN and Bioconductor packages.
    R(RDetails),
    Pypi(PypiDetails),
    Conda(CondaBuild),
    Maven(MavenDetails),
}

impl PackageDetails {
    /// An R package's details.
    pub fn r(&self) -> Option<&RDetails> {
        match self {
            Self::R(details) => Some(details),
            _ => None,
        }
    }

    /// A conda package's build.
    pub fn conda(&self) -> Option<&CondaBuild> {
        match self {
            Self::Conda(build) => Some(build),
            _ => None,
        }
    }
}

/// Where a package's pinned sha256 and size come from.
#[derive(Debug, Clone)]
pub enum PinSource {
    /// Download the artifact (verifying the repository's checksum) and hash it.
    Download(ArtifactRequest),
    /// The index publishes both (PyPI's JSON API); nothing is downloaded.
    Known { sha256: String, size: u64 },
}

/// One ecosystem's answer for one layer.
#[derive(Debug, Default)]
pub struct LayerResolution {
    pub packages: Vec<ResolvedPackage>,
    /// Decisions worth telling under `--verbose`.
    pub notes: Vec<String>,
}

/// An ecosystem's own error (`cran::CranError`, `pypi::PypiError`, `conda::CondaError`,
/// `maven::MavenError`), its type erased so the pipeline needs to know none of them. The
/// pipeline (`resolve`) wraps it in its top-level error with the layer and ecosystem; its
/// causes stay reachable through [`std::error::Error::source`].
pub type EcosystemError = Box<dyn std::error::Error + Send + Sync>;

/// What resolves an ecosystem's packages layer by layer: CRAN + Bioconductor, PyPI, conda and
/// Maven each implement it.
pub trait LayerResolver {
    /// The ecosystem, for the errors and messages about it (R's resolver answers `Cran`).
    fn ecosystem(&self) -> Ecosystem;

    /// The settings a resolution depended on (repositories, interpreter versions), recorded in
    /// the lock's `[resolution]` table.
    fn settings(&self) -> BTreeMap<String, SettingValue>;

    /// Resolves one layer's requirements.
    fn resolve_layer(&self, request: &LayerRequest<'_>) -> Result<LayerResolution, EcosystemError>;

    /// Completes a locked package from its verified artifact (facts only the artifact holds, like
    /// an R package's `SystemRequirements`). Reads the file; never runs package code.
    fn inspect_artifact(
        &self,
        package: &mut LockedPackage,
        artifact: &Path,
    ) -> Result<(), EcosystemError> {
        let _ = (package, artifact);
        Ok(())
    }
}

/// How far apart two versions of a package are, for a review: the first release component that
/// differs decides. Each ecosystem says what its release components are (`version_change` in its
/// module); [`crate::diff`] reports the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeLevel {
    Major,
    Minor,
    Patch,
    Other,
}

impl ChangeLevel {
    /// The level of a change whose first differing release component is at `position` (0-based):
    /// first major, second minor, third patch; a later one, or none (the change is elsewhere, in
    /// a qualifier or label), other.
    pub fn at(position: Option<usize>) -> Self {
        match position {
            Some(0) => Self::Major,
            Some(1) => Self::Minor,
            Some(2) => Self::Patch,
            _ => Self::Other,
        }
    }
}

/// A value of the lock's `[resolution]` table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(untagged)]
pub enum SettingValue {
    Text(String),
    List(Vec<String>),
}
