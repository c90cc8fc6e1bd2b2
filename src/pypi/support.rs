//! Python's part in emit, verify and diff.

use std::cmp::Ordering;

use super::inventory::PythonInventory;
use crate::ecosystem::{EcosystemError, LayerResolver};
use crate::emit::step::{DockerfileOptions, Source, Step, StepContext, StepError};
use crate::lock::{Lock, LockedLayer, LockedPackage};
use crate::package::{ChangeLevel, Ecosystem};
use crate::spec::Spec;
use crate::support::{EcosystemSupport, ResolverInputs, boxed};
use crate::verify::inventory::{Inventory, InventoryContext};

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
            inputs.no_build,
            inputs.likely,
        )?))
    }

    fn record_settings(&self, spec: &Spec, lock: &mut Lock) {
        let has_python = lock
            .layers
            .iter()
            .any(|layer| layer.packages.iter().any(|p| self.serves(p)));
        if has_python {
            lock.image.python_prefix = spec.image.pypi.prefix.clone();
            lock.image.python_venv = spec.image.pypi.venv;
        }
    }

    fn keep_recorded(&self, previous: &Lock, lock: &mut Lock) {
        super::emit::sdist_build::BUILT.keep_recorded(previous, lock);
    }

    fn version_change(&self, old: &str, new: &str) -> Option<(Ordering, ChangeLevel)> {
        super::version_change(old, new)
    }

    fn preamble(&self, lock: &Lock, _options: &DockerfileOptions) -> Option<(String, Step)> {
        super::emit::sdist_build::preamble(lock)
    }

    fn install_steps(
        &self,
        lock: &Lock,
        layer: &LockedLayer,
        packages: &[&LockedPackage],
        _options: &DockerfileOptions,
        context: &mut StepContext,
    ) -> Result<Vec<Step>, StepError> {
        let environment = super::emit::Environment::of(lock);
        let sources = sources_of(packages, context)?;
        let build_packages: Vec<&LockedPackage> = layer.build_packages.iter().collect();
        let build_sources = context.sources_of(&build_packages)?;
        let has_sdists = packages.iter().any(|p| !p.url.ends_with(".whl"));
        let wheel_key = match has_sdists {
            true => super::emit::sdist_build::wheel_cache_key(lock)?,
            false => String::new(),
        };
        let files = super::emit::LayerFiles {
            packages: &sources,
            build_packages: &build_sources,
            wheel_key: &wheel_key,
        };
        Ok(vec![Step {
            layer: Some(layer.name.clone()),
            text: super::emit::install_step(&layer.name, &files, environment)?,
            packages: packages.len(),
        }])
    }

    fn inventory(&self, lock: &Lock, _context: &InventoryContext<'_>) -> Box<dyn Inventory> {
        Box::new(PythonInventory::new(lock))
    }
}

/// Each package with where its file comes from in the build: a git package's source archive
/// from the build context (made again when the cache lacks it, checked against the lock), the
/// others as [`StepContext::sources_of`] says.
fn sources_of<'a>(
    packages: &[&'a LockedPackage],
    context: &mut StepContext,
) -> Result<Vec<(&'a LockedPackage, Source)>, StepError> {
    let mut sources = Vec::with_capacity(packages.len());
    for package in packages {
        let git = match &package.details {
            crate::package::PackageDetails::Pypi(details) => details.git.as_ref(),
            _ => None,
        };
        sources.push(match git {
            Some(git) => (*package, super::git::context_source(package, git, context)?),
            None => context.sources_of(&[*package])?.remove(0),
        });
    }
    Ok(sources)
}
