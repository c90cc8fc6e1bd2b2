//! Size limits of what comes from outside: an index body as it is downloaded and an index once
//! decompressed (both held in memory whole), and an artifact (streamed to the cache, never held
//! whole). Each is read through a counting limit and refused past it, so a small compressed bomb
//! or an endless body costs at most the limit, never all the memory or all the disk.

use std::io::Read;

/// The most bytes an index body (a page, a repodata file, `PACKAGES.gz`) may have as downloaded,
/// compressed or not: well above the largest real index served uncompressed (conda-forge's plain
/// `repodata.json`, a few hundred MB, fetched when a mirror has no `.zst`).
pub(crate) const INDEX_BODY: u64 = 1 << 30;

/// The environment variable that sets every index size limit at once.
pub(crate) const VARIABLE: &str = "IMGLOCK_MAX_INDEX_BYTES";

/// The most bytes an artifact (a package file, a jar, a wheel's metadata) may have as
/// downloaded: several times the largest real ones (conda's CUDA builds of pytorch and
/// Bioconductor's annotation packages, a few GB).
pub(crate) const ARTIFACT: u64 = 16 << 30;

/// The environment variable that sets the artifact size limit.
pub(crate) const ARTIFACT_VARIABLE: &str = "IMGLOCK_MAX_ARTIFACT_BYTES";

/// Which limit refused something, to say how to change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// An index's, set by `IMGLOCK_MAX_INDEX_BYTES`.
    Index,
    /// An artifact's, set by `IMGLOCK_MAX_ARTIFACT_BYTES`.
    Artifact,
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Index => {
                "set IMGLOCK_MAX_INDEX_BYTES to a number of bytes to change every index limit"
            }
            Self::Artifact => {
                "set IMGLOCK_MAX_ARTIFACT_BYTES to a number of bytes to change the artifact limit"
            }
        })
    }
}

/// An index or artifact larger than its limit, refused before more of it was held.
#[derive(Debug, thiserror::Error)]
#[error("{what} is larger than {}, the limit: refused ({kind})", human(*limit))]
pub struct TooLarge {
    /// What was refused: "the body", "the decompressed repodata".
    pub what: &'static str,
    /// The limit in bytes.
    pub limit: u64,
    /// Which limit it is.
    pub kind: Limit,
}

/// A byte count as people read it: `512 MiB (536870912 bytes)`, or just the bytes.
pub(crate) fn human(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    UNITS
        .iter()
        .find(|(unit, _)| bytes >= *unit && bytes.is_multiple_of(*unit))
        .map_or_else(
            || format!("{bytes} bytes"),
            |(unit, name)| format!("{} {name} ({bytes} bytes)", bytes / unit),
        )
}

/// Reads `reader` (a decompressor) to its end, refusing as soon as more than `limit` bytes come
/// out: the error is an [`std::io::Error`] of kind `InvalidData` whose inner error is a
/// [`TooLarge`] naming `what`.
pub(crate) fn read_capped(
    reader: impl Read,
    limit: u64,
    what: &'static str,
) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    Capped::new(reader, limit, what).read_to_end(&mut out)?;
    Ok(out)
}

/// A reader (a decompressor) that fails, as [`read_capped`] does, once more than its limit
/// (an index limit) has come out of it: for a stream read in part, such as a tarball read up to
/// one of its files.
pub(crate) struct Capped<R> {
    inner: R,
    read: u64,
    limit: u64,
    what: &'static str,
}

impl<R: Read> Capped<R> {
    /// `inner`, refused past `limit` bytes; `what` names it in the error.
    pub(crate) fn new(inner: R, limit: u64, what: &'static str) -> Self {
        Self {
            inner,
            read: 0,
            limit,
            what,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let room = (self.limit - self.read).saturating_add(1);
        let wanted = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..wanted])?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                TooLarge {
                    what: self.what,
                    limit: self.limit,
                    kind: Limit::Index,
                },
            ));
        }
        Ok(n)
    }
}

/// Whether `error` is a [`read_capped`] refusal.
pub(crate) fn is_too_large(error: &std::io::Error) -> bool {
    error.get_ref().is_some_and(|inner| inner.is::<TooLarge>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_past_its_limit_is_refused_at_the_limit() {
        let exact = read_capped(&[7u8; 100][..], 100, "the text").unwrap();
        assert_eq!(exact.len(), 100);
        let error = read_capped(std::io::repeat(0), 1 << 20, "the text").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the text is larger than 1 MiB (1048576 bytes), the limit: refused (set IMGLOCK_MAX_INDEX_BYTES to a number of bytes to change every index limit)"
        );
        assert_eq!(human(1000), "1000 bytes");
    }
}
