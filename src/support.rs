//! What each ecosystem folder gives the stages that come after resolution: its install steps
//! (`imglock emit`), its inventory of a built image (`imglock verify`) and its version order
//! (`imglock diff`). Every folder implements [`EcosystemSupport`] once; [`crate::registry`]
//! lists them, and the stages loop over that list knowing no ecosystem.

use std::cmp::Ordering;

use crate::emit::step::{DockerfileOptions, Step, StepContext, StepError};
use crate::lock::{Lock, LockedLayer, LockedPackage};
use crate::package::{ChangeLevel, Ecosystem};
use crate::verify::inventory::Inventory;

/// One ecosystem folder's part in emit, verify and diff.
pub trait EcosystemSupport: Sync {
    /// The ecosystems whose packages it serves (R serves CRAN and Bioconductor).
    fn ecosystems(&self) -> &'static [Ecosystem];

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

    /// Its inventory of an image built from `lock`; `r_library` is the R library the user
    /// named on the command line, if any.
    fn inventory(&self, lock: &Lock, r_library: Option<&str>) -> Box<dyn Inventory>;

    /// Whether `package` is one of its packages.
    fn serves(&self, package: &LockedPackage) -> bool {
        self.ecosystems().contains(&package.ecosystem)
    }
}
