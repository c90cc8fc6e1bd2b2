//! Whole files read from disk: a cache entry, or an index of a `file://` repository. A large
//! file is mapped, not read: reading a conda-forge-sized repodata into memory cost an eighth of
//! a warm resolve from the cache, and a quarter of one from a `file://` channel (copying 250 MB
//! into fresh pages), where a mapping shares the pages the system already caches.

use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use url::Url;

use super::{Body, FetchError, size};

/// Files of at least this many bytes are mapped into memory instead of read: below it, reading
/// costs less than mapping.
pub(in crate::fetch) const MAP_AT: u64 = 1 << 20;

/// The local path of a `file://` URL.
pub(super) fn local_path(url: &Url) -> Result<PathBuf, FetchError> {
    url.to_file_path().map_err(|()| FetchError::File {
        path: url.to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a local path"),
    })
}

/// The whole file at `path`: mapped when it is large, else read.
///
/// A mapping is sound while nobody changes the file's bytes in place. No cache file is ever
/// written in place: every write goes to a new temporary file renamed over the old name, and
/// removing or replacing the name leaves the mapped inode's bytes as they are. A `file://`
/// repository is a mirror that its tools update the same way (rsync, conda-index and
/// `createrepo` write a new file and rename it); rattler maps a `file://` channel's repodata
/// just so. What is read from either is checked before use: a cache entry against its length
/// and CRC-32, an index by its parser.
pub(super) fn read_whole(path: &Path) -> std::io::Result<Body> {
    whole(&std::fs::File::open(path)?)
}

/// The whole of the open `file`, as [`read_whole`] reads it (a cache entry just written counts:
/// it is mapped once complete, and never written again).
pub(super) fn whole(file: &std::fs::File) -> std::io::Result<Body> {
    if file.metadata()?.len() < MAP_AT {
        let mut bytes = Vec::new();
        let mut reader = file;
        reader.rewind()?;
        reader.read_to_end(&mut bytes)?;
        return Ok(Body::from(bytes));
    }
    // SAFETY: see above: the file's bytes are not changed in place while they are mapped.
    let map = unsafe { memmap2::Mmap::map(file)? };
    Ok(Body::from_owner(map))
}

/// Reads a local index whole; past `limit` bytes, it is refused.
pub(super) fn read_index(url: &Url, limit: u64) -> Result<Body, FetchError> {
    let path = local_path(url)?;
    let bytes = read_whole(&path).map_err(|source| FetchError::File {
        path: path.display().to_string(),
        source,
    })?;
    if bytes.len() as u64 > limit {
        return Err(FetchError::TooLarge {
            url: url.to_string(),
            source: size::TooLarge {
                what: "the file",
                limit,
                kind: size::Limit::Index,
            },
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_local_index_is_read_whole_and_refused_past_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repodata.json");
        let bytes: Vec<u8> = (0..MAP_AT + 3).map(|i| (i % 253) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let url = Url::from_file_path(&path).unwrap();
        let read = read_index(&url, MAP_AT + 3).unwrap();
        assert!(read[..] == bytes[..]);
        let error = read_index(&url, MAP_AT + 2).unwrap_err();
        assert!(matches!(error, FetchError::TooLarge { .. }), "{error}");
        let missing = Url::from_file_path(dir.path().join("absent.json")).unwrap();
        assert!(matches!(
            read_index(&missing, MAP_AT),
            Err(FetchError::File { .. })
        ));
    }
}
