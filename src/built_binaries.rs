//! Binaries built in the image from locked sources, and the records their builders leave: R
//! packages compiled by `imglock-r-install` (`cran::emit`), wheels built from Python sdists by
//! `imglock-build-sdist` (`pypi::emit`). `imglock verify IMAGE --record-binaries` reads each
//! record into the lock as the package's `binary-sha256`, and `imglock resolve` keeps it while
//! it still holds.
//!
//! A builder takes a binary from the builder's shared cache only when the lock records its
//! sha256; the lock is the one input of a build that another build on the same builder cannot
//! change. A recorded digest is a fact about one source (name, version, sha256) built for one
//! cache key (the interpreter, platform and base image): the record must match the lock in all
//! of them.
//!
//! A record is a text file, one per package (`<records>/NAME`), whose lines are a field name,
//! one space and the value:
//!
//! ```text
//! # imglock R binary record 1        (the kind's header)
//! name NAME
//! version VERSION
//! source-sha256 SHA256
//! cache-key KEY
//! binary-sha256 the installed binary's sha256
//! ```

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use crate::dockerfile_values::is_sha256;
use crate::image::{Files, Want};
use crate::lock::{Lock, LockedPackage};
use crate::package::Ecosystem;
use crate::verify::inventory::Recording;

/// One kind of built binary: whose, where its records are, and the cache key it is built for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BuiltBinaries {
    /// What is built, as messages name it: "R package", "Python wheel".
    pub what: &'static str,
    /// Where the builder writes its records in the image (relative, `/`-separated).
    pub records: &'static str,
    /// The first line of a record, naming its format.
    pub header: &'static str,
    /// Whether a package of this ecosystem is built so.
    pub serves: fn(Ecosystem) -> bool,
    /// The cache key a package of a lock is built for; `None` when the lock cannot have one.
    pub cache_key: fn(&Lock, &LockedPackage) -> Option<String>,
}

/// The part of a cache key that names the base image: its sha256, or for a base image without
/// a digest, the sha256 of its reference.
pub(crate) fn base_image_key(lock: &Lock) -> String {
    match lock.image.base.rsplit_once("@sha256:") {
        Some((_, digest)) => digest.to_string(),
        None => hex::encode(Sha256::digest(lock.image.base.as_bytes())),
    }
}

/// A record's fields.
#[derive(Debug)]
struct Record {
    name: String,
    version: String,
    source_sha256: String,
    cache_key: String,
    binary_sha256: String,
}

impl Record {
    /// Reads a record whose first line is `header`; `Err` says why it is unusable.
    fn parse(bytes: &[u8], header: &str) -> Result<Self, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())?;
        let mut lines = text.lines();
        if lines.next() != Some(header) {
            return Err(format!("it does not start with `{header}`"));
        }
        let fields: HashMap<&str, &str> = lines.filter_map(|l| l.split_once(' ')).collect();
        let field = |key: &str| {
            fields
                .get(key)
                .map(|value| (*value).to_string())
                .ok_or_else(|| format!("it has no `{key}`"))
        };
        Ok(Self {
            name: field("name")?,
            version: field("version")?,
            source_sha256: field("source-sha256")?,
            cache_key: field("cache-key")?,
            binary_sha256: field("binary-sha256")?,
        })
    }
}

impl BuiltBinaries {
    /// Whether `path` (relative, `/`-separated) is a record file, and how it is read.
    pub(crate) fn wanted(&self, path: &str) -> Option<Want> {
        let name = path.strip_prefix(self.records)?.strip_prefix('/')?;
        (!name.is_empty() && !name.contains('/')).then_some(Want::Bytes)
    }

    /// The source sha256 the record in `files` says the package `name` was built from: `None`
    /// when the image holds no record of it, `Err` saying why when its record is unusable.
    pub(crate) fn source_of(&self, files: &Files, name: &str) -> Option<Result<String, String>> {
        let bytes = files.get(&format!("{}/{name}", self.records))?.bytes()?;
        Some(Record::parse(bytes, self.header).map(|record| record.source_sha256))
    }

    /// Whether the folder `path` may hold record files.
    pub(crate) fn wanted_folder(&self, path: &str) -> bool {
        path == self.records || self.records.starts_with(&format!("{path}/"))
    }

    /// Puts into `lock` the binary sha256 of every record in `files` that matches a locked
    /// package: the same name, version and source sha256, built for the lock's cache key. Says
    /// how many it recorded, and why it ignored each other record.
    pub(crate) fn record(&self, files: &Files, lock: &mut Lock) -> Recording {
        let mut count = 0;
        let mut ignored = Vec::new();
        for (path, content) in files {
            if self.wanted(path).is_none() {
                continue;
            }
            let Some(bytes) = content.bytes() else {
                continue;
            };
            let file = path.rsplit('/').next().unwrap_or_default().escape_debug();
            let applied =
                Record::parse(bytes, self.header).and_then(|record| self.apply(&record, lock));
            match applied {
                Ok(()) => count += 1,
                Err(why) => {
                    ignored.push(format!("ignored the {} record `{file}`: {why}", self.what))
                }
            }
        }
        Recording {
            summary: format!("recorded the binary sha256 of {count} {}(s)", self.what),
            ignored,
        }
    }

    /// Records `record`'s binary sha256 on its package of `lock`, or says why it does not match
    /// (another version, source or cache key).
    fn apply(&self, record: &Record, lock: &mut Lock) -> Result<(), String> {
        self.matches(record, lock)?;
        let package = lock
            .layers
            .iter_mut()
            .flat_map(|layer| &mut layer.packages)
            .find(|p| self.is_recorded_by(p, record));
        if let Some(package) = package {
            package
                .details
                .set_binary_sha256(record.binary_sha256.clone());
        }
        Ok(())
    }

    /// Whether `record` is of the package `package` (by ecosystem and name; [`Self::matches`]
    /// checks the rest).
    fn is_recorded_by(&self, package: &LockedPackage, record: &Record) -> bool {
        (self.serves)(package.ecosystem) && package.name == record.name
    }

    /// The binary sha256 of each package of `lock` that a record in `files` matches, by name.
    pub(crate) fn binaries(&self, files: &Files, lock: &Lock) -> BTreeMap<String, String> {
        files
            .iter()
            .filter(|(path, _)| self.wanted(path).is_some())
            .filter_map(|(_, content)| Record::parse(content.bytes()?, self.header).ok())
            .filter(|record| self.matches(record, lock).is_ok())
            .map(|record| (record.name, record.binary_sha256))
            .collect()
    }

    /// Whether `record` is of a package of `lock`: the same name, version and source sha256,
    /// built for the lock's cache key, with a binary sha256 that is one; else why not.
    fn matches(&self, record: &Record, lock: &Lock) -> Result<(), String> {
        let shown = |value: &str| value.escape_debug().to_string();
        let (name, version) = (shown(&record.name), shown(&record.version));
        let package = lock
            .layers
            .iter()
            .flat_map(|layer| &layer.packages)
            .find(|p| self.is_recorded_by(p, record))
            .ok_or_else(|| format!("the lock has no {} `{name}`", self.what))?;
        let key = (self.cache_key)(lock, package);
        if package.version != record.version {
            return Err(format!(
                "it is of {name} {version}, but the lock has {name} {}",
                package.version
            ));
        }
        if package.sha256 != record.source_sha256 {
            return Err(format!(
                "{name} {version} was built from source sha256 {}, but the lock has {}",
                shown(&record.source_sha256),
                package.sha256
            ));
        }
        if key.as_deref() != Some(record.cache_key.as_str()) {
            return Err(format!(
                "it was built for cache key {}, but the lock's is {} (another interpreter, platform or base image, or other packages compiled against)",
                shown(&record.cache_key),
                key.as_deref().unwrap_or("none")
            ));
        }
        if !is_sha256(&record.binary_sha256) {
            return Err(format!(
                "its binary-sha256 `{}` is not 64 lowercase hexadecimal digits",
                shown(&record.binary_sha256)
            ));
        }
        Ok(())
    }

    /// Keeps in `lock` the binary sha256s `previous` recorded for packages of the same name,
    /// version and source sha256 built for the same cache key (for R: the same R version,
    /// platform, base image and packages compiled against); with another key, none holds.
    pub(crate) fn keep_recorded(&self, previous: &Lock, lock: &mut Lock) {
        let recorded: HashMap<(&str, &str, &str), (&str, Option<String>)> = previous
            .layers
            .iter()
            .flat_map(|layer| &layer.packages)
            .filter(|p| (self.serves)(p.ecosystem))
            .filter_map(|p| {
                let binary = p.details.binary_sha256()?;
                let key = (p.name.as_str(), p.version.as_str(), p.sha256.as_str());
                Some((key, (binary, (self.cache_key)(previous, p))))
            })
            .collect();
        let kept: Vec<(usize, usize, String)> = lock
            .layers
            .iter()
            .enumerate()
            .flat_map(|(l, layer)| {
                layer
                    .packages
                    .iter()
                    .enumerate()
                    .map(move |(p, pkg)| (l, p, pkg))
            })
            .filter(|(_, _, p)| (self.serves)(p.ecosystem))
            .filter_map(|(l, p, package)| {
                let id = (
                    package.name.as_str(),
                    package.version.as_str(),
                    package.sha256.as_str(),
                );
                let (binary, key) = recorded.get(&id)?;
                let now = (self.cache_key)(lock, package);
                (now.is_some() && &now == key).then(|| (l, p, (*binary).to_string()))
            })
            .collect();
        for (l, p, binary) in kept {
            lock.layers[l].packages[p].details.set_binary_sha256(binary);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: BuiltBinaries = BuiltBinaries {
        what: "R package",
        records: "usr/local/share/imglock/r-binaries",
        header: "# imglock R binary record 1",
        serves: Ecosystem::is_r,
        cache_key: |_, _| None,
    };

    #[test]
    fn records_are_read_by_their_fields() {
        let hex = "a".repeat(64);
        let header = KIND.header;
        let text = format!(
            "{header}\nname corekit\nversion 1.1-2\nsource-sha256 {hex}\ncache-key 4.2.2/linux-amd64/x\nbinary-sha256 {hex}\n"
        );
        let record = Record::parse(text.as_bytes(), header).unwrap();
        assert_eq!(
            (record.name.as_str(), record.version.as_str()),
            ("corekit", "1.1-2")
        );
        assert_eq!(record.cache_key, "4.2.2/linux-amd64/x");
        assert!(
            Record::parse(b"name corekit\n", header)
                .unwrap_err()
                .contains("does not start with")
        );
        let python = text.replace(header, "# imglock Python wheel record 1");
        assert!(Record::parse(python.as_bytes(), header).is_err());
        let partial = format!("{header}\nname corekit\n");
        assert_eq!(
            Record::parse(partial.as_bytes(), header).unwrap_err(),
            "it has no `version`"
        );
    }

    #[test]
    fn only_files_directly_in_the_records_folder_are_wanted() {
        let records = KIND.records;
        assert!(KIND.wanted(&format!("{records}/corekit")).is_some());
        assert!(KIND.wanted(&format!("{records}/a/b")).is_none());
        assert!(KIND.wanted(&format!("{records}/")).is_none());
        assert!(
            KIND.wanted("usr/local/share/imglock/r-binariesX/a")
                .is_none()
        );
        assert!(KIND.wanted_folder("usr") && KIND.wanted_folder("usr/local/share/imglock"));
        assert!(KIND.wanted_folder(records) && !KIND.wanted_folder("usr/lib"));
    }
}
