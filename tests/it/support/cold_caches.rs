//! Empty cache folders for benches that time resolves back to back, cold, without each paying
//! for the files the resolves before it removed.
//!
//! On ext4 without a journal (the disk of the machines these benches run on), a new file does
//! not reuse the inode of a file removed less than a minute before (six, while the removal is
//! not yet written back): `find_inode_bit` in the kernel's `fs/ext4/ialloc.c` steps over each
//! such inode, one buffer lookup apiece, before it takes a free one. A bench that removed a
//! resolve's cache (about a thousand files for the mixed spec) before the next made every file
//! the next one writes step over all the files removed in the last minute: a third of the
//! machine's time went there, and the mixed spec measured 1.09–1.20× its slowest layer, against
//! 1.00–1.03× with the caches kept. A user's resolve does not follow thousands of removals.
//!
//! So each cache is kept until the bench ends, its files emptied (their disk space given back,
//! their inodes still in use), and all of them are removed when [`ColdCaches`] is dropped, the
//! removal written back at once so that it stands in the way of new files for one minute, not
//! six: a bench started within that minute pays for it (leave a minute between benches).

use std::path::{Path, PathBuf};

/// The cache folders of a bench's cold resolves, removed together when this is dropped.
pub struct ColdCaches {
    root: tempfile::TempDir,
    made: std::cell::Cell<usize>,
}

impl ColdCaches {
    pub fn new() -> Self {
        Self {
            root: tempfile::tempdir().unwrap(),
            made: std::cell::Cell::new(0),
        }
    }

    /// What `work` returns, given a new, empty cache folder, which is then retired (see
    /// [`Self::retire`]).
    pub fn with_fresh<T>(&self, work: impl FnOnce(&Path) -> T) -> T {
        let folder = self.fresh();
        let done = work(&folder);
        self.retire(&folder);
        done
    }

    /// A new, empty cache folder.
    fn fresh(&self) -> PathBuf {
        self.made.set(self.made.get() + 1);
        let folder = self.root.path().join(self.made.get().to_string());
        std::fs::create_dir(&folder).unwrap();
        folder
    }

    /// Empties the files of the cache folder `folder` and writes back every change to disk, so
    /// the next resolve starts on a settled disk, as a user's does (each would otherwise pay for
    /// the writeback of the caches written before it).
    fn retire(&self, folder: &Path) {
        for file in super::walk(folder) {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&file)
                .and_then(|f| f.set_len(0))
                .unwrap_or_else(|e| panic!("emptying {}: {e}", file.display()));
        }
        // SAFETY: sync(2) takes no arguments and cannot fail.
        unsafe { libc::sync() };
    }
}

impl Drop for ColdCaches {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.root.path());
        // SAFETY: sync(2) takes no arguments and cannot fail.
        unsafe { libc::sync() };
    }
}
