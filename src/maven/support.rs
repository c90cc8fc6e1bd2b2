//! Maven's part in emit, verify and diff.

use std::cmp::Ordering;

use super::inventory::MavenInventory;
use crate::emit::step::{DockerfileOptions, Step, StepContext, StepError};
use crate::lock::{Lock, LockedLayer, LockedPackage};
use crate::package::{ChangeLevel, Ecosystem};
use crate::support::EcosystemSupport;
use crate::verify::inventory::Inventory;

/// Maven artifacts (jars), put into each layer's `maven-target`.
pub struct Maven;

impl EcosystemSupport for Maven {
    fn ecosystems(&self) -> &'static [Ecosystem] {
        &[Ecosystem::Maven]
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
        let sources = context.sources_of(packages)?;
        Ok(vec![Step {
            layer: Some(layer.name.clone()),
            text: super::emit::install_step(&layer.name, &sources, target),
            packages: packages.len(),
        }])
    }

    fn inventory(&self, lock: &Lock, _r_library: Option<&str>) -> Box<dyn Inventory> {
        Box::new(MavenInventory::new(lock))
    }
}
