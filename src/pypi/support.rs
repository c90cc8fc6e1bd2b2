//! Python's part in emit, verify and diff.

use std::cmp::Ordering;

use super::inventory::PythonInventory;
use crate::ecosystem::{EcosystemError, LayerResolver};
use crate::emit::step::{DockerfileOptions, Step, StepContext, StepError};
use crate::lock::{Lock, LockedLayer, LockedPackage};
use crate::package::{ChangeLevel, Ecosystem};
use crate::support::{EcosystemSupport, ResolverInputs, boxed};
use crate::verify::inventory::Inventory;

/// Python packages from PyPI (or another index), installed by pip into the image's Python.
pub struct Python;

impl EcosystemSupport for Python {
    fn ecosystems(&self) -> &'static [Ecosystem] {
        &[Ecosystem::Pypi]
    }

    fn resolver<'a>(
        &self,
        inputs: ResolverInputs<'a>,
    ) -> Result<Option<Box<dyn LayerResolver + 'a>>, EcosystemError> {
        Ok(boxed(super::PypiPackages::load(
            inputs.spec,
            inputs.lock_dir,
            inputs.fetcher,
            inputs.exclude_newer,
        )?))
    }

    fn version_change(&self, old: &str, new: &str) -> Option<(Ordering, ChangeLevel)> {
        super::version_change(old, new)
    }

    fn install_steps(
        &self,
        _lock: &Lock,
        layer: &LockedLayer,
        packages: &[&LockedPackage],
        _options: &DockerfileOptions,
        context: &mut StepContext,
    ) -> Result<Vec<Step>, StepError> {
        context.one_step(layer, packages, |sources| {
            super::emit::install_step(&layer.name, sources)
        })
    }

    fn inventory(&self, _lock: &Lock, _r_library: Option<&str>) -> Box<dyn Inventory> {
        Box::new(PythonInventory)
    }
}
