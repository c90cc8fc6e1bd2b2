//! What a registry base image holds, remembered in the cache by what determines it: the
//! manifest's digest, the platform and the conda prefix read. A pinned base read once is then
//! known without decompressing its layers again (hundreds of megabytes, seconds). Its blobs were
//! verified against their digests when they were fetched; an entry that does not read is read
//! from the blobs again.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::BaseContents;
use crate::fetch::Cache;
use crate::platform::Platform;

/// The version of the entries' format: a new one leaves old entries unread.
const FORMAT: u32 = 1;

/// One remembered read.
#[derive(Serialize, Deserialize)]
pub(super) struct Remembered {
    format: u32,
    pub contents: BaseContents,
    pub warnings: Vec<String>,
}

/// Where the read of `digest` for `platform`, with `conda_meta` read, is remembered.
pub(super) fn path(cache: &Cache, digest: &str, platform: &Platform, conda_meta: &str) -> PathBuf {
    let key = hex::encode(Sha256::digest(format!(
        "{digest}\n{platform}\n{conda_meta}"
    )));
    cache.root().join("base").join(format!("{key}.json"))
}

/// The remembered read at `path`, if there is one that reads.
pub(super) fn load(path: &std::path::Path) -> Option<Remembered> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice::<Remembered>(&bytes)
        .ok()
        .filter(|remembered| remembered.format == FORMAT)
}

/// Remembers a read at `path`; failing to is no error (the next read reads the blobs).
pub(super) fn store(path: &std::path::Path, contents: &BaseContents, warnings: &[String]) {
    let remembered = Remembered {
        format: FORMAT,
        contents: contents.clone(),
        warnings: warnings.to_vec(),
    };
    if let (Some(dir), Ok(bytes)) = (path.parent(), serde_json::to_vec(&remembered)) {
        let _ =
            std::fs::create_dir_all(dir).and_then(|()| crate::files::write_renamed(path, &bytes));
    }
}
