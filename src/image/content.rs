//! What verification reads of a wanted file of an image: the bytes of a small text file, or a
//! digest (sha256 and size, and when asked md5, what dpkg's `md5sums` record) taken while the
//! file streams past, so memory stays flat however large it is, with, for a zip, one member read
//! from it (a stranger jar's `pom.properties`). A
//! zip's directory is at its end, so a layer entry is then copied to an unnamed temporary file
//! while it is hashed; a root filesystem file is read in place.

use std::fs::File;
use std::io::{Read, Write};

use md5::Md5;
use sha2::{Digest, Sha256};

/// How an inventory needs one of the files it wants.
#[derive(Debug, Clone, Copy)]
pub enum Want {
    /// Its bytes: a small text file (a DESCRIPTION, a METADATA, a conda-meta record), read whole
    /// up to [`super::Limits::max_file_bytes`].
    Bytes,
    /// Its sha256 and size, computed while it streams past; never held in memory.
    Digest,
    /// [`Want::Digest`] and its md5 too (the hash dpkg's `md5sums` files record).
    Md5,
    /// Its digest, and the first member of the zip it is whose name the function accepts
    /// (capped like [`Want::Bytes`]).
    DigestAndMember(fn(&str) -> bool),
}

/// A wanted file, as its inventory asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Bytes(Vec<u8>),
    Digest(Digested),
}

/// A file streamed through sha256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digested {
    /// Lowercase hexadecimal.
    pub sha256: String,
    pub size: u64,
    /// Lowercase hexadecimal, when [`Want::Md5`] asked for it.
    pub md5: Option<String>,
    /// The zip member [`Want::DigestAndMember`] asked for, when the file is a zip that has one.
    pub member: Option<Vec<u8>>,
}

impl Content {
    /// The bytes of a file read whole.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Self::Bytes(bytes) => Some(bytes),
            Self::Digest(_) => None,
        }
    }

    /// The digest of a file that was streamed.
    pub fn digest(&self) -> Option<&Digested> {
        match self {
            Self::Bytes(_) => None,
            Self::Digest(digested) => Some(digested),
        }
    }

    /// Its md5 (lowercase hexadecimal): of the bytes of a file read whole, or as streamed when
    /// [`Want::Md5`] asked for it; `None` for a file streamed without.
    pub fn md5(&self) -> Option<String> {
        match self {
            Self::Bytes(bytes) => Some(hex::encode(Md5::digest(bytes))),
            Self::Digest(digested) => digested.md5.clone(),
        }
    }

    /// Adds what `later`, the same file read again, knows that this does not (its md5).
    pub fn learn(&mut self, later: Content) {
        if let (Self::Digest(known), Self::Digest(later)) = (self, later) {
            known.md5 = known.md5.take().or(later.md5);
        }
    }

    /// `source` the way `want` asks (text files up to `limit` bytes); `None`, with a warning, for
    /// a text file too large to be real. Errors are those of reading `source`.
    pub(super) fn read(
        path: &str,
        want: Want,
        size: u64,
        source: Source<'_>,
        limit: u64,
        warnings: &mut Vec<String>,
    ) -> std::io::Result<Option<Self>> {
        let content = match (want, source) {
            (Want::Bytes, _) if size > limit => {
                warnings.push(format!(
                    "`{path}` claims {size} bytes, more than a real one holds; skipped"
                ));
                return Ok(None);
            }
            (Want::Bytes, mut source) => {
                let mut bytes = Vec::new();
                source.reader().take(limit).read_to_end(&mut bytes)?;
                Content::Bytes(bytes)
            }
            (Want::Digest | Want::Md5, mut source) => {
                let (sha256, size, md5) =
                    hash(source.reader(), &mut None, matches!(want, Want::Md5))?;
                Content::Digest(Digested {
                    sha256,
                    size,
                    md5,
                    member: None,
                })
            }
            (Want::DigestAndMember(pick), Source::File(mut file)) => {
                let (sha256, size, _) = hash(&mut file, &mut None, false)?;
                Content::Digest(Digested {
                    sha256,
                    size,
                    md5: None,
                    member: zip_member(file, pick, limit),
                })
            }
            (Want::DigestAndMember(pick), Source::Entry(reader)) => {
                let mut spool = tempfile::tempfile().ok();
                let (sha256, size, _) = hash(reader, &mut spool, false)?;
                if spool.is_none() {
                    warnings.push(format!(
                        "cannot copy `{path}` to a temporary file to look inside it; only its sha256 is known"
                    ));
                }
                Content::Digest(Digested {
                    sha256,
                    size,
                    md5: None,
                    member: spool.and_then(|file| zip_member(file, pick, limit)),
                })
            }
        };
        Ok(Some(content))
    }
}

/// Where a wanted file's bytes come from.
pub(super) enum Source<'r> {
    /// An entry of a layer: read once, front to back.
    Entry(&'r mut dyn Read),
    /// A file of a root filesystem folder, which can seek.
    File(File),
}

impl Source<'_> {
    fn reader(&mut self) -> &mut dyn Read {
        match self {
            Self::Entry(reader) => *reader,
            Self::File(file) => file,
        }
    }
}

/// The sha256 (hexadecimal) and size of everything `reader` yields, and with `with_md5` its md5,
/// in constant memory. The bytes are also written to `copy`, if any; a copy that cannot be
/// written is dropped (set to `None`) and hashing goes on.
fn hash(
    reader: &mut dyn Read,
    copy: &mut Option<File>,
    with_md5: bool,
) -> std::io::Result<(String, u64, Option<String>)> {
    let mut hasher = Sha256::new();
    let mut md5 = with_md5.then(Md5::new);
    let mut buffer = vec![0u8; 64 << 10];
    let mut size = 0u64;
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        hasher.update(&buffer[..read]);
        if let Some(md5) = md5.as_mut() {
            md5.update(&buffer[..read]);
        }
        size += read as u64;
        if copy
            .as_mut()
            .is_some_and(|file| file.write_all(&buffer[..read]).is_err())
        {
            *copy = None;
        }
    }
    Ok((
        hex::encode(hasher.finalize()),
        size,
        md5.map(|md5| hex::encode(md5.finalize())),
    ))
}

/// The first member of the zip in `file` whose name `pick` accepts, up to `limit` bytes; `None`
/// when `file` is not a readable zip or has no such member.
fn zip_member(file: File, pick: fn(&str) -> bool, limit: u64) -> Option<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(file).ok()?;
    let index = (0..archive.len()).find(|&i| {
        archive
            .name_for_index(i)
            .and_then(Result::ok)
            .is_some_and(|name| pick(&name))
    })?;
    let mut bytes = Vec::new();
    archive
        .by_index(index)
        .ok()?
        .take(limit)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}
