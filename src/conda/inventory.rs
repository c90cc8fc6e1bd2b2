//! The conda inventory of an image: `<prefix>/conda-meta/*.json`, the record every conda installer
//! (conda, mamba, micromamba, rattler) writes per installed package, checked against the lock's
//! conda packages: missing, another version or build, another checksum, unexpected.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use crate::conda::CondaBuild;
use crate::image::{Files, Want, Wanted, texts};
use crate::lock::{Lock, LockedPackage};
use crate::package::Ecosystem;
use crate::verify::inventory::{Finding, FindingKind, Inventory};

/// The conda part of verification.
pub struct CondaInventory {
    /// The prefix, without leading or trailing slashes, like `opt/conda`.
    prefix: String,
}

/// The fields of a `conda-meta` record that verification reads.
#[derive(Debug, Deserialize)]
struct InstalledRecord {
    name: String,
    version: String,
    build: String,
    sha256: Option<String>,
    md5: Option<String>,
}

impl CondaInventory {
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.trim_matches('/').to_string(),
        }
    }

    fn meta_dir(&self) -> String {
        format!("{}/conda-meta", self.prefix)
    }

    /// What is wrong with the installation of one locked package of `layer`, if anything: missing,
    /// another version or build, or installed from another file.
    fn check_locked(
        &self,
        layer: &str,
        package: &LockedPackage,
        conda: &CondaBuild,
        installed: &Installed,
    ) -> Option<Finding> {
        let wanted = format!("{} {}", package.version, conda.build);
        let finding = |kind, found: Option<String>, message: String| Finding {
            kind,
            layer: layer.to_string(),
            ecosystem: Ecosystem::Conda,
            name: package.name.clone(),
            expected: Some(wanted.clone()),
            found,
            message,
        };
        let Some((record, path)) = installed.get(&package.name) else {
            return Some(finding(
                FindingKind::Missing,
                None,
                format!(
                    "{} {wanted} is locked but not installed in /{}",
                    package.name, self.prefix
                ),
            ));
        };
        let found = format!("{} {}", record.version, record.build);
        if found != wanted {
            return Some(finding(
                FindingKind::WrongVersion,
                Some(found.clone()),
                format!(
                    "{} is installed as {found} (/{path}), but the lock says {wanted}",
                    package.name
                ),
            ));
        }
        let sha256_differs = record
            .sha256
            .as_deref()
            .is_some_and(|sha256| !sha256.eq_ignore_ascii_case(&package.sha256));
        let md5_differs = match (&record.md5, &conda.md5) {
            (Some(found), Some(locked)) => !found.eq_ignore_ascii_case(locked),
            _ => false,
        };
        (sha256_differs || md5_differs).then(|| {
            finding(
                FindingKind::WrongSource,
                record.sha256.clone().or_else(|| record.md5.clone()),
                format!(
                    "{} {wanted} was installed from another file than the locked one (sha256 {}): /{path}",
                    package.name, package.sha256
                ),
            )
        })
    }
}

/// The installed packages by name, each with its record and the record's path.
type Installed = BTreeMap<String, (InstalledRecord, String)>;

/// The conda-meta records among `files` (the ones `inventory` wants); a record that does not
/// parse is a finding.
fn read_installed(
    files: &Files,
    inventory: &CondaInventory,
    findings: &mut Vec<Finding>,
) -> Installed {
    let mut installed = Installed::new();
    for (path, bytes) in texts(files, inventory) {
        match serde_json::from_slice::<InstalledRecord>(bytes) {
            Ok(record) => {
                installed.insert(record.name.clone(), (record, path.clone()));
            }
            Err(error) => findings.push(Finding {
                kind: FindingKind::Unexpected,
                layer: String::new(),
                ecosystem: Ecosystem::Conda,
                name: path.clone(),
                expected: None,
                found: None,
                message: format!("/{path} is not a conda-meta record: {error}"),
            }),
        }
    }
    installed
}

/// A finding for each installed package whose name is not `locked`, by name.
fn unexpected<'a>(
    installed: &'a Installed,
    locked: &'a HashSet<String>,
) -> impl Iterator<Item = Finding> + 'a {
    installed
        .iter()
        .filter(|(name, _)| !locked.contains(*name))
        .map(|(name, (record, path))| Finding {
            kind: FindingKind::Unexpected,
            layer: String::new(),
            ecosystem: Ecosystem::Conda,
            name: name.clone(),
            expected: None,
            found: Some(format!("{} {}", record.version, record.build)),
            message: format!(
                "{name} {} {} (/{path}) is installed but not in the lock",
                record.version, record.build
            ),
        })
}

impl Wanted for CondaInventory {
    fn file(&self, path: &str) -> Option<Want> {
        let (dir, file) = path.rsplit_once('/')?;
        (dir == self.meta_dir() && file.ends_with(".json")).then_some(Want::Bytes)
    }

    fn folder(&self, path: &str) -> bool {
        let meta = self.meta_dir();
        meta == path || meta.starts_with(&format!("{path}/"))
    }
}

impl Inventory for CondaInventory {
    /// Compares the image's conda records with the lock's.
    fn check(&self, files: &Files, lock: &Lock, findings: &mut Vec<Finding>) {
        let installed = read_installed(files, self, findings);
        let mut locked = HashSet::new();
        for layer in &lock.layers {
            for (package, conda) in layer
                .packages
                .iter()
                .filter_map(|p| Some((p, p.details.conda()?)))
            {
                locked.insert(package.name.clone());
                findings.extend(self.check_locked(&layer.name, package, conda, &installed));
            }
        }
        if locked.is_empty() {
            return;
        }
        findings.extend(unexpected(&installed, &locked));
    }
}
