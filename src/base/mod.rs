//! The base image as layer zero: what the spec's `[image] base` already has installed, read
//! without a daemon, so the layers above can treat it as fixed pins.
//!
//! The image comes from an OCI registry ([`registry`], through `oci-client`, its blobs cached
//! by digest) or from a local OCI layout, OCI archive or `docker save` tar ([`mod@reference`] says
//! how a spec names each). Either way its files are read by the one streaming, whiteout-aware
//! image reader `verify` uses ([`crate::image`]), asking only for the files [`wanted`] names;
//! [`contents`] turns them into [`BaseContents`]: dpkg's installed packages ([`dpkg`]), the
//! Python interpreter's distributions, R's version and library packages, the conda prefix's
//! packages, and apt's sources and keyrings.

mod contents;
pub(crate) mod dpkg;
mod reference;
mod registry;
mod remembered;
mod wanted;

use std::path::{Path, PathBuf};

pub use contents::{
    BASE_LAYER, BaseContents, CondaRecord, PythonInstall, PythonPackage, RInstall, RPackage,
};
pub use dpkg::DpkgPackage;
pub use reference::{BaseReference, Transport};

use crate::fetch::Cache;
use crate::image::{ImageError, Limits, Select};
use crate::platform::Platform;

/// A base image read: pinned to the digest that was read, and what it has installed.
#[derive(Debug, Clone)]
pub struct BaseImage {
    /// The reference, pinned by digest.
    pub reference: BaseReference,
    /// What it has installed.
    pub contents: BaseContents,
    /// What of the image was skipped or could not be read.
    pub warnings: Vec<String>,
}

/// Where and how to read a base image.
#[derive(Debug, Clone, Copy)]
pub struct BaseOptions<'a> {
    /// The image's platform: an index is resolved to its manifest.
    pub platform: &'a Platform,
    /// The conda prefix whose `conda-meta` is read, absolute (`/opt/conda`).
    pub conda_prefix: &'a str,
    /// The folder a local image's relative path is relative to (the spec's).
    pub spec_dir: &'a Path,
    /// Where registry blobs are cached.
    pub cache: &'a Cache,
    /// Read registry images only from the cache.
    pub offline: bool,
}

/// Why a base image could not be read. Each names the image (`image`, as the spec writes it).
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)]
pub enum BaseError {
    /// Its files or blobs cannot be read, or do not match their digests.
    #[error("cannot read the base image `{image}`")]
    Image {
        image: String,
        #[source]
        source: ImageError,
    },
    /// Its registry refused or failed a request.
    #[error(
        "the registry of the base image `{image}` refused or failed a request; check the name, the tag and the network"
    )]
    Registry {
        image: String,
        #[source]
        source: Box<oci_client::errors::OciDistributionError>,
    },
    /// A blob did not download whole, or its bytes do not match its digest.
    #[error(
        "the blob `{digest}` of the base image `{image}` did not download whole, or its bytes do not match its digest; nothing of it was kept"
    )]
    Transfer {
        image: String,
        digest: String,
        #[source]
        source: std::io::Error,
    },
    /// Its name is not one the registry client reads.
    #[error("`{image}` is not an image reference a registry client can read: {message}")]
    Reference { image: String, message: String },
    /// It is named by a digest of another algorithm than sha256.
    #[error(
        "the base image `{image}` is named by a digest imglock cannot check: `{digest}` (only sha256 is read)"
    )]
    Unsupported { image: String, digest: String },
    /// `--offline`, and the cache lacks `what` (a digest, or what its tag points at).
    #[error(
        "--offline: {what} of the base image `{image}` is not in the cache; run once without --offline"
    )]
    Offline { image: String, what: String },
    /// A blob could not be kept in the cache.
    #[error("cannot keep a blob of the base image `{image}` in the cache at `{path}`")]
    Cache {
        image: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A local image holds another image than the one it is pinned to.
    #[error(
        "the base image `{image}` is pinned to {pinned}, but its file holds {found}: pin the image it holds, or restore the file"
    )]
    Pin {
        image: String,
        pinned: String,
        found: String,
    },
}

/// `reference` pinned: as it is when it has a digest; a registry image's tag resolved to the
/// digest it points at now (only the manifest is fetched); a local image read for its digest.
pub fn pin(
    reference: &BaseReference,
    options: BaseOptions<'_>,
) -> Result<BaseReference, BaseError> {
    match reference {
        _ if reference.digest().is_some() => Ok(reference.clone()),
        BaseReference::Registry { name, .. } => {
            let shown = reference.to_string();
            let digest = registry_image(name, &shown, options)?.digest()?;
            Ok(reference.pinned(&digest))
        }
        BaseReference::Local { .. } => Ok(read_base(reference, options)?.reference),
    }
}

/// The registry image `name` (`shown` as the spec writes it, digest included).
fn registry_image<'a>(
    name: &str,
    shown: &'a str,
    options: BaseOptions<'a>,
) -> Result<registry::RegistryImage<'a>, BaseError> {
    let parsed: oci_client::Reference =
        name.parse()
            .map_err(|e: oci_client::ParseError| BaseError::Reference {
                image: shown.to_string(),
                message: e.to_string(),
            })?;
    Ok(registry::RegistryImage {
        shown,
        reference: parsed,
        cache: options.cache,
        offline: options.offline,
    })
}

/// Reads the base image `reference` names: pinned to what was read, and what it has installed.
pub fn read_base(
    reference: &BaseReference,
    options: BaseOptions<'_>,
) -> Result<BaseImage, BaseError> {
    let wanted = wanted::BaseWanted {
        conda_meta: format!("{}/conda-meta", options.conda_prefix.trim_matches('/')),
    };
    let shown = reference.to_string();
    match reference {
        BaseReference::Registry { name, digest } => {
            let image = registry_image(name, &shown, options)?;
            let digest = match digest {
                Some(digest) => digest.clone(),
                None => image.digest()?,
            };
            let remembered =
                remembered::path(options.cache, &digest, options.platform, &wanted.conda_meta);
            if let Some(known) = remembered::load(&remembered) {
                return Ok(BaseImage {
                    reference: reference.pinned(&digest),
                    contents: known.contents,
                    warnings: known.warnings,
                });
            }
            let read = image.read(Some(&digest), &wanted, options.platform)?;
            let image = inventory(reference, &shown, read, &wanted)?;
            remembered::store(&remembered, &image.contents, &image.warnings);
            Ok(image)
        }
        BaseReference::Local { path, digest, .. } => {
            let select = Select {
                manifest: digest.as_deref(),
                platform: Some(options.platform),
            };
            let path = options.spec_dir.join(path);
            let read = crate::image::read_selected(&path, &wanted, Limits::default(), select)
                .map_err(|source| BaseError::Image {
                    image: shown.clone(),
                    source,
                })?;
            inventory(reference, &shown, read, &wanted)
        }
    }
}

/// What the files `read` of the image `reference` (`shown`) say is installed, the reference
/// pinned to the digest read (which must be its pin, when it has one).
fn inventory(
    reference: &BaseReference,
    shown: &str,
    read: crate::image::ImageFiles,
    wanted: &wanted::BaseWanted,
) -> Result<BaseImage, BaseError> {
    let found = read.manifest.clone().ok_or_else(|| BaseError::Image {
        image: shown.to_string(),
        source: ImageError::Format {
            path: PathBuf::from(shown),
            reason: "it names no digest: a folder of files is no image; save it as an OCI layout (`buildah push IMAGE oci:DIR`)".into(),
        },
    })?;
    if let Some(pinned) = reference.digest().filter(|pinned| *pinned != found) {
        return Err(BaseError::Pin {
            image: shown.to_string(),
            pinned: pinned.to_string(),
            found,
        });
    }
    let mut warnings = read.warnings;
    let contents = BaseContents::from_files(&read.files, wanted, &mut warnings);
    Ok(BaseImage {
        reference: reference.pinned(&found),
        contents,
        warnings,
    })
}
