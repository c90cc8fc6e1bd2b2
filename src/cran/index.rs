//! A repository's `PACKAGES` index: the text, cut into records, and entries parsed on demand.
//!
//! The full CRAN index has over 22,000 records and a resolve reads about a hundred of them, so
//! parsing is lazy: loading an index only finds each record and its `Package` name (in parallel),
//! and [`RepoIndex::entry`] parses a record's fields when resolution asks for that package. An
//! entry that cannot be read is a [`BrokenEntry`], reported only if resolution needs the package,
//! so one malformed record in a mirror does not stop every other resolve.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ops::Range;

use super::dcf::{self, Record};
use super::error::{EntryError, NotAnIndex};
use super::requirement::{self, Requirement};
use super::version::{Constraint, RVersion};
use crate::package::Ecosystem;
use crate::repository::Repository;

/// Which kind of R repository an index belongs to; a spec's `cran` list resolves roots from CRAN
/// repositories, its `bioconductor` list from Bioconductor ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoKind {
    /// A CRAN repository or mirror (the lock records `cran`).
    Cran,
    /// A Bioconductor repository of one release, such as its software or annotation repository.
    Bioconductor,
    /// One GitHub package at a commit, its DESCRIPTION the index's one record.
    Github,
}

impl RepoKind {
    /// The ecosystem name the lock records for packages from this kind of repository.
    pub fn ecosystem(self) -> Ecosystem {
        match self {
            Self::Cran => Ecosystem::Cran,
            Self::Bioconductor => Ecosystem::Bioconductor,
            Self::Github => Ecosystem::Github,
        }
    }
}

/// One package version as an index (or an archived tarball's DESCRIPTION) describes it.
#[derive(Debug, Clone)]
pub struct PackageEntry {
    /// The package name as its `Package:` field spells it, like `ggplot2`.
    pub name: String,
    /// Its `Version:` field, like `3.5.1` or `1.0-12`.
    pub version: RVersion,
    /// Depends, Imports and LinkingTo, in that order, without `R` itself.
    pub dependencies: Vec<Requirement>,
    /// The `R (>= x)` constraints of Depends.
    pub r_constraints: Vec<Constraint>,
    /// The names its `LinkingTo` lists: packages whose headers (or static libraries) its
    /// compiled code is built against.
    pub linking_to: Vec<String>,
    /// Its `NeedsCompilation:` field, `yes` being `true`; `None` when the record has none.
    pub needs_compilation: Option<bool>,
    /// The MD5 the repository publishes for the tarball.
    pub md5: Option<String>,
    /// Its `License:` field, like `GPL-2 | GPL-3` (a continued line joined by one space).
    pub license: Option<String>,
    /// The tarball's path below the repository root.
    pub path: String,
}

/// An index record that could not be read, kept to explain itself if it is ever needed.
#[derive(Debug, Clone)]
pub struct BrokenEntry {
    pub line: usize,
    pub reason: EntryError,
}

/// Where a record is in the index text, and the line it starts on.
#[derive(Debug, Clone)]
struct RecordAt {
    range: Range<usize>,
    line: usize,
}

/// Where a package's records are: one, almost always, kept without a list of its own (an index
/// of 22,000 packages then costs 22,000 allocations fewer to make and to drop).
#[derive(Debug)]
enum Records {
    One(RecordAt),
    Many(Vec<RecordAt>),
}

impl Records {
    fn push(&mut self, at: RecordAt) {
        match self {
            Self::One(first) => *self = Self::Many(vec![first.clone(), at]),
            Self::Many(all) => all.push(at),
        }
    }

    fn as_slice(&self) -> &[RecordAt] {
        match self {
            Self::One(first) => std::slice::from_ref(first),
            Self::Many(all) => all,
        }
    }
}

/// A `PACKAGES` index of one repository.
#[derive(Debug)]
pub struct RepoIndex {
    pub(crate) repository: Repository,
    pub(crate) kind: RepoKind,
    /// Whether any package may come from it (a repository of `[repositories]`); one that only a
    /// layer entry names serves the packages it is named for, and nothing else.
    pub(crate) general: bool,
    /// The packages that come only from this repository, because a layer entry names it.
    pub(crate) named: std::collections::HashSet<String>,
    text: String,
    /// Each package's records (some indexes list a package more than once).
    records: HashMap<String, Records>,
}

impl RepoIndex {
    /// Cuts an index's text into records. Fails only when the text has no package records at all
    /// (an HTML error page served as `PACKAGES`, say); an empty text is an empty repository.
    pub fn parse(repository: Repository, kind: RepoKind, text: &str) -> Result<Self, NotAnIndex> {
        Self::parse_owned(repository, kind, text.to_string())
    }

    /// [`RepoIndex::parse`] of a text it keeps as it is, uncopied.
    pub fn parse_owned(
        repository: Repository,
        kind: RepoKind,
        text: String,
    ) -> Result<Self, NotAnIndex> {
        let spans = dcf::spans(&text);
        let mut records: HashMap<String, Records> = HashMap::with_capacity(spans.len());
        for span in spans {
            if let Some(package) = span.package {
                let at = RecordAt {
                    range: span.range,
                    line: span.line,
                };
                match records.entry(package.to_string()) {
                    Entry::Occupied(mut listed) => listed.get_mut().push(at),
                    Entry::Vacant(first) => {
                        first.insert(Records::One(at));
                    }
                }
            }
        }
        if records.is_empty() && !text.trim().is_empty() {
            return Err(NotAnIndex);
        }
        Ok(Self {
            repository,
            kind,
            general: true,
            named: std::collections::HashSet::new(),
            text,
            records,
        })
    }

    /// Whether the index lists `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.records.contains_key(name)
    }

    /// Every package name in the index.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.records.keys().map(String::as_str)
    }

    /// How many packages the index lists.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the index lists no package.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The entry of `name`, parsed now; the newest readable one when the index lists it twice.
    pub fn entry(&self, name: &str) -> Option<Result<PackageEntry, BrokenEntry>> {
        let mut best: Option<Result<PackageEntry, BrokenEntry>> = None;
        for at in self.records.get(name)?.as_slice() {
            let entry = self.parse_record(at);
            let better = match (&best, &entry) {
                (None, _) | (Some(Err(_)), Ok(_)) => true,
                (Some(Ok(old)), Ok(new)) => new.version > old.version,
                (Some(_), Err(_)) => false,
            };
            if better {
                best = Some(entry);
            }
        }
        best
    }

    fn parse_record(&self, at: &RecordAt) -> Result<PackageEntry, BrokenEntry> {
        let broken = |reason: EntryError| BrokenEntry {
            line: at.line,
            reason,
        };
        let records =
            dcf::parse_from(&self.text[at.range.clone()], at.line).map_err(|e| broken(e.into()))?;
        let record = records.first().ok_or_else(|| broken(EntryError::Empty))?;
        PackageEntry::from_record(record, None).map_err(broken)
    }
}

impl PackageEntry {
    /// Reads an index record or a DESCRIPTION file. `path` overrides where the tarball is.
    pub fn from_record(record: &Record<'_>, path: Option<String>) -> Result<Self, EntryError> {
        let name = record
            .get("Package")
            .ok_or(EntryError::NoField("Package"))?
            .to_string();
        let version_text = record
            .get("Version")
            .ok_or(EntryError::NoField("Version"))?;
        let version: RVersion = version_text.parse()?;
        let mut dependencies = Vec::new();
        let mut r_constraints = Vec::new();
        let mut linking_to = Vec::new();
        for field in ["Depends", "Imports", "LinkingTo"] {
            let Some(value) = record.get(field) else {
                continue;
            };
            let parsed = requirement::parse_field(value)
                .map_err(|source| EntryError::Field { field, source })?;
            for requirement in parsed {
                if field == "LinkingTo" && !linking_to.contains(&requirement.name) {
                    linking_to.push(requirement.name.clone());
                }
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
            license: record
                .get("License")
                .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|text| !text.is_empty()),
            name,
            version,
            dependencies,
            r_constraints,
            linking_to,
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
    fn reads_entries_on_demand_and_keeps_broken_ones_aside() {
        let repo =
            Repository::parse("https://cran.example", Path::new("/"), Path::new("/")).unwrap();
        let text = "Package: a\nVersion: 1.0-2\nDepends: R (>= 4.0), b\nImports: c (>= 2.0)\nLinkingTo: b\nNeedsCompilation: yes\nMD5sum: ABC\n\nPackage: bad\nVersion: one\n\nPackage: a\nVersion: 0.9\n";
        let index = RepoIndex::parse(repo.clone(), RepoKind::Cran, text).unwrap();
        assert_eq!(index.len(), 2);
        let a = index.entry("a").unwrap().unwrap();
        assert_eq!(a.version.as_str(), "1.0-2", "the newer of two records wins");
        assert_eq!(a.r_constraints[0].to_string(), ">= 4.0");
        let names: Vec<_> = a.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["b", "c"]);
        assert_eq!(a.needs_compilation, Some(true));
        assert_eq!(a.linking_to, ["b"]);
        assert_eq!(a.md5.as_deref(), Some("abc"));
        assert_eq!(a.path, "src/contrib/a_1.0-2.tar.gz");
        let bad = index.entry("bad").unwrap().unwrap_err();
        assert_eq!(bad.line, 9);
        assert!(index.entry("zzz").is_none());
        assert!(
            RepoIndex::parse(repo.clone(), RepoKind::Cran, "")
                .unwrap()
                .is_empty()
        );
        assert!(RepoIndex::parse(repo, RepoKind::Cran, "<html>Not Found</html>").is_err());
    }
}
