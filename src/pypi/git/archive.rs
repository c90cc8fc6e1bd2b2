//! The source archive imglock makes of a git tree: a `.tar.gz` whose bytes depend on the tree
//! alone, so one commit gives one sha256 on any machine and with any git version. Entries are
//! re-packed from what `git archive` writes, sorted by path below one top folder, with a fixed
//! mtime, owner `0:0` without names, mode `0644` (`0755` for folders and executables); the gzip
//! header holds no name and no time (as `gzip -n`), at a fixed compression level.

use std::io::{Read, Write};

/// The mtime of every entry: 1980-01-01, the earliest a zip (a wheel) can hold.
const MTIME: u64 = 315_532_800;

/// One entry of the tree.
enum Entry {
    Folder,
    File { executable: bool, bytes: Vec<u8> },
    Link(String),
}

/// The deterministic `.tar.gz` of the tar stream `tree` (as `git archive` writes it), its
/// entries below `top/`.
pub fn repack(tree: &[u8], top: &str) -> std::io::Result<Vec<u8>> {
    let mut entries: Vec<(String, Entry)> = Vec::new();
    let mut archive = tar::Archive::new(tree);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).to_string();
        let path = path.trim_end_matches('/').to_string();
        let kind = entry.header().entry_type();
        let item = if kind.is_dir() {
            Entry::Folder
        } else if kind.is_symlink() {
            let target = entry.link_name_bytes().unwrap_or_default();
            Entry::Link(String::from_utf8_lossy(&target).to_string())
        } else if kind.is_file() {
            let executable = entry.header().mode()? & 0o111 != 0;
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes)?;
            Entry::File { executable, bytes }
        } else {
            // `git archive`'s pax header with the commit id, which says nothing of the tree.
            continue;
        };
        if !path.is_empty() {
            entries.push((path, item));
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let gzip = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::new(6));
    let mut out = tar::Builder::new(gzip);
    out.mode(tar::HeaderMode::Deterministic);
    append(&mut out, &format!("{top}/"), &Entry::Folder)?;
    for (path, entry) in &entries {
        append(&mut out, &format!("{top}/{path}"), entry)?;
    }
    let mut gzip = out.into_inner()?;
    gzip.flush()?;
    gzip.finish()
}

/// Appends `entry` at `path` with the fixed owner, mode and time.
fn append<W: Write>(out: &mut tar::Builder<W>, path: &str, entry: &Entry) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_mtime(MTIME);
    header.set_uid(0);
    header.set_gid(0);
    match entry {
        Entry::Folder => {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            out.append_data(&mut header, path, std::io::empty())
        }
        Entry::File { executable, bytes } => {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(if *executable { 0o755 } else { 0o644 });
            header.set_size(bytes.len() as u64);
            out.append_data(&mut header, path, bytes.as_slice())
        }
        Entry::Link(target) => {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_mode(0o777);
            header.set_size(0);
            out.append_link(&mut header, path, target)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar stream of `files` (path, mode, bytes) with the given mtime and owner.
    fn tar_of(files: &[(&str, u32, &[u8])], mtime: u64, uid: u64) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, mode, bytes) in files {
            let mut header = tar::Header::new_ustar();
            header.set_mode(*mode);
            header.set_mtime(mtime);
            header.set_uid(uid);
            header.set_size(bytes.len() as u64);
            builder.append_data(&mut header, path, *bytes).unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn the_same_tree_gives_the_same_bytes_whatever_order_time_and_owner() {
        let one = tar_of(&[("b.py", 0o664, b"b"), ("a/x.sh", 0o775, b"x")], 1, 1000);
        let two = tar_of(&[("a/x.sh", 0o700, b"x"), ("b.py", 0o600, b"b")], 9, 0);
        let first = repack(&one, "top").unwrap();
        assert_eq!(first, repack(&two, "top").unwrap());
        // No name and no time in the gzip header (bytes 4..8 are its mtime).
        assert_eq!(&first[3..8], &[0, 0, 0, 0, 0]);
        let mut unpacked = tar::Archive::new(flate2::read::GzDecoder::new(first.as_slice()));
        let found: Vec<(String, u32)> = unpacked
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().to_string_lossy().to_string(),
                    e.header().mode().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("top/".to_string(), 0o755),
                ("top/a/x.sh".to_string(), 0o755),
                ("top/b.py".to_string(), 0o644)
            ]
        );
        let other = tar_of(&[("b.py", 0o664, b"c"), ("a/x.sh", 0o775, b"x")], 1, 1000);
        assert_ne!(first, repack(&other, "top").unwrap());
    }
}
