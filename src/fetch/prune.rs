//! Upkeep of the local cache (`imglock cache clean` and `imglock cache prune`), as `uv cache`
//! does it: cleaning removes the whole cache; pruning removes only what no run can use, so it is
//! safe at any time, even while another imglock runs:
//! - temporaries of processes that no longer run (a killed download, an entry never renamed);
//! - remembered 404s older than a day, which an online run asks again anyway;
//! - damaged HTTP entries (validators that do not read, a body of another length than they
//!   say, or one written before bodies were checked), which a run fetches again anyway;
//! - records of which blob a URL served, when that blob is gone.
//!
//! Whole bodies and blobs are kept: they are what makes a warm or offline run work.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use super::Cache;
use super::cache::Validators;
use super::freshness::ABSENT_TTL;

/// The folders of the cache whose files are written through temporaries.
const WRITTEN_FOLDERS: [&str; 4] = ["http", "artifacts/sha256", "artifacts/by-url", "base"];

/// What a prune or clean removed (or, dry, would remove) of one kind.
#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    /// What it is, in words (`dead temporaries`).
    pub kind: &'static str,
    /// How many files.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl Cache {
    /// Removes the whole cache folder: how many files and bytes it held (none when it did not
    /// exist).
    pub fn clean(&self) -> std::io::Result<Removed> {
        let mut removed = Removed {
            kind: "files",
            files: 0,
            bytes: 0,
        };
        if !self.root().exists() {
            return Ok(removed);
        }
        for (_, bytes) in files_below(self.root()) {
            removed.files += 1;
            removed.bytes += bytes;
        }
        std::fs::remove_dir_all(self.root())?;
        Ok(removed)
    }

    /// Removes what no run can use (see the module comment), each kind counted; with `dry_run`,
    /// removes nothing and counts what it would remove.
    pub fn prune(&self, dry_run: bool) -> std::io::Result<Vec<Removed>> {
        let temporaries: Vec<PathBuf> = WRITTEN_FOLDERS
            .iter()
            .flat_map(|folder| crate::files::dead_temporaries(&self.root().join(folder)))
            .collect();
        let (expired, damaged) = self.useless_http_entries();
        let dangling = self.dangling_url_records();
        let mut removed = Vec::new();
        for (kind, paths) in [
            ("dead temporaries", temporaries),
            ("expired 404 records", expired),
            ("damaged HTTP entries", damaged),
            ("records of blobs that are gone", dangling),
        ] {
            removed.push(remove(kind, &paths, dry_run)?);
        }
        Ok(removed)
    }

    /// The HTTP entries that record a 404 older than [`ABSENT_TTL`], and those that are damaged.
    fn useless_http_entries(&self) -> (Vec<PathBuf>, Vec<PathBuf>) {
        let (mut expired, mut damaged) = (Vec::new(), Vec::new());
        for (path, length) in entries_of(&self.root().join("http")) {
            match http_entry_state(&path, length) {
                EntryState::Expired => expired.push(path),
                EntryState::Damaged => damaged.push(path),
                EntryState::Usable => {}
            }
        }
        (expired, damaged)
    }

    /// The `artifacts/by-url` records whose blob is no longer in the cache.
    fn dangling_url_records(&self) -> Vec<PathBuf> {
        entries_of(&self.root().join("artifacts").join("by-url"))
            .into_iter()
            .filter(|(path, _)| {
                std::fs::read_to_string(path)
                    .is_ok_and(|digest| !self.blob_path(digest.trim()).is_file())
            })
            .map(|(path, _)| path)
            .collect()
    }
}

/// What a prune makes of an HTTP entry.
#[derive(Debug, PartialEq, Eq)]
enum EntryState {
    Usable,
    Expired,
    Damaged,
}

/// Whether the HTTP entry at `path`, of `length` bytes, can still serve a run.
fn http_entry_state(path: &Path, length: u64) -> EntryState {
    let Ok(file) = std::fs::File::open(path) else {
        return EntryState::Usable;
    };
    let mut line = Vec::new();
    let read = std::io::BufRead::read_until(&mut std::io::BufReader::new(file), b'\n', &mut line);
    let Ok(validators) = serde_json::from_slice::<Validators>(line.trim_ascii_end()) else {
        return if read.is_ok() {
            EntryState::Damaged
        } else {
            EntryState::Usable
        };
    };
    if let Some(seconds) = validators.absent_since {
        let since = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
        let age = SystemTime::now().duration_since(since).unwrap_or_default();
        return if age >= ABSENT_TTL {
            EntryState::Expired
        } else {
            EntryState::Usable
        };
    }
    match validators.body_check {
        Some(check) if check.length + line.len() as u64 == length => EntryState::Usable,
        _ => EntryState::Damaged,
    }
}

/// Removes `paths` (unless `dry_run`), counting them and their bytes as `kind`.
fn remove(kind: &'static str, paths: &[PathBuf], dry_run: bool) -> std::io::Result<Removed> {
    let mut removed = Removed {
        kind,
        files: 0,
        bytes: 0,
    };
    for path in paths {
        let Ok(metadata) = std::fs::metadata(path) else {
            continue;
        };
        if !dry_run {
            match std::fs::remove_file(path) {
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                other => other?,
            }
        }
        removed.files += 1;
        removed.bytes += metadata.len();
    }
    Ok(removed)
}

/// The regular files directly in `dir` that are not temporaries, with their lengths.
fn entries_of(dir: &Path) -> Vec<(PathBuf, u64)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|entry| {
            let metadata = entry.metadata().ok()?;
            metadata.is_file().then(|| (entry.path(), metadata.len()))
        })
        .collect()
}

/// Every regular file below `dir`, with its length.
fn files_below(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => folders.push(entry.path()),
                Ok(kind) if kind.is_file() => {
                    let length = entry.metadata().map(|m| m.len()).unwrap_or(0);
                    files.push((entry.path(), length));
                }
                _ => {}
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_written_as_its_body_arrived_is_usable_until_damaged() {
        let root = tempfile::tempdir().unwrap();
        let cache = super::super::Cache::at(root.path());
        let mut entry = cache
            .http_stream("https://conda.example/r.json", None, None)
            .unwrap();
        entry.write(&[b'x'; 3000]).unwrap();
        entry.finish().unwrap();
        let (path, length) = entries_of(&root.path().join("http")).remove(0);
        assert_eq!(http_entry_state(&path, length), EntryState::Usable);
        std::fs::write(
            &path,
            [std::fs::read(&path).unwrap(), b"y".to_vec()].concat(),
        )
        .unwrap();
        let length = std::fs::metadata(&path).unwrap().len();
        assert_eq!(http_entry_state(&path, length), EntryState::Damaged);
    }
}
