//! What each ecosystem folder gives the pipeline: its resolver and the settings it records in
//! the lock (`imglock resolve`), its install steps (`imglock emit`), its inventory of a built
//! image (`imglock verify`) and its version order (`imglock diff`). Every folder implements
//! [`EcosystemSupport`] once; [`crate::registry`] lists them, and the stages loop over that list
//! knowing no ecosystem.

use std::cmp::Ordering;
use std::path::Path;

use crate::ecosystem::{EcosystemError, LayerResolver};
use crate::emit::step::{DockerfileOptions, Step, StepContext, StepError};
use crate::exclude_newer::ExcludeNewer;
use crate::fetch::Fetcher;
use crate::lock::{Lock, LockedLayer, LockedPackage};
use crate::package::{ChangeLevel, Ecosystem};
use crate::spec::Spec;
use crate::verify::inventory::{Inventory, InventoryContext};

/// What an ecosystem's resolver is made from.
#[derive(Clone, Copy)]
pub struct ResolverInputs<'a> {
    pub spec: &'a Spec,
    /// What the lock being replaced pins (`--upgrade` or not): the packages this resolve will
    /// likely ask about again, whose metadata a resolver may ask for in its first round.
    pub likely: &'a [crate::package::Pin],
    /// The folder relative repository paths are relative to (the lock's).
    pub lock_dir: &'a Path,
    pub fetcher: &'a Fetcher,
    /// Files uploaded after this instant are ignored, where the ecosystem has dates.
    pub exclude_newer: Option<ExcludeNewer>,
    /// The packages whose source distributions must not be built.
    pub no_build: NoBuild<'a>,
    /// What the base image has installed, when it was read: fixed pins below the first layer.
    pub base: Option<&'a crate::base::BaseContents>,
    /// What the parent image's lock pins, when the spec `extends` one: fixed pins above the
    /// base's, below the first layer.
    pub parent: &'a [crate::package::Pin],
}

/// The packages whose source distributions must not be built to learn their metadata
/// (`--no-build`, `--no-build-package`, as uv names them).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBuild<'a> {
    /// None may be built.
    pub all: bool,
    /// These may not be (names as the user wrote them).
    pub packages: &'a [String],
}

/// One ecosystem folder's part in every stage.
pub trait EcosystemSupport: Sync {
    /// The ecosystems whose packages it serves (R serves CRAN and Bioconductor).
    fn ecosystems(&self) -> &'static [Ecosystem];

    /// The resolver of the spec's packages of this ecosystem, its indexes loaded; `None` when
    /// the spec has none.
    fn resolver<'a>(
        &self,
        inputs: ResolverInputs<'a>,
    ) -> Result<Option<Box<dyn LayerResolver + 'a>>, EcosystemError>;

    /// Records in `lock`, made for `spec`, the settings its packages are installed with (where
    /// they go in the image). Nothing by default.
    fn record_settings(&self, spec: &Spec, lock: &mut Lock) {
        let _ = (spec, lock);
    }

    /// Keeps in the new `lock` what the `previous` lock recorded about its packages from built
    /// images, where that still holds (R: each binary's sha256, while the package, R version,
    /// platform and base image are unchanged). Nothing by default.
    fn keep_recorded(&self, previous: &Lock, lock: &mut Lock) {
        let _ = (previous, lock);
    }

    /// The direction and level of a version change by its own version order; `None` when
    /// either side is not a version it can read.
    fn version_change(&self, old: &str, new: &str) -> Option<(Ordering, ChangeLevel)>;

    /// What the Dockerfile needs once, before the first layer, when the lock has any of its
    /// packages: a header line and a step (R's installer helper). Nothing by default.
    fn preamble(&self, lock: &Lock, options: &DockerfileOptions) -> Option<(String, Step)> {
        let _ = (lock, options);
        None
    }

    /// The steps that install `packages` (this ecosystem's, never empty) of `layer`.
    fn install_steps(
        &self,
        lock: &Lock,
        layer: &LockedLayer,
        packages: &[&LockedPackage],
        options: &DockerfileOptions,
        context: &mut StepContext,
    ) -> Result<Vec<Step>, StepError>;

    /// Its inventory of an image built from `lock`, given what else verification knows
    /// (`context`: the R library the user named, the base image's packages).
    fn inventory(&self, lock: &Lock, context: &InventoryContext<'_>) -> Box<dyn Inventory>;

    /// Whether `package` is one of its packages.
    fn serves(&self, package: &LockedPackage) -> bool {
        self.ecosystems().contains(&package.ecosystem)
    }
}

/// A loaded resolver (if the spec has packages of its ecosystem) as the pipeline holds it.
pub fn boxed<'a>(loaded: Option<impl LayerResolver + 'a>) -> Option<Box<dyn LayerResolver + 'a>> {
    loaded.map(|resolver| Box::new(resolver) as Box<dyn LayerResolver + 'a>)
}
