//! Reads chosen files out of a container image, without a daemon and without extracting
//! anything: what `verify` compares with the lock, and what `base` takes from the base image.
//!
//! An image is a root filesystem folder, a `docker save` tar (the legacy layout with
//! `manifest.json` + `<id>/layer.tar`, or the current OCI-in-tar layout), an OCI archive tar or an
//! OCI image layout folder (`oci-layout`, `index.json`, `blobs/sha256/`). Layers (gzip, zstd or
//! plain tar) are streamed in order and whiteouts (`.wh.<name>`, `.wh..wh..opq`) applied to an
//! in-memory map of only the wanted files; a later layer's file replaces an earlier one's.
//!
//! An image's blobs can also come from elsewhere ([`Blobs`]: `base` reads a registry's through
//! the cache) and start at a manifest named by digest; an index is resolved to the platform
//! [`Select`] names.
//!
//! An inventory says per wanted path what it needs ([`Want`]): the bytes of a small text file
//! (capped by [`Limits::max_file_bytes`]), or a digest — sha256 and size computed while the
//! file streams past, so memory stays flat however large the file is (jars reach hundreds of
//! MB). A digest can also carry one member of the file read as a zip (a stranger jar's
//! `pom.properties`): a zip's directory is at its end, so a file from a layer is then copied to
//! an unnamed temporary file while it is hashed, read there and deleted at once; a root
//! filesystem file is read in place. Only files the inventory cannot identify by path ask for
//! that (for Maven, jars the lock does not name), so a correct image spools nothing.
//!
//! Hostile entries — `..` or absolute paths, links that point outside or nowhere, absurd sizes of
//! text files, decompression bombs (a layer that decompresses beyond
//! [`Limits::max_layer_bytes`]) — are skipped with a warning or refused; nothing of the image is
//! ever extracted.
//!
//! Every manifest, configuration and layer named by a digest (in an OCI layout, the descriptors;
//! in a `docker save` tar, the names that carry one) is hashed as it streams, to its end, and an
//! image whose bytes do not match their digests is an error ([`ImageError::Digest`]).

mod blobs;
mod content;
mod digest;
mod layer;
mod oci;
mod rootfs;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(crate) use blobs::Blobs;
use blobs::{DirBlobs, TarFile};
pub use content::{Content, Digested, Want};
use digest::Expected;

/// Files of the image that verification asked for, by path (relative, `/`-separated).
pub type Files = BTreeMap<String, Content>;

/// The largest manifest, index or configuration read (real ones are kilobytes).
const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// Bounds that protect the reader from hostile images.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest text file ([`Want::Bytes`]) read into memory, and the largest zip member.
    pub max_file_bytes: u64,
    /// The most bytes one layer may decompress to.
    pub max_layer_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // conda-meta records list every file of their package: pytorch's run to megabytes.
            max_file_bytes: 64 << 20,
            max_layer_bytes: 64 << 30,
        }
    }
}

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot read the image `{path}`")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not an image imglock can read: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error(
        "the blob `{blob}` of `{path}` does not match its digest: it should be {expected} but is {actual}; the image is damaged or was altered: export or pull it again"
    )]
    /// A manifest, configuration or layer whose bytes do not have the digest it is named by.
    Digest {
        /// The image.
        path: PathBuf,
        /// The blob, as the image names it (`blobs/sha256/<hex>`).
        blob: String,
        /// The digest the image names it by (`sha256:<hex>`).
        expected: String,
        /// The digest of its bytes.
        actual: String,
    },
    #[error(
        "a layer of `{path}` decompresses to more than {limit} bytes; refusing it as a likely decompression bomb"
    )]
    Bomb { path: PathBuf, limit: u64 },
}

/// What was read, and what was skipped on the way.
#[derive(Debug, Default)]
pub struct ImageFiles {
    pub files: Files,
    pub warnings: Vec<String>,
    /// The digest of the manifest (or index) read, as the image names it: an OCI layout's, or a
    /// `docker save` tar's configuration digest (its image ID); `None` for a root filesystem.
    pub manifest: Option<String>,
}

/// Which image of a layout or registry to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Select<'a> {
    /// The manifest (or index) to start at, by digest; else `index.json`'s choice.
    pub manifest: Option<&'a str>,
    /// The platform whose manifest an index gives; `None` takes an index's first.
    pub platform: Option<&'a crate::platform::Platform>,
}

/// Which files of an image verification needs (each ecosystem's inventory says).
pub trait Wanted {
    /// Whether the file at `path` is needed, and how.
    fn file(&self, path: &str) -> Option<Want>;
    /// Whether the folder at `path` may hold needed files (to prune a folder walk).
    fn folder(&self, path: &str) -> bool;
    /// Whether a symbolic link at `path`, a file or folder it wants, is expected, so it is not
    /// warned of: looked past by the inventory itself (merged /usr's `bin` → `usr/bin`), or
    /// where its check reports what matters without following it.
    fn link_expected(&self, path: &str) -> bool {
        let _ = path;
        false
    }
}

/// Files any of several inventories want.
pub struct AnyOf<'a>(pub &'a [&'a dyn Wanted]);

impl Wanted for AnyOf<'_> {
    fn file(&self, path: &str) -> Option<Want> {
        self.0.iter().find_map(|wanted| wanted.file(path))
    }

    fn folder(&self, path: &str) -> bool {
        self.0.iter().any(|wanted| wanted.folder(path))
    }

    /// Expected by every inventory that wants the path: one that wants it and does not expect a
    /// link there is told of it.
    fn link_expected(&self, path: &str) -> bool {
        self.0.iter().all(|wanted| {
            wanted.link_expected(path) || (wanted.file(path).is_none() && !wanted.folder(path))
        })
    }
}

/// The files of `files` that `wanted` selects and that were read whole, with their bytes.
pub fn texts<'a>(
    files: &'a Files,
    wanted: &'a dyn Wanted,
) -> impl Iterator<Item = (&'a String, &'a [u8])> + 'a {
    files
        .iter()
        .filter(|(path, _)| wanted.file(path).is_some())
        .filter_map(|(path, content)| Some((path, content.bytes()?)))
}

/// Reads the files `wanted` selects from the image at `path`.
pub fn read_image(
    path: &Path,
    wanted: &dyn Wanted,
    limits: Limits,
) -> Result<ImageFiles, ImageError> {
    read_selected(path, wanted, limits, Select::default())
}

/// Reads the files `wanted` selects from the image `blobs` hold, starting at the manifest (or
/// index) `digest`; `label` names the image in errors.
pub(crate) fn read_blobs(
    blobs: &dyn Blobs,
    label: &Path,
    digest: &str,
    wanted: &dyn Wanted,
    limits: Limits,
    platform: Option<&crate::platform::Platform>,
) -> Result<ImageFiles, ImageError> {
    let mut reader = Reader {
        path: label,
        wanted,
        limits,
        select: Select {
            manifest: Some(digest),
            platform,
        },
        out: ImageFiles::default(),
    };
    reader.read_manifest(blobs, oci::Descriptor::of_digest(digest))?;
    Ok(reader.out)
}

/// Reads the files `wanted` selects from the image at `path`, the one `select` names.
pub fn read_selected(
    path: &Path,
    wanted: &dyn Wanted,
    limits: Limits,
    select: Select<'_>,
) -> Result<ImageFiles, ImageError> {
    let io = |source| ImageError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = Reader {
        path,
        wanted,
        limits,
        select,
        out: ImageFiles::default(),
    };
    let metadata = std::fs::metadata(path).map_err(io)?;
    if metadata.is_dir() {
        if path.join("oci-layout").is_file() {
            let blobs = DirBlobs(path.to_path_buf());
            reader.read_oci(&blobs)?;
        } else {
            reader.read_rootfs()?;
        }
    } else {
        let archive = TarFile::index(path).map_err(io)?;
        if archive.has("manifest.json") {
            reader.read_docker_archive(&archive)?;
        } else if archive.has("index.json") {
            reader.read_oci(&archive)?;
        } else {
            return Err(ImageError::Format {
                path: path.to_path_buf(),
                reason: "a tar without `manifest.json` (docker save) or `index.json` (OCI archive)"
                    .into(),
            });
        }
    }
    Ok(reader.out)
}

struct Reader<'a> {
    path: &'a Path,
    wanted: &'a dyn Wanted,
    limits: Limits,
    select: Select<'a>,
    out: ImageFiles,
}

impl Reader<'_> {
    fn format(&self, reason: impl Into<String>) -> ImageError {
        ImageError::Format {
            path: self.path.to_path_buf(),
            reason: reason.into(),
        }
    }

    /// An error if the blob `name`, whose digest is `actual`, was expected to be `expected`.
    fn check_digest(
        &self,
        name: &str,
        expected: Option<&Expected>,
        actual: Option<String>,
    ) -> Result<(), ImageError> {
        match (expected, actual) {
            (Some(expected), Some(actual)) if !expected.matches(&actual) => {
                Err(ImageError::Digest {
                    path: self.path.to_path_buf(),
                    blob: name.to_string(),
                    expected: expected.to_string(),
                    actual,
                })
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod fuzz;
