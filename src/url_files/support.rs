//! URL artifacts' part in resolve, emit, verify and diff.

use std::cmp::Ordering;

use super::inventory::FileInventory;
use crate::ecosystem::{EcosystemError, LayerResolver};
use crate::emit::step::{DockerfileOptions, Step, StepContext, StepError};
use crate::lock::{Lock, LockedLayer, LockedPackage};
use crate::package::{ChangeLevel, Ecosystem};
use crate::support::{EcosystemSupport, ResolverInputs, boxed};
use crate::verify::inventory::{Inventory, InventoryContext};

/// Files downloaded from URLs into each layer's targets.
pub struct UrlFiles;

impl EcosystemSupport for UrlFiles {
    fn ecosystems(&self) -> &'static [Ecosystem] {
        &[Ecosystem::File]
    }

    fn resolver<'a>(
        &self,
        inputs: ResolverInputs<'a>,
    ) -> Result<Option<Box<dyn LayerResolver + 'a>>, EcosystemError> {
        Ok(boxed(super::UrlFiles::load(
            inputs.spec,
            inputs.lock_dir,
            inputs.fetcher,
        )))
    }

    /// A file's version is its sha256: two differ in no order (a diff says "changed").
    fn version_change(&self, _old: &str, _new: &str) -> Option<(Ordering, ChangeLevel)> {
        None
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
        let files = sources
            .into_iter()
            .map(|(package, source)| {
                let details = package.details.file().ok_or_else(|| {
                    StepError::InvalidLock(format!(
                        "the file `{}` of layer `{}` has no target",
                        package.name, layer.name
                    ))
                })?;
                Ok((package, source, details))
            })
            .collect::<Result<Vec<_>, StepError>>()?;
        Ok(vec![Step {
            layer: Some(layer.name.clone()),
            text: super::emit::install_step(&layer.name, &files),
            packages: packages.len(),
        }])
    }

    fn inventory(&self, lock: &Lock, _context: &InventoryContext<'_>) -> Box<dyn Inventory> {
        Box::new(FileInventory::new(lock))
    }
}
