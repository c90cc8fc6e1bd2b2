//! The Maven inventory of an image: every `*.jar` directly in a layer's `maven-target`, checked
//! against the lock's Maven artifacts by file name and sha256. A jar the lock does not name is
//! unexpected, and named by the `META-INF/maven/**/pom.properties` inside it when it has one.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use sha2::{Digest, Sha256};

use super::image::{Files, Wanted};
use super::{Finding, FindingKind};
use crate::lock::Lock;

/// The Maven part of verification.
pub struct MavenInventory {
    /// The target folders, without leading or trailing slashes.
    targets: BTreeSet<String>,
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
        }
    }

    /// Compares the jars in the target folders with the lock's.
    pub fn check(&self, files: &Files, lock: &Lock, findings: &mut Vec<Finding>) {
        let mut unclaimed: BTreeMap<&str, &[u8]> = files
            .iter()
            .filter(|(path, _)| self.file(path))
            .map(|(path, bytes)| (path.as_str(), bytes.as_slice()))
            .collect();
        for layer in &lock.layers {
            let Some(target) = layer.maven_target.as_deref() else {
                continue;
            };
            let target = target.trim_matches('/');
            for package in layer.packages.iter().filter(|p| p.ecosystem == "maven") {
                let file = package.url.rsplit('/').next().unwrap_or_default();
                let path = format!("{target}/{file}");
                let finding = |kind, found: Option<String>, message: String| Finding {
                    kind,
                    layer: layer.name.clone(),
                    ecosystem: "maven".into(),
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
                    Some(bytes) => {
                        let sha256 = hex::encode(Sha256::digest(bytes));
                        if sha256 != package.sha256 {
                            findings.push(finding(
                                FindingKind::WrongSource,
                                Some(sha256.clone()),
                                format!(
                                    "/{path} has sha256 {sha256}, but the lock says {} for {} {}",
                                    package.sha256, package.name, package.version
                                ),
                            ));
                        }
                    }
                }
            }
        }
        for (path, bytes) in unclaimed {
            let (name, version) = pom_properties(bytes).unwrap_or_else(|| {
                (
                    path.rsplit('/').next().unwrap_or(path).to_string(),
                    String::new(),
                )
            });
            findings.push(Finding {
                kind: FindingKind::Unexpected,
                layer: String::new(),
                ecosystem: "maven".into(),
                name: name.clone(),
                expected: None,
                found: (!version.is_empty()).then(|| version.clone()),
                message: format!("/{path} ({name} {version}) is in the image but not in the lock"),
            });
        }
    }
}

/// `group:artifact` and version from a jar's `META-INF/maven/*/*/pom.properties`.
fn pom_properties(jar: &[u8]) -> Option<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(jar)).ok()?;
    let entry = (0..archive.len())
        .filter_map(|i| archive.name_for_index(i)?.ok().map(|n| n.into_owned()))
        .find(|n| n.starts_with("META-INF/maven/") && n.ends_with("/pom.properties"))?;
    let mut text = String::new();
    archive
        .by_name(&entry)
        .ok()?
        .take(1 << 16)
        .read_to_string(&mut text)
        .ok()?;
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
    fn file(&self, path: &str) -> bool {
        path.rsplit_once('/')
            .is_some_and(|(dir, file)| self.targets.contains(dir) && file.ends_with(".jar"))
    }

    fn folder(&self, path: &str) -> bool {
        self.targets
            .iter()
            .any(|t| t == path || t.starts_with(&format!("{path}/")))
    }
}
