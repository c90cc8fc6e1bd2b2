//! The binary cache key of an R package: everything a build of its source depends on besides
//! the source itself (name, version, sha256), so that a binary taken from a cache is one a clean
//! build would have made.
//!
//! A key is `<R version>/<platform>/<base image>/<linked>`, like
//! `4.2.2/linux-amd64/<the base image's sha256>/<linked>`:
//! - the R version, platform and base image (its digest: its compilers and system libraries),
//!   the same for every package of a lock ([`binary_cache_key`]);
//! - `linked`, the package's own part: the sha256 of the name, version and sha256 of every
//!   locked package its compiled code is built against — those its `LinkingTo` names, and
//!   theirs in turn (headers include headers) — one `name version sha256` line each, sorted. So
//!   an Rcpp upgrade changes the key of every package compiled against Rcpp's headers, and none
//!   of theirs is reused. A package without code to compile (`needs-compilation = false`) is
//!   built against nothing; one whose lock predates `linking-to` counts all its dependencies.
//!
//! Packages its compiled code does not see (Depends, Imports) stay out, so upgrading one does
//! not rebuild everything above it. (A package whose install-time code stores objects of an
//! imported package, as S4 classes can, may then differ from a clean build; the layer cache
//! still rebuilds it when the step runs, only the binary cache reuses it.)

use std::collections::{BTreeSet, HashMap};

use sha2::{Digest, Sha256};

use crate::built_binaries::base_image_key;
use crate::lock::{Lock, LockedPackage};
use crate::package::{Ecosystem, SettingValue};

/// The part of the key every R package of `lock` shares: `<R version>/<platform>/<base image>`,
/// like `4.2.2/linux-amd64/<the base image's sha256>` (for a base image without a digest, the
/// sha256 of its reference).
pub fn binary_cache_key(lock: &Lock) -> String {
    let r_version = match lock.resolution.get("r-version") {
        Some(SettingValue::Text(version)) => version.as_str(),
        _ => "",
    };
    format!(
        "{r_version}/{}/{}",
        lock.image.platform.replace('/', "-"),
        base_image_key(lock)
    )
}

/// The whole key of `package`, one of `lock`'s R packages: [`binary_cache_key`]`/`[`LockedR::linked_key`].
pub fn package_cache_key(lock: &Lock, package: &LockedPackage) -> String {
    format!(
        "{}/{}",
        binary_cache_key(lock),
        LockedR::new(lock).linked_key(package)
    )
}

/// The R packages of a lock by name, to follow `LinkingTo` through.
pub struct LockedR<'a> {
    by_name: HashMap<&'a str, &'a LockedPackage>,
}

impl<'a> LockedR<'a> {
    pub fn new(lock: &'a Lock) -> Self {
        let by_name = lock
            .layers
            .iter()
            .flat_map(|layer| &layer.packages)
            .filter(|p| Ecosystem::is_r(p.ecosystem))
            .map(|p| (p.name.as_str(), p))
            .collect();
        Self { by_name }
    }

    /// `package`'s own part of its key: the sha256 (hex) of the `name version sha256` lines of
    /// the packages it is compiled against, sorted.
    pub fn linked_key(&self, package: &LockedPackage) -> String {
        let mut text = String::new();
        for linked in self.compiled_against(package) {
            text.push_str(&format!(
                "{} {} {}\n",
                linked.name, linked.version, linked.sha256
            ));
        }
        hex::encode(Sha256::digest(text.as_bytes()))
    }

    /// The locked packages `package`'s compiled code is built against, by name: what its
    /// `LinkingTo` names, and what theirs name, transitively (names the lock does not hold are
    /// the base image's, which its digest covers).
    pub fn compiled_against(&self, package: &LockedPackage) -> Vec<&'a LockedPackage> {
        let r = package.details.r();
        if r.and_then(|r| r.needs_compilation) == Some(false) {
            return Vec::new();
        }
        let mut found: BTreeSet<&str> = BTreeSet::new();
        let mut pending: Vec<&str> = linked_names(package);
        while let Some(name) = pending.pop() {
            let Some(linked) = self.by_name.get(name) else {
                continue;
            };
            if found.insert(linked.name.as_str()) {
                pending.extend(linked_names(linked));
            }
        }
        found.into_iter().map(|name| self.by_name[name]).collect()
    }
}

/// What `package` names in `LinkingTo`; for a lock that did not record it, all its dependencies.
fn linked_names(package: &LockedPackage) -> Vec<&str> {
    match package.details.r().and_then(|r| r.linking_to.as_ref()) {
        Some(names) => names.iter().map(String::as_str).collect(),
        None => package.dependencies.iter().map(String::as_str).collect(),
    }
}
