//! CRAN's `Archive/`: versions no longer in the index, described by their own DESCRIPTION; and
//! CRAN as of a date (`cran-snapshot`, `--exclude-newer`), as dated snapshots serve it: a
//! package's newest version whose DESCRIPTION's `Date/Publication` is not later, the current
//! one or one of those its `Archive/<name>/` listing links.
//!
//! An archived version has no index entry, so its dependencies are read from the `DESCRIPTION`
//! inside its tarball, streamed from the gzip without extracting anything to disk. The tarball is
//! downloaded into the artifact cache, so pinning it afterwards does not fetch it again.

use std::io::Read;

use super::dcf;
use super::error::{ArchiveError, DescriptionError, EntryError};
use super::index::{PackageEntry, RepoIndex, RepoKind};
use super::version::RVersion;
use crate::exclude_newer::ExcludeNewer;
use crate::fetch::{ArtifactRequest, Capped, Fetcher, is_too_large};

/// The largest DESCRIPTION read from a tarball; real ones are a few kilobytes.
const MAX_DESCRIPTION_BYTES: u64 = 1 << 20;

/// The most bytes a source tarball may expand to before its DESCRIPTION (R CMD build puts it
/// first, so real ones need a few hundred); `IMGLOCK_MAX_INDEX_BYTES` replaces it.
pub(crate) const MAX_TARBALL: u64 = 1 << 30;

/// What [`MAX_TARBALL`] limits, as its error says.
const WHAT: &str = "the decompressed tarball, before its DESCRIPTION,";

/// Supplies versions that are no longer in a repository's index (CRAN's `Archive/`).
pub trait ArchiveSource {
    /// The entry of `name` at exactly `version` in `repository`'s archive, read from the tarball's
    /// DESCRIPTION; `Ok(None)` when the archive does not have it.
    fn archived(
        &self,
        repository: &RepoIndex,
        name: &str,
        version: &RVersion,
    ) -> Result<Option<PackageEntry>, ArchiveError>;

    /// The newest version of `current`'s package that `repository` had at the archive's date
    /// (`current` itself when there is no date, or it was published by then); `Ok(None)` when
    /// none was published by then.
    fn as_of(
        &self,
        _repository: &RepoIndex,
        current: PackageEntry,
    ) -> Result<Option<PackageEntry>, ArchiveError> {
        Ok(Some(current))
    }

    /// Starts at once what [`ArchiveSource::as_of`] will read of these `current` entries, each of
    /// the repository beside it: the walk calls it with every package of a level before choosing
    /// them one by one.
    fn prefetch(&self, _current: &[(&RepoIndex, PackageEntry)]) {}
}

/// The current entry of each of `names` in the repository the walk would take it from: the one
/// a layer entry names for it, else the first general one that has it.
pub(super) fn current_entries<'r, 'n>(
    repositories: &'r [RepoIndex],
    names: impl Iterator<Item = &'n str>,
) -> Vec<(&'r RepoIndex, PackageEntry)> {
    names
        .filter_map(|name| {
            let index = repositories
                .iter()
                .find(|index| index.named.contains(name))
                .or_else(|| {
                    repositories
                        .iter()
                        .find(|index| index.general && index.contains(name))
                })?;
            Some((index, index.entry(name)?.ok()?))
        })
        .collect()
}

/// An archive that has nothing (indexes without an `Archive/`, tests, benchmarks).
pub struct NoArchive;

impl ArchiveSource for NoArchive {
    fn archived(
        &self,
        _: &RepoIndex,
        _: &str,
        _: &RVersion,
    ) -> Result<Option<PackageEntry>, ArchiveError> {
        Ok(None)
    }
}

/// Archived versions fetched through the shared [`Fetcher`], and CRAN as of a date.
pub struct FetchedArchive<'a> {
    pub fetcher: &'a Fetcher,
    /// CRAN as of this instant (`cran-snapshot`, `--exclude-newer`): each package's newest
    /// version published by then; `None`: the index's current versions.
    pub limit: Option<ExcludeNewer>,
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
        match self.description(repository, &path, name)? {
            Some(description) => describe(&description, name, version, path).map(Some),
            None => Ok(None),
        }
    }

    fn as_of(
        &self,
        repository: &RepoIndex,
        current: PackageEntry,
    ) -> Result<Option<PackageEntry>, ArchiveError> {
        let Some(limit) = self.limit.filter(|_| repository.kind == RepoKind::Cran) else {
            return Ok(Some(current));
        };
        let name = current.name.clone();
        let published = self
            .description(repository, &current.path, &name)?
            .and_then(|description| publication(&description));
        // A package that does not say when it was published is taken as it is.
        if published.is_none_or(|at| !limit.excludes(at)) {
            return Ok(Some(current));
        }
        for version in self.archived_versions(repository, &name)? {
            if version >= current.version {
                continue;
            }
            let path = format!("src/contrib/Archive/{name}/{name}_{version}.tar.gz");
            let Some(description) = self.description(repository, &path, &name)? else {
                continue;
            };
            if publication(&description).is_some_and(|at| !limit.excludes(at)) {
                return describe(&description, &name, &version, path).map(Some);
            }
        }
        Ok(None)
    }

    /// With a date, the current tarballs of all `current` entries, fetched at once into the
    /// artifact cache: a CRAN one's DESCRIPTION says when it was published, and the others
    /// (Bioconductor's, not dated) are pinned from there after the walk, so they cost no round
    /// of their own. Failures are met again, and reported, by [`ArchiveSource::as_of`] or the
    /// pinning.
    fn prefetch(&self, current: &[(&RepoIndex, PackageEntry)]) {
        if self.limit.is_none() {
            return;
        }
        let requests: Vec<ArtifactRequest> = current
            .iter()
            .map(|(index, entry)| ArtifactRequest {
                url: index.repository.file(&entry.path).0,
                published: None,
                expected: None,
            })
            .collect();
        if !requests.is_empty() {
            let _ = self
                .fetcher
                .download_all(&requests, "Reading archived packages");
        }
    }
}

impl FetchedArchive<'_> {
    /// The DESCRIPTION of `name`'s tarball at `path` below `repository`, downloaded into the
    /// artifact cache; `None` when the repository does not have it.
    fn description(
        &self,
        repository: &RepoIndex,
        path: &str,
        name: &str,
    ) -> Result<Option<String>, ArchiveError> {
        let (url, _) = repository.repository.file(path);
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
            });
        if read.is_err() {
            // Not kept for the next run: it may be a bad answer that a new download fixes.
            self.fetcher.forget_artifact(&request.url);
        }
        read.map(Some)
    }

    /// The versions of `name` in `repository`'s `Archive/<name>/` (its listing: a web server's
    /// index page, or a `file:` folder), newest first.
    fn archived_versions(
        &self,
        repository: &RepoIndex,
        name: &str,
    ) -> Result<Vec<RVersion>, ArchiveError> {
        let (url, _) = repository
            .repository
            .file(&format!("src/contrib/Archive/{name}/"));
        let listing = if url.scheme() == "file" {
            let folder = url.to_file_path().unwrap_or_default();
            match std::fs::read_dir(folder) {
                Ok(entries) => entries
                    .filter_map(|entry| Some(entry.ok()?.file_name().to_string_lossy().into()))
                    .map(|file: String| format!("href=\"{file}\""))
                    .collect::<Vec<_>>()
                    .join("\n"),
                Err(_) => return Ok(Vec::new()),
            }
        } else {
            match self.fetcher.get_all(&[url], "Reading CRAN's archive").pop() {
                Some(Ok(body)) => String::from_utf8_lossy(&body).into_owned(),
                Some(Err(error)) if error.is_not_found() => return Ok(Vec::new()),
                Some(Err(error)) => return Err(ArchiveError::Fetch(error)),
                None => return Ok(Vec::new()),
            }
        };
        Ok(listed_versions(&listing, name))
    }
}

/// The versions of `name` whose tarballs a listing links (`href="<name>_<version>.tar.gz"`),
/// newest first.
fn listed_versions(listing: &str, name: &str) -> Vec<RVersion> {
    let prefix = format!("{name}_");
    let mut versions: Vec<RVersion> = listing
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter_map(|file| {
            file.strip_prefix(&prefix)?
                .strip_suffix(".tar.gz")?
                .parse()
                .ok()
        })
        .collect();
    versions.sort_by(|a, b| b.cmp(a));
    versions.dedup();
    versions
}

/// When a package was published on CRAN: its DESCRIPTION's `Date/Publication`, like
/// `2022-02-28 10:20:02 UTC` (CRAN writes it in UTC; older ones lack the zone).
fn publication(description: &str) -> Option<jiff::Timestamp> {
    let records = dcf::parse(description).ok()?;
    let text = records.first()?.get("Date/Publication")?.trim();
    let text = text
        .strip_suffix("UTC")
        .unwrap_or(text)
        .trim()
        .replacen(' ', "T", 1);
    let civil: jiff::civil::DateTime = text.parse().ok()?;
    civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
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

/// The text of `<name>/DESCRIPTION` in a source tarball; a tarball that expands past `limit`
/// bytes before it is refused.
pub fn read_description(
    tar_gz: impl Read,
    name: &str,
    limit: u64,
) -> Result<String, DescriptionError> {
    let wanted = format!("{name}/DESCRIPTION");
    find_description(tar_gz, limit, WHAT, |path, _| Ok(path == wanted))?
        .ok_or(DescriptionError::Missing(wanted))
}

/// Streams the tar.gz `tar_gz` (refused once it expands past `limit` bytes; `what` names that
/// in the error) and returns the text, at most [`MAX_DESCRIPTION_BYTES`] of it, of the first
/// member `pick` takes, given its path (without a leading `./`) and whether it is a regular
/// file; `pick` may refuse the archive instead. `None` when it takes none. Pax headers are
/// skipped, never extracted: nothing is written to disk.
pub(crate) fn find_description(
    tar_gz: impl Read,
    limit: u64,
    what: &'static str,
    mut pick: impl FnMut(&str, bool) -> Result<bool, DescriptionError>,
) -> Result<Option<String>, DescriptionError> {
    let gunzipped = Capped::new(flate2::read::GzDecoder::new(tar_gz), limit, what);
    let mut archive = tar::Archive::new(gunzipped);
    let corrupt = |error: std::io::Error| match is_too_large(&error) {
        true => DescriptionError::TooLarge(error),
        false => DescriptionError::Corrupt(error),
    };
    let entries = archive.entries().map_err(DescriptionError::NotTarGz)?;
    for entry in entries {
        let entry = entry.map_err(corrupt)?;
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        let path = entry
            .path()
            .map_err(DescriptionError::Corrupt)?
            .to_string_lossy()
            .into_owned();
        if pick(path.trim_start_matches("./"), kind.is_file())? {
            let mut text = String::new();
            entry
                .take(MAX_DESCRIPTION_BYTES)
                .read_to_string(&mut text)
                .map_err(DescriptionError::Unreadable)?;
            return Ok(Some(text));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_gives_the_versions_of_its_package_newest_first() {
        let listing = r#"<a href="?C=N;O=D">Name</a> <a href="corekit_1.0.0.tar.gz">corekit_1.0.0.tar.gz</a> 2019-03-01
<a href="corekit_1.10.0.tar.gz">x</a> <a href="corekitplus_2.0.tar.gz">y</a> <a href="corekit_1.2-1.tar.gz">z</a>"#;
        let versions: Vec<String> = listed_versions(listing, "corekit")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(versions, ["1.10.0", "1.2-1", "1.0.0"]);
    }

    #[test]
    fn publication_dates_read_with_and_without_their_zone() {
        let at = |text: &str| {
            publication(&format!(
                "Package: x\nVersion: 1\nDate/Publication: {text}\n"
            ))
        };
        let expected: jiff::Timestamp = "2022-02-28T10:20:02Z".parse().unwrap();
        assert_eq!(at("2022-02-28 10:20:02 UTC"), Some(expected));
        assert_eq!(at("2022-02-28 10:20:02"), Some(expected));
        assert_eq!(at("yesterday"), None);
        assert_eq!(publication("Package: x\nVersion: 1\n"), None);
    }
}
