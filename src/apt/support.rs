//! apt's part in every stage: its resolver (`imglock resolve`), the steps that install a
//! layer's .debs (`imglock emit`), its inventory of a built image (`imglock verify`) and
//! Debian's version order (`imglock diff`).

use std::cmp::Ordering;

use super::version::Version;
use crate::ecosystem::{EcosystemError, LayerResolver};
use crate::emit::step::{DockerfileOptions, Step, StepContext, StepError};
use crate::lock::{Lock, LockedLayer, LockedPackage};
use crate::package::{ChangeLevel, Ecosystem};
use crate::support::{EcosystemSupport, ResolverInputs, boxed};
use crate::verify::inventory::{Inventory, InventoryContext};

/// Debian packages, installed with dpkg from the .debs the lock pins.
pub struct Apt;

impl EcosystemSupport for Apt {
    fn ecosystems(&self) -> &'static [Ecosystem] {
        &[Ecosystem::Apt]
    }

    fn resolver<'a>(
        &self,
        inputs: ResolverInputs<'a>,
    ) -> Result<Option<Box<dyn LayerResolver + 'a>>, EcosystemError> {
        Ok(boxed(super::resolver::AptPackages::load(inputs)?))
    }

    fn version_change(&self, old: &str, new: &str) -> Option<(Ordering, ChangeLevel)> {
        version_change(old, new)
    }

    fn install_steps(
        &self,
        _lock: &Lock,
        layer: &LockedLayer,
        packages: &[&LockedPackage],
        _options: &DockerfileOptions,
        context: &mut StepContext,
    ) -> Result<Vec<Step>, StepError> {
        super::emit::check(&layer.name, packages)?;
        context.one_step(layer, packages, |sources| {
            super::emit::install_step(&layer.name, sources)
        })
    }

    fn inventory(&self, lock: &Lock, context: &InventoryContext<'_>) -> Box<dyn Inventory> {
        Box::new(super::inventory::AptInventory::new(lock, context.base))
    }
}

/// The direction of a change by dpkg's order, and its level: a new epoch is major; else the
/// first differing dot-separated part of the upstream version decides (`17.0.8` → `17.0.9` is
/// a patch); a change of the Debian revision alone (`-1` → `-1~deb12u1`) is other.
pub fn version_change(old: &str, new: &str) -> Option<(Ordering, ChangeLevel)> {
    let (old, new) = (Version::parse(old).ok()?, Version::parse(new).ok()?);
    let level = if old.epoch() != new.epoch() {
        ChangeLevel::Major
    } else {
        let parts = |v: &Version| -> Vec<String> {
            v.upstream()
                .split(['.', '+', '~', ':'])
                .map(str::to_string)
                .collect()
        };
        let (a, b) = (parts(&old), parts(&new));
        let differing = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i));
        ChangeLevel::at(differing)
    };
    Some((new.cmp(&old), level))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_ordered_by_dpkg_and_levelled_by_upstream_part() {
        let change = |old, new| version_change(old, new).unwrap();
        assert_eq!(
            change("17.0.8+7-1~deb12u1", "17.0.9+9-1~deb12u1"),
            (Ordering::Greater, ChangeLevel::Patch)
        );
        assert_eq!(
            change("2.9.14+dfsg-1.3", "2.9.14+dfsg-1.3~deb12u1"),
            (Ordering::Less, ChangeLevel::Other)
        );
        assert_eq!(
            change("1.0-1", "1:0.9-1"),
            (Ordering::Greater, ChangeLevel::Major)
        );
        assert_eq!(
            change("4.2.2-1", "4.3.0-1"),
            (Ordering::Greater, ChangeLevel::Minor)
        );
        assert_eq!(
            change("1.0~rc1-1", "1.0-1"),
            (Ordering::Greater, ChangeLevel::Patch)
        );
        assert!(version_change("not a version", "1.0").is_none());
    }
}
