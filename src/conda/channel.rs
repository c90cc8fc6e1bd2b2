//! conda channels: `<channel>/<subdir>/repodata.json` (or its `.zst` / `.bz2` variants) for the
//! image's subdir and `noarch`, every channel and subdir fetched in one parallel batch, parsed
//! with `rattler_conda_types` into records with their download URLs (`repodata_version` 2
//! `base_url` included). A remote channel's records may only point at remote URLs
//! ([`Repository::check_named`]).
//!
//! When a channel offers the same package version and build both as `.conda` and `.tar.bz2`,
//! only the `.conda` record is kept: it is the smaller download and the newer format.

use std::collections::HashSet;

use rattler_conda_types::{Channel, ChannelUrl, RepoData, RepoDataRecord};
use url::Url;

use super::error::CondaError;
use crate::fetch::{FetchError, FetchErrors, Fetcher, read_capped};
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

    /// The JSON of `bytes`, refused past `limit` bytes.
    fn decode(self, bytes: &[u8], limit: u64) -> std::io::Result<Vec<u8>> {
        const WHAT: &str = "the decompressed repodata";
        match self {
            Self::None => read_capped(bytes, limit, WHAT),
            Self::Zstd => read_capped(zstd::stream::read::Decoder::new(bytes)?, limit, WHAT),
            Self::Bzip2 => read_capped(bzip2::read::BzDecoder::new(bytes), limit, WHAT),
        }
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

/// Fetches the repodata of every channel for `subdir` and `noarch`, all at once: first every
/// `.zst` (a tenth of the size), then, in a second batch, plain JSON where that was missing, then
/// `.bz2`.
pub fn fetch_channels(
    fetcher: &Fetcher,
    repositories: &[Repository],
    subdir: &str,
) -> Result<Vec<ChannelRecords>, CondaError> {
    // (channel, subdir) pairs still without repodata, and what each one got.
    let mut pending: Vec<(usize, &str)> = (0..repositories.len())
        .flat_map(|channel| [(channel, subdir), (channel, "noarch")])
        .collect();
    let mut found: Vec<(usize, &str, Url, Compression, Vec<u8>)> = Vec::new();
    let mut errors = Vec::new();
    for variant in VARIANTS {
        if pending.is_empty() {
            break;
        }
        let urls: Vec<Url> = pending
            .iter()
            .map(|(channel, subdir)| {
                repositories[*channel]
                    .file(&format!("{subdir}/{}", variant.file_name()))
                    .0
            })
            .collect();
        let bodies = fetcher.get_all(&urls, "Fetching conda repodata");
        let mut still = Vec::new();
        for (((channel, subdir), url), body) in pending.into_iter().zip(urls).zip(bodies) {
            match body {
                Ok(bytes) => found.push((channel, subdir, url, variant, bytes)),
                Err(error) if error.is_not_found() => still.push((channel, subdir)),
                Err(error) => errors.push(error),
            }
        }
        pending = still;
    }
    // A channel without noarch packages may have no noarch folder at all.
    for (channel, subdir) in pending {
        if subdir != "noarch" {
            errors.push(FetchError::NotFound {
                url: repositories[channel]
                    .file(&format!("{subdir}/repodata.json"))
                    .0
                    .to_string(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(FetchErrors {
            what: "conda repodata files",
            errors,
        }
        .into());
    }
    // The image's subdir before noarch, in channel order.
    found.sort_by_key(|(channel, subdir, ..)| (*channel, *subdir == "noarch"));
    let mut channels: Vec<ChannelRecords> = repositories
        .iter()
        .map(|repository| ChannelRecords {
            repository: repository.clone(),
            channel: conda_channel(repository).base_url.as_str().to_string(),
            records: Vec::new(),
        })
        .collect();
    let limit = fetcher.index_limit(MAX_REPODATA);
    for (channel, _, url, variant, bytes) in found {
        let repodata = fetcher.parse_or_refetch(&url, &bytes, None, |bytes| {
            parse_repodata(variant, bytes, &url, limit)
        })?;
        let records = repodata.into_repo_data_records(&conda_channel(&repositories[channel]));
        for record in &records {
            repositories[channel].check_named(&record.url, &record.identifier.to_file_name())?;
        }
        channels[channel]
            .records
            .extend(prefer_conda_format(records));
    }
    Ok(channels)
}

/// The repodata of `bytes`, served at `url` in the form `variant`, at most `limit` bytes of JSON.
pub(super) fn parse_repodata(
    variant: Compression,
    bytes: &[u8],
    url: &Url,
    limit: u64,
) -> Result<RepoData, CondaError> {
    let json = variant.decode(bytes, limit).map_err(|source| {
        let url = url.to_string();
        if crate::fetch::is_too_large(&source) {
            CondaError::TooLarge { url, source }
        } else {
            CondaError::Decompress { url, source }
        }
    })?;
    let repodata: RepoData =
        serde_json::from_slice(&json).map_err(|source| match malformed_digest(&json) {
            Some((package, digest)) => CondaError::MalformedDigest {
                url: url.to_string(),
                package,
                digest,
            },
            None => CondaError::NotRepodata {
                url: url.to_string(),
                source,
            },
        })?;
    check_joinable(&repodata).map_err(|reason| CondaError::UnjoinableRecord {
        url: url.to_string(),
        reason,
    })?;
    Ok(repodata)
}

/// Checks what `rattler_conda_types` joins into each record's URL, which it does with `expect`:
/// a `base_url` that is neither an absolute URL that can be a base nor a relative reference,
/// a record's subdir that is not a plain name (`linux-64`), or a file name holding `/`, `\`,
/// `:`, `?`, `#` or a control character would make it panic (or point elsewhere).
fn check_joinable(repodata: &RepoData) -> Result<(), String> {
    if let Some(base) = repodata.info.as_ref().and_then(|i| i.base_url.as_deref()) {
        let joinable = match Url::parse(base) {
            Ok(base) => !base.cannot_be_a_base(),
            Err(url::ParseError::RelativeUrlWithoutBase) => Url::parse("https://channel.invalid/")
                .and_then(|channel| channel.join(base))
                .is_ok(),
            Err(_) => false,
        };
        if !joinable {
            return Err(format!(
                "its `base_url` `{}` is not a URL",
                base.escape_debug()
            ));
        }
    }
    // Old channels (defaults among them) leave a record's subdir empty: the channel's own
    // subdir is meant.
    let plain_subdir = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
    };
    let plain_file = |s: &str| {
        !s.is_empty() && !s.contains(['/', '\\', ':', '?', '#']) && !s.chars().any(char::is_control)
    };
    let v3 = &repodata.v3;
    let records = (repodata.packages.iter().chain(&repodata.conda_packages))
        .map(|(id, record)| (id.to_file_name(), record.subdir.as_str()))
        .chain(
            (v3.tar_bz2.iter().chain(&v3.conda)).map(|(id, r)| (id.to_string(), r.subdir.as_str())),
        )
        .chain(
            v3.whl
                .iter()
                .map(|(id, r)| (id.to_string(), r.package_record.subdir.as_str())),
        );
    for (file, subdir) in records {
        if !plain_file(&file) {
            return Err(format!("it names the file `{}`", file.escape_debug()));
        }
        if !plain_subdir(subdir) {
            return Err(format!(
                "its record `{file}` has the subdir `{}`",
                subdir.escape_debug()
            ));
        }
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

/// Drops `.tar.bz2` records whose package, version and build the channel also has as `.conda`.
pub(super) fn prefer_conda_format(records: Vec<RepoDataRecord>) -> Vec<RepoDataRecord> {
    let stem = |record: &RepoDataRecord| {
        let name = record.identifier.to_file_name();
        name.strip_suffix(".conda")
            .or_else(|| name.strip_suffix(".tar.bz2"))
            .map(str::to_string)
    };
    let with_conda: HashSet<(String, String)> = records
        .iter()
        .filter(|r| r.identifier.to_file_name().ends_with(".conda"))
        .filter_map(|r| Some((r.package_record.subdir.clone(), stem(r)?)))
        .collect();
    records
        .into_iter()
        .filter(|r| {
            let name = r.identifier.to_file_name();
            !(name.ends_with(".tar.bz2")
                && stem(r)
                    .is_some_and(|s| with_conda.contains(&(r.package_record.subdir.clone(), s))))
        })
        .collect()
}

/// The conda channel a repository is: its URL as the base of the subdirs.
fn conda_channel(repository: &Repository) -> Channel {
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

    fn repodata(json: &str) -> Vec<RepoDataRecord> {
        let repodata: RepoData = serde_json::from_str(json).unwrap();
        let channel = Channel::from_url(ChannelUrl::from(
            Url::parse("https://conda.example/forge/").unwrap(),
        ));
        repodata.into_repo_data_records(&channel)
    }

    #[test]
    fn the_conda_format_wins_over_tar_bz2_for_the_same_build() {
        let record = |build: &str| {
            format!(
                r#"{{"name":"lz4","version":"1.0","build":"{build}","build_number":0,"depends":[],"subdir":"linux-64"}}"#
            )
        };
        let records = repodata(&format!(
            r#"{{"info":{{"subdir":"linux-64"}},
                "packages":{{"lz4-1.0-h0.tar.bz2":{},"lz4-1.0-h1.tar.bz2":{}}},
                "packages.conda":{{"lz4-1.0-h0.conda":{}}}}}"#,
            record("h0"),
            record("h1"),
            record("h0")
        ));
        let mut kept: Vec<String> = prefer_conda_format(records)
            .iter()
            .map(|r| r.identifier.to_file_name())
            .collect();
        kept.sort();
        assert_eq!(kept, ["lz4-1.0-h0.conda", "lz4-1.0-h1.tar.bz2"]);
    }

    #[test]
    fn every_compression_reads_the_same_repodata() {
        let json = br#"{"info":{"subdir":"noarch"},"packages":{}}"#;
        let zst = zstd::encode_all(&json[..], 3).unwrap();
        let mut bz2 = Vec::new();
        bzip2::read::BzEncoder::new(&json[..], bzip2::Compression::fast())
            .read_to_end(&mut bz2)
            .unwrap();
        for (variant, bytes) in [
            (Compression::None, json.to_vec()),
            (Compression::Zstd, zst),
            (Compression::Bzip2, bz2),
        ] {
            let repodata = parse_repodata(variant, &bytes, &test_url(), MAX_REPODATA).unwrap();
            assert_eq!(repodata.info.unwrap().subdir.as_deref(), Some("noarch"));
            // One byte under its length, each form is refused as too large.
            let limit = json.len() as u64 - 1;
            let error = parse_repodata(variant, &bytes, &test_url(), limit).unwrap_err();
            let text = crate::causes::chain(&error);
            assert!(text.contains("larger than 41 bytes"), "{text}");
        }
        assert!(parse_repodata(Compression::Zstd, json, &test_url(), MAX_REPODATA).is_err());
    }

    #[test]
    fn platforms_map_to_subdirs() {
        let subdir = |text: &str| subdir_of(&text.parse().unwrap());
        assert_eq!(subdir("linux/amd64").unwrap(), "linux-64");
        assert_eq!(subdir("linux/arm64").unwrap(), "linux-aarch64");
        assert!(subdir("linux/386").is_err());
    }
}
