//! Recorded R binaries: the `binary-sha256` of each R package, read from the records the
//! installer leaves in a built image (`imglock verify IMAGE --record-binaries`), and kept by
//! `imglock resolve` while it still holds.
//!
//! The installer (`emit/imglock-r-install.sh`, whose header documents the record format) takes
//! a binary from the builder's shared cache only when the lock records its sha256; the lock is
//! the one input of a build that another build on the same builder cannot change. A recorded
//! digest is a fact about one source (name, version, sha256) built for one R version, platform
//! and base image: the record must match the lock in all of them ([`binary_cache_key`]).

use std::collections::HashMap;

use super::emit::binary_cache_key;
use crate::dockerfile_values::is_sha256;
use crate::lock::Lock;
use crate::verify::image::{Files, Want};
use crate::verify::inventory::Recording;

/// Where the installer writes its records in the image, one file per package (`…/NAME`).
pub(crate) const RECORDS: &str = "usr/local/share/imglock/r-binaries";

/// The first line of a record, naming its format.
const RECORD_HEADER: &str = "# imglock R binary record 1";

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
    /// Reads a record (see the installer's header); `Err` says why it is unusable.
    fn parse(bytes: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())?;
        let mut lines = text.lines();
        if lines.next() != Some(RECORD_HEADER) {
            return Err(format!("it does not start with `{RECORD_HEADER}`"));
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

/// Whether `path` (relative, `/`-separated) is a record file, and how it is read.
pub(crate) fn wanted(path: &str) -> Option<Want> {
    let name = path.strip_prefix(RECORDS)?.strip_prefix('/')?;
    (!name.is_empty() && !name.contains('/')).then_some(Want::Bytes)
}

/// Whether the folder `path` may hold record files.
pub(crate) fn wanted_folder(path: &str) -> bool {
    path == RECORDS || RECORDS.starts_with(&format!("{path}/"))
}

/// Puts into `lock` the binary sha256 of every record in `files` that matches a locked R
/// package: the same name, version and source sha256, built for the lock's cache key. Says
/// how many it recorded, and why it ignored each other record.
pub(crate) fn record(files: &Files, lock: &mut Lock) -> Recording {
    let key = binary_cache_key(lock);
    let mut count = 0;
    let mut ignored = Vec::new();
    for (path, content) in files {
        if wanted(path).is_none() {
            continue;
        }
        let Some(bytes) = content.bytes() else {
            continue;
        };
        let file = path.rsplit('/').next().unwrap_or_default().escape_debug();
        match Record::parse(bytes).and_then(|record| apply(&record, &key, lock)) {
            Ok(()) => count += 1,
            Err(why) => ignored.push(format!("ignored the R binary record `{file}`: {why}")),
        }
    }
    Recording {
        summary: format!("recorded the binary sha256 of {count} R package(s)"),
        ignored,
    }
}

/// Records `record`'s binary sha256 on its package of `lock`, whose cache key is `key`, or
/// says why it does not match.
fn apply(record: &Record, key: &str, lock: &mut Lock) -> Result<(), String> {
    let shown = |value: &str| value.escape_debug().to_string();
    let (name, version) = (shown(&record.name), shown(&record.version));
    let package = lock
        .layers
        .iter_mut()
        .flat_map(|layer| &mut layer.packages)
        .find(|p| p.ecosystem.is_r() && p.name == record.name)
        .ok_or_else(|| format!("the lock has no R package `{name}`"))?;
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
    if record.cache_key != key {
        return Err(format!(
            "it was built for cache key {}, but the lock's is {key} (another R version, platform or base image)",
            shown(&record.cache_key)
        ));
    }
    if !is_sha256(&record.binary_sha256) {
        return Err(format!(
            "its binary-sha256 `{}` is not 64 lowercase hexadecimal digits",
            shown(&record.binary_sha256)
        ));
    }
    if let Some(details) = package.details.r_mut() {
        details.binary_sha256 = Some(record.binary_sha256.clone());
    }
    Ok(())
}

/// Keeps in `lock` the binary sha256s `previous` recorded for R packages of the same name,
/// version and source sha256, when both locks have the same cache key (R version, platform
/// and base image); with another key, none holds.
pub(crate) fn keep_recorded(previous: &Lock, lock: &mut Lock) {
    if binary_cache_key(previous) != binary_cache_key(lock) {
        return;
    }
    let recorded: HashMap<(&str, &str, &str), &str> = previous
        .layers
        .iter()
        .flat_map(|layer| &layer.packages)
        .filter(|p| p.ecosystem.is_r())
        .filter_map(|p| {
            let binary = p.details.r()?.binary_sha256.as_deref()?;
            Some((
                (p.name.as_str(), p.version.as_str(), p.sha256.as_str()),
                binary,
            ))
        })
        .collect();
    for package in lock.layers.iter_mut().flat_map(|layer| &mut layer.packages) {
        let key = (
            package.name.as_str(),
            package.version.as_str(),
            package.sha256.as_str(),
        );
        let Some(binary) = recorded.get(&key).map(|b| (*b).to_string()) else {
            continue;
        };
        if package.ecosystem.is_r()
            && let Some(details) = package.details.r_mut()
        {
            details.binary_sha256 = Some(binary);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_read_by_their_fields() {
        let hex = "a".repeat(64);
        let text = format!(
            "{RECORD_HEADER}\nname corekit\nversion 1.1-2\nsource-sha256 {hex}\ncache-key 4.2.2/linux-amd64/x\nbinary-sha256 {hex}\n"
        );
        let record = Record::parse(text.as_bytes()).unwrap();
        assert_eq!(
            (record.name.as_str(), record.version.as_str()),
            ("corekit", "1.1-2")
        );
        assert_eq!(record.cache_key, "4.2.2/linux-amd64/x");
        assert!(
            Record::parse(b"name corekit\n")
                .unwrap_err()
                .contains("does not start with")
        );
        let partial = format!("{RECORD_HEADER}\nname corekit\n");
        assert_eq!(
            Record::parse(partial.as_bytes()).unwrap_err(),
            "it has no `version`"
        );
    }

    #[test]
    fn only_files_directly_in_the_records_folder_are_wanted() {
        assert!(wanted(&format!("{RECORDS}/corekit")).is_some());
        assert!(wanted(&format!("{RECORDS}/a/b")).is_none());
        assert!(wanted(&format!("{RECORDS}/")).is_none());
        assert!(wanted("usr/local/share/imglock/r-binariesX/a").is_none());
        assert!(wanted_folder("usr") && wanted_folder("usr/local/share/imglock"));
        assert!(wanted_folder(RECORDS) && !wanted_folder("usr/lib"));
    }
}
