//! A root filesystem folder: wanted files are read in place, never through symbolic links, and
//! only if they are regular files (a FIFO would block the reader for ever, a device never end):
//! anything else is skipped with a warning naming it.

use std::fs::{File, FileType, OpenOptions};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use super::content::Source;
use super::{Content, ImageError, Reader, Want};

impl Reader<'_> {
    /// Walks the folders the inventories may want files in and reads the wanted files.
    pub(super) fn read_rootfs(&mut self) -> Result<(), ImageError> {
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
                    self.read_root_file(&entry.path(), relative, kind, want);
                }
            }
        }
        Ok(())
    }

    /// Reads the wanted file at `path` (`relative` in the image) of type `kind` (not followed):
    /// a regular file the way `want` asks; anything else is skipped with a warning.
    fn read_root_file(&mut self, path: &Path, relative: String, kind: FileType, want: Want) {
        if kind.is_symlink() {
            if !self.wanted.link_expected(&relative) {
                self.out
                    .warnings
                    .push(format!("`{relative}` is a symbolic link; not followed"));
            }
            return;
        }
        let read = open_regular(path).and_then(|opened| {
            let Some((file, size)) = opened else {
                return Ok(None);
            };
            Content::read(
                &relative,
                want,
                size,
                Source::File(file),
                self.limits.max_file_bytes,
                &mut self.out.warnings,
            )
            .map(Some)
        });
        match read {
            Ok(Some(Some(content))) => {
                self.out.files.insert(relative, content);
            }
            Ok(Some(None)) => {}
            Ok(None) => self.out.warnings.push(format!(
                "`{relative}` is not a regular file ({}); skipped",
                kind_name(kind)
            )),
            Err(error) => self
                .out
                .warnings
                .push(format!("cannot read `{relative}`: {error}; skipped")),
        }
    }
}

/// The file at `path` with its size, if it is a regular file; `None` for anything else. It is
/// opened without blocking (a FIFO) and without following a link put in its place, and checked
/// again once open.
fn open_regular(path: &Path) -> std::io::Result<Option<(File, u64)>> {
    if !std::fs::symlink_metadata(path)?.is_file() {
        return Ok(None);
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)?;
    let metadata = file.metadata()?;
    Ok(metadata.is_file().then_some((file, metadata.len())))
}

/// What a file that is not a regular file is, for a warning.
fn kind_name(kind: FileType) -> &'static str {
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "of an unknown kind"
    }
}
