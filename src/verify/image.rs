//! Reads the files verification needs out of a container image, without extracting anything.
//!
//! An image is a root filesystem folder, a `docker save` tar (the legacy layout with
//! `manifest.json` + `<id>/layer.tar`, or the current OCI-in-tar layout), an OCI archive tar or an
//! OCI image layout folder (`oci-layout`, `index.json`, `blobs/sha256/`). Layers (gzip, zstd or
//! plain tar) are streamed in order and whiteouts (`.wh.<name>`, `.wh..wh..opq`) applied to an
//! in-memory map of only the wanted files; a later layer's file replaces an earlier one's.
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

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::content::Source;
pub use super::content::{Content, Digested, Want};

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
        "a layer of `{path}` decompresses to more than {limit} bytes; refusing it as a likely decompression bomb"
    )]
    Bomb { path: PathBuf, limit: u64 },
}

/// What was read, and what was skipped on the way.
#[derive(Debug, Default)]
pub struct ImageFiles {
    pub files: Files,
    pub warnings: Vec<String>,
}

/// Which files of an image verification needs (each ecosystem's inventory says).
pub trait Wanted {
    /// Whether the file at `path` is needed, and how.
    fn file(&self, path: &str) -> Option<Want>;
    /// Whether the folder at `path` may hold needed files (to prune a folder walk).
    fn folder(&self, path: &str) -> bool;
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
    let io = |source| ImageError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = Reader {
        path,
        wanted,
        limits,
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

/// Where the blobs of an OCI layout come from: a folder, or a tar holding one.
trait Blobs {
    fn open(&self, name: &str) -> std::io::Result<Box<dyn Read + '_>>;
}

struct DirBlobs(PathBuf);

impl Blobs for DirBlobs {
    fn open(&self, name: &str) -> std::io::Result<Box<dyn Read + '_>> {
        let path = safe_join(&self.0, name).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("unsafe blob path `{name}`"),
            )
        })?;
        Ok(Box::new(File::open(path)?))
    }
}

/// A tar file indexed by entry path, read by seeking (image tars are large; read each part once).
struct TarFile {
    path: PathBuf,
    entries: HashMap<String, (u64, u64)>,
}

impl TarFile {
    fn index(path: &Path) -> std::io::Result<Self> {
        let mut archive = tar::Archive::new(File::open(path)?);
        let mut entries = HashMap::new();
        for entry in archive.entries_with_seek()? {
            let entry = entry?;
            let name = entry
                .path()?
                .to_string_lossy()
                .trim_start_matches("./")
                .to_string();
            entries.insert(name, (entry.raw_file_position(), entry.size()));
        }
        Ok(Self {
            path: path.to_path_buf(),
            entries,
        })
    }

    fn has(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }
}

impl Blobs for TarFile {
    fn open(&self, name: &str) -> std::io::Result<Box<dyn Read + '_>> {
        let (offset, size) = *self
            .entries
            .get(name.trim_start_matches("./"))
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("the archive has no `{name}`"),
                )
            })?;
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(offset))?;
        Ok(Box::new(file.take(size)))
    }
}

#[derive(Deserialize)]
struct DockerManifestEntry {
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

#[derive(Deserialize)]
struct OciIndex {
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct OciManifest {
    #[serde(default)]
    manifests: Vec<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

#[derive(Deserialize, Clone)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
}

impl Descriptor {
    fn blob_path(&self) -> Option<String> {
        let (algorithm, hex) = self.digest.split_once(':')?;
        let valid =
            matches!(algorithm, "sha256" | "sha512") && hex.bytes().all(|b| b.is_ascii_hexdigit());
        valid.then(|| format!("blobs/{algorithm}/{hex}"))
    }

    fn is_index(&self) -> bool {
        self.media_type.contains("image.index") || self.media_type.contains("manifest.list")
    }
}

struct Reader<'a> {
    path: &'a Path,
    wanted: &'a dyn Wanted,
    limits: Limits,
    out: ImageFiles,
}

/// What one layer changes: the wanted files it adds, the paths its whiteouts remove, the folders
/// it makes opaque, and its wanted hard links (path, target as written).
#[derive(Default)]
struct LayerChanges {
    added: Files,
    removed: Vec<String>,
    opaque: Vec<String>,
    links: Vec<(String, String)>,
}

impl LayerChanges {
    /// Records `path` if it is a whiteout (`.wh..wh..opq` makes its folder opaque, `.wh.<name>`
    /// removes `<name>`), and says whether it was one.
    fn add_whiteout(&mut self, path: &str) -> bool {
        let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
        if file == ".wh..wh..opq" {
            self.opaque.push(dir.to_string());
            return true;
        }
        if let Some(target) = file.strip_prefix(".wh.") {
            self.removed.push(if dir.is_empty() {
                target.to_string()
            } else {
                format!("{dir}/{target}")
            });
            return true;
        }
        false
    }
}

impl Reader<'_> {
    fn format(&self, reason: impl Into<String>) -> ImageError {
        ImageError::Format {
            path: self.path.to_path_buf(),
            reason: reason.into(),
        }
    }

    fn read_json<T: for<'de> Deserialize<'de>>(
        &self,
        blobs: &dyn Blobs,
        name: &str,
    ) -> Result<T, ImageError> {
        let mut text = Vec::new();
        blobs
            .open(name)
            .and_then(|reader| reader.take(MAX_MANIFEST_BYTES).read_to_end(&mut text))
            .map_err(|e| self.format(format!("cannot read `{name}`: {e}")))?;
        serde_json::from_slice(&text)
            .map_err(|e| self.format(format!("`{name}` is not valid: {e}")))
    }

    fn read_docker_archive(&mut self, archive: &TarFile) -> Result<(), ImageError> {
        let manifest: Vec<DockerManifestEntry> = self.read_json(archive, "manifest.json")?;
        let image = manifest
            .first()
            .ok_or_else(|| self.format("`manifest.json` lists no image"))?;
        for layer in &image.layers {
            let reader = archive
                .open(layer)
                .map_err(|e| self.format(format!("layer `{layer}`: {e}")))?;
            self.apply_layer(reader, layer)?;
        }
        Ok(())
    }

    fn read_oci(&mut self, blobs: &dyn Blobs) -> Result<(), ImageError> {
        let index: OciIndex = self.read_json(blobs, "index.json")?;
        let mut descriptor = index
            .manifests
            .first()
            .cloned()
            .ok_or_else(|| self.format("`index.json` lists no manifest"))?;
        // Nested indexes (multi-platform images): take the first manifest of each.
        for _ in 0..8 {
            let blob = descriptor
                .blob_path()
                .ok_or_else(|| self.format(format!("bad digest `{}`", descriptor.digest)))?;
            let manifest: OciManifest = self.read_json(blobs, &blob)?;
            if descriptor.is_index()
                || (!manifest.manifests.is_empty() && manifest.layers.is_empty())
            {
                descriptor = manifest
                    .manifests
                    .first()
                    .cloned()
                    .ok_or_else(|| self.format("an image index lists no manifest"))?;
                continue;
            }
            for layer in &manifest.layers {
                let blob = layer
                    .blob_path()
                    .ok_or_else(|| self.format(format!("bad layer digest `{}`", layer.digest)))?;
                let reader = blobs
                    .open(&blob)
                    .map_err(|e| self.format(format!("layer `{blob}`: {e}")))?;
                self.apply_layer(reader, &blob)?;
            }
            return Ok(());
        }
        Err(self.format("image indexes nest too deeply"))
    }

    /// Applies one layer: its whiteouts remove lower files, then its wanted files are added.
    fn apply_layer(&mut self, reader: Box<dyn Read + '_>, name: &str) -> Result<(), ImageError> {
        let changes = self.read_layer(reader, name)?;
        for dir in changes.opaque {
            let prefix = format!("{dir}/");
            self.out.files.retain(|path, _| !path.starts_with(&prefix));
        }
        for target in changes.removed {
            let prefix = format!("{target}/");
            self.out
                .files
                .retain(|path, _| path != &target && !path.starts_with(&prefix));
        }
        let mut added = changes.added;
        for (path, target) in changes.links {
            self.add_hard_link(&mut added, path, &target, name);
        }
        self.out.files.extend(added);
        Ok(())
    }

    /// Streams one layer's entries and collects what it changes, without applying it.
    fn read_layer(
        &mut self,
        reader: Box<dyn Read + '_>,
        name: &str,
    ) -> Result<LayerChanges, ImageError> {
        let limited = Limited {
            inner: decompress(reader).map_err(|e| self.format(format!("layer `{name}`: {e}")))?,
            left: self.limits.max_layer_bytes,
        };
        let mut archive = tar::Archive::new(limited);
        let mut changes = LayerChanges::default();
        let entries = archive.entries().map_err(|e| self.layer_error(name, e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| self.layer_error(name, e))?;
            self.read_entry(&mut entry, name, &mut changes)?;
        }
        Ok(changes)
    }

    /// Records what one entry of the layer `name` changes: a whiteout, a wanted hard link, or a
    /// wanted file's content (read here); symbolic links where wanted files may be are warned of.
    fn read_entry<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        name: &str,
        changes: &mut LayerChanges,
    ) -> Result<(), ImageError> {
        let raw = entry.path_bytes().into_owned();
        let raw = String::from_utf8_lossy(&raw).into_owned();
        let Some(path) = self.normalize(&raw, name) else {
            return Ok(());
        };
        if changes.add_whiteout(&path) {
            return Ok(());
        }
        let kind = entry.header().entry_type();
        let want = self.wanted.file(&path);
        if kind.is_symlink() && (want.is_some() || self.wanted.folder(&path)) {
            self.out
                .warnings
                .push(format!("`{path}` is a symbolic link; not followed"));
            return Ok(());
        }
        if kind.is_hard_link() {
            if want.is_some() {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                changes.links.push((path, target));
            }
            return Ok(());
        }
        let Some(want) = want.filter(|_| kind.is_file()) else {
            return Ok(());
        };
        let size = entry.header().size().unwrap_or(u64::MAX);
        let content = Content::read(
            &path,
            want,
            size,
            Source::Entry(entry),
            self.limits.max_file_bytes,
            &mut self.out.warnings,
        )
        .map_err(|e| self.layer_error(name, e))?;
        if let Some(content) = content {
            changes.added.insert(path, content);
        }
        Ok(())
    }

    /// Adds the hard link at `path` of the layer `name` to `added` as a copy of its `target`, found
    /// among the layer's own files or the lower layers'; a target the image lacks is warned of.
    fn add_hard_link(&mut self, added: &mut Files, path: String, target: &str, name: &str) {
        let Some(target) = self.normalize(target, name) else {
            return;
        };
        match added.get(&target).or_else(|| self.out.files.get(&target)) {
            Some(content) => {
                added.insert(path, content.clone());
            }
            None => self.out.warnings.push(format!(
                "`{path}` is a hard link to `{target}`, which the image does not have; skipped"
            )),
        }
    }

    fn layer_error(&self, name: &str, error: std::io::Error) -> ImageError {
        if error.kind() == std::io::ErrorKind::FileTooLarge {
            return ImageError::Bomb {
                path: self.path.to_path_buf(),
                limit: self.limits.max_layer_bytes,
            };
        }
        self.format(format!("layer `{name}` is corrupt or truncated: {error}"))
    }

    /// A safe relative path for a tar entry, or `None` (with a warning) for a hostile one.
    fn normalize(&mut self, raw: &str, layer: &str) -> Option<String> {
        if raw.starts_with('/') {
            self.out.warnings.push(format!(
                "layer `{layer}` has an absolute path `{raw}`; skipped"
            ));
            return None;
        }
        let mut parts = Vec::new();
        for part in raw.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    self.out.warnings.push(format!(
                        "layer `{layer}` has a path that climbs out, `{raw}`; skipped"
                    ));
                    return None;
                }
                part => parts.push(part),
            }
        }
        (!parts.is_empty()).then(|| parts.join("/"))
    }

    /// A root filesystem folder: wanted files are read in place, never through symbolic links.
    fn read_rootfs(&mut self) -> Result<(), ImageError> {
        let mut pending = vec![String::new()];
        while let Some(dir) = pending.pop() {
            let full = if dir.is_empty() {
                self.path.to_path_buf()
            } else {
                self.path.join(&dir)
            };
            let Ok(entries) = std::fs::read_dir(&full) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let relative = if dir.is_empty() {
                    name
                } else {
                    format!("{dir}/{name}")
                };
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    if self.wanted.folder(&relative) {
                        pending.push(relative);
                    }
                } else if let Some(want) = self.wanted.file(&relative) {
                    if kind.is_symlink() {
                        self.out
                            .warnings
                            .push(format!("`{relative}` is a symbolic link; not followed"));
                        continue;
                    }
                    let size = entry.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
                    let read = File::open(entry.path()).and_then(|file| {
                        Content::read(
                            &relative,
                            want,
                            size,
                            Source::File(file),
                            self.limits.max_file_bytes,
                            &mut self.out.warnings,
                        )
                    });
                    match read {
                        Ok(Some(content)) => {
                            self.out.files.insert(relative, content);
                        }
                        Ok(None) => {}
                        Err(error) => self
                            .out
                            .warnings
                            .push(format!("cannot read `{relative}`: {error}; skipped")),
                    }
                }
            }
        }
        Ok(())
    }
}

/// Picks the decompressor from the stream's first bytes: gzip, zstd, or a plain tar.
fn decompress<'a>(reader: Box<dyn Read + 'a>) -> std::io::Result<Box<dyn Read + 'a>> {
    let mut buffered = BufReader::new(reader);
    let head = buffered.fill_buf()?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(buffered))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?)
    } else {
        Box::new(buffered)
    })
}

/// A reader that fails once more than `left` bytes were read (a decompression-bomb guard).
struct Limited<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.left = self.left.checked_sub(read as u64).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "the layer is larger than allowed",
            )
        })?;
        Ok(read)
    }
}

fn safe_join(root: &Path, relative: &str) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            part => path.push(part),
        }
    }
    Some(path)
}
