//! The members of an sdist (`.tar.gz` or `.zip`) that can hold its metadata, read in one pass
//! over the archive in memory: nothing is unpacked to disk, and each member is read up to
//! [`MAX_MEMBER`] bytes.

use std::collections::BTreeMap;
use std::io::Read;

/// The most read of any one member (as for a wheel's METADATA).
pub const MAX_MEMBER: u64 = 4 << 20;

/// The metadata-bearing members of an sdist, by their path under its top-level directory.
#[derive(Debug, Default)]
pub struct Members {
    /// `PKG-INFO`.
    pub pkg_info: Option<String>,
    /// `pyproject.toml`.
    pub pyproject: Option<String>,
    /// `setup.cfg`.
    pub setup_cfg: Option<String>,
    /// Each `*.egg-info` directory (at the top or under `src/`), by its path, with its
    /// `requires.txt` when it has one.
    pub egg_infos: BTreeMap<String, Option<String>>,
}

/// Which member a path under the top-level directory is, if any.
enum Member {
    PkgInfo,
    Pyproject,
    SetupCfg,
    /// A file in an egg-info directory (the directory's path), and whether it is `requires.txt`.
    EggInfo {
        dir: String,
        requires: bool,
    },
}

impl Member {
    /// The member at `path` (as the archive names it, `<top>/...`).
    fn of(path: &str) -> Option<Self> {
        let path = path.trim_start_matches("./");
        let (_, inner) = path.split_once('/')?;
        match inner {
            "PKG-INFO" => return Some(Self::PkgInfo),
            "pyproject.toml" => return Some(Self::Pyproject),
            "setup.cfg" => return Some(Self::SetupCfg),
            _ => {}
        }
        let (under, rest) = match inner.strip_prefix("src/") {
            Some(rest) => ("src/", rest),
            None => ("", inner),
        };
        let (dir, file) = rest.split_once('/')?;
        if !dir.ends_with(".egg-info") || file.is_empty() || file.contains('/') {
            return None;
        }
        let dir = format!("{under}{dir}");
        Some(Self::EggInfo {
            dir,
            requires: file == "requires.txt",
        })
    }
}

impl Members {
    /// Reads the members of the sdist `filename` (`.zip` by its name, else `.tar.gz`).
    pub fn read(filename: &str, bytes: &[u8]) -> std::io::Result<Self> {
        let mut members = Self::default();
        if filename.to_ascii_lowercase().ends_with(".zip") {
            let mut archive =
                zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(std::io::Error::other)?;
            for index in 0..archive.len() {
                // Only the members that matter are opened (and so decompressed).
                let Some(path) = archive.name_for_index(index).and_then(|name| name.ok()) else {
                    continue;
                };
                let path = path.into_owned();
                if Member::of(&path).is_some() {
                    let entry = archive.by_index(index).map_err(std::io::Error::other)?;
                    members.keep(&path, entry)?;
                }
            }
        } else {
            let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
            for entry in archive.entries()? {
                let entry = entry?;
                let path = entry.path()?.to_string_lossy().into_owned();
                members.keep(&path, entry)?;
            }
        }
        Ok(members)
    }

    /// Keeps the member at `path`, whose contents `reader` gives, when it is one that matters.
    fn keep(&mut self, path: &str, reader: impl Read) -> std::io::Result<()> {
        let Some(member) = Member::of(path) else {
            return Ok(());
        };
        let slot = match member {
            Member::PkgInfo => &mut self.pkg_info,
            Member::Pyproject => &mut self.pyproject,
            Member::SetupCfg => &mut self.setup_cfg,
            Member::EggInfo { dir, requires } => {
                let slot = self.egg_infos.entry(dir).or_default();
                if !requires {
                    return Ok(());
                }
                slot
            }
        };
        if slot.is_none() {
            *slot = Some(text(reader)?);
        }
        Ok(())
    }
}

/// The text of a member, up to [`MAX_MEMBER`] bytes (what is not UTF-8 replaced).
fn text(reader: impl Read) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    reader.take(MAX_MEMBER).read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_gz(files: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (path, text) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, path, text.as_bytes())
                .unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn only_the_top_level_members_and_egg_info_directories_are_kept() {
        let bytes = tar_gz(&[
            ("alembic-1.4.1/PKG-INFO", "Metadata-Version: 1.2\n"),
            ("alembic-1.4.1/tests/PKG-INFO", "not this one"),
            ("alembic-1.4.1/alembic.egg-info/PKG-INFO", "x"),
            ("alembic-1.4.1/alembic.egg-info/requires.txt", "Mako\n"),
            ("alembic-1.4.1/src/other.egg-info/PKG-INFO", "x"),
            ("alembic-1.4.1/docs/deep.egg-info/requires.txt", "no"),
            ("alembic-1.4.1/setup.cfg", "[metadata]\n"),
        ]);
        let members = Members::read("alembic-1.4.1.tar.gz", &bytes).unwrap();
        assert_eq!(members.pkg_info.as_deref(), Some("Metadata-Version: 1.2\n"));
        assert_eq!(members.setup_cfg.as_deref(), Some("[metadata]\n"));
        assert!(members.pyproject.is_none());
        assert_eq!(
            members.egg_infos,
            BTreeMap::from([
                ("alembic.egg-info".to_string(), Some("Mako\n".to_string())),
                ("src/other.egg-info".to_string(), None),
            ])
        );
    }

    #[test]
    fn a_zip_sdist_is_read_too() {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("x-1.0/pyproject.toml", options).unwrap();
        std::io::Write::write_all(&mut zip, b"[project]\n").unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let members = Members::read("x-1.0.zip", &bytes).unwrap();
        assert_eq!(members.pyproject.as_deref(), Some("[project]\n"));
        assert!(Members::read("x-1.0.tar.gz", b"not gzip").is_err());
    }
}
