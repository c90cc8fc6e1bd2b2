//! The apt inventory of an image: dpkg's status (`var/lib/dpkg/status`), checked against the
//! lock's Debian packages: each locked package installed at its version and architecture.

use std::collections::BTreeMap;

use crate::base::dpkg::{DpkgPackage, read_status};
use crate::image::{Files, Want, Wanted, texts};
use crate::lock::Lock;
use crate::package::Ecosystem;
use crate::verify::inventory::{Finding, FindingKind, Inventory};

/// Where dpkg records what is installed.
const STATUS: &str = "var/lib/dpkg/status";

/// The apt part of verification.
pub struct AptInventory;

impl AptInventory {
    pub fn new(_lock: &Lock) -> Self {
        Self
    }
}

impl Wanted for AptInventory {
    fn file(&self, path: &str) -> Option<Want> {
        (path == STATUS).then_some(Want::Bytes)
    }

    fn folder(&self, path: &str) -> bool {
        STATUS.starts_with(path)
    }
}

impl Inventory for AptInventory {
    fn check(&self, files: &Files, lock: &Lock, findings: &mut Vec<Finding>) {
        let mut warnings = Vec::new();
        let installed: BTreeMap<(String, String), DpkgPackage> = texts(files, self)
            .flat_map(|(path, bytes)| {
                read_status(path, &String::from_utf8_lossy(bytes), &mut warnings)
            })
            .map(|p| ((p.name.clone(), p.architecture.clone()), p))
            .collect();
        for layer in &lock.layers {
            for package in layer
                .packages
                .iter()
                .filter(|p| p.ecosystem == Ecosystem::Apt)
            {
                let architecture = package
                    .details
                    .apt()
                    .map_or("", |details| details.architecture.as_str());
                let key = (package.name.clone(), architecture.to_string());
                let finding = |kind, found: Option<String>, message| Finding {
                    kind,
                    layer: layer.name.clone(),
                    ecosystem: Ecosystem::Apt,
                    name: package.name.clone(),
                    expected: Some(package.version.clone()),
                    found,
                    message,
                };
                match installed.get(&key) {
                    None => findings.push(finding(
                        FindingKind::Missing,
                        None,
                        format!(
                            "{}:{architecture} {} is locked but dpkg has not installed it",
                            package.name, package.version
                        ),
                    )),
                    Some(found) if found.version != package.version => findings.push(finding(
                        FindingKind::WrongVersion,
                        Some(found.version.clone()),
                        format!(
                            "{}:{architecture} is installed at {}, but the lock says {}",
                            package.name, found.version, package.version
                        ),
                    )),
                    Some(_) => {}
                }
            }
        }
    }
}
