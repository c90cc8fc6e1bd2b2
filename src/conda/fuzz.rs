//! The repodata fuzz target: a subdir's `repodata.json`, plain and compressed, indexed by name
//! and every name's records read with their URLs as a remote channel's (`.conda` preferred over
//! `.tar.bz2`), checked to stay on that channel's side (remote). Seeds: the fixture channels and samples of the
//! real repodata in the shared corpus (thirty records of each).

use rattler_conda_types::{Channel, ChannelUrl, PackageName};
use url::Url;

use super::subdir::{Compression, check_records, index_repodata, load_records};
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
    let index = |variant, bytes: &[u8]| {
        index_repodata(
            variant,
            crate::fetch::Body::copy_from_slice(bytes),
            &url,
            LIMIT,
            &channel,
            "linux-64",
        )
    };
    let _ = index(Compression::Zstd, input);
    let _ = index(Compression::Bzip2, input);
    let plain = index(Compression::None, input);
    let zstd = zstd::encode_all(input, 1).map_err(|e| e.to_string())?;
    let compressed = index(Compression::Zstd, &zstd);
    if plain.is_ok() != compressed.is_ok() {
        return Err("zstd-compressed, the repodata reads differently".into());
    }
    let Ok(plain) = plain else {
        return Ok(());
    };
    let repository = Repository::parse(
        "https://conda.example/forge",
        std::path::Path::new("/"),
        std::path::Path::new("/"),
    )
    .map_err(|e| e.to_string())?;
    let names: Vec<PackageName> = plain
        .package_names()
        .into_iter()
        .filter_map(|name| PackageName::try_from(name).ok())
        .collect();
    let loaded = load_records(std::iter::once(&plain), &names);
    let whole = index(Compression::None, input)
        .and_then(|index| index.read_whole())
        .and_then(|whole| load_records(std::iter::once(&whole), &names));
    let files = |loaded: &Result<Vec<Vec<_>>, _>| {
        loaded
            .as_ref()
            .ok()
            .map(|lists: &Vec<Vec<rattler_conda_types::RepoDataRecord>>| {
                let mut files: Vec<String> = lists[0].iter().map(|r| r.url.to_string()).collect();
                files.sort();
                files
            })
    };
    let (by_name, by_rattler) = (files(&loaded), files(&whole));
    if by_name != by_rattler {
        return Err(format!(
            "read by name, the records differ from rattler's whole read: {by_name:?} against {by_rattler:?}"
        ));
    }
    let Ok(loaded) = loaded else {
        return Ok(());
    };
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

#[test]
fn fuzz_repodata() {
    fuzz::bytes("repodata", repodata_seeds(), DICTIONARY, property);
}

#[test]
fn fuzz_regressions_replay() {
    fuzz::replay("repodata", property);
}
