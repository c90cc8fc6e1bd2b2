//! The Maven inventory of an image: every `*.jar` directly in a layer's `maven-target`, checked
//! against the lock's Maven artifacts by file name and sha256. A jar the lock does not name is
//! unexpected, and named by the `META-INF/maven/**/pom.properties` inside it when it has one.
//!
//! Jars are never read into memory: the image reader streams each one through sha256
//! ([`Want::Digest`]). Only a jar at a path the lock does not name — a stranger — is also opened
//! as a zip for its `pom.properties` ([`Want::DigestAndMember`]), so checking a correct image
//! costs one pass over its layers whatever the size of its jars.

use std::collections::{BTreeMap, BTreeSet};

use crate::image::{Digested, Files, Want, Wanted};
use crate::lock::{Lock, LockedLayer, LockedPackage};
use crate::package::Ecosystem;
use crate::verify::inventory::{Finding, FindingKind, Inventory};

/// The Maven part of verification.
pub struct MavenInventory {
    /// The target folders, without leading or trailing slashes.
    targets: BTreeSet<String>,
    /// Where the lock's jars go: `<target>/<file name>`.
    locked: BTreeSet<String>,
    /// Where the lock's URL artifacts go: checked by their own inventory, never unexpected here.
    url_files: BTreeSet<String>,
}

/// Where a locked jar is in the image: the file name of its URL in the layer's target (without
/// leading or trailing slashes).
fn jar_path(target: &str, package: &LockedPackage) -> String {
    let file = package.url.rsplit('/').next().unwrap_or_default();
    format!("{}/{file}", target.trim_matches('/'))
}

/// The Maven packages of each layer that has a target, with that target.
fn locked_jars(lock: &Lock) -> impl Iterator<Item = (&LockedLayer, &str, &LockedPackage)> {
    lock.layers.iter().flat_map(|layer| {
        let target = layer.maven_target.as_deref();
        layer
            .packages
            .iter()
            .filter(|p| p.ecosystem == Ecosystem::Maven)
            .filter_map(move |p| Some((layer, target?, p)))
    })
}

/// Whether a zip member is the `pom.properties` Maven writes into a jar it builds.
fn is_pom_properties(name: &str) -> bool {
    name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties")
}

impl MavenInventory {
    pub fn new(lock: &Lock) -> Self {
        Self {
            targets: lock
                .layers
                .iter()
                .filter_map(|l| l.maven_target.as_deref())
                .map(|t| t.trim_matches('/').to_string())
                .collect(),
            locked: locked_jars(lock)
                .map(|(_, target, package)| jar_path(target, package))
                .collect(),
            url_files: crate::url_files::installed_paths(lock),
        }
    }
}

/// `group:artifact` and version from the text of a jar's `pom.properties`.
fn pom_properties(text: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(text);
    let field = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(key)?.trim_start().strip_prefix('='))
            .map(|v| v.trim().to_string())
    };
    Some((
        format!("{}:{}", field("groupId")?, field("artifactId")?),
        field("version").unwrap_or_default(),
    ))
}

impl Wanted for MavenInventory {
    fn file(&self, path: &str) -> Option<Want> {
        let (dir, file) = path.rsplit_once('/')?;
        if !self.targets.contains(dir) || !file.ends_with(".jar") || self.url_files.contains(path) {
            return None;
        }
        Some(if self.locked.contains(path) {
            Want::Digest
        } else {
            Want::DigestAndMember(is_pom_properties)
        })
    }

    fn folder(&self, path: &str) -> bool {
        self.targets
            .iter()
            .any(|t| t == path || t.starts_with(&format!("{path}/")))
    }
}

impl Inventory for MavenInventory {
    /// Compares the jars in the target folders with the lock's.
    fn check(&self, files: &Files, lock: &Lock, findings: &mut Vec<Finding>) {
        let mut unclaimed: BTreeMap<&str, &Digested> = files
            .iter()
            .filter(|(path, _)| self.file(path).is_some())
            .filter_map(|(path, content)| Some((path.as_str(), content.digest()?)))
            .collect();
        for (layer, target, package) in locked_jars(lock) {
            let path = jar_path(target, package);
            let finding = |kind, found: Option<String>, message: String| Finding {
                kind,
                layer: layer.name.clone(),
                ecosystem: Ecosystem::Maven,
                name: package.name.clone(),
                expected: Some(package.version.clone()),
                found,
                message,
            };
            match unclaimed.remove(path.as_str()) {
                None => findings.push(finding(
                    FindingKind::Missing,
                    None,
                    format!(
                        "{} {} is locked but /{path} is not in the image",
                        package.name, package.version
                    ),
                )),
                Some(jar) if jar.sha256 != package.sha256 => findings.push(finding(
                    FindingKind::WrongSource,
                    Some(jar.sha256.clone()),
                    format!(
                        "/{path} has sha256 {}, but the lock says {} for {} {}",
                        jar.sha256, package.sha256, package.name, package.version
                    ),
                )),
                Some(_) => {}
            }
        }
        for (path, jar) in unclaimed {
            let (name, version) = jar
                .member
                .as_deref()
                .and_then(pom_properties)
                .unwrap_or_else(|| {
                    (
                        path.rsplit('/').next().unwrap_or(path).to_string(),
                        String::new(),
                    )
                });
            findings.push(Finding {
                kind: FindingKind::Unexpected,
                layer: String::new(),
                ecosystem: Ecosystem::Maven,
                name: name.clone(),
                expected: None,
                found: (!version.is_empty()).then(|| version.clone()),
                message: format!("/{path} ({name} {version}) is in the image but not in the lock"),
            });
        }
    }
}
