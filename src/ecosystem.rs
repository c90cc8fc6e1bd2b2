//! The one trait every ecosystem implements, and the types that cross it.
//!
//! The pipeline knows nothing of any ecosystem's rules: for each layer, in order, it hands every
//! ecosystem the layer's spec, the pins of lower layers (fixed) and the pins of the previous lock
//! (preferred), and gets back the packages to lock, each with the artifact to pin. Fetching,
//! version rules and the resolution algorithm (a closure walk for R, PubGrub for PyPI, a SAT
//! solve for conda, Maven's tree walk) stay inside the ecosystem.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::fetch::ArtifactRequest;
use crate::lock::LockedPackage;
use crate::package::{Ecosystem, PackageDetails, Pin, PreferredBuilds, SettingValue};
use crate::spec::Layer;

/// What an ecosystem is asked to resolve for one layer.
pub struct LayerRequest<'a> {
    pub layer: &'a Layer,
    /// Packages locked by lower layers: fixed, never changed by this layer.
    pub below: &'a [Pin],
    /// Packages of the previous lock: kept while they still satisfy the spec.
    pub preferred: &'a [Pin],
    /// The build pins the previous lock recorded for the packages it builds from source.
    pub preferred_builds: &'a PreferredBuilds,
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
    /// The license its metadata declares, when it declares one.
    pub license: Option<String>,
    /// Whether the layer's own list names it.
    pub requested: bool,
    /// Names of the locked packages it depends on.
    pub dependencies: Vec<String>,
    /// What its ecosystem adds.
    pub details: PackageDetails,
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
    /// What builds the layer's source distributions (their build dependencies): locked, never
    /// installed in the image.
    pub build_packages: Vec<ResolvedPackage>,
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

/// How a package came to be required, for an error: from a layer's list, or from another
/// package, like `layer `app` asks for requests==2.27.1 → requests 2.27.1 requires urllib3 >=1.21.1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain(pub Vec<String>);

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" → "))
    }
}

/// Where a lower pin was locked, for an error: "the lower layer `base`", or "the base image".
pub fn locked_below(pin: &Pin) -> String {
    match pin.layer.as_str() {
        crate::base::BASE_LAYER => "the base image".to_string(),
        layer => format!("the lower layer `{layer}`"),
    }
}
