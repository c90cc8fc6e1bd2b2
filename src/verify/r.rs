//! The R inventory of an image: every `<library>/<package>/DESCRIPTION`, checked against the lock.
//!
//! Libraries searched, in R's order: the one given with `--library`, then the standard paths of
//! Debian/Ubuntu R and rocker images. A locked package must be in one of them at its locked
//! version and from its locked kind of repository (`Repository`, and `RemoteSha` for packages
//! installed from a Git remote). The library packages are installed into (`--library`, else the
//! site library) must hold nothing else but R's base and recommended packages.

use std::collections::BTreeMap;

use super::image::{Files, Wanted};
use super::{Finding, FindingKind};
use crate::cran::dcf_fields;
use crate::lock::Lock;

/// The R libraries of Debian/Ubuntu R and rocker images, in R's search order.
const STANDARD_LIBRARIES: &[&str] = &[
    "usr/local/lib/R/site-library",
    "usr/lib/R/site-library",
    "usr/lib/R/library",
    "usr/local/lib/R/library",
];

/// The R part of verification.
pub struct RInventory {
    /// Searched in order; the first is where imglock installs.
    libraries: Vec<String>,
}

impl RInventory {
    /// The inventory for an image whose packages went into `library` (R's site library if none).
    pub fn new(library: Option<&str>) -> Self {
        let mut libraries: Vec<String> = library
            .map(|l| l.trim_matches('/').to_string())
            .into_iter()
            .collect();
        for standard in STANDARD_LIBRARIES {
            if !libraries.iter().any(|l| l == standard) {
                libraries.push((*standard).to_string());
            }
        }
        Self { libraries }
    }

    fn package_of<'p>(&self, path: &'p str) -> Option<(usize, &'p str)> {
        let (dir, file) = path.rsplit_once('/')?;
        if file != "DESCRIPTION" {
            return None;
        }
        let (library, package) = dir.rsplit_once('/')?;
        let position = self.libraries.iter().position(|l| l == library)?;
        Some((position, package))
    }

    /// Compares the image's R packages with the lock's.
    pub fn check(&self, files: &Files, lock: &Lock, findings: &mut Vec<Finding>) {
        // name → (library position, fields), keeping the first library R would load from.
        let mut installed: BTreeMap<String, (usize, BTreeMap<String, String>)> = BTreeMap::new();
        for (path, bytes) in files {
            let Some((position, _)) = self.package_of(path) else {
                continue;
            };
            let fields = dcf_fields(&String::from_utf8_lossy(bytes));
            let Some(name) = fields.get("Package").cloned() else {
                continue;
            };
            match installed.get(&name) {
                Some((existing, _)) if *existing <= position => {}
                _ => {
                    installed.insert(name, (position, fields));
                }
            }
        }
        for layer in &lock.layers {
            for package in layer
                .packages
                .iter()
                .filter(|p| p.ecosystem == "cran" || p.ecosystem == "bioconductor")
            {
                let finding = |kind, found: Option<String>, message: String| Finding {
                    kind,
                    layer: layer.name.clone(),
                    ecosystem: package.ecosystem.clone(),
                    name: package.name.clone(),
                    expected: Some(package.version.clone()),
                    found,
                    message,
                };
                let Some((_, fields)) = installed.get(&package.name) else {
                    findings.push(finding(
                        FindingKind::Missing,
                        None,
                        format!(
                            "{} {} is locked but not installed in any R library",
                            package.name, package.version
                        ),
                    ));
                    continue;
                };
                let version = fields.get("Version").cloned().unwrap_or_default();
                if version != package.version {
                    findings.push(finding(
                        FindingKind::WrongVersion,
                        Some(version.clone()),
                        format!(
                            "{} is installed at {version}, but the lock says {}",
                            package.name, package.version
                        ),
                    ));
                }
                if let Some(source) = wrong_source(&package.ecosystem, fields) {
                    findings.push(finding(
                        FindingKind::WrongSource,
                        Some(version),
                        format!("{} {source}", package.name),
                    ));
                }
            }
        }
        let locked: std::collections::HashSet<&str> = lock
            .layers
            .iter()
            .flat_map(|l| &l.packages)
            .map(|p| p.name.as_str())
            .collect();
        for (name, (position, fields)) in &installed {
            let part_of_r = matches!(
                fields.get("Priority").map(String::as_str),
                Some("base" | "recommended")
            );
            if *position == 0 && !locked.contains(name.as_str()) && !part_of_r {
                let version = fields.get("Version").cloned().unwrap_or_default();
                findings.push(Finding {
                    kind: FindingKind::Unexpected,
                    layer: String::new(),
                    ecosystem: "cran".into(),
                    name: name.clone(),
                    expected: None,
                    found: Some(version.clone()),
                    message: format!(
                        "{name} {version} is in {} but not in the lock",
                        self.libraries[0]
                    ),
                });
            }
        }
    }
}

/// Why an installed package's DESCRIPTION shows another source than the lock's, if it does.
fn wrong_source(ecosystem: &str, fields: &BTreeMap<String, String>) -> Option<String> {
    if let Some(sha) = fields.get("RemoteSha") {
        let remote = fields.get("RemoteType").map_or("a remote", String::as_str);
        return Some(format!(
            "was installed from {remote} (RemoteSha {sha}), not from the locked {ecosystem} repository"
        ));
    }
    let repository = fields.get("Repository")?;
    let bioconductor = repository.starts_with("Bioconductor");
    match ecosystem {
        "cran" if bioconductor => Some(format!(
            "says Repository: {repository}, but the lock has it from CRAN"
        )),
        "bioconductor" if repository == "CRAN" => Some(format!(
            "says Repository: {repository}, but the lock has it from Bioconductor"
        )),
        _ => None,
    }
}

impl Wanted for RInventory {
    fn file(&self, path: &str) -> bool {
        self.package_of(path)
            .is_some_and(|(_, package)| !package.contains('/'))
    }

    fn folder(&self, path: &str) -> bool {
        self.libraries.iter().any(|library| {
            library.starts_with(&format!("{path}/"))
                || library == path
                || path
                    .strip_prefix(library.as_str())
                    .and_then(|rest| rest.strip_prefix('/'))
                    .is_some_and(|package| !package.contains('/'))
        })
    }
}
