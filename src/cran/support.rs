//! R's part in emit, verify and diff, for CRAN, Bioconductor and GitHub packages alike.

use std::cmp::Ordering;

use super::emit;
use super::inventory::RInventory;
use crate::ecosystem::{EcosystemError, LayerResolver};
use crate::emit::step::{DockerfileOptions, Step, StepContext, StepError};
use crate::lock::{Lock, LockedLayer, LockedPackage};
use crate::package::{ChangeLevel, Ecosystem};
use crate::spec::Spec;
use crate::support::{EcosystemSupport, ResolverInputs, boxed};
use crate::verify::inventory::{Inventory, InventoryContext};

/// R packages: CRAN's and Bioconductor's, installed into one library.
pub struct R;

impl EcosystemSupport for R {
    fn ecosystems(&self) -> &'static [Ecosystem] {
        &[Ecosystem::Cran, Ecosystem::Bioconductor, Ecosystem::Github]
    }

    fn resolver<'a>(
        &self,
        inputs: ResolverInputs<'a>,
    ) -> Result<Option<Box<dyn LayerResolver + 'a>>, EcosystemError> {
        Ok(boxed(super::RPackages::load(
            inputs.spec,
            inputs.lock_dir,
            inputs.fetcher,
            inputs.base,
            inputs.exclude_newer,
        )?))
    }

    fn record_settings(&self, spec: &Spec, lock: &mut Lock) {
        lock.image.r_library = spec.image.r.library.clone();
    }

    fn keep_recorded(&self, previous: &Lock, lock: &mut Lock) {
        super::emit::BUILT.keep_recorded(previous, lock);
    }

    fn version_change(&self, old: &str, new: &str) -> Option<(Ordering, ChangeLevel)> {
        super::version_change(old, new)
    }

    fn preamble(&self, lock: &Lock, options: &DockerfileOptions) -> Option<(String, Step)> {
        Some(emit::preamble(lock, options))
    }

    fn install_steps(
        &self,
        lock: &Lock,
        layer: &LockedLayer,
        packages: &[&LockedPackage],
        options: &DockerfileOptions,
        context: &mut StepContext,
    ) -> Result<Vec<Step>, StepError> {
        emit::install_steps(lock, layer, packages, options, context)
    }

    fn inventory(&self, lock: &Lock, context: &InventoryContext<'_>) -> Box<dyn Inventory> {
        Box::new(RInventory::new(
            context.r_library.or(lock.image.r_library.as_deref()),
        ))
    }
}
