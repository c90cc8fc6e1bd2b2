//! The apt inventory of an image: dpkg's database ([`super::installed`]) checked against the
//! lock's Debian packages and the base image's, as a Debian developer would with `dpkg -l` and
//! `debsums`:
//!
//! - each locked package installed at its version for its architecture (else missing, another
//!   version, or another architecture);
//! - nothing else installed: a package that is neither locked nor the base image's (at the base's
//!   version) is unexpected — installed by an unpinned `apt-get install` or upgrade;
//! - each locked package's files as dpkg installed them: every file its `md5sums` list names has
//!   that md5 (a changed or removed file is a finding naming it). Conffiles are left out, as
//!   dpkg and `debsums` leave them: the admin owns them once installed; so are the files dpkg's
//!   path filters kept it from installing (slim and minimal images' documentation).
//!
//! Which packages the base holds comes from the base image itself, read by the digest the lock
//! pins (`crate::verify` reads it through [`crate::base`], remembered in the cache by digest),
//! not from the verified image's lower layers: those are the base's only if the image was built
//! from it, which is what verification is to find out, and a rebuilt or re-pushed image need
//! not keep the base's layer digests. Packages the base has and the image lost are not findings:
//! no lock entry asks for them.
//!
//! The files of the `md5sums` lists can be named only once the lists are read, and a layer
//! stores them before the lists (`usr/` sorts before `var/`), so verification reads the image a
//! second time for just those files ([`Inventory::wanted_after`]), streaming each through md5.

use std::collections::{BTreeMap, BTreeSet};

use super::installed::{Dpkg, ListedFiles, is_database, is_database_folder, lookup, md5sums_paths};
use super::path_filter::{is_config, is_config_folder};
use crate::base::{BaseContents, DpkgPackage};
use crate::image::{Files, Want, Wanted};
use crate::lock::Lock;
use crate::package::Ecosystem;
use crate::verify::inventory::{Finding, FindingKind, Inventory, shown_files};

/// A locked Debian package, as verification checks it.
struct Locked {
    layer: String,
    name: String,
    version: String,
    architecture: String,
}

impl Locked {
    /// A finding of `kind` about it.
    fn finding(&self, kind: FindingKind, found: Option<String>, message: String) -> Finding {
        Finding {
            kind,
            layer: self.layer.clone(),
            ecosystem: Ecosystem::Apt,
            name: self.name.clone(),
            expected: Some(self.version.clone()),
            found,
            message,
        }
    }
}

/// The apt part of verification.
pub struct AptInventory {
    /// The lock's Debian packages.
    locked: Vec<Locked>,
    /// The `md5sums` lists to read: both names each locked package's may have.
    md5sums: BTreeSet<String>,
    /// The base image's packages: (name, architecture) → version.
    base: BTreeMap<(String, String), String>,
}

impl AptInventory {
    /// The inventory of an image built from `lock` on the base that has `base` installed (known
    /// whenever the lock has Debian packages).
    pub fn new(lock: &Lock, base: Option<&BaseContents>) -> Self {
        let locked: Vec<Locked> = lock
            .layers
            .iter()
            .flat_map(|layer| layer.packages.iter().map(move |p| (layer, p)))
            .filter(|(_, p)| p.ecosystem == Ecosystem::Apt)
            .map(|(layer, p)| Locked {
                layer: layer.name.clone(),
                name: p.name.clone(),
                version: p.version.clone(),
                architecture: p
                    .details
                    .apt()
                    .map(|details| details.architecture.clone())
                    .unwrap_or_default(),
            })
            .collect();
        let md5sums = locked
            .iter()
            .flat_map(|p| md5sums_paths(&p.name, &p.architecture))
            .collect();
        let base = base
            .map(|base| {
                base.dpkg
                    .iter()
                    .map(|p| ((p.name.clone(), p.architecture.clone()), p.version.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            locked,
            md5sums,
            base,
        }
    }

    /// The locked packages installed as locked (version and architecture), with their status.
    fn as_locked<'a>(
        &'a self,
        dpkg: &'a Dpkg,
    ) -> impl Iterator<Item = (&'a Locked, &'a DpkgPackage)> + 'a {
        self.locked.iter().filter_map(|locked| {
            let installed = dpkg.package(&locked.name, &locked.architecture)?;
            (installed.version == locked.version).then_some((locked, installed))
        })
    }

    /// What is wrong with the locked package `locked` by dpkg's status: not installed, another
    /// version, or only another architecture.
    fn check_installed(&self, locked: &Locked, dpkg: &Dpkg) -> Option<Finding> {
        let (name, architecture) = (&locked.name, &locked.architecture);
        if let Some(found) = dpkg.package(name, architecture) {
            return (found.version != locked.version).then(|| {
                locked.finding(
                    FindingKind::WrongVersion,
                    Some(found.version.clone()),
                    format!(
                        "{name}:{architecture} is installed at {}, but the lock says {}",
                        found.version, locked.version
                    ),
                )
            });
        }
        let others: Vec<String> = dpkg
            .installed
            .get(name)
            .into_iter()
            .flatten()
            .map(|p| format!("{}:{} {}", p.name, p.architecture, p.version))
            .collect();
        Some(if others.is_empty() {
            locked.finding(
                FindingKind::Missing,
                None,
                format!(
                    "{name}:{architecture} {} is locked but dpkg has not installed it",
                    locked.version
                ),
            )
        } else {
            locked.finding(
                FindingKind::WrongArchitecture,
                Some(others.join(", ")),
                format!(
                    "{name} is installed as {}, but the lock says {name}:{architecture} {}",
                    others.join(", "),
                    locked.version
                ),
            )
        })
    }

    /// A finding for each installed package that is neither locked nor the base's at its
    /// version; another architecture of a locked package that lacks its own is the locked one's
    /// finding already.
    fn unexpected(&self, dpkg: &Dpkg, findings: &mut Vec<Finding>) {
        let locked: BTreeSet<(&str, &str)> = self
            .locked
            .iter()
            .map(|p| (p.name.as_str(), p.architecture.as_str()))
            .collect();
        let misplaced: BTreeSet<&str> = self
            .locked
            .iter()
            .filter(|p| dpkg.package(&p.name, &p.architecture).is_none())
            .map(|p| p.name.as_str())
            .collect();
        for package in dpkg.installed.values().flatten() {
            let key = (package.name.clone(), package.architecture.clone());
            let base = self.base.get(&key);
            if locked.contains(&(package.name.as_str(), package.architecture.as_str()))
                || misplaced.contains(package.name.as_str())
                || base == Some(&package.version)
            {
                continue;
            }
            let installed = format!(
                "{}:{} {}",
                package.name, package.architecture, package.version
            );
            let message = match base {
                Some(version) => format!(
                    "{installed} is installed, but the lock does not have it and the base image has {version}: an unpinned install or upgrade"
                ),
                None => format!(
                    "{installed} is installed, but neither the lock nor the base image has it"
                ),
            };
            findings.push(Finding {
                kind: FindingKind::Unexpected,
                layer: String::new(),
                ecosystem: Ecosystem::Apt,
                name: package.name.clone(),
                expected: base.cloned(),
                found: Some(package.version.clone()),
                message,
            });
        }
    }
}

/// A finding when files of the locked `locked`, installed as `installed`, differ from its
/// `md5sums` list: changed, or gone.
fn changed_files(
    locked: &Locked,
    installed: &DpkgPackage,
    dpkg: &Dpkg,
    files: &Files,
) -> Option<Finding> {
    let differing: Vec<String> = dpkg
        .listed(files, installed)?
        .into_iter()
        .filter_map(|listed| {
            let path = dpkg.located(&listed.path, &installed.name);
            match lookup(files, path) {
                None => Some(format!("/{path} (gone)")),
                Some((found, content)) if content.md5().as_deref() != Some(&listed.md5) => {
                    Some(format!("/{found} (changed)"))
                }
                Some(_) => None,
            }
        })
        .collect();
    let first = differing.first()?.clone();
    Some(locked.finding(
        FindingKind::ChangedFile,
        Some(first),
        format!(
            "{}:{} {}: {} installed file(s) differ from dpkg's md5sums since it was installed: {}",
            locked.name,
            locked.architecture,
            locked.version,
            differing.len(),
            shown_files(&differing)
        ),
    ))
}

impl Wanted for AptInventory {
    fn file(&self, path: &str) -> Option<Want> {
        let wanted = is_database(path) || is_config(path) || self.md5sums.contains(path);
        (!self.locked.is_empty() && wanted).then_some(Want::Bytes)
    }

    fn folder(&self, path: &str) -> bool {
        !self.locked.is_empty() && (is_database_folder(path) || is_config_folder(path))
    }
}

impl Inventory for AptInventory {
    fn check(&self, files: &Files, _lock: &Lock, findings: &mut Vec<Finding>) {
        if self.locked.is_empty() {
            return;
        }
        let dpkg = Dpkg::read(files);
        for locked in &self.locked {
            findings.extend(self.check_installed(locked, &dpkg));
        }
        self.unexpected(&dpkg, findings);
        for (locked, installed) in self.as_locked(&dpkg) {
            findings.extend(changed_files(locked, installed, &dpkg, files));
        }
    }

    /// The files the `md5sums` lists of the packages installed as locked name, where they lie.
    fn wanted_after(&self, files: &Files) -> Option<Box<dyn Wanted + '_>> {
        let dpkg = Dpkg::read(files);
        let mut paths = Vec::new();
        for (_, installed) in self.as_locked(&dpkg) {
            for listed in dpkg.listed(files, installed).unwrap_or_default() {
                paths.push(dpkg.located(&listed.path, &installed.name).to_string());
            }
        }
        let listed = ListedFiles::new(paths.iter().map(String::as_str));
        (!listed.is_empty()).then(|| Box::new(listed) as Box<dyn Wanted>)
    }
}
