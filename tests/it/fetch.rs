//! The fetch layer against a hostile world: damaged cache entries are replaced, never used; a
//! truncated or unparsable index is never kept; a server that drips bytes or never finishes is
//! dropped after the configured limits.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::Digest;

use crate::support::{Fault, Project, Server, fixture_copy, spec, stderr};

const PACKAGES_GZ: &str = "/cran/src/contrib/PACKAGES.gz";

/// A project locking one CRAN package from `server`.
fn cran_project(server: &Server) -> Project {
    Project::new(&spec(
        &format!("cran = [\"{}/cran\"]", server.url()),
        "[[layer]]\nname = \"r\"\ncran = [\"tinyleaf\"]\n",
    ))
}

/// Every artifact blob of a cache.
fn blobs(cache: &Path) -> Vec<PathBuf> {
    let dir = cache.join("artifacts/sha256");
    let mut blobs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| !path.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    blobs.sort();
    blobs
}

fn assert_blobs_intact(cache: &Path) {
    for blob in blobs(cache) {
        let bytes = std::fs::read(&blob).unwrap();
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&bytes)),
            blob.file_name().unwrap().to_string_lossy(),
            "{} is damaged",
            blob.display()
        );
    }
}

#[test]
fn a_damaged_cached_artifact_is_fetched_again_and_replaced() {
    let repos = fixture_copy();
    let server = Server::start(repos.path());
    let project = cran_project(&server);
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert!(!blobs(project.cache.path()).is_empty());

    type Damage = fn(&Path);
    let damages: [(&str, Damage); 2] = [
        // What a crash before the disk caught up leaves.
        ("zero-length", |blob| std::fs::write(blob, b"").unwrap()),
        ("one flipped byte", |blob| {
            let mut bytes = std::fs::read(blob).unwrap();
            bytes[10] ^= 0x20;
            std::fs::write(blob, bytes).unwrap();
        }),
    ];
    for (what, damage) in damages {
        for blob in blobs(project.cache.path()) {
            damage(&blob);
        }
        let output = project.run(&["resolve"]);
        assert!(output.status.success(), "{what}: {}", stderr(&output));
        assert_eq!(project.lock().unwrap(), lock, "{what}");
        assert_blobs_intact(project.cache.path());
    }
}

#[test]
fn offline_with_a_damaged_cache_says_damaged_and_what_fixes_it() {
    let repos = fixture_copy();
    let server = Server::start(repos.path());
    let project = cran_project(&server);
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    let offline = || project.run(&["resolve", "--offline"]);
    assert!(offline().status.success(), "{}", stderr(&offline()));

    // A damaged artifact, then a damaged index body: each named as damaged, not as missing.
    let (index_body, _) = http_entry(project.cache.path(), PACKAGES_GZ);
    let damages: [&Path; 2] = [&blobs(project.cache.path())[0], &index_body];
    for damaged in damages {
        let mut bytes = std::fs::read(damaged).unwrap();
        bytes[10] ^= 0x20;
        std::fs::write(damaged, bytes).unwrap();
        let output = offline();
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert!(
            text.contains("is damaged")
                && text.contains("run once without `--offline` to replace it")
                && !text.contains("not in the cache"),
            "{text}"
        );
        // What the message says fixes it.
        let output = project.run(&["resolve"]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(offline().status.success(), "{}", stderr(&offline()));
        assert_eq!(project.lock().unwrap(), lock);
    }
}

#[test]
fn a_truncated_index_is_never_cached_with_its_etag() {
    let repos = fixture_copy();
    let server = Server::start(repos.path());
    let project = cran_project(&server);
    server.inject(PACKAGES_GZ, vec![Fault::Truncate; 4]);
    let output = project.run(&["resolve"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains(PACKAGES_GZ), "{}", stderr(&output));
    // The server now answers in full, or 304 to the ETag the truncated answer carried.
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
}

/// The cache file of the HTTP body of the URL ending in `suffix`, and its first line (the
/// validators, as JSON).
fn http_entry(cache: &Path, suffix: &str) -> (PathBuf, serde_json::Value) {
    for entry in std::fs::read_dir(cache.join("http")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let end = bytes.iter().position(|byte| *byte == b'\n').unwrap();
        let json: serde_json::Value = serde_json::from_slice(&bytes[..end]).unwrap();
        if json["url"].as_str().unwrap().ends_with(suffix) {
            return (path, json);
        }
    }
    panic!("no cached body for {suffix}")
}

#[test]
fn a_cached_index_that_does_not_parse_is_dropped_and_fetched_again() {
    let repos = fixture_copy();
    let server = Server::start(repos.path());
    let project = cran_project(&server);
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();

    // A bad body kept with the index's real ETag (a truncated gzip stream, kept by an older
    // imglock or a proxy), its length and CRC-32 recorded with it: intact as a cache entry, so
    // only parsing it tells.
    let (path, mut json) = http_entry(project.cache.path(), PACKAGES_GZ);
    let whole = std::fs::read(&path).unwrap();
    let start = whole.iter().position(|byte| *byte == b'\n').unwrap() + 1;
    let bad = whole[start..start + 100].to_vec();
    json["body_check"] = serde_json::json!({ "length": 100, "crc32": crc32fast::hash(&bad) });
    let mut entry = serde_json::to_vec(&json).unwrap();
    entry.push(b'\n');
    entry.extend_from_slice(&bad);
    std::fs::write(&path, &entry).unwrap();

    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(project.lock().unwrap(), lock);
    assert!(
        !std::fs::read(&path).unwrap().ends_with(&bad),
        "the bad body is replaced"
    );
}

/// `imglock resolve` against a CRAN index that arrives by `drip` (four attempts), with `env`:
/// it must fail within `limit`, naming the index and `setting`.
fn a_dripping_index_fails(drip: Fault, env: &[(&str, &str)], limit: Duration, setting: &str) {
    let repos = fixture_copy();
    let server = Server::start(repos.path());
    let project = cran_project(&server);
    server.inject(PACKAGES_GZ, vec![drip; 4]);
    let start = Instant::now();
    let output = project.run_with(&["resolve"], env);
    let message = stderr(&output);
    assert!(!output.status.success(), "{message}");
    assert!(start.elapsed() < limit, "{message}");
    for needle in [PACKAGES_GZ, setting] {
        assert!(
            message.contains(needle),
            "`{needle}` missing from:\n{message}"
        );
    }
}

#[test]
fn a_server_dripping_bytes_is_dropped_by_the_low_speed_limit() {
    let drip = Fault::Drip {
        interval: Duration::from_millis(200),
        bytes: 50,
    };
    a_dripping_index_fails(
        drip,
        &[
            ("IMGLOCK_HTTP_LOW_SPEED_LIMIT", "100"),
            ("IMGLOCK_HTTP_LOW_SPEED_TIME", "0.5"),
        ],
        Duration::from_secs(6),
        "IMGLOCK_HTTP_LOW_SPEED_LIMIT",
    );
}

#[test]
fn a_request_past_its_deadline_is_dropped() {
    // 20 bytes a second: above the default low-speed limit, but never done.
    let drip = Fault::Drip {
        interval: Duration::from_millis(50),
        bytes: 100,
    };
    a_dripping_index_fails(
        drip,
        &[("IMGLOCK_HTTP_TIMEOUT", "1")],
        Duration::from_secs(5),
        "IMGLOCK_HTTP_TIMEOUT",
    );
}
