//! The check that a re-resolve never silently takes new bytes for an artifact the previous lock
//! pinned.

use crate::error::{Error, Republished};
use crate::lock::{Lock, LockedPackage};

/// Fails when an artifact the previous lock pinned now has other bytes under the same ecosystem,
/// name, version and URL: a re-published or tampered artifact, which the lock exists to catch.
/// Taking the new bytes needs `--upgrade-package NAME` (or `--upgrade`).
pub(super) fn refuse_republished(
    previous: &Lock,
    lock: &Lock,
    upgrading: &[String],
) -> Result<(), Error> {
    let pinned: std::collections::HashMap<_, &LockedPackage> = previous
        .layers
        .iter()
        .flat_map(|layer| layer.packages.iter().chain(&layer.build_packages))
        .map(|p| {
            (
                (
                    p.ecosystem.as_str(),
                    p.name.as_str(),
                    p.version.as_str(),
                    p.url.as_str(),
                ),
                p,
            )
        })
        .collect();
    let changed: Vec<Republished> = lock
        .layers
        .iter()
        .flat_map(|layer| layer.packages.iter().chain(&layer.build_packages))
        .filter(|p| !upgrading.contains(&p.name))
        .filter_map(|p| {
            let old = pinned.get(&(
                p.ecosystem.as_str(),
                p.name.as_str(),
                p.version.as_str(),
                p.url.as_str(),
            ))?;
            (old.sha256 != p.sha256).then(|| Republished {
                ecosystem: p.ecosystem,
                name: p.name.clone(),
                version: p.version.clone(),
                url: p.url.clone(),
                locked: old.sha256.clone(),
                served: p.sha256.clone(),
            })
        })
        .collect();
    if changed.is_empty() {
        Ok(())
    } else {
        Err(Error::Republished(changed))
    }
}
