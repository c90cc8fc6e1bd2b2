//! Artifacts: what is downloaded and pinned by sha256. A download streams into a temporary file
//! of the cache's blob folder while its sha256 (and the repository's published checksum) is
//! computed, so an artifact is never held in memory whole and one larger than the artifact limit
//! is refused as it streams; it becomes a blob (renamed to its sha256) only once verified. A
//! cached blob or a `file://` artifact is verified by streaming it through the same hashes.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::pin::pin;

use futures::future::{self, Either};
use md5::Md5;
use sha2::{Digest, Sha256};
use url::Url;

use super::{BodyLimit, FetchError, Fetcher, PublishedChecksums, Response, Sink, size};

/// A checksum published by a repository for an artifact, verified after download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Checksum {
    Md5(String),
    /// Maven repositories publish `.sha1` files, newer artifacts `.sha256` and `.sha512` too.
    Sha1(String),
    Sha256(String),
    Sha512(String),
}

/// An artifact to download and pin.
#[derive(Debug, Clone)]
pub(crate) struct ArtifactRequest {
    pub url: Url,
    pub expected: Option<Checksum>,
    /// Checksum files the repository publishes beside it, fetched alongside it (when
    /// `expected` is `None`): the download is checked against the strongest one found.
    pub published: Option<PublishedChecksums>,
}

/// A downloaded, verified artifact.
#[derive(Debug, Clone)]
pub(crate) struct Artifact {
    pub sha256: String,
    pub size: u64,
    /// Where its bytes are: the cache blob, or the file itself for `file://`.
    pub path: PathBuf,
}

/// The published checksum's algorithm, computed alongside the sha256.
enum Published {
    Md5(Md5),
    Sha1(sha1::Sha1),
    /// The sha256 itself.
    Sha256,
    Sha512(sha2::Sha512),
}

/// The sha256 and size of bytes as they stream past, and the published checksum to check them
/// against.
pub(super) struct Hashes {
    sha256: Sha256,
    size: u64,
    published: Option<(Published, &'static str, String)>,
    /// Every other algorithm, while the checksum to check against is still being fetched.
    pending: Option<(Md5, sha1::Sha1, sha2::Sha512)>,
}

impl Hashes {
    fn new(expected: Option<&Checksum>) -> Self {
        let published = expected.map(|checksum| match checksum {
            Checksum::Md5(hex) => (Published::Md5(Md5::new()), "MD5", hex.clone()),
            Checksum::Sha1(hex) => (Published::Sha1(sha1::Sha1::new()), "sha1", hex.clone()),
            Checksum::Sha256(hex) => (Published::Sha256, "sha256", hex.clone()),
            Checksum::Sha512(hex) => (
                Published::Sha512(sha2::Sha512::new()),
                "sha512",
                hex.clone(),
            ),
        });
        Self {
            sha256: Sha256::new(),
            size: 0,
            published,
            pending: None,
        }
    }

    /// Hashes computing every algorithm a checksum fetched meanwhile may use; see
    /// [`Hashes::expecting`].
    fn pending() -> Self {
        Self {
            pending: Some((Md5::new(), sha1::Sha1::new(), sha2::Sha512::new())),
            ..Self::new(None)
        }
    }

    /// These hashes, to be checked against `expected` once fetched.
    fn expecting(mut self, expected: Option<&Checksum>) -> Self {
        let Some((md5, sha1, sha512)) = self.pending.take() else {
            return self;
        };
        self.published = expected.map(|checksum| match checksum {
            Checksum::Md5(hex) => (Published::Md5(md5), "MD5", hex.clone()),
            Checksum::Sha1(hex) => (Published::Sha1(sha1), "sha1", hex.clone()),
            Checksum::Sha256(hex) => (Published::Sha256, "sha256", hex.clone()),
            Checksum::Sha512(hex) => (Published::Sha512(sha512), "sha512", hex.clone()),
        });
        self
    }

    fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        self.size += bytes.len() as u64;
        match &mut self.published {
            Some((Published::Md5(hasher), ..)) => hasher.update(bytes),
            Some((Published::Sha1(hasher), ..)) => hasher.update(bytes),
            Some((Published::Sha512(hasher), ..)) => hasher.update(bytes),
            Some((Published::Sha256, ..)) | None => {}
        }
        if let Some((md5, sha1, sha512)) = &mut self.pending {
            md5.update(bytes);
            sha1.update(bytes);
            sha512.update(bytes);
        }
    }

    /// The sha256 and size, once the published checksum (if any) agrees; `url` names the
    /// artifact in the error.
    fn finish(self, url: &str) -> Result<(String, u64), FetchError> {
        let sha256 = hex::encode(self.sha256.finalize());
        let Some((published, algorithm, expected)) = self.published else {
            return Ok((sha256, self.size));
        };
        let actual = match published {
            Published::Md5(hasher) => hex::encode(hasher.finalize()),
            Published::Sha1(hasher) => hex::encode(hasher.finalize()),
            Published::Sha256 => sha256.clone(),
            Published::Sha512(hasher) => hex::encode(hasher.finalize()),
        };
        if expected.eq_ignore_ascii_case(&actual) {
            Ok((sha256, self.size))
        } else {
            Err(FetchError::ChecksumMismatch {
                url: url.to_string(),
                algorithm,
                expected,
                actual,
            })
        }
    }

    /// The hashes of a whole file, streamed.
    fn of_file(path: &Path, expected: Option<&Checksum>) -> std::io::Result<Self> {
        let mut hashes = Self::new(expected);
        let mut file = std::fs::File::open(path)?;
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            match file.read(&mut buffer)? {
                0 => return Ok(hashes),
                n => hashes.update(&buffer[..n]),
            }
        }
    }
}

/// A download on its way into the cache: a temporary file beside the blobs, and its hashes.
pub(super) struct BlobWriter {
    file: std::io::BufWriter<tempfile::NamedTempFile>,
    hashes: Hashes,
}

impl Sink for BlobWriter {
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.hashes.update(chunk);
        self.file.write_all(chunk)
    }
}

impl Fetcher {
    /// Downloads (or finds in the cache, or reads in place for `file://`) one artifact and
    /// verifies it: against its expected checksum, or the one its repository publishes beside
    /// it, fetched at the same time as a download.
    pub(super) async fn download(&self, request: &ArtifactRequest) -> Result<Artifact, FetchError> {
        if let Some(outcome) = self.take_early(&request.url) {
            return outcome;
        }
        let url = &request.url;
        let Some(published) = request
            .published
            .as_ref()
            .filter(|_| request.expected.is_none())
        else {
            return self
                .download_expecting(url, request.expected.as_ref())
                .await;
        };
        let cached = self.cache.artifact_for_url(url.as_str()).is_some();
        // An artifact known to be missing needs none of its checksum files.
        if !cached && let Some(absent) = self.cached_absence(url) {
            return Err(absent);
        }
        if url.scheme() != "file" && !self.offline && !cached {
            return self.download_beside_checksum(url, published).await;
        }
        let checksum = self.published_checksum(url, published).await?;
        self.download_expecting(url, checksum.as_ref()).await
    }

    /// Downloads `request` now, for someone to ask for later: its outcome, success or failure,
    /// is then theirs, with no second request.
    pub(super) async fn download_early(&self, request: ArtifactRequest) {
        let limit = self.early_limit(&request.url);
        let _permit = limit.acquire().await.ok();
        let outcome = self.download(&request).await;
        self.lock_early().insert(request.url, outcome);
    }

    /// The outcome of the download of `url` started early, if one was.
    fn take_early(&self, url: &Url) -> Option<Result<Artifact, FetchError>> {
        self.lock_early().remove(url)
    }

    fn lock_early(&self) -> std::sync::MutexGuard<'_, HashMap<Url, Result<Artifact, FetchError>>> {
        self.early
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Downloads the artifact at `url` while its published checksum is fetched, and verifies it
    /// against that checksum once both are in.
    async fn download_beside_checksum(
        &self,
        url: &Url,
        published: &PublishedChecksums,
    ) -> Result<Artifact, FetchError> {
        let limit = BodyLimit {
            bytes: self.limits.artifact_bytes,
            kind: size::Limit::Artifact,
        };
        let body = async {
            let new_writer = || self.blob_writer(Hashes::pending());
            let response = self.send(url, limit, |r| r, new_writer).await;
            match self.noting_absence(url, response)? {
                Response::Body { body, .. } => Ok(body),
                Response::NotModified => Err(FetchError::Status {
                    url: url.to_string(),
                    status: 304,
                }),
            }
        };
        // The artifact's own failure ends the download at once: the checksum files are not
        // waited for (a missing artifact's may take a second round, asking for the other
        // kinds). Its error is the one reported, whichever ends first.
        let checksum = self.published_checksum(url, published);
        let (mut writer, checksum) = match future::select(pin!(body), pin!(checksum)).await {
            Either::Left((body, checksum)) => {
                let writer = body?;
                (writer, checksum.await?)
            }
            Either::Right((checksum, body)) => (body.await?, checksum?),
        };
        writer.hashes = writer.hashes.expecting(checksum.as_ref());
        self.keep(writer, url.as_str())
    }

    /// Downloads (or finds in the cache, or reads in place for `file://`) the artifact at
    /// `request` and verifies it against `expected`.
    async fn download_expecting(
        &self,
        request: &Url,
        expected: Option<&Checksum>,
    ) -> Result<Artifact, FetchError> {
        let url = request.as_str();
        if request.scheme() == "file" {
            let path = super::local::local_path(request)?;
            let hashes = Hashes::of_file(&path, expected).map_err(|source| FetchError::File {
                path: path.display().to_string(),
                source,
            })?;
            let (sha256, size) = hashes.finish(url)?;
            return Ok(Artifact { sha256, size, path });
        }
        let cached = self.cache.artifact_for_url(url);
        if let Some((sha256, path)) = &cached {
            // A blob whose bytes no longer hash to its name is damaged, and one the index's
            // checksum no longer matches was re-published: either way, fetch it again.
            let checked = Hashes::of_file(path, expected).ok().map(|h| h.finish(url));
            if let Some(Ok((actual, size))) = checked
                && &actual == sha256
            {
                let (sha256, path) = (sha256.clone(), path.clone());
                return Ok(Artifact { sha256, size, path });
            }
        }
        if let Some(absent) = self.cached_absence(request) {
            return Err(absent);
        }
        if self.offline {
            return Err(self.offline_error(url, cached.is_some()));
        }
        let limit = BodyLimit {
            bytes: self.limits.artifact_bytes,
            kind: size::Limit::Artifact,
        };
        let new_writer = || self.blob_writer(Hashes::new(expected));
        let response = self.send(request, limit, |r| r, new_writer).await;
        let Response::Body { body, .. } = self.noting_absence(request, response)? else {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: 304,
            });
        };
        self.keep(body, url)
    }

    /// Forgets the artifact `url` downloaded, when what it holds turned out unusable (a tarball
    /// without its DESCRIPTION, a bomb): the next run downloads it again instead of failing on
    /// the cached copy. A cache that cannot be written to only costs that.
    pub(crate) fn forget_artifact(&self, url: &Url) {
        let _ = self.cache.forget_artifact(url.as_str());
    }

    /// A writer into a new temporary file of the blob folder, computing `hashes`.
    fn blob_writer(&self, hashes: Hashes) -> std::io::Result<BlobWriter> {
        let file = crate::files::temporary_for(&self.cache.blob_path("download"))?;
        Ok(BlobWriter {
            file: std::io::BufWriter::new(file),
            hashes,
        })
    }

    /// Verifies a finished download and makes it the blob of its sha256, remembered as what
    /// `url` serves.
    fn keep(&self, writer: BlobWriter, url: &str) -> Result<Artifact, FetchError> {
        let BlobWriter { file, hashes } = writer;
        let (sha256, size) = hashes.finish(url)?;
        let file = file
            .into_inner()
            .map_err(|error| self.cache_error(error.into_error()))?;
        let path = self.cache.blob_path(&sha256);
        file.persist(&path)
            .map_err(|error| self.cache_error(error.error))?;
        self.cache
            .remember_artifact(url, &sha256)
            .map_err(|source| self.cache_error(source))?;
        Ok(Artifact { sha256, size, path })
    }
}
