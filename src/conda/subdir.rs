//! One subdir's repodata once fetched: decompressed (up to a limit), its `base_url` checked,
//! indexed by package name ([`record_index`](super::record_index), or rattler's sparse index
//! for a repodata that one does not read), and the records of a request's closure loaded from
//! it by rattler, each checked for what it puts in its URL and lock entry.

use rattler_conda_types::{Channel, PackageName, RepoDataRecord};
use rattler_repodata_gateway::sparse::{PackageFormatSelection, SparseRepoData};
use url::Url;

use super::closure_records;
use super::error::CondaError;
use super::record_index::{ArrivingIndex, RecordIndex};
use crate::fetch::{Body, read_capped};
use crate::repository::Repository;

/// The most bytes a subdir's repodata may have once decompressed: several times the largest
/// real one (conda-forge's `linux-64`, a few hundred MB of JSON); a `.zst` or `.bz2` that expands
/// past it is refused as it decompresses.
pub(super) const MAX_REPODATA: u64 = 2 << 30;

/// Which of a build's files is read: `.conda` where there is one, as conda does.
const FORMATS: PackageFormatSelection = PackageFormatSelection::PreferConda;

#[derive(Debug, Clone, Copy)]
pub(super) enum Compression {
    Zstd,
    None,
    Bzip2,
}

impl Compression {
    pub(super) fn file_name(self) -> &'static str {
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

/// One subdir's repodata, indexed by package name, and where it was served.
pub(super) struct SubdirIndex {
    url: Url,
    /// The decompressed JSON.
    json: bytes::Bytes,
    channel: Channel,
    subdir: String,
    records: SubdirRecords,
}

/// How a subdir's records are found.
enum SubdirRecords {
    /// By imglock's own index: only the packages a request reaches are cut out for rattler to
    /// read, one at a time.
    ByName(RecordIndex),
    /// By rattler's sparse index of the whole repodata (one that [`RecordIndex`] does not read).
    Whole(SparseRepoData),
}

impl SubdirIndex {
    /// The names of the packages with records here, each once.
    #[cfg(test)]
    pub(super) fn package_names(&self) -> Vec<String> {
        let all = PackageFormatSelection::All;
        match &self.records {
            SubdirRecords::ByName(index) => index.package_names(&self.json),
            SubdirRecords::Whole(sparse) => sparse.package_names(all).map(str::to_string).collect(),
        }
    }

    /// This repodata as rattler reads it, whole (for a test comparing both ways).
    #[cfg(test)]
    pub(super) fn read_whole(mut self) -> Result<Self, CondaError> {
        let sparse = self
            .whole_sparse()
            .map_err(|source| CondaError::NotRepodata {
                url: self.url.to_string(),
                source,
            })?;
        self.records = SubdirRecords::Whole(sparse);
        Ok(self)
    }

    fn whole_sparse(&self) -> Result<SparseRepoData, serde_json::Error> {
        sparse_of(&self.channel, &self.subdir, &self.json)
    }
}

/// rattler's sparse index of the repodata `json` of `channel`'s `subdir`.
fn sparse_of(
    channel: &Channel,
    subdir: &str,
    json: &bytes::Bytes,
) -> Result<SparseRepoData, serde_json::Error> {
    SparseRepoData::from_bytes(channel.clone(), subdir, json.clone(), None)
}

/// Checks the `records` read from `index` of the channel `repository`: what each puts in its
/// URL and lock entry ([`check_record`]), and that a remote channel names only remote URLs.
pub(super) fn check_records(
    index: &SubdirIndex,
    records: &[RepoDataRecord],
    repository: &Repository,
) -> Result<(), CondaError> {
    for record in records {
        let file = record.identifier.to_file_name();
        check_record(record, &file).map_err(|reason| CondaError::UnjoinableRecord {
            url: index.url.to_string(),
            reason,
        })?;
        repository.check_named(&record.url, &file)?;
    }
    Ok(())
}

/// A subdir's repodata as it was fetched.
pub(super) struct SubdirBody {
    /// The form it was served in.
    pub(super) variant: Compression,
    pub(super) bytes: Body,
    /// Its index, made while it arrived, if it was (plain JSON only).
    pub(super) arrived: Option<ArrivingIndex>,
}

/// The repodata of `body`, served at `url` for `channel`'s `subdir`, at most `limit` bytes of
/// JSON, indexed by package name; its records are read later, by name.
pub(super) fn index_repodata(
    body: SubdirBody,
    url: &Url,
    limit: u64,
    channel: &Channel,
    subdir: &str,
) -> Result<SubdirIndex, CondaError> {
    let json = body.variant.decode(body.bytes, limit).map_err(|source| {
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
    let by_name = match body.arrived {
        Some(arrived) => arrived.finish(&json),
        None => RecordIndex::build(&json),
    };
    let records = match by_name {
        Some(by_name) => SubdirRecords::ByName(by_name),
        None => SubdirRecords::Whole(sparse_of(channel, subdir, &json).map_err(not_repodata)?),
    };
    Ok(SubdirIndex {
        url: url.clone(),
        json,
        channel: channel.clone(),
        subdir: subdir.to_string(),
        records,
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

/// A subdir's records as rattler reads them: the repodata of one package, or the whole.
struct Readable<'a> {
    url: &'a Url,
    json: bytes::Bytes,
    sparse: Sparse<'a>,
}

/// rattler's index of a subdir: made for the request, or the subdir's own.
enum Sparse<'a> {
    Owned(SparseRepoData),
    Shared(&'a SparseRepoData),
}

impl Sparse<'_> {
    fn get(&self) -> &SparseRepoData {
        match self {
            Self::Owned(sparse) => sparse,
            Self::Shared(sparse) => sparse,
        }
    }
}

/// The records of `names` and of every package their dependencies name, from every index (one
/// list per index, in order), `.conda` preferred over `.tar.bz2` for the same build. When every
/// index is imglock's own, rattler reads only the records of the packages the walk from `names`
/// reaches, each cut out of its repodata on its own ([`closure_records`]); else it reads every
/// repodata whole.
pub(super) fn load_records<'a>(
    indexes: impl Iterator<Item = &'a SubdirIndex> + Clone,
    names: &[PackageName],
) -> Result<Vec<Vec<RepoDataRecord>>, CondaError> {
    let by_name: Option<Vec<ByName<'a>>> = indexes
        .clone()
        .map(|index| match &index.records {
            SubdirRecords::ByName(records) => Some(ByName { index, records }),
            SubdirRecords::Whole(_) => None,
        })
        .collect();
    if let Some(by_name) = by_name {
        return closure_records::load(&by_name, names);
    }
    let readable = indexes.map(whole_readable).collect::<Result<Vec<_>, _>>()?;
    let subdirs: Vec<&SparseRepoData> = readable.iter().map(|r| r.sparse.get()).collect();
    SparseRepoData::load_records_recursive(subdirs, names.iter().cloned(), None, FORMATS)
        .map_err(|source| unreadable_record(&readable, source))
}

/// `index` as rattler reads it whole.
fn whole_readable(index: &SubdirIndex) -> Result<Readable<'_>, CondaError> {
    let sparse = match &index.records {
        SubdirRecords::ByName(_) => Sparse::Owned(
            index
                .whole_sparse()
                .map_err(|source| not_repodata(index, source))?,
        ),
        SubdirRecords::Whole(sparse) => Sparse::Shared(sparse),
    };
    Ok(Readable {
        url: &index.url,
        json: index.json.clone(),
        sparse,
    })
}

fn not_repodata(index: &SubdirIndex, source: serde_json::Error) -> CondaError {
    CondaError::NotRepodata {
        url: index.url.to_string(),
        source,
    }
}

/// A subdir imglock indexed, read by rattler a package at a time.
struct ByName<'a> {
    index: &'a SubdirIndex,
    records: &'a RecordIndex,
}

impl ByName<'_> {
    /// The repodata of the records of the package `name` here, as rattler reads it.
    fn cut_of(&self, name: &str) -> Result<Readable<'_>, CondaError> {
        let index = self.index;
        let json = bytes::Bytes::from(self.records.repodata_of(&index.json, name));
        let sparse = sparse_of(&index.channel, &index.subdir, &json)
            .map_err(|source| not_repodata(index, source))?;
        Ok(Readable {
            url: &index.url,
            json,
            sparse: Sparse::Owned(sparse),
        })
    }
}

impl closure_records::Packages for ByName<'_> {
    fn bytes_of(&self, name: &str) -> usize {
        self.records.bytes_of(&self.index.json, name)
    }

    /// Reads the package's cut ([`RecordIndex::repodata_of`]); a record that does not read is
    /// named from that cut.
    fn load(&self, name: &PackageName) -> Result<Vec<RepoDataRecord>, CondaError> {
        let readable = self.cut_of(name.as_normalized())?;
        readable
            .sparse
            .get()
            .load_records(name, FORMATS)
            .map_err(|source| unreadable_record(std::slice::from_ref(&readable), source))
    }
}

/// The error for a record of `readable` that did not read (`source`): the repodata and package
/// it is in, found by reading each package's records in turn, now that one is bad.
fn unreadable_record(readable: &[Readable<'_>], source: std::io::Error) -> CondaError {
    let all = PackageFormatSelection::All;
    let bad = readable.iter().find_map(|readable| {
        let sparse = readable.sparse.get();
        let package = sparse.package_names(all).find(|name| {
            let name = PackageName::new_unchecked(*name);
            sparse.load_records(&name, all).is_err()
        })?;
        Some((readable, package.to_string()))
    });
    let Some((readable, package)) = bad else {
        // Every package reads on its own: only the walk over them failed.
        return CondaError::BadRecord {
            url: "(the channels' repodata)".into(),
            package: "(a dependency)".into(),
            source,
        };
    };
    let url = readable.url.to_string();
    match malformed_digest(&readable.json) {
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

/// Checks what a record (its file name `file`) puts in its URL and lock entry: a file name
/// holding `/`, `\`, `:`, `?`, `#` or a control character would point elsewhere, and a subdir
/// that is not a plain name (`linux-64`) is refused. Old channels (defaults among them) leave a
/// record's subdir empty: the channel's own subdir is meant.
fn check_record(record: &RepoDataRecord, file: &str) -> Result<(), String> {
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

#[cfg(test)]
mod tests;
