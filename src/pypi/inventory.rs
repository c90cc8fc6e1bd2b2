//! The Python inventory of an image: every `<site-packages>/<name>.dist-info/METADATA` under the
//! standard prefixes (`/usr/local`, `/usr`, `/opt/conda`) and the lock's `python-prefix`,
//! checked against the lock's PyPI packages, and each locked distribution's files checked
//! against its `RECORD`, so a file changed after the install is found. Packaging tools a Python
//! base image ships (pip, setuptools, wheel) are not unexpected. It also reads the sdist
//! builder's records of the wheels it built ([`crate::built_binaries`]), which
//! `imglock verify --record-binaries` puts into the lock.

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;

use pep508_rs::PackageName;
use sha2::{Digest, Sha256};

use super::emit::sdist_build::BUILT;
use super::record::hashed_files;
use crate::image::{Content, Files, Want, Wanted, texts};
use crate::lock::{Lock, LockedPackage};
use crate::package::Ecosystem;
use crate::verify::inventory::{Finding, FindingKind, Inventory, Recording, shown_files};

/// Distributions every Python base image carries.
const PACKAGING_TOOLS: &[&str] = &["pip", "setuptools", "wheel", "distribute"];

/// Prefixes whose `lib/python3.X/site-packages` holds installed distributions.
const STANDARD_PREFIXES: &[&str] = &["usr", "usr/local", "opt/conda"];

/// The Python part of verification.
pub struct PythonInventory {
    /// The prefixes looked in, without a leading `/`: the standard ones and the lock's
    /// `python-prefix`.
    prefixes: Vec<String>,
}

/// PEP 503 normalisation (lowercase, runs of `-`, `_` and `.` as one `-`), as `pep508_rs` does
/// it; a name it refuses is compared lowercased.
fn normalize(name: &str) -> String {
    PackageName::from_str(name).map_or_else(|_| name.to_lowercase(), |name| name.to_string())
}

/// Where a file lies in a Python environment.
enum Place {
    /// A distribution's `METADATA` or `RECORD`.
    DistInfo,
    /// Any other file of a site folder, or of a prefix's `bin`: a file a `RECORD` may list.
    Installed,
}

impl PythonInventory {
    /// The inventory of an image built from `lock`.
    pub fn new(lock: &Lock) -> Self {
        let mut prefixes: Vec<String> = STANDARD_PREFIXES.iter().map(|p| p.to_string()).collect();
        if let Some(prefix) = &lock.image.python_prefix {
            let prefix = prefix.trim_matches('/').to_string();
            if !prefixes.contains(&prefix) {
                prefixes.push(prefix);
            }
        }
        Self { prefixes }
    }

    /// Whether `path` is a site folder: `<prefix>/lib/python3.X/site-packages` or Debian's
    /// `usr/lib/python3/dist-packages`.
    fn is_site(&self, path: &str) -> bool {
        let Some((lib_python, last)) = path.rsplit_once('/') else {
            return false;
        };
        let Some((lib, python)) = lib_python.rsplit_once('/') else {
            return false;
        };
        let Some(prefix) = lib.strip_suffix("/lib") else {
            return false;
        };
        matches!(last, "site-packages" | "dist-packages")
            && python.starts_with("python3")
            && self.prefixes.iter().any(|p| p == prefix)
    }

    /// Where `path` lies, if in a Python environment.
    fn place(&self, path: &str) -> Option<Place> {
        if let Some((site, file)) = path.rsplit_once(".dist-info/") {
            let site = site.rsplit_once('/')?.0;
            if self.is_site(site) && matches!(file, "METADATA" | "RECORD") {
                return Some(Place::DistInfo);
            }
        }
        let in_site = path
            .match_indices('/')
            .any(|(at, _)| self.is_site(&path[..at]));
        let in_bin = path
            .rsplit_once("/bin/")
            .is_some_and(|(prefix, _)| self.prefixes.iter().any(|p| p == prefix));
        (in_site || in_bin).then_some(Place::Installed)
    }
}

impl Wanted for PythonInventory {
    fn file(&self, path: &str) -> Option<Want> {
        if let Some(want) = BUILT.wanted(path) {
            return Some(want);
        }
        match self.place(path)? {
            Place::DistInfo => Some(Want::Bytes),
            Place::Installed => Some(Want::Digest),
        }
    }

    fn folder(&self, path: &str) -> bool {
        BUILT.wanted_folder(path)
            || self.prefixes.iter().any(|prefix| {
                // `lib/python3.X` itself, and its site folder and what is below it (not the
                // standard library's own files).
                let python_folder = path
                    .strip_prefix(prefix.as_str())
                    .and_then(|rest| rest.strip_prefix("/lib/"))
                    .is_some_and(|rest| {
                        let mut parts = rest.split('/');
                        parts.next().is_some_and(|p| p.starts_with("python3"))
                            && parts
                                .next()
                                .is_none_or(|p| matches!(p, "site-packages" | "dist-packages"))
                    });
                prefix == path
                    || prefix.starts_with(&format!("{path}/"))
                    || path == format!("{prefix}/lib")
                    || path == format!("{prefix}/bin")
                    || python_folder
            })
    }

    /// A link where a distribution's files may be (a prefix's `bin`, a site folder) is what
    /// every Debian image has (`usr/bin/python3 → python3.11`, the alternatives): no
    /// distribution's file unless a locked one's `RECORD` lists it, and then its check reports
    /// the file as gone. A link in place of a `METADATA` or `RECORD` is still warned of.
    fn link_expected(&self, path: &str) -> bool {
        matches!(self.place(path), Some(Place::Installed))
    }
}

impl PythonInventory {
    /// The distributions among `files`, by normalised name, each with its version and the path of
    /// its METADATA; the first found of a name is kept.
    fn read_installed(&self, files: &Files) -> Installed {
        let mut installed = Installed::new();
        let metadata = texts(files, self).filter(|(path, _)| path.ends_with("/METADATA"));
        for (path, bytes) in metadata {
            let text = String::from_utf8_lossy(bytes);
            let field = |name: &str| {
                text.lines()
                    .take_while(|line| !line.is_empty())
                    .find_map(|line| line.strip_prefix(name).map(|v| v.trim().to_string()))
            };
            if let (Some(name), Some(version)) = (field("Name:"), field("Version:")) {
                installed
                    .entry(normalize(&name))
                    .or_insert((version, path.clone()));
            }
        }
        installed
    }
}

/// The installed distributions by normalised name, each with its version and METADATA path.
type Installed = BTreeMap<String, (String, String)>;

/// A finding of `kind` about the locked `package` of `layer`.
fn finding(
    layer: &str,
    package: &LockedPackage,
    kind: FindingKind,
    found: Option<String>,
    message: String,
) -> Finding {
    Finding {
        kind,
        layer: layer.to_string(),
        ecosystem: Ecosystem::Pypi,
        name: package.name.clone(),
        expected: Some(package.version.clone()),
        found,
        message,
    }
}

/// What is wrong with one locked package of `layer`, given its installed version and path if
/// any: missing or another version.
fn check_locked(
    layer: &str,
    package: &LockedPackage,
    installed: Option<&(String, String)>,
) -> Option<Finding> {
    let finding = |kind, found, message| finding(layer, package, kind, found, message);
    match installed {
        None => Some(finding(
            FindingKind::Missing,
            None,
            format!(
                "{} {} is locked but not installed in any site-packages",
                package.name, package.version
            ),
        )),
        Some((version, _)) if version != &package.version => Some(finding(
            FindingKind::WrongVersion,
            Some(version.clone()),
            format!(
                "{} is installed at {version}, but the lock says {}",
                package.name, package.version
            ),
        )),
        Some(_) => None,
    }
}

/// For a git package installed at its version: a finding when the sdist builder's record says
/// it was built from another source archive than the locked commit's, or when it left none.
fn wrong_commit(layer: &str, package: &LockedPackage, files: &Files) -> Option<Finding> {
    let git = package.details.pypi()?.git.as_ref()?;
    let (found, built) = match BUILT.source_of(files, &package.name) {
        Some(Ok(sha256)) if sha256 == package.sha256 => return None,
        Some(Ok(sha256)) => (
            Some(sha256.clone()),
            format!("was built from the source archive sha256 {sha256}"),
        ),
        Some(Err(why)) => (None, format!("has an unusable builder record ({why})")),
        None => (
            None,
            format!(
                "has no builder record (/{}/{})",
                BUILT.records, package.name
            ),
        ),
    };
    Some(finding(
        layer,
        package,
        FindingKind::WrongSource,
        found,
        format!(
            "{} {} {built}, but the lock has commit {} of {} (archive sha256 {})",
            package.name, package.version, git.commit, git.url, package.sha256
        ),
    ))
}

/// A finding when files of the locked `package`, installed at its version with its METADATA at
/// `metadata`, differ from its `RECORD` (changed or gone), or when it has no `RECORD` to check
/// them against.
fn changed_files(
    layer: &str,
    package: &LockedPackage,
    metadata: &str,
    files: &Files,
) -> Option<Finding> {
    let dist_info = metadata.strip_suffix("/METADATA")?;
    let site = dist_info.rsplit_once('/')?.0;
    let record_path = format!("{dist_info}/RECORD");
    let finding =
        |found, message| finding(layer, package, FindingKind::ChangedFile, found, message);
    let Some(record) = files.get(&record_path).and_then(|c| c.bytes()) else {
        return Some(finding(
            None,
            format!(
                "{} {} has no RECORD (/{record_path}), so its installed files cannot be checked",
                package.name, package.version
            ),
        ));
    };
    let differing: Vec<String> = hashed_files(site, record)
        .into_iter()
        .filter_map(|recorded| match files.get(&recorded.path) {
            None => Some(format!("/{} (gone)", recorded.path)),
            Some(content) if content_sha256(content) != recorded.sha256 => {
                Some(format!("/{} (changed)", recorded.path))
            }
            Some(_) => None,
        })
        .collect();
    let first = differing.first()?.clone();
    let shown = shown_files(&differing);
    Some(finding(
        Some(first),
        format!(
            "{} {}: {} installed file(s) differ from its RECORD since pip installed it: {shown}",
            package.name,
            package.version,
            differing.len()
        ),
    ))
}

/// The sha256 of a file read whole or streamed.
fn content_sha256(content: &Content) -> String {
    match content {
        Content::Bytes(bytes) => hex::encode(Sha256::digest(bytes)),
        Content::Digest(digested) => digested.sha256.clone(),
    }
}

/// The normalised names of the lock's conda packages: Python packages a conda layer installed
/// are conda's to check.
fn conda_names(lock: &Lock) -> HashSet<String> {
    lock.layers
        .iter()
        .flat_map(|l| &l.packages)
        .filter(|p| p.ecosystem == Ecosystem::Conda)
        .map(|p| normalize(&p.name))
        .collect()
}

/// A finding for each installed distribution that is neither `locked`, nor a `conda` package,
/// nor a packaging tool.
fn unexpected<'a>(
    installed: &'a Installed,
    locked: &'a HashSet<String>,
    conda: &'a HashSet<String>,
) -> impl Iterator<Item = Finding> + 'a {
    installed
        .iter()
        .filter(|(name, _)| {
            !locked.contains(*name)
                && !conda.contains(*name)
                && !PACKAGING_TOOLS.contains(&name.as_str())
        })
        .map(|(name, (version, path))| Finding {
            kind: FindingKind::Unexpected,
            layer: String::new(),
            ecosystem: Ecosystem::Pypi,
            name: name.clone(),
            expected: None,
            found: Some(version.clone()),
            message: format!("{name} {version} ({path}) is installed but not in the lock"),
        })
}

impl Inventory for PythonInventory {
    /// Compares the image's Python distributions with the lock's.
    fn check(&self, files: &Files, lock: &Lock, findings: &mut Vec<Finding>) {
        let installed = self.read_installed(files);
        let mut locked = HashSet::new();
        for layer in &lock.layers {
            for package in layer
                .packages
                .iter()
                .filter(|p| p.ecosystem == Ecosystem::Pypi)
            {
                let name = normalize(&package.name);
                locked.insert(name.clone());
                let found = installed.get(&name);
                match check_locked(&layer.name, package, found) {
                    Some(finding) => findings.push(finding),
                    None => {
                        findings.extend(found.and_then(|(_, metadata)| {
                            changed_files(&layer.name, package, metadata, files)
                        }));
                        findings.extend(wrong_commit(&layer.name, package, files));
                    }
                }
            }
        }
        if locked.is_empty() {
            return;
        }
        findings.extend(unexpected(&installed, &locked, &conda_names(lock)));
    }

    /// Puts the wheel sha256 of each builder record that matches the lock into the lock.
    fn record(&self, files: &Files, lock: &mut Lock) -> Option<Recording> {
        Some(BUILT.record(files, lock))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An inventory looking in the standard prefixes and `python_prefix`.
    fn inventory(python_prefix: Option<&str>) -> PythonInventory {
        let mut prefixes: Vec<String> = STANDARD_PREFIXES.iter().map(|p| p.to_string()).collect();
        prefixes.extend(python_prefix.map(str::to_string));
        PythonInventory { prefixes }
    }

    #[test]
    fn finds_site_packages_of_standard_prefixes() {
        let inventory = inventory(None);
        let wanted = |path: &str| inventory.file(path);
        let bytes = |path: &str| matches!(wanted(path), Some(Want::Bytes));
        let digest = |path: &str| matches!(wanted(path), Some(Want::Digest));
        assert!(bytes(
            "usr/local/lib/python3.8/site-packages/requests-2.27.1.dist-info/METADATA"
        ));
        assert!(bytes(
            "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"
        ));
        assert!(bytes(
            "opt/conda/lib/python3.8/site-packages/numpy-1.18.5.dist-info/METADATA"
        ));
        assert!(bytes(
            "usr/local/lib/python3.8/site-packages/x-1.dist-info/RECORD"
        ));
        assert!(digest(
            "usr/local/lib/python3.8/site-packages/numpy/core/multiarray.py"
        ));
        assert!(digest("usr/local/bin/normalizer"));
        assert!(wanted("home/me/lib/python3.8/site-packages/x-1.dist-info/METADATA").is_none());
        assert!(wanted("usr/local/lib/R/site-library/x/DESCRIPTION").is_none());
        assert!(inventory.folder("usr/local/lib/python3.8"));
        assert!(inventory.folder("usr/local/lib/python3.8/site-packages/numpy/core"));
        assert!(inventory.folder("usr/local/bin"));
        assert!(!inventory.folder("usr/share/doc"));
        assert!(!inventory.folder("usr/lib/x86_64-linux-gnu"));
        assert!(inventory.folder("usr/lib/python3/dist-packages/six"));
        assert!(!inventory.folder("usr/lib/python3.11/json"));
        assert!(!inventory.folder("usr/lib/python3.11/sitecustomize.py"));
        // Debian's links where distributions' files may be; not in place of a METADATA.
        assert!(inventory.link_expected("usr/bin/python3"));
        assert!(inventory.link_expected("usr/local/lib/python3.8/site-packages/x/y.py"));
        assert!(
            !inventory
                .link_expected("usr/local/lib/python3.8/site-packages/x-1.dist-info/METADATA")
        );
        assert!(!inventory.link_expected("usr/lib/python3.11/sitecustomize.py"));
        assert_eq!(normalize("PySocks"), "pysocks");
        assert_eq!(normalize("charset_normalizer"), "charset-normalizer");
    }

    #[test]
    fn the_locks_python_prefix_is_looked_in_too() {
        let path = "databricks/python3/lib/python3.8/site-packages/six-1.16.0.dist-info/METADATA";
        assert!(inventory(None).file(path).is_none());
        let inventory = inventory(Some("databricks/python3"));
        assert!(matches!(inventory.file(path), Some(Want::Bytes)));
        assert!(inventory.folder("databricks"));
        assert!(inventory.folder("databricks/python3/lib"));
        assert!(!inventory.folder("databricks/drivers"));
    }
}
