//! The on-disk cache shared by every ecosystem: HTTP bodies with their validators, the URLs that
//! answered 404 (and when), and artifacts stored by sha256.
//!
//! Layout under the cache root (`--cache-dir`, else `IMGLOCK_CACHE_DIR`, else the user's cache
//! folder; `--no-cache` chooses a temporary one):
//! `http/<sha256 of url>` (one line of JSON, the validators, then the body: the line is padded
//! with spaces in an entry written as its body arrived, [`StreamedEntry`]; for a URL that
//! answered 404, only the line, saying when: one file per URL, as a file's creation is most of
//! what an entry costs), `artifacts/sha256/<hex>` (content addressed blobs) and
//! `artifacts/by-url/<sha256 of url>` (the hex digest of that URL's blob).
//! Every file is written to a temporary name and renamed, so a killed run leaves no half entries
//! (a download streams into its temporary file and is renamed to its blob once verified), and
//! the temporaries a killed run did leave are removed when the next one starts.
//! Cache files are not flushed to disk one by one (that would cost a disk sync per fetched page):
//! instead every entry is checked when read, blobs against their names and HTTP bodies against
//! the length and CRC-32 kept with their validators, and a damaged entry is fetched again. (The
//! check is for damage, a torn or flipped write: anyone who can rewrite a body can rewrite its
//! validators too, whatever the digest. CRC-32 reads at memory speed; a sha256 of a
//! conda-forge-sized repodata cost a fifth of a resolve.) A large body is mapped, not read
//! ([`super::local`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Body;

/// The validators kept beside a cached HTTP body, sent back to revalidate it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Validators {
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The length and CRC-32 of the body, checked when the entry is read; an entry written
    /// before they were kept has none, and is fetched again.
    #[serde(default)]
    pub body_check: Option<BodyCheck>,
    /// When the URL answered 404, in seconds since the Unix epoch: the entry then records an
    /// absence and has no body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent_since: Option<u64>,
}

/// What a cached body is checked against when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BodyCheck {
    pub length: u64,
    pub crc32: u32,
}

impl BodyCheck {
    /// The check of `body`.
    pub(crate) fn of(body: &[u8]) -> Self {
        Self {
            length: body.len() as u64,
            crc32: crc32fast::hash(body),
        }
    }
}

/// What the cache holds for a URL.
#[derive(Debug, Clone)]
pub(crate) enum HttpEntry {
    /// The body it last answered with, and that answer's validators.
    Body(Body, Validators),
    /// It answered 404 at this instant.
    Absent(SystemTime),
}

/// The cache the command line chose, for the whole process (see [`Cache::choose`]).
static CHOSEN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// The cache folder and the operations on it.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache the command line chose ([`Self::choose`]: `--cache-dir`, `--no-cache`), else
    /// the one in `IMGLOCK_CACHE_DIR`, else `imglock` under the user's cache folder.
    pub(crate) fn from_env() -> Self {
        if let Some(root) = CHOSEN.get() {
            return Self { root: root.clone() };
        }
        let root = std::env::var_os("IMGLOCK_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| dirs::cache_dir().map(|dir| dir.join("imglock")))
            .unwrap_or_else(|| std::env::temp_dir().join("imglock-cache"));
        Self { root }
    }

    /// Makes `root` the cache of every later [`Self::from_env`] in this process (the command
    /// line's choice, made once before the command runs; a second choice is ignored).
    pub(crate) fn choose(root: PathBuf) {
        let _ = CHOSEN.set(root);
    }

    /// A cache rooted at `root`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    fn http_path(&self, url: &str) -> PathBuf {
        let key = hex::encode(Sha256::digest(url.as_bytes()));
        self.root.join("http").join(key)
    }

    /// What the cache holds for `url`: its body and validators (when the entry is whole), or
    /// when it answered 404.
    pub(crate) fn http_get(&self, url: &str) -> Option<HttpEntry> {
        let entry = super::local::read_whole(&self.http_path(url)).ok()?;
        let end = entry.iter().position(|byte| *byte == b'\n')?;
        let validators = validators_in(&entry[..end], url)?;
        if let Some(seconds) = validators.absent_since {
            return Some(HttpEntry::Absent(
                SystemTime::UNIX_EPOCH + Duration::from_secs(seconds),
            ));
        }
        let body = entry.slice(end + 1..);
        (validators.body_check == Some(BodyCheck::of(&body)))
            .then_some(HttpEntry::Body(body, validators))
    }

    /// Whether the cache holds a body for `url` (whole or not: only its validators are read).
    pub(crate) fn http_has_body(&self, url: &str) -> bool {
        let Ok(file) = std::fs::File::open(self.http_path(url)) else {
            return false;
        };
        let mut line = Vec::new();
        let read =
            std::io::BufRead::read_until(&mut std::io::BufReader::new(file), b'\n', &mut line);
        read.is_ok()
            && validators_in(line.trim_ascii_end(), url).is_some_and(|v| v.absent_since.is_none())
    }

    /// Whether the cache holds an entry for `url`, usable or not: an entry [`Self::http_get`]
    /// refuses is a damaged one.
    pub(crate) fn http_has_entry(&self, url: &str) -> bool {
        self.http_path(url).exists()
    }

    /// Stores the body `url` answered with and the validators it came with.
    pub(crate) fn http_put(
        &self,
        url: &str,
        etag: Option<String>,
        last_modified: Option<String>,
        body: &[u8],
    ) -> std::io::Result<()> {
        let validators = Validators {
            url: url.to_string(),
            etag,
            last_modified,
            body_check: Some(BodyCheck::of(body)),
            absent_since: None,
        };
        self.write_http_entry(&validators, body)
    }

    /// Records that `url` answered 404 at `at`, in place of any body it had.
    pub(crate) fn http_put_absent(&self, url: &str, at: SystemTime) -> std::io::Result<()> {
        let seconds = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let validators = Validators {
            url: url.to_string(),
            absent_since: Some(seconds),
            ..Validators::default()
        };
        self.write_http_entry(&validators, &[])
    }

    /// Writes the entry of `validators.url`: its validators on one line (JSON escapes every
    /// line break inside a string), then `body`.
    fn write_http_entry(&self, validators: &Validators, body: &[u8]) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(validators)?;
        line.push(b'\n');
        let path = self.http_path(&validators.url);
        crate::files::write_renamed_parts(&path, &[&line, body])
    }

    /// Starts the entry of `url`, answered with `etag` and `last_modified`, to be written as its
    /// body arrives ([`StreamedEntry`]).
    pub(crate) fn http_stream(
        &self,
        url: &str,
        etag: Option<String>,
        last_modified: Option<String>,
    ) -> std::io::Result<StreamedEntry> {
        let path = self.http_path(url);
        let mut validators = Validators {
            url: url.to_string(),
            etag,
            last_modified,
            body_check: Some(BodyCheck {
                length: u64::MAX,
                crc32: u32::MAX,
            }),
            absent_since: None,
        };
        // Room for the validators' line whatever the check's numbers: the longest they spell.
        let room = serde_json::to_vec(&validators)?.len() + 1;
        validators.body_check = None;
        let mut file = crate::files::temporary_for(&path)?;
        std::io::Write::write_all(&mut file, &vec![b' '; room])?;
        Ok(StreamedEntry {
            file,
            path,
            validators,
            room,
            check: crc32fast::Hasher::new(),
            length: 0,
        })
    }

    /// Drops the cached body of `url` and its validators, if any.
    pub(crate) fn http_forget(&self, url: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.http_path(url)) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    /// Removes what killed runs left in the cache: temporaries (a download streaming in, an
    /// entry before its rename) of processes that no longer run.
    pub(crate) fn remove_dead_temporaries(&self) {
        for folder in ["http", "artifacts/sha256", "artifacts/by-url"] {
            crate::files::remove_dead_temporaries(&self.root.join(folder));
        }
    }

    /// The blob path of a sha256 digest.
    pub(crate) fn blob_path(&self, sha256: &str) -> PathBuf {
        self.root.join("artifacts").join("sha256").join(sha256)
    }

    fn url_key_path(&self, url: &str) -> PathBuf {
        let key = hex::encode(Sha256::digest(url.as_bytes()));
        self.root.join("artifacts").join("by-url").join(key)
    }

    /// The sha256 of the blob last downloaded from `url`, if its blob is still present.
    pub(crate) fn artifact_for_url(&self, url: &str) -> Option<(String, PathBuf)> {
        let digest = std::fs::read_to_string(self.url_key_path(url)).ok()?;
        let digest = digest.trim().to_string();
        let path = self.blob_path(&digest);
        path.is_file().then_some((digest, path))
    }

    /// Forgets which blob `url` served, so that the next download of `url` fetches it again.
    pub(crate) fn forget_artifact(&self, url: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.url_key_path(url)) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    /// Records that `url` served the blob `sha256`.
    pub(crate) fn remember_artifact(&self, url: &str, sha256: &str) -> std::io::Result<()> {
        write_entry(&self.url_key_path(url), sha256.as_bytes())
    }
}

/// An HTTP entry written as its body arrives: a large index goes straight into the cache, and
/// is mapped from there once whole, instead of being copied into memory and then again into
/// the cache. Room for the validators' line is left at the file's start and filled in when
/// the body's length and CRC-32 are known (padded with spaces, which its reader skips); the
/// file is renamed into place only then. Dropped unfinished, the temporary file is removed.
pub(crate) struct StreamedEntry {
    file: tempfile::NamedTempFile,
    path: PathBuf,
    validators: Validators,
    room: usize,
    check: crc32fast::Hasher,
    length: u64,
}

impl StreamedEntry {
    /// Appends the next bytes of the body.
    pub(crate) fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.check.update(chunk);
        self.length += chunk.len() as u64;
        std::io::Write::write_all(&mut self.file, chunk)
    }

    /// Completes the entry (its validators' line written, the file renamed into place) and
    /// answers its body, mapped from the file.
    pub(crate) fn finish(mut self) -> std::io::Result<Body> {
        use std::os::unix::fs::FileExt;
        self.validators.body_check = Some(BodyCheck {
            length: self.length,
            crc32: self.check.finalize(),
        });
        let mut line = serde_json::to_vec(&self.validators)?;
        line.resize(self.room - 1, b' ');
        line.push(b'\n');
        self.file.as_file().write_all_at(&line, 0)?;
        let entry = super::local::whole(self.file.as_file())?;
        self.file.persist(&self.path).map_err(|error| error.error)?;
        Ok(entry.slice(self.room..))
    }
}

/// The validators an entry's first `line` holds, when they are those of `url` (another URL whose
/// key collides, or a damaged line, is no entry of it).
fn validators_in(line: &[u8], url: &str) -> Option<Validators> {
    let validators: Validators = serde_json::from_slice(line).ok()?;
    (validators.url == url).then_some(validators)
}

/// Writes a cache entry through a temporary file and a rename, without waiting for the disk:
/// entries are checked when read.
fn write_entry(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::files::write_renamed(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_http_entry_is_not_served() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::at(root.path());
        let url = "https://pypi.example/simple/idna/";
        cache
            .http_put(url, Some("\"v1\"".into()), None, b"{\"files\": []}")
            .unwrap();
        let Some(HttpEntry::Body(body, validators)) = cache.http_get(url) else {
            panic!("the body is cached");
        };
        assert_eq!(body[..], b"{\"files\": []}"[..]);
        assert_eq!(validators.etag.as_deref(), Some("\"v1\""));
        assert!(
            cache
                .http_get("https://pypi.example/simple/other/")
                .is_none()
        );

        // A body cut short (a crash before the disk caught up) no longer matches its check.
        let path = cache.http_path(url);
        let whole = std::fs::read(&path).unwrap();
        std::fs::write(&path, &whole[..whole.len() - 8]).unwrap();
        assert!(cache.http_get(url).is_none());
    }

    #[test]
    fn an_entry_written_as_its_body_arrives_reads_back_like_any_other() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::at(root.path());
        let url = "https://conda.example/forge/linux-64/repodata.json";
        let body: Vec<u8> = (0..(3 << 20) + 5).map(|i| (i % 241) as u8).collect();
        let mut entry = cache
            .http_stream(url, Some("\"v9\"".into()), Some("Sun, 06 Dec 2026".into()))
            .unwrap();
        for chunk in body.chunks(16 << 10) {
            entry.write(chunk).unwrap();
        }
        let answered = entry.finish().unwrap();
        assert!(answered[..] == body[..]);
        let Some(HttpEntry::Body(read, validators)) = cache.http_get(url) else {
            panic!("the streamed entry is cached");
        };
        assert!(read[..] == body[..]);
        assert_eq!(validators.etag.as_deref(), Some("\"v9\""));
        assert_eq!(
            validators.last_modified.as_deref(),
            Some("Sun, 06 Dec 2026")
        );
        assert!(cache.http_has_body(url));
        // Dropped before it is finished, an entry leaves nothing behind, and the one before stays.
        let mut unfinished = cache.http_stream(url, None, None).unwrap();
        unfinished.write(b"half a body").unwrap();
        drop(unfinished);
        assert_eq!(
            std::fs::read_dir(root.path().join("http")).unwrap().count(),
            1
        );
        assert!(matches!(cache.http_get(url), Some(HttpEntry::Body(..))));
    }

    #[test]
    fn a_large_body_is_mapped_and_checked_like_a_small_one() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::at(root.path());
        let url = "https://conda.example/forge/linux-64/repodata.json";
        let body: Vec<u8> = (0..crate::fetch::local::MAP_AT + 7)
            .map(|i| (i % 251) as u8)
            .collect();
        cache.http_put(url, None, None, &body).unwrap();
        let Some(HttpEntry::Body(read, _)) = cache.http_get(url) else {
            panic!("the body is cached");
        };
        assert!(read[..] == body[..]);
        // Bytes that no longer match the check, the length unchanged.
        let path = cache.http_path(url);
        let mut damaged = std::fs::read(&path).unwrap();
        let middle = damaged.len() / 2;
        damaged[middle] ^= 1;
        std::fs::write(&path, &damaged).unwrap();
        assert!(cache.http_get(url).is_none());
    }

    #[test]
    fn an_absence_replaces_the_body_and_a_body_replaces_the_absence() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::at(root.path());
        let url = "https://repo.example/a/1.0/a-1.0.jar.sha512";
        cache.http_put(url, None, None, b"old").unwrap();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        cache.http_put_absent(url, at).unwrap();
        assert!(matches!(cache.http_get(url), Some(HttpEntry::Absent(when)) if when == at));
        let entry = std::fs::read(cache.http_path(url)).unwrap();
        assert!(!entry.ends_with(b"old"), "the body is gone");
        cache.http_put(url, None, None, b"new").unwrap();
        assert!(
            matches!(cache.http_get(url), Some(HttpEntry::Body(body, _)) if body[..] == b"new"[..])
        );
    }
}
