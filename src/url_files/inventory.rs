//! The URL artifacts' inventory of an image. A file kept whole is checked at its installed path
//! (its target, with the URL's file name when the target is a folder) by sha256, streamed. An
//! extracted archive's bytes are gone once unpacked, so for it this is checked: its first
//! regular file, which the lock records, is below the target with its sha256 (a lock without
//! it: the target holds at least one file, and every file below it is read to know). Files
//! the lock does not name are not reported: the targets are shared folders
//! (`/databricks/jars`, `/usr/local`).

use std::collections::BTreeSet;

use crate::image::{Files, Want, Wanted};
use crate::lock::{Lock, LockedLayer, LockedPackage};
use crate::package::Ecosystem;
use crate::url_files::details::FileDetails;
use crate::verify::inventory::{Finding, FindingKind, Inventory};

/// The URL artifacts' part of verification.
pub struct FileInventory {
    /// Where files kept whole, and the recorded first files of unpacked archives, are, without
    /// the leading `/`.
    installed: BTreeSet<String>,
    /// The folders archives whose first file the lock does not record are unpacked into,
    /// without leading or trailing `/`: every file below them is read.
    unpacked: BTreeSet<String>,
}

/// Every URL artifact of the lock, with its layer and details.
fn locked_files(lock: &Lock) -> impl Iterator<Item = (&LockedLayer, &LockedPackage, &FileDetails)> {
    lock.layers.iter().flat_map(|layer| {
        layer
            .packages
            .iter()
            .filter(|p| p.ecosystem == Ecosystem::File)
            .filter_map(move |p| Some((layer, p, p.details.file()?)))
    })
}

/// The installed paths of the lock's files kept whole, without the leading `/`: what other
/// inventories of shared folders (Maven's jars) leave to this one.
pub fn installed_paths(lock: &Lock) -> BTreeSet<String> {
    locked_files(lock)
        .filter_map(|(_, package, details)| details.installed_path(&package.url))
        .collect()
}

impl FileInventory {
    pub fn new(lock: &Lock) -> Self {
        let members = locked_files(lock).filter_map(|(.., details)| details.member_in_image());
        Self {
            installed: installed_paths(lock).into_iter().chain(members).collect(),
            unpacked: locked_files(lock)
                .filter(|(.., details)| details.extract && details.member.is_none())
                .map(|(.., details)| details.target.trim_matches('/').to_string())
                .collect(),
        }
    }

    /// Whether `path` is below a folder an archive is unpacked into.
    fn is_unpacked(&self, path: &str) -> bool {
        self.unpacked
            .iter()
            .any(|folder| folder.is_empty() || path.starts_with(&format!("{folder}/")))
    }
}

impl Wanted for FileInventory {
    fn file(&self, path: &str) -> Option<Want> {
        (self.installed.contains(path) || self.is_unpacked(path)).then_some(Want::Digest)
    }

    fn folder(&self, path: &str) -> bool {
        let below = |target: &str| target == path || target.starts_with(&format!("{path}/"));
        self.installed.iter().any(|p| below(p))
            || self.unpacked.iter().any(|t| below(t))
            || self.is_unpacked(path)
    }
}

impl Inventory for FileInventory {
    /// Each file kept whole at its path with its sha256; each unpacked archive's folder not empty.
    fn check(&self, files: &Files, lock: &Lock, findings: &mut Vec<Finding>) {
        for (layer, package, details) in locked_files(lock) {
            let finding = |kind, found: Option<String>, message: String| Finding {
                kind,
                layer: layer.name.clone(),
                ecosystem: Ecosystem::File,
                name: package.name.clone(),
                expected: Some(package.sha256.clone()),
                found,
                message,
            };
            let Some(path) = details.installed_path(&package.url) else {
                if let Some((kind, found, message)) = unpacked_problem(files, package, details) {
                    findings.push(finding(kind, found, message));
                }
                continue;
            };
            match files.get(&path).and_then(|content| content.digest()) {
                None => findings.push(finding(
                    FindingKind::Missing,
                    None,
                    format!("{} is locked but /{path} is not in the image", package.url),
                )),
                Some(found) if found.sha256 != package.sha256 => findings.push(finding(
                    FindingKind::WrongSource,
                    Some(found.sha256.clone()),
                    format!(
                        "/{path} has sha256 {}, but the lock says {} for {}",
                        found.sha256, package.sha256, package.url
                    ),
                )),
                Some(_) => {}
            }
        }
    }
}

/// What is wrong with an unpacked archive in the image, if anything (the finding's kind, what
/// was found, and the message): its first regular file (when the lock records it) missing
/// below the target or with other bytes; else the target holding no file at all.
fn unpacked_problem(
    files: &Files,
    package: &LockedPackage,
    details: &FileDetails,
) -> Option<(FindingKind, Option<String>, String)> {
    let folder = details.target.trim_matches('/');
    let problem = match &details.member {
        Some(member) => {
            let path = details.member_in_image().unwrap_or_default();
            match files.get(&path).and_then(|content| content.digest()) {
                None => (
                    FindingKind::Missing,
                    None,
                    format!(
                        "{} is locked to be unpacked into /{folder}, but its first file /{path} is not in the image",
                        package.url
                    ),
                ),
                Some(found) if found.sha256 != member.sha256 => (
                    FindingKind::WrongSource,
                    Some(found.sha256.clone()),
                    format!(
                        "/{path} has sha256 {}, but the lock says {} for that file of {}",
                        found.sha256, member.sha256, package.url
                    ),
                ),
                Some(_) => return None,
            }
        }
        None => {
            let prefix = format!("{folder}/");
            if files
                .keys()
                .any(|p| folder.is_empty() || p.starts_with(&prefix))
            {
                return None;
            }
            (
                FindingKind::Missing,
                None,
                format!(
                    "{} is locked to be unpacked into /{folder}, but that folder holds no file in the image",
                    package.url
                ),
            )
        }
    };
    Some(problem)
}
