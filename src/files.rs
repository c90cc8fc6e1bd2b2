//! Writing files whole or not at all: through a temporary file in the same folder and a rename,
//! so a crash or an error never leaves half a file. A leaf module: it imports nothing of imglock.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The folder `path` is in: `.` for a bare file name.
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder, flushed to disk, and a
/// rename: for the user's files (the lock, the Dockerfile).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_renamed(path, bytes, true)
}

/// Writes `bytes` to `path` through a temporary file and a rename; `sync` waits for the disk
/// before the rename.
pub fn write_renamed(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(bytes)?;
    if sync {
        file.as_file().sync_all()?;
    }
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}
