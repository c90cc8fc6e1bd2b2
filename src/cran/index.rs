//! A repository's `PACKAGES` index: one entry per package, read from R's DCF records.
//!
//! Entries are converted in parallel (the full CRAN index has over 22,000). An entry whose fields
//! cannot be read is kept as a [`BrokenEntry`] and reported only if resolution needs that package,
//! so one malformed record in a mirror does not stop every other resolve.

use std::collections::HashMap;

use rayon::prelude::*;

use super::dcf::{self, DcfError, Record};
use super::requirement::{self, Requirement};
use super::version::{Constraint, RVersion};
use crate::repository::Repository;

/// Which kind of R repository an index belongs to; a spec's `cran` list resolves roots from CRAN
/// repositories, its `bioconductor` list from Bioconductor ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoKind {
    Cran,
    Bioconductor,
}

impl RepoKind {
    /// The ecosystem name the lock records for packages from this kind of repository.
    pub fn ecosystem(self) -> &'static str {
        match self {
            Self::Cran => "cran",
            Self::Bioconductor => "bioconductor",
        }
    }
}

/// One package version as an index (or an archived tarball's DESCRIPTION) describes it.
#[derive(Debug, Clone)]
pub struct PackageEntry {
    pub name: String,
    pub version: RVersion,
    /// Depends, Imports and LinkingTo, in that order, without `R` itself.
    pub dependencies: Vec<Requirement>,
    /// The `R (>= x)` constraints of Depends.
    pub r_constraints: Vec<Constraint>,
    pub needs_compilation: Option<bool>,
    /// The MD5 the repository publishes for the tarball.
    pub md5: Option<String>,
    /// The tarball's path below the repository root.
    pub path: String,
}

/// An index record that could not be read, kept to explain itself if it is ever needed.
#[derive(Debug, Clone)]
pub struct BrokenEntry {
    pub line: usize,
    pub reason: String,
}

/// A parsed `PACKAGES` index of one repository.
#[derive(Debug)]
pub struct RepoIndex {
    pub repository: Repository,
    pub kind: RepoKind,
    pub packages: HashMap<String, Result<PackageEntry, BrokenEntry>>,
}

impl RepoIndex {
    /// Parses an index's text. Fails only when the text is not DCF at all.
    pub fn parse(repository: Repository, kind: RepoKind, text: &str) -> Result<Self, DcfError> {
        let records = dcf::parse(text)?;
        let entries: Vec<(String, Result<PackageEntry, BrokenEntry>)> = records
            .par_iter()
            .filter_map(|record| {
                let name = record.get("Package")?.to_string();
                let entry = PackageEntry::from_record(record, None).map_err(|reason| BrokenEntry {
                    line: record.line,
                    reason,
                });
                Some((name, entry))
            })
            .collect();
        let mut packages: HashMap<String, Result<PackageEntry, BrokenEntry>> =
            HashMap::with_capacity(entries.len());
        for (name, entry) in entries {
            // Some indexes list a package twice; the newest readable entry wins.
            let newer = match (packages.get(&name), &entry) {
                (Some(Ok(old)), Ok(new)) => new.version > old.version,
                (Some(Ok(_)), Err(_)) => false,
                _ => true,
            };
            if newer {
                packages.insert(name, entry);
            }
        }
        Ok(Self {
            repository,
            kind,
            packages,
        })
    }
}

impl PackageEntry {
    /// Reads an index record or a DESCRIPTION file. `path` overrides where the tarball is.
    pub fn from_record(record: &Record, path: Option<String>) -> Result<Self, String> {
        let name = record
            .get("Package")
            .ok_or("the record has no `Package` field")?
            .to_string();
        let version_text = record
            .get("Version")
            .ok_or("the record has no `Version` field")?;
        let version: RVersion = version_text.parse().map_err(|e| format!("{e}"))?;
        let mut dependencies = Vec::new();
        let mut r_constraints = Vec::new();
        for field in ["Depends", "Imports", "LinkingTo"] {
            let Some(value) = record.get(field) else {
                continue;
            };
            let parsed =
                requirement::parse_field(value).map_err(|e| format!("its {field} field: {e}"))?;
            for requirement in parsed {
                if requirement.name == "R" {
                    r_constraints.extend(requirement.constraints);
                } else if !dependencies.iter().any(|d: &Requirement| d == &requirement) {
                    dependencies.push(requirement);
                }
            }
        }
        let needs_compilation = record
            .get("NeedsCompilation")
            .map(|value| value.eq_ignore_ascii_case("yes"));
        let path = path.unwrap_or_else(|| match record.get("File") {
            Some(file) => format!("src/contrib/{file}"),
            None => format!("src/contrib/{name}_{version_text}.tar.gz"),
        });
        Ok(Self {
            md5: record.get("MD5sum").map(str::to_ascii_lowercase),
            name,
            version,
            dependencies,
            r_constraints,
            needs_compilation,
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn reads_entries_and_keeps_broken_ones_aside() {
        let repo =
            Repository::parse("https://cran.example", Path::new("/"), Path::new("/")).unwrap();
        let text = "Package: a\nVersion: 1.0-2\nDepends: R (>= 4.0), b\nImports: c (>= 2.0)\nLinkingTo: b\nNeedsCompilation: yes\nMD5sum: ABC\n\nPackage: bad\nVersion: one\n\nPackage: a\nVersion: 0.9\n";
        let index = RepoIndex::parse(repo, RepoKind::Cran, text).unwrap();
        let a = index.packages["a"].as_ref().unwrap();
        assert_eq!(a.version.as_str(), "1.0-2");
        assert_eq!(a.r_constraints[0].to_string(), ">= 4.0");
        let names: Vec<_> = a.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["b", "c"]);
        assert_eq!(a.needs_compilation, Some(true));
        assert_eq!(a.md5.as_deref(), Some("abc"));
        assert_eq!(a.path, "src/contrib/a_1.0-2.tar.gz");
        let bad = index.packages["bad"].as_ref().unwrap_err();
        assert_eq!(bad.line, 9);
    }
}
