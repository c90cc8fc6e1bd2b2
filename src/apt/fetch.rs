//! Fetching apt metadata as apt does: every source's `InRelease` in one parallel batch through
//! the crate's [`Fetcher`], each verified against the keyring and checked for expiry, then every
//! needed Packages index (the architecture's, and `binary-all` when the Release says apt needs
//! it) in parallel rounds: each index is asked in the first compression its Release lists
//! (`.xz`, then `.gz`, then plain), at its `by-hash` path when the Release has
//! `Acquire-By-Hash: yes` (immutable, so a mirror updating meanwhile cannot mismatch it), and
//! a round that finds nothing moves that index to its next URL. Each body is checked against
//! the Release's SHA256 and size (a mismatch fails closed, naming both), decompressed under a
//! size cap, and parsed into an [`AptIndex`].
//!
//! Only `InRelease` is read, never a `Release` with a detached `Release.gpg`: every Debian and
//! Ubuntu mirror serves `InRelease`, and a suite without one is reported as not found.

use jiff::Timestamp;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use url::Url;

use super::error::AptError;
use super::index::{AptIndex, Origin};
use super::packages::{BinaryPackage, parse_packages};
use super::release::{IndexEntry, Release};
use super::signature::Keyring;
use super::sources::AptSource;
use crate::fetch::{Body, FetchError, FetchErrors, Fetcher, Mutability, read_capped};

/// The most bytes a Packages index may have once decompressed: many times the largest real one
/// (Debian main for amd64, about 50 MB).
const MAX_PACKAGES: u64 = 1 << 30;

/// The compressions an index may be served in, in the order they are preferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    Xz,
    Gzip,
    None,
}

impl Compression {
    const PREFERRED: [Self; 3] = [Self::Xz, Self::Gzip, Self::None];

    fn suffix(self) -> &'static str {
        match self {
            Self::Xz => ".xz",
            Self::Gzip => ".gz",
            Self::None => "",
        }
    }

    /// The decompressed bytes of `body`, refused past `limit`.
    fn decode(self, body: &[u8], limit: u64) -> std::io::Result<Vec<u8>> {
        const WHAT: &str = "the decompressed Packages index";
        match self {
            Self::Xz => read_capped(lzma_rust2::XzReader::new(body, true), limit, WHAT),
            Self::Gzip => read_capped(flate2::read::MultiGzDecoder::new(body), limit, WHAT),
            Self::None => read_capped(body, limit, WHAT),
        }
    }
}

/// A suite whose Release was verified.
struct Suite<'a> {
    source: &'a AptSource,
    position: usize,
    release: Release,
    release_url: Url,
}

/// One Packages index to fetch, and the URLs it may be fetched from, in order.
struct Wanted {
    suite: usize,
    component: String,
    architecture: String,
    /// Every (URL, compression, mutability, listed checksum) to try, in order.
    attempts: Vec<(Url, Compression, Mutability, IndexEntry)>,
    next: usize,
}

/// Fetches and verifies the metadata of `sources` for `architecture`: every InRelease checked
/// against `keyring` and valid at `now` (a parameter, so a recorded Release can be checked at
/// its own `Date`), then every needed Packages index, into one index. The one keyring is used
/// for every source: turning each source's `signed-by` into keys (files of the base image, or
/// the spec's) is the caller's.
pub fn fetch_index(
    fetcher: &Fetcher,
    sources: &[AptSource],
    architecture: &str,
    keyring: &Keyring,
    now: Timestamp,
) -> Result<AptIndex, AptError> {
    let keyrings = vec![keyring; sources.len()];
    fetch_signed_index(fetcher, sources, architecture, &keyrings, now)
}

/// [`fetch_index`], each source's Release checked against its own keyring (`keyrings[i]` for
/// `sources[i]`), as apt checks a source that names its keys with `signed-by` against those
/// alone.
pub fn fetch_signed_index(
    fetcher: &Fetcher,
    sources: &[AptSource],
    architecture: &str,
    keyrings: &[&Keyring],
    now: Timestamp,
) -> Result<AptIndex, AptError> {
    let suites = fetch_releases(fetcher, sources, keyrings, now)?;
    let mut wanted = Vec::new();
    for (index, suite) in suites.iter().enumerate() {
        wanted.extend(wanted_indexes(index, suite, architecture)?);
    }
    let fetched = fetch_indexes(fetcher, &mut wanted)?;
    let limit = fetcher.index_limit(MAX_PACKAGES);
    let parsed: Vec<Vec<BinaryPackage>> = fetched
        .into_par_iter()
        .map(|(want, url, body)| {
            let (_, compression, _, entry) = &wanted[want].attempts[wanted[want].next];
            let (compression, entry) = (*compression, entry.clone());
            fetcher.parse_or_refetch(&url, body, None, |body| {
                read_index(&body, &url, compression, &entry, limit)
            })
        })
        .collect::<Result<_, _>>()?;
    let mut index = AptIndex::default();
    for (want, packages) in wanted.iter().zip(parsed) {
        let suite = &suites[want.suite];
        let origin = Origin {
            uri: suite.source.uri.clone(),
            suite: suite.source.suite.clone(),
            component: want.component.clone(),
            architecture: want.architecture.clone(),
            source: suite.position,
        };
        index.add(origin, packages);
    }
    Ok(index)
}

/// Fetches every source's InRelease in one batch, and verifies each.
fn fetch_releases<'a>(
    fetcher: &Fetcher,
    sources: &'a [AptSource],
    keyrings: &[&Keyring],
    now: Timestamp,
) -> Result<Vec<Suite<'a>>, AptError> {
    let urls: Vec<Url> = sources.iter().map(|s| s.suite_file("InRelease")).collect();
    let bodies = fetcher.get_all(&urls, "Fetching apt Release files");
    let mut errors = Vec::new();
    let mut fetched = Vec::new();
    for ((position, source), (url, body)) in
        sources.iter().enumerate().zip(urls.into_iter().zip(bodies))
    {
        match body {
            Ok(body) => fetched.push((position, source, url, body)),
            Err(error) => errors.push(error),
        }
    }
    if !errors.is_empty() {
        return Err(FetchErrors {
            what: "apt Release file(s)",
            errors,
        }
        .into());
    }
    fetched
        .into_iter()
        .map(|(position, source, url, body)| {
            let release = fetcher.parse_or_refetch(&url, body, None, |body| {
                let now = source.check_valid_until.then_some(now);
                read_release(&body, url.as_str(), keyrings[position], now)
            })?;
            Ok(Suite {
                source,
                position,
                release,
                release_url: url,
            })
        })
        .collect()
}

/// Verifies and parses an InRelease body fetched from `url`, and checks that it is valid at
/// `now` (when given: its source may turn the check off).
fn read_release(
    body: &[u8],
    url: &str,
    keyring: &Keyring,
    now: Option<Timestamp>,
) -> Result<Release, AptError> {
    let text = std::str::from_utf8(body).map_err(|_| AptError::NotText {
        url: url.to_string(),
    })?;
    let signed = keyring.verify_clearsigned(text, url)?;
    let release = Release::parse(&signed, url)?;
    if let Some(now) = now {
        release.check_valid_at(now, url)?;
    }
    Ok(release)
}

/// The Packages indexes of `suite` (number `index`) that apt would fetch for `architecture`.
fn wanted_indexes(
    index: usize,
    suite: &Suite<'_>,
    architecture: &str,
) -> Result<Vec<Wanted>, AptError> {
    let source = suite.source;
    if !source.architectures.is_empty() && !source.architectures.iter().any(|a| a == architecture) {
        return Ok(Vec::new());
    }
    let mut architectures = vec![architecture];
    if suite.release.fetches_binary_all() {
        architectures.push("all");
    }
    let mut wanted = Vec::new();
    for component in &source.components {
        for arch in &architectures {
            let directory = format!("{component}/binary-{arch}");
            let mut attempts = Vec::new();
            for compression in Compression::PREFERRED {
                let path = format!("{directory}/Packages{}", compression.suffix());
                let Some(entry) = suite.release.sha256.get(&path) else {
                    continue;
                };
                if suite.release.by_hash {
                    let by_hash = format!("{directory}/by-hash/SHA256/{}", entry.sha256);
                    attempts.push((
                        source.suite_file(&by_hash),
                        compression,
                        Mutability::Immutable,
                        entry.clone(),
                    ));
                }
                attempts.push((
                    source.suite_file(&path),
                    compression,
                    Mutability::Mutable,
                    entry.clone(),
                ));
            }
            if attempts.is_empty() {
                if *arch == "all" {
                    // A suite may serve `all` without a binary-all index for a component.
                    continue;
                }
                return Err(AptError::NotInRelease {
                    release: suite.release_url.to_string(),
                    path: format!("{directory}/Packages"),
                });
            }
            wanted.push(Wanted {
                suite: index,
                component: component.clone(),
                architecture: (*arch).to_string(),
                attempts,
                next: 0,
            });
        }
    }
    Ok(wanted)
}

/// Fetches every wanted index in parallel rounds, each moving to its next URL when not found;
/// returns (wanted position, URL, body) for each, in `wanted` order.
fn fetch_indexes(
    fetcher: &Fetcher,
    wanted: &mut [Wanted],
) -> Result<Vec<(usize, Url, Body)>, AptError> {
    let mut pending: Vec<usize> = (0..wanted.len()).collect();
    let mut found = Vec::new();
    let mut errors: Vec<FetchError> = Vec::new();
    while !pending.is_empty() {
        let requests: Vec<(Url, Mutability)> = pending
            .iter()
            .map(|&w| {
                let (url, _, mutability, _) = &wanted[w].attempts[wanted[w].next];
                (url.clone(), *mutability)
            })
            .collect();
        let bodies = fetcher.get_each(&requests, "Fetching apt Packages indexes");
        let mut still = Vec::new();
        for ((w, (url, _)), body) in pending.into_iter().zip(requests).zip(bodies) {
            match body {
                Ok(body) => found.push((w, url, body)),
                Err(error)
                    if error.is_not_found() && wanted[w].next + 1 < wanted[w].attempts.len() =>
                {
                    wanted[w].next += 1;
                    still.push(w);
                }
                Err(error) => errors.push(error),
            }
        }
        pending = still;
    }
    if !errors.is_empty() {
        return Err(FetchErrors {
            what: "apt Packages index(es)",
            errors,
        }
        .into());
    }
    found.sort_by_key(|(w, _, _)| *w);
    Ok(found)
}

/// Checks an index body against its Release entry, decompresses and parses it.
fn read_index(
    body: &[u8],
    url: &Url,
    compression: Compression,
    entry: &IndexEntry,
    limit: u64,
) -> Result<Vec<BinaryPackage>, AptError> {
    let actual_sha256 = hex::encode(Sha256::digest(body));
    if actual_sha256 != entry.sha256 || body.len() as u64 != entry.size {
        return Err(AptError::Checksum {
            url: url.to_string(),
            expected_sha256: entry.sha256.clone(),
            expected_size: entry.size,
            actual_sha256,
            actual_size: body.len() as u64,
        });
    }
    let text = compression
        .decode(body, limit)
        .map_err(|source| AptError::Decompress {
            url: url.to_string(),
            source,
        })?;
    let text = std::str::from_utf8(&text).map_err(|_| AptError::NotText {
        url: url.to_string(),
    })?;
    parse_packages(text, url.as_str())
}
