//! One layer of an image: its tar entries streamed (gzip, zstd or plain), whiteouts and wanted
//! files collected, then applied over the lower layers; the layer's compressed bytes are hashed
//! as they are read, to the end, and checked against the digest it is named by.

use std::io::{BufRead, BufReader, Read};

use super::content::Source;
use super::digest::{Expected, Hashing};
use super::{Content, Files, ImageError, Reader};

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
    /// Applies one layer: its whiteouts remove lower files, then its wanted files are added. The
    /// layer's bytes must have the digest `expected`, when its name carries one.
    pub(super) fn apply_layer(
        &mut self,
        reader: Box<dyn Read + '_>,
        name: &str,
        expected: Option<&Expected>,
    ) -> Result<(), ImageError> {
        let changes = self.read_layer(reader, name, expected)?;
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

    /// Streams one layer's entries and collects what it changes, without applying it; then
    /// reads the rest of the layer (what the tar reader left) and checks its digest. A digest
    /// that does not match explains a layer that cannot be read, so it is reported first.
    fn read_layer(
        &mut self,
        reader: Box<dyn Read + '_>,
        name: &str,
        expected: Option<&Expected>,
    ) -> Result<LayerChanges, ImageError> {
        let mut hashing = Hashing::new(reader, expected);
        let changes = self.read_entries(&mut hashing, name);
        let actual = hashing
            .finish(self.limits.max_layer_bytes)
            .map_err(|e| self.layer_error(name, e));
        if let Ok(actual) = actual {
            self.check_digest(name, expected, actual)?;
            changes
        } else {
            changes.and(actual.map(|_| LayerChanges::default()))
        }
    }

    /// The changes of the layer whose (possibly compressed) bytes `reader` yields.
    fn read_entries(
        &mut self,
        reader: &mut dyn Read,
        name: &str,
    ) -> Result<LayerChanges, ImageError> {
        let limited = Limited {
            inner: decompress(Box::new(reader))
                .map_err(|e| self.format(format!("layer `{name}`: {e}")))?,
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
        if kind.is_symlink()
            && (want.is_some() || self.wanted.folder(&path))
            && !self.wanted.link_expected(&path)
        {
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
