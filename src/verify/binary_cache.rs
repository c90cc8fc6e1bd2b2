//! `imglock verify IMAGE --binary-cache oci://HOST/REPOSITORY`: whether each R package of an
//! image is the binary the shared cache holds for its cache entry. The image's installer records
//! the sha256 of every binary it installed (`crate::built_binaries`); the cache's manifest for the
//! package's entry names its binary's digest ([`CacheRegistry::binary_of`]). Builds are
//! bit-identical, so a binary built in the image and one pulled from the cache are the same bytes:
//! a difference means the image was built some other way, or the cache holds another build.

use super::{Finding, FindingKind};
use crate::cran::binary_cache::entries;
use crate::cran::binary_cache::registry::{CacheError, CacheRegistry};
use crate::image::Files;
use crate::lock::Lock;

/// Adds to `findings` each R package of `lock` whose binary in the image (`files`) is not the one
/// `registry` holds for it: another binary, none in the cache, or none recorded in the image.
pub(crate) fn check_image(
    lock: &Lock,
    files: &Files,
    registry: &CacheRegistry,
    findings: &mut Vec<Finding>,
) -> Result<(), CacheError> {
    let installed = crate::cran::installed_binaries(files, lock);
    for entry in entries(lock) {
        let cached = registry.binary_of(&entry)?;
        let image = installed.get(&entry.name);
        let what = format!("R package {} {}", entry.name, entry.version);
        let cache = registry.location();
        let message = match (image, &cached) {
            (Some(image), Some(cached)) if image == cached => continue,
            (Some(image), Some(cached)) => format!(
                "{what}: the image's binary (sha256 {image}) is not the one the shared binary cache {cache} holds for it (sha256 {cached}); the image was built some other way, or the cache holds another build"
            ),
            (Some(image), None) => format!(
                "{what}: the shared binary cache {cache} has no binary of it (entry {}); the image's is sha256 {image} (push it by building with the cache's credentials)",
                entry.id
            ),
            (None, _) => format!(
                "{what}: the image holds no record of the binary installed (imglock's installer writes one for each package it installs), so it cannot be compared with the shared binary cache's"
            ),
        };
        let (layer, package) = lock
            .layers
            .iter()
            .flat_map(|layer| layer.packages.iter().map(move |p| (&layer.name, p)))
            .find(|(_, p)| p.ecosystem.is_r() && p.name == entry.name)
            .expect("a cache entry is of a locked R package");
        findings.push(Finding {
            kind: FindingKind::NotCached,
            layer: layer.clone(),
            ecosystem: package.ecosystem,
            name: entry.name.clone(),
            expected: cached,
            found: image.cloned(),
            message,
        });
    }
    Ok(())
}
