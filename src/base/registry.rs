//! A base image in an OCI registry, read over the distribution API with `oci-client`: anonymous
//! access, with the bearer token a registry's challenge asks for. A tag is resolved to the
//! digest of what it points at (an index for a multi-platform image); then every manifest and
//! blob the image reader asks for is fetched by digest into the cache's content-addressed store
//! (`artifacts/sha256/<hex>`), verified before it is kept, and read from there — so a pinned
//! image already read needs no network (`--offline` reads only the cache).
//!
//! Plain HTTP is used only for a registry on the loopback interface (`localhost`, `127.0.0.1`,
//! `[::1]`, any port), as Docker allows by default; every other registry is HTTPS.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use futures::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use sha2::{Digest, Sha256};

use super::BaseError;
use crate::fetch::Cache;
use crate::image::{Blobs, ImageError, ImageFiles, Limits, Wanted};
use crate::platform::Platform;

/// The manifests a registry is asked for.
const MANIFEST_TYPES: [&str; 4] = [
    oci_client::manifest::OCI_IMAGE_INDEX_MEDIA_TYPE,
    oci_client::manifest::OCI_IMAGE_MEDIA_TYPE,
    oci_client::manifest::IMAGE_MANIFEST_LIST_MEDIA_TYPE,
    oci_client::manifest::IMAGE_MANIFEST_MEDIA_TYPE,
];

/// A registry image being read.
pub(super) struct RegistryImage<'a> {
    /// As the spec names it, for messages.
    pub shown: &'a str,
    pub reference: Reference,
    pub cache: &'a Cache,
    pub offline: bool,
}

impl RegistryImage<'_> {
    /// The files `wanted` selects from the image `digest` (when pinned) or the reference's tag
    /// points at, for `platform`.
    pub(super) fn read(
        &self,
        digest: Option<&str>,
        wanted: &dyn Wanted,
        platform: &Platform,
    ) -> Result<ImageFiles, BaseError> {
        let blobs = self.blobs()?;
        let digest = match digest {
            Some(digest) => digest.to_string(),
            None => blobs.resolve_tag()?,
        };
        let label = PathBuf::from(format!("docker://{}", self.shown));
        crate::image::read_blobs(
            &blobs,
            &label,
            &digest,
            wanted,
            Limits::default(),
            Some(platform),
        )
        .map_err(|source| BaseError::Image {
            image: self.shown.to_string(),
            source,
        })
    }

    /// The digest the reference's tag points at now (only its manifest is fetched).
    pub(super) fn digest(&self) -> Result<String, BaseError> {
        self.blobs()?.resolve_tag()
    }

    /// A client for the image's registry, on a runtime of its own.
    fn blobs(&self) -> Result<RegistryBlobs<'_>, BaseError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| self.cache_error(Path::new("the async runtime"), source))?;
        let client = Client::new(ClientConfig {
            protocol: protocol_for(&self.reference),
            platform_resolver: None,
            ..ClientConfig::default()
        });
        Ok(RegistryBlobs {
            image: self,
            client,
            runtime,
        })
    }

    fn cache_error(&self, path: &Path, source: std::io::Error) -> BaseError {
        BaseError::Cache {
            image: self.shown.to_string(),
            path: path.to_path_buf(),
            source,
        }
    }
}

/// HTTP for a loopback registry, HTTPS for any other.
fn protocol_for(reference: &Reference) -> ClientProtocol {
    let registry = reference.resolve_registry().to_string();
    let host = match registry.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => registry.as_str(),
    };
    if matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        ClientProtocol::HttpsExcept(vec![registry])
    } else {
        ClientProtocol::Https
    }
}

/// The blobs of a registry image, fetched into the cache when first asked for.
struct RegistryBlobs<'a> {
    image: &'a RegistryImage<'a>,
    client: Client,
    runtime: tokio::runtime::Runtime,
}

impl RegistryBlobs<'_> {
    /// The digest of what the reference's tag points at; its manifest is kept in the cache.
    fn resolve_tag(&self) -> Result<String, BaseError> {
        if self.image.offline {
            return Err(BaseError::Offline {
                image: self.image.shown.to_string(),
                what: "its tag".into(),
            });
        }
        let (bytes, digest) = self
            .runtime
            .block_on(self.client.pull_manifest_raw(
                &self.image.reference,
                &RegistryAuth::Anonymous,
                &MANIFEST_TYPES,
            ))
            .map_err(|source| self.registry_error(source))?;
        let hex = sha256_hex(&digest).ok_or_else(|| BaseError::Unsupported {
            image: self.image.shown.to_string(),
            digest: digest.clone(),
        })?;
        self.keep(hex, &mut bytes.as_ref())?;
        Ok(digest)
    }

    /// Fetches the blob (a manifest when `manifest`) of `hex` into the cache, unless it is there.
    fn fetch(&self, hex: &str, manifest: bool) -> Result<(), BaseError> {
        if self.image.cache.blob_path(hex).is_file() {
            return Ok(());
        }
        if self.image.offline {
            return Err(BaseError::Offline {
                image: self.image.shown.to_string(),
                what: format!("sha256:{hex}"),
            });
        }
        let digest = format!("sha256:{hex}");
        let reference = self.image.reference.clone_with_digest(digest.clone());
        self.runtime.block_on(async {
            if manifest {
                let (bytes, _) = self
                    .client
                    .pull_manifest_raw(&reference, &RegistryAuth::Anonymous, &MANIFEST_TYPES)
                    .await
                    .map_err(|source| self.registry_error(source))?;
                return self.keep(hex, &mut bytes.as_ref());
            }
            self.client
                .store_auth_if_needed(reference.resolve_registry(), &RegistryAuth::Anonymous)
                .await;
            let mut stream = self
                .client
                .pull_blob_stream(&reference, digest.as_str())
                .await
                .map_err(|source| self.registry_error(source))?
                .stream;
            let path = self.image.cache.blob_path(hex);
            let mut spool = Spool::new(&path).map_err(|e| self.image.cache_error(&path, e))?;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|source| BaseError::Transfer {
                    image: self.image.shown.to_string(),
                    digest: digest.clone(),
                    source,
                })?;
                spool
                    .write(&chunk)
                    .map_err(|e| self.image.cache_error(&path, e))?;
            }
            spool
                .finish(hex)
                .map_err(|actual| self.digest_error(hex, actual))?
                .map_err(|e| self.image.cache_error(&path, e))
        })
    }

    /// Keeps `bytes`, whose sha256 must be `hex`, as the cache's blob of it.
    fn keep(&self, hex: &str, bytes: &mut dyn Read) -> Result<(), BaseError> {
        let path = self.image.cache.blob_path(hex);
        let mut spool = Spool::new(&path).map_err(|e| self.image.cache_error(&path, e))?;
        let mut buffer = Vec::new();
        bytes
            .read_to_end(&mut buffer)
            .map_err(|e| self.image.cache_error(&path, e))?;
        spool
            .write(&buffer)
            .map_err(|e| self.image.cache_error(&path, e))?;
        spool
            .finish(hex)
            .map_err(|actual| self.digest_error(hex, actual))?
            .map_err(|e| self.image.cache_error(&path, e))
    }

    fn registry_error(&self, source: oci_client::errors::OciDistributionError) -> BaseError {
        BaseError::Registry {
            image: self.image.shown.to_string(),
            source: Box::new(source),
        }
    }

    fn digest_error(&self, hex: &str, actual: String) -> BaseError {
        BaseError::Image {
            image: self.image.shown.to_string(),
            source: ImageError::Digest {
                path: PathBuf::from(format!("docker://{}", self.image.shown)),
                blob: format!("blobs/sha256/{hex}"),
                expected: format!("sha256:{hex}"),
                actual: format!("sha256:{actual}"),
            },
        }
    }
}

impl Blobs for RegistryBlobs<'_> {
    fn open(&self, name: &str) -> std::io::Result<Box<dyn Read + '_>> {
        self.open_blob(name, false)
    }

    fn open_manifest(&self, name: &str) -> std::io::Result<Box<dyn Read + '_>> {
        self.open_blob(name, true)
    }
}

impl RegistryBlobs<'_> {
    /// The cached file of the blob `name` (`blobs/sha256/<hex>`), fetched first if need be.
    fn open_blob(&self, name: &str, manifest: bool) -> std::io::Result<Box<dyn Read + '_>> {
        let hex = name
            .strip_prefix("blobs/sha256/")
            .filter(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("`{name}` is not a sha256 blob"),
                )
            })?;
        self.fetch(hex, manifest)
            .map_err(|error| std::io::Error::other(crate::causes::chain(&error)))?;
        Ok(Box::new(std::fs::File::open(
            self.image.cache.blob_path(hex),
        )?))
    }
}

/// The hex of a `sha256:` digest.
fn sha256_hex(digest: &str) -> Option<&str> {
    digest.strip_prefix("sha256:").filter(|hex| hex.len() == 64)
}

/// A blob streaming into a temporary file beside its cache path, hashed as it goes, renamed to
/// its path only once its digest is checked.
struct Spool {
    file: tempfile::NamedTempFile,
    path: PathBuf,
    hasher: Sha256,
}

impl Spool {
    fn new(path: &Path) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        Ok(Self {
            file: crate::files::temporary_for(path)?,
            path: path.to_path_buf(),
            hasher: Sha256::new(),
        })
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hasher.update(bytes);
        self.file.write_all(bytes)
    }

    /// Keeps the blob if its sha256 is `hex`; else the digest it has (and nothing is kept).
    fn finish(self, hex: &str) -> Result<std::io::Result<()>, String> {
        let actual = hex::encode(self.hasher.finalize());
        if !actual.eq_ignore_ascii_case(hex) {
            return Err(actual);
        }
        Ok(self
            .file
            .persist(&self.path)
            .map(|_| ())
            .map_err(|e| e.error))
    }
}
