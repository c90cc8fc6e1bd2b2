//! CRAN's `Archive/`: versions no longer in the index, described by their own DESCRIPTION.
//!
//! An archived version has no index entry, so its dependencies are read from the `DESCRIPTION`
//! inside its tarball, streamed from the gzip without extracting anything to disk. The tarball is
//! downloaded into the artifact cache, so pinning it afterwards does not fetch it again.

use std::io::Read;

use super::dcf;
use super::error::{ArchiveError, DescriptionError, EntryError};
use super::index::{PackageEntry, RepoIndex, RepoKind};
use super::resolve::ArchiveSource;
use super::version::RVersion;
use crate::fetch::{ArtifactRequest, Capped, Fetcher, is_too_large};

/// The largest DESCRIPTION read from a tarball; real ones are a few kilobytes.
const MAX_DESCRIPTION_BYTES: u64 = 1 << 20;

/// The most bytes a source tarball may expand to before its DESCRIPTION (R CMD build puts it
/// first, so real ones need a few hundred); `IMGLOCK_MAX_INDEX_BYTES` replaces it.
pub(crate) const MAX_TARBALL: u64 = 1 << 30;

/// What [`MAX_TARBALL`] limits, as its error says.
const WHAT: &str = "the decompressed tarball, before its DESCRIPTION,";

/// Archived versions fetched through the shared [`Fetcher`].
pub struct FetchedArchive<'a> {
    pub fetcher: &'a Fetcher,
}

impl ArchiveSource for FetchedArchive<'_> {
    fn archived(
        &self,
        repository: &RepoIndex,
        name: &str,
        version: &RVersion,
    ) -> Result<Option<PackageEntry>, ArchiveError> {
        if repository.kind != RepoKind::Cran {
            return Ok(None);
        }
        let path = format!("src/contrib/Archive/{name}/{name}_{version}.tar.gz");
        let (url, _) = repository.repository.file(&path);
        let request = ArtifactRequest {
            url,
            published: None,
            expected: None,
        };
        let artifact = match self
            .fetcher
            .download_all(std::slice::from_ref(&request), "Reading archived packages")
            .pop()
        {
            Some(Ok(artifact)) => artifact,
            Some(Err(error)) if error.is_not_found() => return Ok(None),
            Some(Err(error)) => return Err(ArchiveError::Fetch(error)),
            None => return Ok(None),
        };
        let read = std::fs::File::open(&artifact.path)
            .map_err(ArchiveError::Read)
            .and_then(|file| {
                let limit = self.fetcher.index_limit(MAX_TARBALL);
                read_description(std::io::BufReader::new(file), name, limit).map_err(|source| {
                    ArchiveError::Description {
                        url: request.url.to_string(),
                        source,
                    }
                })
            })
            .and_then(|description| describe(&description, name, version, path));
        if read.is_err() {
            // Not kept for the next run: it may be a bad answer that a new download fixes.
            self.fetcher.forget_artifact(&request.url);
        }
        read.map(Some)
    }
}

/// The index entry of an archived `name` `version` (at `path`) from its DESCRIPTION.
fn describe(
    description: &str,
    name: &str,
    version: &RVersion,
    path: String,
) -> Result<PackageEntry, ArchiveError> {
    let records = dcf::parse(description).map_err(|e| ArchiveError::Entry(e.into()))?;
    let record = records
        .first()
        .ok_or(ArchiveError::Entry(EntryError::Empty))?;
    let entry = PackageEntry::from_record(record, Some(path)).map_err(ArchiveError::Entry)?;
    if entry.name != name || &entry.version != version {
        return Err(ArchiveError::Mismatch {
            name: name.to_string(),
            version: version.to_string(),
            found_name: entry.name,
            found_version: entry.version.to_string(),
        });
    }
    Ok(entry)
}

/// The text of `<name>/DESCRIPTION` inside a source tarball, read as it streams; a tarball that
/// expands past `limit` bytes before it (a bomb) is refused.
pub fn read_description(
    tar_gz: impl Read,
    name: &str,
    limit: u64,
) -> Result<String, DescriptionError> {
    let wanted = format!("{name}/DESCRIPTION");
    let gunzipped = Capped::new(flate2::read::GzDecoder::new(tar_gz), limit, WHAT);
    let mut archive = tar::Archive::new(gunzipped);
    let corrupt = |error: std::io::Error| match is_too_large(&error) {
        true => DescriptionError::TooLarge(error),
        false => DescriptionError::Corrupt(error),
    };
    let entries = archive.entries().map_err(DescriptionError::NotTarGz)?;
    for entry in entries {
        let entry = entry.map_err(corrupt)?;
        let path = entry
            .path()
            .map_err(DescriptionError::Corrupt)?
            .to_string_lossy()
            .into_owned();
        if path.trim_start_matches("./") == wanted {
            let mut text = String::new();
            entry
                .take(MAX_DESCRIPTION_BYTES)
                .read_to_string(&mut text)
                .map_err(DescriptionError::Unreadable)?;
            return Ok(text);
        }
    }
    Err(DescriptionError::Missing(wanted))
}
