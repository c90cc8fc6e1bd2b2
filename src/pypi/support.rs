//! Python's part in emit, verify and diff.

use std::cmp::Ordering;

use super::inventory::PythonInventory;
use crate::emit::step::{DockerfileOptions, Step, StepContext, StepError};
use crate::lock::{Lock, LockedLayer, LockedPackage};
use crate::package::{ChangeLevel, Ecosystem};
use crate::support::EcosystemSupport;
use crate::verify::inventory::Inventory;

/// Python packages from PyPI (or another index), installed by pip into the image's Python.
pub struct Python;

impl EcosystemSupport for Python {
    fn ecosystems(&self) -> &'static [Ecosystem] {
        &[Ecosystem::Pypi]
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
        let sources = context.sources_of(packages)?;
        Ok(vec![Step {
            layer: Some(layer.name.clone()),
            text: super::emit::install_step(&layer.name, &sources),
            packages: packages.len(),
        }])
    }

    fn inventory(&self, _lock: &Lock, _r_library: Option<&str>) -> Box<dyn Inventory> {
        Box::new(PythonInventory)
    }
}
