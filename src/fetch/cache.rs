//! The on-disk cache shared by every ecosystem: HTTP bodies with their validators, and artifacts
//! stored by sha256.
//!
//! Layout under the cache root (`IMGLOCK_CACHE_DIR`, else the user's cache folder):
//! `http/<sha256 of url>.body` + `.json` (the validators), `artifacts/sha256/<hex>` (content
//! addressed blobs) and `artifacts/by-url/<sha256 of url>` (the hex digest of that URL's blob).
//! Every file is written to a temporary name and renamed, so a killed run leaves no half entries.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The validators kept beside a cached HTTP body, sent back to revalidate it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Validators {
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The cache folder and the operations on it.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache in `IMGLOCK_CACHE_DIR`, or `imglock` under the user's cache folder.
    pub fn from_env() -> Self {
        let root = std::env::var_os("IMGLOCK_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| dirs::cache_dir().map(|dir| dir.join("imglock")))
            .unwrap_or_else(|| std::env::temp_dir().join("imglock-cache"));
        Self { root }
    }

    /// A cache rooted at `root`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn http_paths(&self, url: &str) -> (PathBuf, PathBuf) {
        let key = hex::encode(Sha256::digest(url.as_bytes()));
        let dir = self.root.join("http");
        (
            dir.join(format!("{key}.body")),
            dir.join(format!("{key}.json")),
        )
    }

    /// The cached body of `url` and its validators, if both are present.
    pub fn http_get(&self, url: &str) -> Option<(Vec<u8>, Validators)> {
        let (body, meta) = self.http_paths(url);
        let validators: Validators = serde_json::from_slice(&std::fs::read(meta).ok()?).ok()?;
        (validators.url == url).then_some(())?;
        Some((std::fs::read(body).ok()?, validators))
    }

    /// Stores a body and its validators for `url`.
    pub fn http_put(&self, validators: &Validators, body: &[u8]) -> std::io::Result<()> {
        let (body_path, meta_path) = self.http_paths(&validators.url);
        write_atomic(&body_path, body)?;
        write_atomic(&meta_path, &serde_json::to_vec(validators)?)
    }

    /// The blob path of a sha256 digest.
    pub fn blob_path(&self, sha256: &str) -> PathBuf {
        self.root.join("artifacts").join("sha256").join(sha256)
    }

    fn url_key_path(&self, url: &str) -> PathBuf {
        let key = hex::encode(Sha256::digest(url.as_bytes()));
        self.root.join("artifacts").join("by-url").join(key)
    }

    /// The sha256 of the blob last downloaded from `url`, if its blob is still present.
    pub fn artifact_for_url(&self, url: &str) -> Option<(String, PathBuf)> {
        let digest = std::fs::read_to_string(self.url_key_path(url)).ok()?;
        let digest = digest.trim().to_string();
        let path = self.blob_path(&digest);
        path.is_file().then_some((digest, path))
    }

    /// Records that `url` served the blob `sha256`.
    pub fn remember_artifact(&self, url: &str, sha256: &str) -> std::io::Result<()> {
        write_atomic(&self.url_key_path(url), sha256.as_bytes())
    }

    /// A folder for temporary files on the same file system as the cache, so renames are atomic.
    pub fn temp_dir(&self) -> std::io::Result<PathBuf> {
        let dir = self.root.join("tmp");
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}
