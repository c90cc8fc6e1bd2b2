//! conda channels: `<channel>/<subdir>/repodata.json` (or its `.zst` / `.bz2` variants) for the
//! image's subdir and `noarch`, every channel and subdir fetched at once, each on a thread that
//! indexes it the moment its body is in (a small `noarch` is indexed while a large subdir still
//! downloads). Each is indexed by package name without reading its records
//! (`rattler_repodata_gateway`'s sparse repodata, as pixi and py-rattler load it); only the records of the requested names and of
//! everything their dependencies can reach are parsed, into records with their download URLs
//! (`repodata_version` 2 `base_url` included). So a resolve against a channel of conda-forge's
//! size costs what its closure costs, not what the channel weighs. A remote channel's records
//! may only point at remote URLs ([`Repository::check_named`]).
//!
//! When a channel offers the same package version and build both as `.conda` and `.tar.bz2`,
//! only the `.conda` record is kept: it is the smaller download and the newer format.

use rattler_conda_types::{Channel, ChannelUrl, PackageName, RepoDataRecord};
use rattler_repodata_gateway::sparse::{PackageFormatSelection, SparseRepoData};
use url::Url;

use super::error::CondaError;
use crate::fetch::{Body, FetchError, FetchErrors, Fetcher, read_capped};
use crate::platform::Platform;
use crate::repository::Repository;

/// The most bytes a subdir's repodata may have once decompressed: several times the largest
/// real one (conda-forge's `linux-64`, a few hundred MB of JSON); a `.zst` or `.bz2` that expands
/// past it is refused as it decompresses.
const MAX_REPODATA: u64 = 2 << 30;

/// The forms a subdir's repodata may be served in, in the order they are tried.
const VARIANTS: [Compression; 3] = [Compression::Zstd, Compression::None, Compression::Bzip2];

#[derive(Debug, Clone, Copy)]
pub(super) enum Compression {
    Zstd,
    None,
    Bzip2,
}

impl Compression {
    fn file_name(self) -> &'static str {
        match self {
            Self::Zstd => "repodata.json.zst",
            Self::None => "repodata.json",
            Self::Bzip2 => "repodata.json.bz2",
        }
    }

    /// The JSON of `bytes`, refused past `limit` bytes; plain JSON is taken as it is, uncopied
    /// (mapped from the cache when it is large).
    fn decode(self, bytes: Body, limit: u64) -> std::io::Result<Body> {
        const WHAT: &str = "the decompressed repodata";
        let decoded = match self {
            Self::None if bytes.len() as u64 <= limit => return Ok(bytes),
            Self::None => read_capped(&bytes[..], limit, WHAT),
            Self::Zstd => read_capped(zstd::stream::read::Decoder::new(&bytes[..])?, limit, WHAT),
            Self::Bzip2 => read_capped(bzip2::read::BzDecoder::new(&bytes[..]), limit, WHAT),
        };
        decoded.map(Body::from)
    }
}

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

/// One subdir's repodata, indexed by package name, and where it was served.
pub(super) struct SubdirIndex {
    url: Url,
    /// The decompressed JSON, kept to name a malformed record in an error.
    json: bytes::Bytes,
    pub(super) sparse: SparseRepoData,
}

/// Fetches the repodata of every channel for `subdir` and `noarch`, all at once and each in its
/// preferred form (`.zst`, a tenth of the size, then plain JSON, then `.bz2`: every form asked
/// at once, a body read only where the forms before it are missing), and reads
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
        channels[*channel].records.extend(records);
    }
    Ok(channels)
}

/// What became of one subdir's repodata.
enum SubdirOutcome {
    Indexed(SubdirIndex),
    /// A `noarch` folder the channel does not have.
    Absent,
    Unfetched(FetchError),
    Unreadable(CondaError),
}

/// Every channel's `subdir` and `noarch` repodata that exist, indexed, in channel order, the
/// image's subdir first, each with its channel's position. Each is fetched and indexed on a
/// thread of its own, indexed the moment its body is in: a small `noarch` is indexed while a
/// large subdir still downloads (conda-forge's noarch is a third of its size).
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
            SubdirOutcome::Indexed(index) => indexes.push((channel, index)),
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
    let what = format!("Fetching conda repodata ({subdir})");
    let answer = fetcher
        .get_all_preferred(std::slice::from_ref(&forms), &what)
        .remove(0);
    let (form, bytes) = match answer {
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
    let (url, variant) = (&forms[form], VARIANTS[form]);
    let limit = fetcher.index_limit(MAX_REPODATA);
    let channel = conda_channel(repository);
    let indexed = fetcher.parse_or_refetch(url, bytes, None, |bytes| {
        index_repodata(variant, bytes, url, limit, &channel, subdir)
    });
    match indexed {
        Ok(index) => SubdirOutcome::Indexed(index),
        Err(error) => SubdirOutcome::Unreadable(error),
    }
}

/// Checks the `records` read from `index` of the channel `repository`: what each puts in its
/// URL and lock entry ([`check_record`]), and that a remote channel names only remote URLs.
pub(super) fn check_records(
    index: &SubdirIndex,
    records: &[RepoDataRecord],
    repository: &Repository,
) -> Result<(), CondaError> {
    for record in records {
        check_record(record).map_err(|reason| CondaError::UnjoinableRecord {
            url: index.url.to_string(),
            reason,
        })?;
        repository.check_named(&record.url, &record.identifier.to_file_name())?;
    }
    Ok(())
}

/// The repodata of `bytes`, served at `url` in the form `variant` for `channel`'s `subdir`, at
/// most `limit` bytes of JSON, indexed by package name; its records are read later, by name.
pub(super) fn index_repodata(
    variant: Compression,
    bytes: Body,
    url: &Url,
    limit: u64,
    channel: &Channel,
    subdir: &str,
) -> Result<SubdirIndex, CondaError> {
    let json = variant.decode(bytes, limit).map_err(|source| {
        let url = url.to_string();
        if crate::fetch::is_too_large(&source) {
            CondaError::TooLarge { url, source }
        } else {
            CondaError::Decompress { url, source }
        }
    })?;
    let not_repodata = |source| CondaError::NotRepodata {
        url: url.to_string(),
        source,
    };
    let base_url = base_url_of(&json).map_err(not_repodata)?;
    check_base_url(base_url.as_deref()).map_err(|reason| CondaError::UnjoinableRecord {
        url: url.to_string(),
        reason,
    })?;
    let sparse = SparseRepoData::from_bytes(channel.clone(), subdir, json.clone(), None)
        .map_err(not_repodata)?;
    Ok(SubdirIndex {
        url: url.clone(),
        json,
        sparse,
    })
}

/// The repodata's `base_url`, read before any record. When `info` is the first key, as conda's
/// tools write it, only `info` is read (a later key spelt `info` too makes the records' parse
/// fail, as a duplicate). Otherwise the whole JSON is read for it, unless it has neither
/// `base_url` nor a backslash: a key spelt with escapes (`"base\u005furl"`) is still a
/// `base_url`. (Scanning the JSON for them cost 8% of a warm conda-forge-sized resolve.)
fn base_url_of(json: &[u8]) -> Result<Option<String>, serde_json::Error> {
    let leading_info = json
        .trim_ascii_start()
        .strip_prefix(b"{")
        .map(<[u8]>::trim_ascii_start)
        .and_then(|rest| rest.strip_prefix(b"\"info\""))
        .map(<[u8]>::trim_ascii_start)
        .and_then(|rest| rest.strip_prefix(b":"));
    if let Some(value) = leading_info {
        let mut values =
            serde_json::Deserializer::from_slice(value).into_iter::<Option<HeadInfo>>();
        if let Some(info) = values.next() {
            return Ok(info?.and_then(|info| info.base_url));
        }
    }
    let may_have_base_url =
        memchr::memchr(b'\\', json).is_some() || memchr::memmem::find(json, b"base_url").is_some();
    if !may_have_base_url {
        return Ok(None);
    }
    let head: Head = serde_json::from_slice(json)?;
    Ok(head.info.and_then(|info| info.base_url))
}

/// What of a repodata's header is checked before any record is read.
#[derive(serde::Deserialize)]
struct Head {
    #[serde(default)]
    info: Option<HeadInfo>,
}

#[derive(serde::Deserialize)]
struct HeadInfo {
    #[serde(default)]
    base_url: Option<String>,
}

/// The records of `names` and of every package their dependencies name, from every index (one
/// list per index, in order), `.conda` preferred over `.tar.bz2` for the same build.
pub(super) fn load_records<'a>(
    indexes: impl Iterator<Item = &'a SubdirIndex> + Clone,
    names: &[PackageName],
) -> Result<Vec<Vec<RepoDataRecord>>, CondaError> {
    let sparse = indexes.clone().map(|index| &index.sparse);
    SparseRepoData::load_records_recursive(
        sparse,
        names.iter().cloned(),
        None,
        PackageFormatSelection::PreferConda,
    )
    .map_err(|source| unreadable_record(indexes, source))
}

/// The error for a record of `indexes` that did not read (`source`): the index and package it
/// is in, found by reading each package's records in turn, now that one is bad.
fn unreadable_record<'a>(
    mut indexes: impl Iterator<Item = &'a SubdirIndex>,
    source: std::io::Error,
) -> CondaError {
    let all = PackageFormatSelection::All;
    let bad = indexes.find_map(|index| {
        let package = index.sparse.package_names(all).find(|name| {
            let name = PackageName::new_unchecked(*name);
            index.sparse.load_records(&name, all).is_err()
        })?;
        Some((index, package.to_string()))
    });
    let Some((index, package)) = bad else {
        // Every package reads on its own: only the walk over them failed.
        return CondaError::BadRecord {
            url: "(the channels' repodata)".into(),
            package: "(a dependency)".into(),
            source,
        };
    };
    let url = index.url.to_string();
    match malformed_digest(&index.json) {
        Some((package, digest)) => CondaError::MalformedDigest {
            url,
            package,
            digest,
        },
        None => CondaError::BadRecord {
            url,
            package,
            source,
        },
    }
}

/// Checks the repodata's `base_url`, which `rattler_conda_types` joins into each record's URL
/// with `expect`: it must be an absolute URL that can be a base or a relative reference.
fn check_base_url(base: Option<&str>) -> Result<(), String> {
    let Some(base) = base else {
        return Ok(());
    };
    let joinable = match Url::parse(base) {
        Ok(base) => !base.cannot_be_a_base(),
        Err(url::ParseError::RelativeUrlWithoutBase) => Url::parse("https://channel.invalid/")
            .and_then(|channel| channel.join(base))
            .is_ok(),
        Err(_) => false,
    };
    if joinable {
        Ok(())
    } else {
        Err(format!(
            "its `base_url` `{}` is not a URL",
            base.escape_debug()
        ))
    }
}

/// Checks what a record puts in its URL and lock entry: a file name holding `/`, `\`, `:`,
/// `?`, `#` or a control character would point elsewhere, and a subdir that is not a plain name
/// (`linux-64`) is refused. Old channels (defaults among them) leave a record's subdir empty:
/// the channel's own subdir is meant.
fn check_record(record: &RepoDataRecord) -> Result<(), String> {
    let file = record.identifier.to_file_name();
    let plain_file = !file.is_empty()
        && !file.contains(['/', '\\', ':', '?', '#'])
        && !file.chars().any(char::is_control);
    if !plain_file {
        return Err(format!("it names the file `{}`", file.escape_debug()));
    }
    let subdir = record.package_record.subdir.as_str();
    if !subdir
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
    {
        return Err(format!(
            "its record `{file}` has the subdir `{}`",
            subdir.escape_debug()
        ));
    }
    Ok(())
}

/// The digests of one repodata record, as written.
#[derive(serde::Deserialize)]
struct RecordDigests {
    sha256: Option<serde_json::Value>,
    md5: Option<serde_json::Value>,
}

/// The first record of a repodata text that rattler refused whose `sha256` or `md5` is not a
/// well-formed digest, to name it in the error (read only once the text is known to be bad).
fn malformed_digest(json: &[u8]) -> Option<(String, crate::index_digest::MalformedDigest)> {
    #[derive(serde::Deserialize)]
    struct Records {
        #[serde(default)]
        packages: std::collections::BTreeMap<String, RecordDigests>,
        #[serde(default, rename = "packages.conda")]
        conda: std::collections::BTreeMap<String, RecordDigests>,
    }
    let records: Records = serde_json::from_slice(json).ok()?;
    records
        .packages
        .into_iter()
        .chain(records.conda)
        .find_map(|(file, digests)| {
            [("sha256", digests.sha256), ("md5", digests.md5)]
                .into_iter()
                .find_map(|(algorithm, value)| {
                    let text = match value? {
                        serde_json::Value::String(text) => text,
                        other => other.to_string(),
                    };
                    crate::index_digest::normalized(algorithm, &text).err()
                })
                .map(|error| (file.clone(), error))
        })
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
    use std::io::Read;

    fn test_url() -> Url {
        Url::parse("https://conda.example/forge/noarch/repodata.json").unwrap()
    }

    fn channel() -> Channel {
        Channel::from_url(ChannelUrl::from(
            Url::parse("https://conda.example/forge/").unwrap(),
        ))
    }

    /// The records of `names`' closure in the repodata `json`.
    fn records(json: &str, names: &[&str]) -> Result<Vec<RepoDataRecord>, CondaError> {
        let index = index_repodata(
            Compression::None,
            Body::from(json.as_bytes().to_vec()),
            &test_url(),
            MAX_REPODATA,
            &channel(),
            "linux-64",
        )?;
        let names: Vec<PackageName> = names
            .iter()
            .map(|n| PackageName::try_from(*n).unwrap())
            .collect();
        Ok(load_records(std::iter::once(&index), &names)?.remove(0))
    }

    /// A record of `name` 1.0 with build `build`, depending on `depends`.
    fn record(name: &str, build: &str, depends: &str) -> String {
        format!(
            r#"{{"name":"{name}","version":"1.0","build":"{build}","build_number":0,"depends":[{depends}],"subdir":"linux-64"}}"#
        )
    }

    #[test]
    fn the_conda_format_wins_over_tar_bz2_for_the_same_build() {
        let json = format!(
            r#"{{"info":{{"subdir":"linux-64"}},
                "packages":{{"lz4-1.0-h0.tar.bz2":{},"lz4-1.0-h1.tar.bz2":{}}},
                "packages.conda":{{"lz4-1.0-h0.conda":{}}}}}"#,
            record("lz4", "h0", ""),
            record("lz4", "h1", ""),
            record("lz4", "h0", "")
        );
        let mut kept: Vec<String> = records(&json, &["lz4"])
            .unwrap()
            .iter()
            .map(|r| r.identifier.to_file_name())
            .collect();
        kept.sort();
        assert_eq!(kept, ["lz4-1.0-h0.conda", "lz4-1.0-h1.tar.bz2"]);
    }

    #[test]
    fn only_the_closure_of_the_requested_names_is_read() {
        // `unrelated`'s record is not even a record: it is never parsed.
        let json = format!(
            r#"{{"info":{{"subdir":"linux-64"}},
                "packages.conda":{{"app-1.0-h0.conda":{},"lib-1.0-h0.conda":{},"unrelated-1.0-h0.conda":{{"name":7}}}}}}"#,
            record("app", "h0", r#""lib >=1""#),
            record("lib", "h0", "")
        );
        let mut names: Vec<String> = records(&json, &["app"])
            .unwrap()
            .iter()
            .map(|r| r.package_record.name.as_normalized().to_string())
            .collect();
        names.sort();
        assert_eq!(names, ["app", "lib"]);
        let error = records(&json, &["unrelated"]).unwrap_err();
        assert!(
            crate::causes::chain(&error).contains("is not a conda record"),
            "{error}"
        );
    }

    #[test]
    fn an_unreadable_record_is_named_by_its_own_package_not_the_request() {
        let json = format!(
            r#"{{"info":{{"subdir":"linux-64"}},
                "packages.conda":{{"app-1.0-h0.conda":{},"broken-1.0-h0.conda":{{"name":7}}}}}}"#,
            record("app", "h0", r#""broken >=1""#),
        );
        let error = records(&json, &["app"]).unwrap_err();
        assert!(
            matches!(&error, CondaError::BadRecord { package, .. } if package == "broken"),
            "{error}"
        );
    }

    #[test]
    fn a_base_url_that_is_not_a_url_is_refused_before_any_record_is_read() {
        let json = r#"{"info":{"subdir":"linux-64","base_url":"mailto:x"},"repodata_version":2,"packages":{}}"#;
        let error = records(json, &["lz4"]).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`base_url` `mailto:x` is not a URL"),
            "{error}"
        );
    }

    #[test]
    fn a_base_url_in_an_info_after_the_records_is_checked_too() {
        let json = r#"{"packages":{},"repodata_version":2,"info":{"subdir":"linux-64","base_url":"mailto:x"}}"#;
        let error = records(json, &["lz4"]).unwrap_err();
        assert!(
            matches!(error, CondaError::UnjoinableRecord { .. }),
            "{error}"
        );
        let ok = r#"{"packages":{},"info":{"subdir":"linux-64","base_url":"https://mirror.example/forge/linux-64/"}}"#;
        assert!(records(ok, &["lz4"]).unwrap().is_empty());
    }

    #[test]
    fn a_second_info_after_a_leading_one_is_refused_not_joined() {
        // Only the leading `info` is read for its `base_url`: a later one must never reach the
        // records' URLs.
        let json = r#"{"info":{"subdir":"linux-64"},"packages.conda":{"lz4-1.0-h0.conda":{"name":"lz4","version":"1.0","build":"h0","build_number":0,"depends":[],"subdir":"linux-64"}},"info":{"subdir":"linux-64","base_url":"mailto:x"}}"#;
        let error = records(json, &["lz4"]).unwrap_err();
        assert!(matches!(error, CondaError::NotRepodata { .. }), "{error}");
    }

    #[test]
    fn a_base_url_spelt_with_escapes_is_checked_too() {
        let json = r#"{"info":{"subdir":"linux-64","base\u005furl":"mailto:x"},"repodata_version":2,"packages.conda":{"lz4-1.0-h0.conda":{"name":"lz4","version":"1.0","build":"h0","build_number":0,"depends":[],"subdir":"linux-64"}}}"#;
        let error = records(json, &["lz4"]).unwrap_err();
        assert!(error.to_string().contains("is not a URL"), "{error}");
    }

    #[test]
    fn every_compression_reads_the_same_repodata() {
        let json = br#"{"info":{"subdir":"noarch"},"packages":{}}"#;
        let zst = zstd::encode_all(&json[..], 3).unwrap();
        let mut bz2 = Vec::new();
        bzip2::read::BzEncoder::new(&json[..], bzip2::Compression::fast())
            .read_to_end(&mut bz2)
            .unwrap();
        let index = |variant, bytes: &[u8], limit| {
            index_repodata(
                variant,
                Body::copy_from_slice(bytes),
                &test_url(),
                limit,
                &channel(),
                "noarch",
            )
        };
        for (variant, bytes) in [
            (Compression::None, json.to_vec()),
            (Compression::Zstd, zst),
            (Compression::Bzip2, bz2),
        ] {
            let read = index(variant, &bytes, MAX_REPODATA).unwrap();
            assert_eq!(read.sparse.subdir(), "noarch");
            // One byte under its length, each form is refused as too large.
            let limit = json.len() as u64 - 1;
            let Err(error) = index(variant, &bytes, limit) else {
                panic!("{variant:?} past its limit was read");
            };
            let text = crate::causes::chain(&error);
            assert!(text.contains("larger than 41 bytes"), "{text}");
        }
        assert!(index(Compression::Zstd, json, MAX_REPODATA).is_err());
    }

    #[test]
    fn platforms_map_to_subdirs() {
        let subdir = |text: &str| subdir_of(&text.parse().unwrap());
        assert_eq!(subdir("linux/amd64").unwrap(), "linux-64");
        assert_eq!(subdir("linux/arm64").unwrap(), "linux-aarch64");
        assert!(subdir("linux/386").is_err());
    }
}
