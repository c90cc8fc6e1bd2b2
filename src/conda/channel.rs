//! conda channels: `<channel>/<subdir>/repodata.json` (or its `.zst` / `.bz2` variants) for the
//! image's subdir and `noarch`, every channel and subdir fetched at once, each on a thread that
//! indexes it (a small `noarch` is indexed while a large subdir still downloads). Each is indexed
//! by package name without reading its records ([`record_index`](super::record_index)): plain JSON
//! while its bytes arrive, a compressed form or one of 64 MiB or more once it is whole (on two
//! threads when it is large); the records of the requested names and of everything their
//! records depend on are cut out a package at a time, and only those are read, by
//! `rattler_repodata_gateway`'s sparse repodata (as pixi and py-rattler read it), into records with their download URLs
//! (`repodata_version` 2 `base_url` included). So a resolve against a channel of conda-forge's size
//! costs what its closure costs, not what the channel weighs. A remote channel's records may only
//! point at remote URLs ([`Repository::check_named`]).
//!
//! When a channel offers the same package version and build both as `.conda` and `.tar.bz2`,
//! only the `.conda` record is kept: it is the smaller download and the newer format.

use rattler_conda_types::{Channel, ChannelUrl, PackageName, RepoDataRecord};
use url::Url;

use super::error::CondaError;
use super::record_index::ArrivingIndex;
use super::subdir::{
    Compression, MAX_REPODATA, SubdirBody, SubdirIndex, check_records, index_repodata, load_records,
};
use crate::fetch::{FetchError, FetchErrors, Fetcher};
use crate::platform::Platform;
use crate::repository::Repository;

/// The forms a subdir's repodata may be served in, in the order they are preferred.
const VARIANTS: [Compression; 3] = [Compression::Zstd, Compression::None, Compression::Bzip2];

/// How many of [`VARIANTS`] are asked for at once: the `.zst` and plain JSON. Every channel
/// serves plain JSON (conda and mamba ask for nothing else, or its `.zst`), so a `.bz2` is asked
/// for only from a channel without it, one round later, rather than from every channel in the
/// first round, where its answer would go unread.
const ASKED_AT_ONCE: usize = 2;

/// One channel of the spec and the records of its subdirs.
#[derive(Debug)]
pub struct ChannelRecords {
    pub repository: Repository,
    /// The channel as its records name it (`RepoDataRecord::channel`).
    pub channel: String,
    /// The channel's records for the image's subdir, then `noarch`.
    pub records: Vec<RepoDataRecord>,
}

/// The conda subdir of an image platform (`linux/amd64` → `linux-64`).
pub fn subdir_of(platform: &Platform) -> Result<&'static str, CondaError> {
    platform
        .arch()
        .conda_subdir()
        .ok_or_else(|| CondaError::NoSubdir {
            platform: platform.to_string(),
        })
}

/// Fetches the repodata of every channel for `subdir` and `noarch`, all at once and each in its
/// preferred form (`.zst`, a tenth of the size, then plain JSON, both asked at once, a body read
/// only where the forms before it are missing; then `.bz2`, see [`ASKED_AT_ONCE`]), and reads
/// the records of `names` and of everything their dependencies reach, in every channel.
pub fn fetch_channels(
    fetcher: &Fetcher,
    repositories: &[Repository],
    subdir: &str,
    names: &[PackageName],
) -> Result<Vec<ChannelRecords>, CondaError> {
    let indexes = fetch_indexes(fetcher, repositories, subdir)?;
    let mut channels: Vec<ChannelRecords> = repositories
        .iter()
        .map(|repository| ChannelRecords {
            repository: repository.clone(),
            channel: conda_channel(repository).base_url.as_str().to_string(),
            records: Vec::new(),
        })
        .collect();
    let loaded = load_records(indexes.iter().map(|(_, index)| index), names)?;
    for ((channel, index), records) in indexes.iter().zip(loaded) {
        check_records(index, &records, &repositories[*channel])?;
        // A channel's first subdir's records are moved in whole, not one by one.
        let kept = &mut channels[*channel].records;
        if kept.is_empty() {
            *kept = records;
        } else {
            kept.extend(records);
        }
    }
    Ok(channels)
}

/// What became of one subdir's repodata.
enum SubdirOutcome {
    Indexed(Box<SubdirIndex>),
    /// A `noarch` folder the channel does not have.
    Absent,
    Unfetched(FetchError),
    Unreadable(CondaError),
}

/// Every channel's `subdir` and `noarch` repodata that exist, indexed, in channel order, the
/// image's subdir first, each with its channel's position. Each is indexed the moment its own
/// body is in: the first (the image's subdir of the first channel) on the calling thread, every
/// other on a thread of its own, so a small `noarch` is indexed while a large subdir still
/// downloads (conda-forge's noarch is a third of its size).
fn fetch_indexes(
    fetcher: &Fetcher,
    repositories: &[Repository],
    subdir: &str,
) -> Result<Vec<(usize, SubdirIndex)>, CondaError> {
    let subdirs: Vec<(usize, &str)> = (0..repositories.len())
        .flat_map(|channel| [(channel, subdir), (channel, "noarch")])
        .collect();
    let Some((&(first_channel, first_subdir), rest)) = subdirs.split_first() else {
        return Ok(Vec::new());
    };
    // The first (the image's subdir of the first channel, the largest as a rule) on this thread.
    let outcomes = std::thread::scope(|scope| {
        let threads: Vec<_> = rest
            .iter()
            .map(|&(channel, subdir)| {
                scope.spawn(move || fetch_index(fetcher, &repositories[channel], subdir))
            })
            .collect();
        let first = fetch_index(fetcher, &repositories[first_channel], first_subdir);
        std::iter::once(first)
            .chain(crate::threads::join_all(threads))
            .collect::<Vec<_>>()
    });
    let mut indexes = Vec::new();
    let mut unfetched = Vec::new();
    let mut unreadable = None;
    for ((channel, _), outcome) in subdirs.into_iter().zip(outcomes) {
        match outcome {
            SubdirOutcome::Indexed(index) => indexes.push((channel, *index)),
            SubdirOutcome::Absent => {}
            SubdirOutcome::Unfetched(error) => unfetched.push(error),
            SubdirOutcome::Unreadable(error) => {
                unreadable.get_or_insert(error);
            }
        }
    }
    if !unfetched.is_empty() {
        return Err(FetchErrors {
            what: "conda repodata files",
            errors: unfetched,
        }
        .into());
    }
    match unreadable {
        Some(error) => Err(error),
        None => Ok(indexes),
    }
}

/// Fetches `repository`'s repodata of `subdir` in its preferred form and indexes it.
fn fetch_index(fetcher: &Fetcher, repository: &Repository, subdir: &str) -> SubdirOutcome {
    let forms: Vec<Url> = VARIANTS
        .iter()
        .map(|variant| {
            repository
                .file(&format!("{subdir}/{}", variant.file_name()))
                .0
        })
        .collect();
    let what = progress_label(repository, subdir);
    // Plain JSON is indexed while it arrives; a compressed form once it is whole.
    let arriving_index = |form| match VARIANTS[form] {
        Compression::None => Some(ArrivingIndex::new()),
        Compression::Zstd | Compression::Bzip2 => None,
    };
    let answer = fetcher.get_preferred(&forms, ASKED_AT_ONCE, &what, arriving_index);
    let found = match answer {
        Ok(found) => found,
        // A channel without noarch packages may have no noarch folder at all.
        Err(error) if error.is_not_found() && subdir == "noarch" => return SubdirOutcome::Absent,
        Err(error) if error.is_not_found() => {
            return SubdirOutcome::Unfetched(FetchError::NotFound {
                url: repository
                    .file(&format!("{subdir}/repodata.json"))
                    .0
                    .to_string(),
            });
        }
        Err(error) => return SubdirOutcome::Unfetched(error),
    };
    let (url, variant) = (&forms[found.form], VARIANTS[found.form]);
    let limit = fetcher.index_limit(MAX_REPODATA);
    let channel = conda_channel(repository);
    // What was read while the body arrived is of that body alone, not of a body fetched again.
    let arrived = std::cell::Cell::new(found.read);
    let indexed = fetcher.parse_or_refetch(url, found.body, None, |bytes| {
        let body = SubdirBody {
            variant,
            bytes,
            arrived: arrived.take(),
        };
        index_repodata(body, url, limit, &channel, subdir)
    });
    match indexed {
        Ok(index) => SubdirOutcome::Indexed(Box::new(index)),
        Err(error) => SubdirOutcome::Unreadable(error),
    }
}

/// What a subdir's fetch shows as progress: the channel and subdir it is of, so that the
/// same subdir of two channels is not drawn as two identical lines.
fn progress_label(repository: &Repository, subdir: &str) -> String {
    format!("Fetching conda repodata ({}/{subdir})", repository.label)
}

/// The conda channel a repository is: its URL as the base of the subdirs.
pub(super) fn conda_channel(repository: &Repository) -> Channel {
    Channel::from_url(ChannelUrl::from(with_slash(&repository.url)))
}

fn with_slash(url: &Url) -> Url {
    let mut url = url.clone();
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_map_to_subdirs() {
        let subdir = |text: &str| subdir_of(&text.parse().unwrap());
        assert_eq!(subdir("linux/amd64").unwrap(), "linux-64");
        assert_eq!(subdir("linux/arm64").unwrap(), "linux-aarch64");
        assert!(subdir("linux/386").is_err());
    }

    #[test]
    fn each_channel_s_subdir_has_a_progress_label_of_its_own() {
        use std::path::Path;
        let channel = |text: &str| Repository::parse(text, Path::new("/"), Path::new("/")).unwrap();
        let main = channel("https://repo.anaconda.com/pkgs/main");
        let forge = channel("https://conda.anaconda.org/conda-forge/");
        assert_eq!(
            progress_label(&main, "linux-64"),
            "Fetching conda repodata (https://repo.anaconda.com/pkgs/main/linux-64)"
        );
        assert_ne!(
            progress_label(&main, "noarch"),
            progress_label(&forge, "noarch")
        );
    }
}
