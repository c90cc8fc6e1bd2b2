//! The repodata fuzz target: a subdir's `repodata.json`, plain and compressed, indexed by name
//! (plain JSON also as it would arrive, in small chunks) and every name's records read with their
//! URLs as a remote channel's (`.conda` preferred over `.tar.bz2`), checked to stay on that
//! channel's side (remote). Seeds: the fixture channels and samples of the real repodata in the
//! shared corpus (thirty records of each).

use rattler_conda_types::{Channel, ChannelUrl, PackageName, RepoDataRecord};
use url::Url;

use super::error::CondaError;
use super::record_index::ArrivingIndex;
use super::subdir::{Compression, SubdirBody, check_records, index_repodata, load_records};
use crate::fuzz::{self, Outcome, seeds};
use crate::repository::Repository;

/// Tokens of repodata.
const DICTIONARY: &[&str] = &[
    "\"packages\":{",
    "\"packages.conda\":{",
    "\"info\":{\"subdir\":\"linux-64\",\"base_url\":\"",
    "\"repodata_version\":2,",
    "\"name\":",
    "\"version\":",
    "\"build\":",
    "\"build_number\":",
    "\"depends\":[",
    "\"constrains\":[",
    "\"sha256\":",
    "\"md5\":",
    "\"size\":",
    "\"subdir\":\"noarch\"",
    "\"noarch\":\"python\"",
    "\"timestamp\":",
    "file:///etc/",
    "https://other.example/",
    ".tar.bz2\":{",
    ".conda\":{",
    ">=1.0,<2",
    "\"",
    ",",
    ":",
    "{",
    "}",
    "[",
    "]",
];

/// The most decompressed bytes a fuzz input may expand to (the real bound is gigabytes).
const LIMIT: u64 = 16 << 20;

fn repodata_seeds() -> Vec<Vec<u8>> {
    let mut seeds = seeds::read("fixtures/conda", |name| name == "repodata.json", 16);
    for name in [
        "pytorch_linux-64_repodata.json",
        "conda-forge-numpy-linux-64.json",
        "r_linux-64.json",
    ] {
        let Some(path) = seeds::corpus(&format!("conda/{name}")) else {
            continue;
        };
        let bytes = std::fs::read(path).expect("read corpus repodata");
        let mut repodata: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
        for key in ["packages", "packages.conda"] {
            if let Some(records) = repodata.get_mut(key).and_then(|r| r.as_object_mut()) {
                let keep: Vec<String> = records.keys().take(30).cloned().collect();
                records.retain(|name, _| keep.contains(name));
            }
        }
        seeds.push(serde_json::to_vec(&repodata).expect("write repodata"));
    }
    seeds
}

/// Repodata is read or refused without a panic, the same when zstd-compressed; its records,
/// read by name, name only URLs a remote channel may name, or are refused for it.
fn property(input: &[u8]) -> Outcome {
    let url = Url::parse("https://conda.example/forge/linux-64/repodata.json")
        .map_err(|e| e.to_string())?;
    let channel = Channel::from_url(ChannelUrl::from(
        Url::parse("https://conda.example/forge/").map_err(|e| e.to_string())?,
    ));
    let index = |variant, bytes: &[u8], arrived| {
        let body = SubdirBody {
            variant,
            bytes: crate::fetch::Body::copy_from_slice(bytes),
            arrived,
        };
        index_repodata(body, &url, LIMIT, &channel, "linux-64")
    };
    let _ = index(Compression::Zstd, input, None);
    let _ = index(Compression::Bzip2, input, None);
    let plain = index(Compression::None, input, None);
    // As it would arrive, in chunks of a size its length chooses (1 to 64 bytes, so that steps
    // are cut everywhere).
    let arriving = ArrivingIndex::arrived_in_chunks(input, 1 + input.len() % 64);
    let arrived = index(Compression::None, input, Some(arriving));
    let zstd = zstd::encode_all(input, 1).map_err(|e| e.to_string())?;
    let compressed = index(Compression::Zstd, &zstd, None);
    if plain.is_ok() != compressed.is_ok() {
        return Err("zstd-compressed, the repodata reads differently".into());
    }
    if plain.is_err() && arrived.is_ok() {
        return Err("indexed while it arrived, a refused repodata reads".into());
    }
    let Ok(plain) = plain else {
        return Ok(());
    };
    let names: Vec<PackageName> = plain
        .package_names()
        .into_iter()
        .filter_map(|name| PackageName::try_from(name).ok())
        .collect();
    let loaded = load_records(std::iter::once(&plain), &names);
    let whole = index(Compression::None, input, None)
        .and_then(|index| index.read_whole())
        .and_then(|whole| load_records(std::iter::once(&whole), &names));
    let (by_name, by_rattler) = (urls(&loaded), urls(&whole));
    if by_name != by_rattler {
        return Err(format!(
            "read by name, the records differ from rattler's whole read: {by_name:?} against {by_rattler:?}"
        ));
    }
    let arrived = arrived
        .map_err(|error| format!("indexed while it arrived, the repodata is refused: {error}"))?;
    let by_arrival = urls(&load_records(std::iter::once(&arrived), &names));
    if by_arrival != by_name {
        return Err(format!(
            "indexed while it arrived, the records differ: {by_arrival:?} against {by_name:?}"
        ));
    }
    let Ok(loaded) = loaded else {
        return Ok(());
    };
    let repository = Repository::parse(
        "https://conda.example/forge",
        std::path::Path::new("/"),
        std::path::Path::new("/"),
    )
    .map_err(|e| e.to_string())?;
    for records in &loaded {
        if check_records(&plain, records, &repository).is_ok()
            && let Some(local) = records.iter().find(|r| r.url.scheme() == "file")
        {
            return Err(format!(
                "a remote channel names the local file {}",
                local.url
            ));
        }
    }
    Ok(())
}

/// The URLs of the records of the first subdir `loaded` holds, sorted; `None` when they did
/// not load.
fn urls(loaded: &Result<Vec<Vec<RepoDataRecord>>, CondaError>) -> Option<Vec<String>> {
    let lists = loaded.as_ref().ok()?;
    let mut urls: Vec<String> = lists[0].iter().map(|r| r.url.to_string()).collect();
    urls.sort();
    Some(urls)
}

#[test]
fn fuzz_repodata() {
    fuzz::bytes("repodata", repodata_seeds(), DICTIONARY, property);
}

#[test]
fn fuzz_regressions_replay() {
    fuzz::replay("repodata", property);
}
