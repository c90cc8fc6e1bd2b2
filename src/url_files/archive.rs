//! What `imglock verify` can check of an archive once unpacked: its first regular file, found at
//! resolve by streaming the pinned archive (`.tar`, gzip, xz or bzip2) through its decompressor
//! and sha256, never held in memory and never written out. The lock records the member's path
//! and sha256; the image must hold that file below the target with those bytes.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

/// How many entries are looked through for a regular file before giving up (the first is
/// nearly always within the first few folders).
const MAX_ENTRIES: usize = 10_000;

/// The first regular file of an archive: its path as `tar -x` writes it, and its sha256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstMember {
    pub path: String,
    pub sha256: String,
}

/// The decompressed stream of the archive at `path`, by the suffix of its URL file `name`.
fn decompressed(path: &Path, name: &str) -> std::io::Result<Box<dyn Read>> {
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    Ok(if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else if name.ends_with(".tar.xz") {
        Box::new(lzma_rust2::XzReader::new(file, true))
    } else if name.ends_with(".tar.bz2") || name.ends_with(".tbz2") {
        Box::new(bzip2::read::MultiBzDecoder::new(file))
    } else {
        Box::new(file)
    })
}

/// A member path as `tar -x` places it: without leading `./` or `/`; `None` when it is empty
/// or climbs out (`..`), which tar refuses to write.
pub fn member_path(raw: &str) -> Option<String> {
    let parts: Vec<&str> = raw
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    if parts.is_empty() || parts.contains(&"..") || raw.chars().any(char::is_control) {
        return None;
    }
    Some(parts.join("/"))
}

/// The first regular file of the tar archive at `path` (its URL's file name `name`), if it has
/// one within [`MAX_ENTRIES`] entries.
pub fn first_member(path: &Path, name: &str) -> std::io::Result<Option<FirstMember>> {
    let mut archive = tar::Archive::new(decompressed(path, name)?);
    for entry in archive.entries()?.take(MAX_ENTRIES) {
        let mut entry = entry?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(path) = member_path(&raw) else {
            continue;
        };
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            match entry.read(&mut buffer)? {
                0 => break,
                n => hasher.update(&buffer[..n]),
            }
        }
        let sha256 = hex::encode(hasher.finalize());
        return Ok(Some(FirstMember { path, sha256 }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_paths_are_as_tar_writes_them() {
        assert_eq!(member_path("./a/b").as_deref(), Some("a/b"));
        assert_eq!(member_path("/a//b").as_deref(), Some("a/b"));
        assert_eq!(member_path("a/../../b"), None);
        assert_eq!(member_path("./"), None);
    }
}
