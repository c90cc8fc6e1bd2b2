//! How a subdir's repodata is read: compressions, `base_url`, the closure, bad records.

use super::*;
use rattler_conda_types::ChannelUrl;
use std::io::Read;

fn test_url() -> Url {
    Url::parse("https://conda.example/forge/noarch/repodata.json").unwrap()
}

fn channel() -> Channel {
    Channel::from_url(ChannelUrl::from(
        Url::parse("https://conda.example/forge/").unwrap(),
    ))
}

/// The repodata `json` (uncompressed), indexed.
fn index(json: &str) -> Result<SubdirIndex, CondaError> {
    let body = SubdirBody {
        variant: Compression::None,
        bytes: Body::from(json.as_bytes().to_vec()),
        arrived: None,
    };
    index_repodata(body, &test_url(), MAX_REPODATA, &channel(), "linux-64")
}

/// The records of `names`' closure in the repodata `json`.
fn records(json: &str, names: &[&str]) -> Result<Vec<RepoDataRecord>, CondaError> {
    let index = index(json)?;
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
fn a_package_reached_only_through_extra_depends_is_read_as_rattler_reads_it() {
    let json = format!(
        r#"{{"info":{{"subdir":"linux-64"}},
            "packages.conda":{{"app-1.0-h0.conda":{},"opt-1.0-h0.conda":{},"other-1.0-h0.conda":{}}}}}"#,
        record("app", "h0", "").replace(
            r#""build_number":0"#,
            r#""build_number":0,"extra_depends":{"gui":["opt >=1"]}"#
        ),
        record("opt", "h0", ""),
        record("other", "h0", "")
    );
    let names = |records: Vec<RepoDataRecord>| {
        let mut names: Vec<String> = records
            .iter()
            .map(|r| r.package_record.name.as_normalized().to_string())
            .collect();
        names.sort();
        names
    };
    let by_name = names(records(&json, &["app"]).unwrap());
    assert_eq!(by_name, ["app", "opt"]);
    let whole = index(&json).unwrap().read_whole().unwrap();
    let app = [PackageName::try_from("app").unwrap()];
    let by_rattler = load_records(std::iter::once(&whole), &app)
        .unwrap()
        .remove(0);
    assert_eq!(by_name, names(by_rattler));
}

#[test]
fn a_package_named_only_by_a_tar_bz2_whose_conda_is_preferred_is_left_out_as_rattler_leaves_it() {
    // `app`'s `.tar.bz2` depends on `old`, which reads, and `bad`, whose one record does not;
    // its `.conda`, which is the one read, depends on `new`.
    let json = format!(
        r#"{{"info":{{"subdir":"linux-64"}},
            "packages":{{"app-1.0-h0.tar.bz2":{},"old-1.0-h0.tar.bz2":{},"bad-1.0-h0.tar.bz2":{{"name":7}}}},
            "packages.conda":{{"app-1.0-h0.conda":{},"new-1.0-h0.conda":{}}}}}"#,
        record("app", "h0", r#""old", "bad""#),
        record("old", "h0", ""),
        record("app", "h0", r#""new""#),
        record("new", "h0", "")
    );
    let files = |records: Vec<RepoDataRecord>| {
        let mut files: Vec<String> = records
            .iter()
            .map(|r| r.identifier.to_file_name())
            .collect();
        files.sort();
        files
    };
    let by_name = files(records(&json, &["app"]).unwrap());
    assert_eq!(by_name, ["app-1.0-h0.conda", "new-1.0-h0.conda"]);
    let whole = index(&json).and_then(SubdirIndex::read_whole).unwrap();
    let app = [PackageName::try_from("app").unwrap()];
    let by_rattler = load_records(std::iter::once(&whole), &app)
        .unwrap()
        .remove(0);
    assert_eq!(by_name, files(by_rattler));
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
        let body = SubdirBody {
            variant,
            bytes: Body::copy_from_slice(bytes),
            arrived: None,
        };
        index_repodata(body, &test_url(), limit, &channel(), "noarch")
    };
    for (variant, bytes) in [
        (Compression::None, json.to_vec()),
        (Compression::Zstd, zst),
        (Compression::Bzip2, bz2),
    ] {
        let read = index(variant, &bytes, MAX_REPODATA).unwrap();
        assert_eq!(read.subdir, "noarch");
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
