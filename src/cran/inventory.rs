//! The R inventory of an image: every `<library>/<package>/DESCRIPTION`, checked against the lock.
//!
//! Libraries searched, in R's order: the lock's (`--library`, else the lock's `r-library`), then
//! the standard paths of Debian/Ubuntu R and rocker images. A locked package must be in one of them
//! at its locked version and from its locked kind of repository (`Repository`, and `RemoteSha` for
//! packages installed from a Git remote; a GitHub package's `RemoteSha`, `RemoteUsername` and
//! `RemoteRepo` must be its locked commit and repository); R loads the first copy, so that is the
//! one checked. Every library must hold nothing else but R's own base and recommended packages
//! (what Debian's `r-base-core` and `r-recommended` install, known by name): any other package, in
//! any library, is unexpected, because R would load it too.
//!
//! It also reads the installer's records of the binaries it installed ([`crate::built_binaries`]),
//! which `imglock verify --record-binaries` puts into the lock.

use std::collections::{BTreeMap, HashSet};

use crate::cran::github::source::GithubSource;
use crate::cran::{BASE_PACKAGES, RECOMMENDED_PACKAGES, dcf_fields};
use crate::image::{Files, Want, Wanted, texts};
use crate::lock::{Lock, LockedPackage};
use crate::package::Ecosystem;
use crate::verify::inventory::{Finding, FindingKind, Inventory, Recording};

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

/// One installed copy of a package.
struct Installed {
    /// The position of its library in R's search order.
    library: usize,
    name: String,
    fields: BTreeMap<String, String>,
}

impl Installed {
    fn version(&self) -> String {
        self.fields.get("Version").cloned().unwrap_or_default()
    }

    /// Whether it is one of R's own packages: a base or a recommended package, by name (R's
    /// `translations` has no `Priority`, so the field cannot tell).
    fn is_part_of_r(&self) -> bool {
        let name = self.name.as_str();
        BASE_PACKAGES.contains(&name) || RECOMMENDED_PACKAGES.contains(&name)
    }
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

    /// Every package copy in the image's libraries, in R's search order.
    fn installed(&self, files: &Files) -> Vec<Installed> {
        let mut installed: Vec<Installed> = texts(files, self)
            .filter_map(|(path, bytes)| {
                let (library, _) = self.package_of(path)?;
                let fields = dcf_fields(&String::from_utf8_lossy(bytes));
                let name = fields.get("Package")?.clone();
                Some(Installed {
                    library,
                    name,
                    fields,
                })
            })
            .collect();
        installed.sort_by_key(|copy| copy.library);
        installed
    }

    /// Reports every copy, in any library, of a package that is neither locked nor R's own.
    fn check_unexpected(&self, installed: &[Installed], lock: &Lock, findings: &mut Vec<Finding>) {
        let locked: HashSet<&str> = lock
            .layers
            .iter()
            .flat_map(|l| &l.packages)
            .map(|p| p.name.as_str())
            .collect();
        for copy in installed {
            if !locked.contains(copy.name.as_str()) && !copy.is_part_of_r() {
                let (name, version) = (&copy.name, copy.version());
                findings.push(Finding {
                    kind: FindingKind::Unexpected,
                    layer: String::new(),
                    ecosystem: Ecosystem::Cran,
                    name: name.clone(),
                    expected: None,
                    found: Some(version.clone()),
                    message: format!(
                        "{name} {version} is in /{} but not in the lock",
                        self.libraries[copy.library]
                    ),
                });
            }
        }
    }
}

/// Checks each locked R package against the copy R loads.
fn check_locked(loaded: &BTreeMap<&str, &Installed>, lock: &Lock, findings: &mut Vec<Finding>) {
    for layer in &lock.layers {
        for package in layer.packages.iter().filter(|p| p.ecosystem.is_r()) {
            let finding = |kind, found: Option<String>, message: String| Finding {
                kind,
                layer: layer.name.clone(),
                ecosystem: package.ecosystem,
                name: package.name.clone(),
                expected: Some(package.version.clone()),
                found,
                message,
            };
            let Some(copy) = loaded.get(package.name.as_str()) else {
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
            let version = copy.version();
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
            if let Some(source) = wrong_source(package, &copy.fields) {
                findings.push(finding(
                    FindingKind::WrongSource,
                    Some(version),
                    format!("{} {source}", package.name),
                ));
            }
        }
    }
}

/// Why an installed package's DESCRIPTION shows another source than the lock's, if it does.
fn wrong_source(package: &LockedPackage, fields: &BTreeMap<String, String>) -> Option<String> {
    let ecosystem = package.ecosystem;
    if let Some(github) = package.details.r().and_then(|r| r.github.as_ref()) {
        return wrong_commit(github, fields);
    }
    if let Some(sha) = fields.get("RemoteSha") {
        let remote = fields.get("RemoteType").map_or("a remote", String::as_str);
        return Some(format!(
            "was installed from {remote} (RemoteSha {sha}), not from the locked {ecosystem} repository"
        ));
    }
    let repository = fields.get("Repository")?;
    let bioconductor = repository.starts_with("Bioconductor");
    match ecosystem {
        Ecosystem::Cran if bioconductor => Some(format!(
            "says Repository: {repository}, but the lock has it from CRAN"
        )),
        Ecosystem::Bioconductor if repository == "CRAN" => Some(format!(
            "says Repository: {repository}, but the lock has it from Bioconductor"
        )),
        _ => None,
    }
}

/// Why an installed GitHub package is not the locked commit of the locked repository (its
/// `RemoteSha`, `RemoteUsername` and `RemoteRepo`, as remotes and pak write them), if it is not.
fn wrong_commit(github: &GithubSource, fields: &BTreeMap<String, String>) -> Option<String> {
    let field = |name: &str| fields.get(name).map(|v| v.trim()).unwrap_or_default();
    let locked = format!("commit {} of GitHub {}", github.commit, github.repo);
    let sha = field("RemoteSha");
    if sha.is_empty() {
        let from = match field("Repository") {
            "" => "not from GitHub".to_string(),
            repository => format!("from {repository}"),
        };
        return Some(format!(
            "was installed {from} (its DESCRIPTION has no RemoteSha), but the lock has {locked}"
        ));
    }
    let repo = format!("{}/{}", field("RemoteUsername"), field("RemoteRepo"));
    let same_repo = repo.eq_ignore_ascii_case(&github.repo);
    if sha.eq_ignore_ascii_case(&github.commit) && same_repo {
        return None;
    }
    Some(format!(
        "is installed from commit {sha} of {} {repo}, but the lock has {locked}",
        match field("RemoteType") {
            "" => "remote",
            kind => kind,
        }
    ))
}

impl Wanted for RInventory {
    fn file(&self, path: &str) -> Option<Want> {
        if let Some(want) = super::emit::BUILT.wanted(path) {
            return Some(want);
        }
        let (_, package) = self.package_of(path)?;
        (!package.contains('/')).then_some(Want::Bytes)
    }

    fn folder(&self, path: &str) -> bool {
        super::emit::BUILT.wanted_folder(path)
            || self.libraries.iter().any(|library| {
                library.starts_with(&format!("{path}/"))
                    || library == path
                    || path
                        .strip_prefix(library.as_str())
                        .and_then(|rest| rest.strip_prefix('/'))
                        .is_some_and(|package| !package.contains('/'))
            })
    }
}

impl Inventory for RInventory {
    /// Compares the image's R packages with the lock's.
    fn check(&self, files: &Files, lock: &Lock, findings: &mut Vec<Finding>) {
        let installed = self.installed(files);
        // The copy R loads: the first in search order.
        let mut loaded: BTreeMap<&str, &Installed> = BTreeMap::new();
        for copy in &installed {
            loaded.entry(copy.name.as_str()).or_insert(copy);
        }
        check_locked(&loaded, lock, findings);
        self.check_unexpected(&installed, lock, findings);
    }

    /// Puts the binary sha256 of each installer record that matches the lock into the lock.
    fn record(&self, files: &Files, lock: &mut Lock) -> Option<Recording> {
        Some(super::emit::BUILT.record(files, lock))
    }
}
