//! The Python inventory of an image: every `<site-packages>/<name>.dist-info/METADATA` under the
//! standard prefixes (`/usr/local`, `/usr`, `/opt/conda`), checked against the lock's PyPI
//! packages. Packaging tools a Python base image ships (pip, setuptools, wheel) are not
//! unexpected.

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;

use pep508_rs::PackageName;

use crate::lock::{Lock, LockedPackage};
use crate::package::Ecosystem;
use crate::verify::image::{Files, Want, Wanted, texts};
use crate::verify::inventory::{Finding, FindingKind, Inventory};

/// Distributions every Python base image carries.
const PACKAGING_TOOLS: &[&str] = &["pip", "setuptools", "wheel", "distribute"];

/// The Python part of verification.
pub struct PythonInventory;

/// PEP 503 normalisation (lowercase, runs of `-`, `_` and `.` as one `-`), as `pep508_rs` does
/// it; a name it refuses is compared lowercased.
fn normalize(name: &str) -> String {
    PackageName::from_str(name).map_or_else(|_| name.to_lowercase(), |name| name.to_string())
}

/// Whether `path` is a site folder: `<prefix>/lib/python3.X/site-packages` or Debian's
/// `usr/lib/python3/dist-packages`.
fn is_site(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let Some((last, rest)) = parts.split_last() else {
        return false;
    };
    let Some((python, prefix)) = rest
        .split_last()
        .and_then(|(python, rest)| Some((python, rest.split_last()?.1)))
    else {
        return false;
    };
    let lib_ok = rest.len() >= 2 && rest[rest.len() - 2] == "lib";
    let prefix = prefix.join("/");
    (*last == "site-packages" || *last == "dist-packages")
        && python.starts_with("python3")
        && lib_ok
        && matches!(prefix.as_str(), "usr" | "usr/local" | "opt/conda")
}

impl Wanted for PythonInventory {
    fn file(&self, path: &str) -> Option<Want> {
        let (site, folder) = path.strip_suffix("/METADATA")?.rsplit_once('/')?;
        (folder.ends_with(".dist-info") && is_site(site)).then_some(Want::Bytes)
    }

    fn folder(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        let known = |part: &str| {
            matches!(
                part,
                "usr" | "local" | "opt" | "conda" | "lib" | "site-packages" | "dist-packages"
            ) || part.starts_with("python3")
                || part.ends_with(".dist-info")
        };
        parts.len() <= 6 && parts.iter().all(|p| known(p))
    }
}

impl PythonInventory {
    /// The distributions among `files`, by normalised name, each with its version and the path of
    /// its METADATA; the first found of a name is kept.
    fn read_installed(&self, files: &Files) -> Installed {
        let mut installed = Installed::new();
        for (path, bytes) in texts(files, self) {
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

/// What is wrong with one locked package of `layer`, given its installed version and path if
/// any: missing or another version.
fn check_locked(
    layer: &str,
    package: &LockedPackage,
    installed: Option<&(String, String)>,
) -> Option<Finding> {
    let finding = |kind, found: Option<String>, message: String| Finding {
        kind,
        layer: layer.to_string(),
        ecosystem: Ecosystem::Pypi,
        name: package.name.clone(),
        expected: Some(package.version.clone()),
        found,
        message,
    };
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
                findings.extend(check_locked(&layer.name, package, installed.get(&name)));
            }
        }
        if locked.is_empty() {
            return;
        }
        findings.extend(unexpected(&installed, &locked, &conda_names(lock)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_site_packages_of_standard_prefixes() {
        let inventory = PythonInventory;
        let wanted = |path: &str| inventory.file(path).is_some();
        assert!(wanted(
            "usr/local/lib/python3.8/site-packages/requests-2.27.1.dist-info/METADATA"
        ));
        assert!(wanted(
            "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"
        ));
        assert!(wanted(
            "opt/conda/lib/python3.8/site-packages/numpy-1.18.5.dist-info/METADATA"
        ));
        assert!(!wanted(
            "home/me/lib/python3.8/site-packages/x-1.dist-info/METADATA"
        ));
        assert!(!wanted(
            "usr/local/lib/python3.8/site-packages/x-1.dist-info/RECORD"
        ));
        assert!(inventory.folder("usr/local/lib/python3.8"));
        assert!(!inventory.folder("usr/share/doc"));
        assert_eq!(normalize("PySocks"), "pysocks");
        assert_eq!(normalize("charset_normalizer"), "charset-normalizer");
    }
}
