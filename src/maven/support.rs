//! Maven's part in emit, verify and diff.

use std::cmp::Ordering;

use super::inventory::MavenInventory;
use crate::ecosystem::{EcosystemError, LayerResolver};
use crate::emit::step::{DockerfileOptions, Step, StepContext, StepError};
use crate::lock::{Lock, LockedLayer, LockedPackage};
use crate::package::{ChangeLevel, Ecosystem};
use crate::spec::Spec;
use crate::support::{EcosystemSupport, ResolverInputs, boxed};
use crate::verify::inventory::{Inventory, InventoryContext};

/// Maven artifacts (jars), put into each layer's `maven-target`.
pub struct Maven;

impl EcosystemSupport for Maven {
    fn ecosystems(&self) -> &'static [Ecosystem] {
        &[Ecosystem::Maven]
    }

    fn resolver<'a>(
        &self,
        inputs: ResolverInputs<'a>,
    ) -> Result<Option<Box<dyn LayerResolver + 'a>>, EcosystemError> {
        Ok(boxed(super::MavenPackages::load(
            inputs.spec,
            inputs.lock_dir,
            inputs.fetcher,
        )?))
    }

    fn record_settings(&self, spec: &Spec, lock: &mut Lock) {
        for layer in &mut lock.layers {
            if layer.packages.iter().any(|p| self.serves(p)) {
                layer.maven_target = spec
                    .layers
                    .iter()
                    .find(|l| l.name == layer.name)
                    .and_then(|l| l.maven.target.clone());
            }
        }
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
        let target = layer.maven_target.as_deref().ok_or_else(|| {
            StepError::InvalidLock(format!(
                "layer `{}` has Maven artifacts but no `maven-target`",
                layer.name
            ))
        })?;
        context.one_step(layer, packages, |sources| {
            super::emit::install_step(&layer.name, sources, target)
        })
    }

    fn inventory(&self, lock: &Lock, _context: &InventoryContext<'_>) -> Box<dyn Inventory> {
        Box::new(MavenInventory::new(lock))
    }
}
