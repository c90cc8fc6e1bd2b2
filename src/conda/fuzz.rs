//! The repodata fuzz target: a subdir's `repodata.json`, plain and compressed, read into records
//! with their URLs as a remote channel's, checked to stay on that channel's side (remote), and
//! deduplicated between `.conda` and `.tar.bz2`. Seeds: the fixture channels and samples of the
//! real repodata in the shared corpus (thirty records of each).

use rattler_conda_types::{Channel, ChannelUrl};
use url::Url;

use super::channel::{Compression, parse_repodata, prefer_conda_format};
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

/// Repodata is read or refused without a panic, the same when zstd-compressed; its records name
/// only URLs a remote channel may name, or are refused for it.
fn property(input: &[u8]) -> Outcome {
    let url = Url::parse("https://conda.example/forge/linux-64/repodata.json")
        .map_err(|e| e.to_string())?;
    let _ = parse_repodata(Compression::Zstd, input, &url, LIMIT);
    let _ = parse_repodata(Compression::Bzip2, input, &url, LIMIT);
    let plain = parse_repodata(Compression::None, input, &url, LIMIT);
    let zstd = zstd::encode_all(input, 1).map_err(|e| e.to_string())?;
    let compressed = parse_repodata(Compression::Zstd, &zstd, &url, LIMIT);
    if plain.is_ok() != compressed.is_ok() {
        return Err("zstd-compressed, the repodata reads differently".into());
    }
    let Ok(repodata) = plain else {
        return Ok(());
    };
    let repository = Repository::parse(
        "https://conda.example/forge",
        std::path::Path::new("/"),
        std::path::Path::new("/"),
    )
    .map_err(|e| e.to_string())?;
    let channel = Channel::from_url(ChannelUrl::from(
        Url::parse("https://conda.example/forge/").map_err(|e| e.to_string())?,
    ));
    let records = repodata.into_repo_data_records(&channel);
    for record in &records {
        let named = repository.check_named(&record.url, &record.identifier.to_file_name());
        if named.is_ok() && record.url.scheme() == "file" {
            return Err(format!(
                "a remote channel names the local file {}",
                record.url
            ));
        }
    }
    let _ = prefer_conda_format(records);
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
