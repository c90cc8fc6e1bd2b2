//! What a URL artifact adds to its lock entry — where it goes in the image (`target`), its
//! permissions (`mode`) and whether it is unpacked (`extract`) — and how the lock spells it. A
//! lock is read as strictly as the spec: the values are checked again, since they reach the
//! Dockerfile.

use super::archive::{FirstMember, member_path};
use super::spec::{check_target, is_mode};
use crate::lock::fields::{FieldWriter, PackageFields, Slot};
use crate::purl::{Identity, Purl};

/// The facts of a locked URL artifact besides its URL, sha256 and size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileDetails {
    /// A folder when it ends with `/` (the URL's file name is kept), else the file's path; the
    /// folder an extracted archive is unpacked into.
    pub target: String,
    /// Its permissions, octal (the lock writes [`DEFAULT_MODE`] when the spec gives none); `None`
    /// for an extracted archive.
    pub mode: Option<String>,
    /// Whether it is a tar archive unpacked into `target`.
    pub extract: bool,
    /// An unpacked archive's first regular file (`member`, `member-sha256`): what `verify`
    /// looks for below the target. `None` for a file kept whole.
    pub member: Option<FirstMember>,
}

/// The mode a file kept whole gets when the spec gives none.
pub const DEFAULT_MODE: &str = "0644";

impl FileDetails {
    /// Its purl: `pkg:generic/NAME@VERSION?checksum=sha256:…&download_url=URL`.
    pub fn purl(&self, id: &Identity<'_>) -> String {
        Purl::new("generic", id.name, id.version)
            .qualifier("checksum", format!("sha256:{}", id.sha256))
            .qualifier("download_url", id.url)
            .render()
    }

    /// Takes its fields from a package table of the lock; `url` is the package's.
    pub fn read(fields: &mut PackageFields, url: &str) -> Result<Self, String> {
        let target = fields
            .string("target")?
            .ok_or("has no `target`: re-create it with `imglock resolve`")?;
        let extract = fields.boolean("extract")?.unwrap_or(false);
        let mode = fields.string("mode")?;
        check_target(url, &target, extract)?;
        if let Some(mode) = mode.as_deref().filter(|m| !is_mode(m)) {
            return Err(format!("has mode `{}`, not octal", mode.escape_debug()));
        }
        let member = match (fields.string("member")?, fields.sha256("member-sha256")?) {
            (None, None) => None,
            (Some(path), Some(sha256)) if member_path(&path).as_ref() == Some(&path) => {
                Some(FirstMember { path, sha256 })
            }
            _ => {
                return Err(
                    "has a `member` that is not a plain relative path, or one without the other of `member` and `member-sha256`".into(),
                );
            }
        };
        Ok(Self {
            target,
            mode,
            extract,
            member,
        })
    }

    /// Writes the fields that go in `slot`.
    pub fn write(&self, slot: Slot, out: &mut FieldWriter<'_>) {
        if slot == Slot::Artifact {
            out.string("target", &self.target);
            if let Some(mode) = &self.mode {
                out.string("mode", mode);
            }
            if self.extract {
                out.plain("extract", true);
            }
            if let Some(member) = &self.member {
                out.string("member", &member.path);
                out.string("member-sha256", &member.sha256);
            }
        }
    }

    /// Where the file is in the image, without the leading `/`: `target` with the URL's file
    /// name when it is a folder. `None` for an extracted archive.
    pub fn installed_path(&self, url: &str) -> Option<String> {
        if self.extract {
            return None;
        }
        let path = match self.target.strip_suffix('/') {
            Some(folder) => format!("{folder}/{}", super::spec::url_file_name(url)),
            None => self.target.clone(),
        };
        Some(path.trim_start_matches('/').to_string())
    }

    /// Where an unpacked archive's recorded first file is in the image, without the leading `/`.
    pub fn member_in_image(&self) -> Option<String> {
        let member = self.member.as_ref()?;
        let folder = self.target.trim_matches('/');
        Some(
            format!("{folder}/{}", member.path)
                .trim_start_matches('/')
                .to_string(),
        )
    }

    /// The mode the file is installed with.
    pub fn mode(&self) -> &str {
        self.mode.as_deref().unwrap_or(DEFAULT_MODE)
    }
}
