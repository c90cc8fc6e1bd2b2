//! Where the blobs of an image come from: an OCI layout folder, or a tar (an OCI archive or a
//! `docker save` tar) indexed once and read by seeking.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Where the blobs of an OCI layout come from: a folder, or a tar holding one.
pub(crate) trait Blobs {
    /// The bytes of the blob (or other file) at `name`, relative to the layout's root.
    fn open(&self, name: &str) -> std::io::Result<Box<dyn Read + '_>>;

    /// [`Blobs::open`] for a manifest or index (a registry serves those from another place).
    fn open_manifest(&self, name: &str) -> std::io::Result<Box<dyn Read + '_>> {
        self.open(name)
    }
}

/// An OCI layout folder.
pub(super) struct DirBlobs(pub(super) PathBuf);

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
pub(super) struct TarFile {
    path: PathBuf,
    entries: HashMap<String, (u64, u64)>,
}

impl TarFile {
    /// Indexes the tar at `path`.
    pub(super) fn index(path: &Path) -> std::io::Result<Self> {
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

    /// Whether the tar has an entry `name`.
    pub(super) fn has(&self, name: &str) -> bool {
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
