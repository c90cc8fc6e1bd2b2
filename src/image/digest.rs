//! Blob digests, checked while blobs stream: a [`Hashing`] reader hashes the bytes as they are
//! read, and on [`Hashing::finish`] reads what its reader left (a tar reader stops at the
//! end-of-archive marker, a decompressor at the end of its stream) so the whole blob is hashed.

use std::io::Read;

use sha2::{Digest as _, Sha256, Sha512};

/// The digest a blob is named by: `sha256:<64 hex>` or `sha512:<128 hex>`.
#[derive(Debug, Clone)]
pub(super) struct Expected {
    algorithm: &'static str,
    hex: String,
}

impl Expected {
    /// `digest` (`<algorithm>:<hex>`) if it is a well-formed sha256 or sha512 digest.
    pub(super) fn parse(digest: &str) -> Option<Self> {
        let (algorithm, hex) = digest.split_once(':')?;
        let (algorithm, length) = match algorithm {
            "sha256" => ("sha256", 64),
            "sha512" => ("sha512", 128),
            _ => return None,
        };
        let valid = hex.len() == length && hex.bytes().all(|b| b.is_ascii_hexdigit());
        valid.then(|| Self {
            algorithm,
            hex: hex.to_string(),
        })
    }

    /// The digest a blob's name in an image carries: `blobs/<algorithm>/<hex>` (OCI layouts,
    /// current `docker save`) or `<sha256 hex>.json` (a legacy `docker save` configuration).
    pub(super) fn from_name(name: &str) -> Option<Self> {
        let name = name.trim_start_matches("./");
        if let Some(rest) = name.strip_prefix("blobs/") {
            let (algorithm, hex) = rest.split_once('/')?;
            return Self::parse(&format!("{algorithm}:{hex}"));
        }
        Self::parse(&format!("sha256:{}", name.strip_suffix(".json")?))
    }

    /// Where the blob is in an OCI layout: `blobs/<algorithm>/<hex>`.
    pub(super) fn blob_path(&self) -> String {
        format!("blobs/{}/{}", self.algorithm, self.hex)
    }

    /// Whether `actual` (as [`Hashing::finish`] gives it) is this digest.
    pub(super) fn matches(&self, actual: &str) -> bool {
        actual.eq_ignore_ascii_case(&self.to_string())
    }
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

enum State {
    /// Nothing to check: the blob's name carries no digest.
    None,
    Sha256(Sha256),
    Sha512(Sha512),
}

/// A reader that hashes everything read through it with the algorithm of the digest expected.
pub(super) struct Hashing<R> {
    inner: R,
    state: State,
}

impl<R: Read> Hashing<R> {
    /// Hashes `inner` for `expected`; with no digest expected, only passes the bytes on.
    pub(super) fn new(inner: R, expected: Option<&Expected>) -> Self {
        let state = match expected.map(|e| e.algorithm) {
            None => State::None,
            Some("sha512") => State::Sha512(Sha512::new()),
            Some(_) => State::Sha256(Sha256::new()),
        };
        Self { inner, state }
    }

    /// Reads the rest of the blob (at most `limit` more bytes; a longer rest is an error of kind
    /// `FileTooLarge`) and gives the digest (`<algorithm>:<hex>`) of all of it, or `None` when
    /// no digest was expected (then nothing more is read).
    pub(super) fn finish(mut self, limit: u64) -> std::io::Result<Option<String>> {
        if matches!(self.state, State::None) {
            return Ok(None);
        }
        let rest = std::io::copy(&mut (&mut self).take(limit), &mut std::io::sink())?;
        if rest == limit && self.inner.read(&mut [0u8])? > 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "the blob is larger than allowed",
            ));
        }
        Ok(match self.state {
            State::None => None,
            State::Sha256(hasher) => Some(format!("sha256:{}", hex::encode(hasher.finalize()))),
            State::Sha512(hasher) => Some(format!("sha512:{}", hex::encode(hasher.finalize()))),
        })
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        match &mut self.state {
            State::None => {}
            State::Sha256(hasher) => hasher.update(&buf[..read]),
            State::Sha512(hasher) => hasher.update(&buf[..read]),
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_stopped_early_is_hashed_to_its_end() {
        let bytes = b"hello, world".as_slice();
        let expected =
            Expected::parse(&format!("sha256:{}", hex::encode(Sha256::digest(bytes)))).unwrap();
        let mut hashing = Hashing::new(bytes, Some(&expected));
        hashing.read_exact(&mut [0u8; 3]).unwrap();
        assert!(expected.matches(&hashing.finish(64).unwrap().unwrap()));
        let hashing = Hashing::new(bytes, Some(&expected));
        let error = hashing.finish(4).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::FileTooLarge);
    }

    #[test]
    fn names_carry_digests_only_where_the_format_says() {
        let hex = "ab".repeat(32);
        assert!(Expected::from_name(&format!("blobs/sha256/{hex}")).is_some());
        assert!(Expected::from_name(&format!("{hex}.json")).is_some());
        assert!(Expected::from_name(&format!("{hex}/layer.tar")).is_none());
        assert!(Expected::from_name("config.json").is_none());
        assert!(Expected::parse("sha256:abc").is_none());
    }
}
