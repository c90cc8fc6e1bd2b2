//! conda's part in emit, verify and diff.

use std::cmp::Ordering;

use super::inventory::CondaInventory;
use crate::ecosystem::{EcosystemError, LayerResolver};
use crate::emit::step::{DockerfileOptions, Step, StepContext, StepError};
use crate::lock::{Lock, LockedLayer, LockedPackage};
use crate::package::{ChangeLevel, Ecosystem};
use crate::spec::Spec;
use crate::support::{EcosystemSupport, ResolverInputs, boxed};
use crate::verify::inventory::{Inventory, InventoryContext};

/// conda packages, installed into the image's conda prefix.
pub struct Conda;

impl Conda {
    /// The prefix the lock's conda packages go into.
    fn prefix(lock: &Lock) -> &str {
        lock.image
            .conda_prefix
            .as_deref()
            .unwrap_or(super::spec::CONDA_PREFIX)
    }
}

impl EcosystemSupport for Conda {
    fn ecosystems(&self) -> &'static [Ecosystem] {
        &[Ecosystem::Conda]
    }

    fn resolver<'a>(
        &self,
        inputs: ResolverInputs<'a>,
    ) -> Result<Option<Box<dyn LayerResolver + 'a>>, EcosystemError> {
        Ok(boxed(super::CondaPackages::load(
            inputs.spec,
            inputs.lock_dir,
            inputs.fetcher,
            inputs.exclude_newer,
        )?))
    }

    fn record_settings(&self, spec: &Spec, lock: &mut Lock) {
        let has_conda = lock
            .layers
            .iter()
            .any(|layer| layer.packages.iter().any(|p| self.serves(p)));
        if has_conda {
            lock.image.conda_prefix = Some(
                spec.image
                    .conda
                    .prefix
                    .clone()
                    .unwrap_or_else(|| super::spec::CONDA_PREFIX.to_string()),
            );
            lock.image.conda_installer = Some(spec.image.conda.installer.unwrap_or_default());
        }
    }

    fn version_change(&self, old: &str, new: &str) -> Option<(Ordering, ChangeLevel)> {
        super::version_change(old, new)
    }

    fn install_steps(
        &self,
        lock: &Lock,
        layer: &LockedLayer,
        packages: &[&LockedPackage],
        _options: &DockerfileOptions,
        context: &mut StepContext,
    ) -> Result<Vec<Step>, StepError> {
        context.one_step(layer, packages, |sources| {
            super::emit::install_step(
                &layer.name,
                sources,
                Self::prefix(lock),
                lock.image.conda_installer.unwrap_or_default(),
            )
        })
    }

    fn inventory(&self, lock: &Lock, _context: &InventoryContext<'_>) -> Box<dyn Inventory> {
        Box::new(CondaInventory::new(Self::prefix(lock)))
    }
}
