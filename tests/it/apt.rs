//! apt metadata on Debian's real archive, recorded by scripts/record-debian.sh into
//! fixtures/debian (bookworm and bookworm-security: InRelease, main amd64 Packages.xz, and the
//! archive keyring): signatures checked with Debian's keys, tampering refused, every stanza and
//! relation of the real indexes parsed, version order against dpkg's, and fetching served from
//! a loopback server and from `file://`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use imglock::apt::packages::parse_packages;
use imglock::apt::relation::{ArchQualifier, Operator};
use imglock::apt::release::Release;
use imglock::apt::sources::parse_one_line;
use imglock::apt::{AptError, AptIndex, Keyring, Version, fetch_index};
use jiff::Timestamp;
use pgp::composed::{Deserializable, SignedPublicKey};
use pgp::ser::Serialize;
use pgp::types::KeyDetails;

use crate::support::{self, Server};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/debian")
}

const BOOKWORM: &str = "debian/dists/bookworm";
const SECURITY: &str = "debian-security/dists/bookworm-security";

fn in_release(suite: &str) -> String {
    std::fs::read_to_string(fixtures().join(suite).join("InRelease")).unwrap()
}

fn debian_keyring() -> Keyring {
    Keyring::from_files(&[&fixtures().join("debian-archive-keyring.gpg")]).unwrap()
}

/// The Release's own `Date`: the clock the tests check validity at (the recorded
/// bookworm-security Release expires a week after it was recorded).
fn release_date(suite: &str) -> Timestamp {
    let signed = debian_keyring()
        .verify_clearsigned(&in_release(suite), "InRelease")
        .unwrap();
    Release::parse(&signed, "InRelease").unwrap().date.unwrap()
}

fn packages_text(suite: &str) -> String {
    let xz = std::fs::read(fixtures().join(suite).join("main/binary-amd64/Packages.xz")).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut lzma_rust2::XzReader::new(&xz[..], true), &mut text)
        .unwrap();
    text
}

#[test]
fn debians_releases_verify_with_debians_keyring_and_list_their_indexes() {
    let keyring = debian_keyring();
    assert_eq!(keyring.fingerprints().len(), 9);
    for suite in [BOOKWORM, SECURITY] {
        let signed = keyring
            .verify_clearsigned(&in_release(suite), suite)
            .unwrap();
        let release = Release::parse(&signed, suite).unwrap();
        let entry = &release.sha256["main/binary-amd64/Packages.xz"];
        let xz =
            std::fs::read(fixtures().join(suite).join("main/binary-amd64/Packages.xz")).unwrap();
        assert_eq!(entry.size, xz.len() as u64);
        assert!(release.by_hash);
        assert!(!release.fetches_binary_all(), "{suite}");
    }
}

#[test]
fn a_tampered_release_byte_fails_the_signature() {
    let original = in_release(BOOKWORM);
    // One hex digit of the Packages.xz line changed: the signature no longer covers the text.
    let line = original
        .lines()
        .find(|line| line.ends_with(" main/binary-amd64/Packages.xz") && line.len() > 80)
        .unwrap();
    let digit = if line.as_bytes()[1] == b'0' { "1" } else { "0" };
    let tampered_line = format!(" {digit}{}", &line[2..]);
    let tampered = original.replacen(line, &tampered_line, 1);
    assert_ne!(tampered, original);
    let error = debian_keyring()
        .verify_clearsigned(&tampered, "https://m/dists/bookworm/InRelease")
        .unwrap_err();
    assert!(matches!(error, AptError::BadSignature { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("`https://m/dists/bookworm/InRelease`")
            && message.contains("does not verify"),
        "{message}"
    );
}

#[test]
fn an_unsigned_release_is_refused() {
    let signed = debian_keyring()
        .verify_clearsigned(&in_release(BOOKWORM), "InRelease")
        .unwrap();
    let error = debian_keyring()
        .verify_clearsigned(&signed, "https://m/dists/bookworm/InRelease")
        .unwrap_err();
    assert!(matches!(error, AptError::Unsigned { .. }), "{error:?}");
    // Text before the signed message is refused too: only what the signature covers is read.
    let prefixed = format!("Origin: Evil\n{}", in_release(BOOKWORM));
    assert!(debian_keyring().verify_clearsigned(&prefixed, "u").is_err());
}

/// Debian's keyring less the keys that signed `suite`, as a binary keyring.
fn keyring_without_signers_of(suite: &str) -> Vec<u8> {
    let bytes = std::fs::read(fixtures().join("debian-archive-keyring.gpg")).unwrap();
    let (keys, _) = SignedPublicKey::from_reader_many(&bytes[..]).unwrap();
    let text = in_release(suite);
    let mut kept = Vec::new();
    for key in keys {
        let key = key.unwrap();
        let fingerprint = hex::encode_upper(key.fingerprint().as_bytes());
        let alone = Keyring::from_bytes(&key.to_bytes().unwrap(), "one key").unwrap();
        if alone.verify_clearsigned(&text, "u").is_err() {
            kept.extend(key.to_bytes().unwrap());
        } else {
            eprintln!("{suite} is signed by {fingerprint}");
        }
    }
    kept
}

#[test]
fn a_keyring_without_the_signing_keys_fails_naming_the_keys() {
    let without = keyring_without_signers_of(BOOKWORM);
    let keyring = Keyring::from_bytes(&without, "others.gpg").unwrap();
    assert!(keyring.fingerprints().len() < 9 && !keyring.fingerprints().is_empty());
    let error = keyring
        .verify_clearsigned(&in_release(BOOKWORM), "https://m/dists/bookworm/InRelease")
        .unwrap_err();
    assert!(matches!(error, AptError::UnknownKey { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("others.gpg")
            && message.contains("4D64FEC119C2029067D6E791F8D2585B8783D481"),
        "{message}"
    );
}

#[test]
fn an_armored_key_file_verifies_too() {
    let bytes = std::fs::read(fixtures().join("debian-archive-keyring.gpg")).unwrap();
    let (keys, _) = SignedPublicKey::from_reader_many(&bytes[..]).unwrap();
    let mut armored = String::new();
    for key in keys {
        armored.push_str(&key.unwrap().to_armored_string(Default::default()).unwrap());
    }
    let keyring = Keyring::from_bytes(armored.as_bytes(), "debian.asc").unwrap();
    assert_eq!(keyring.fingerprints().len(), 9);
    keyring
        .verify_clearsigned(&in_release(SECURITY), "InRelease")
        .unwrap();
    assert!(Keyring::from_bytes(b"not a key", "junk.asc").is_err());
}

#[test]
fn an_expired_release_is_refused_at_a_later_clock() {
    let signed = debian_keyring()
        .verify_clearsigned(&in_release(SECURITY), "InRelease")
        .unwrap();
    let release = Release::parse(&signed, "InRelease").unwrap();
    let valid_until = release.valid_until.unwrap();
    release.check_valid_at(release.date.unwrap(), "u").unwrap();
    release.check_valid_at(valid_until, "u").unwrap();
    let later = valid_until + Duration::from_secs(1);
    let error = release
        .check_valid_at(later, "https://m/InRelease")
        .unwrap_err();
    assert!(matches!(error, AptError::Expired { .. }), "{error:?}");
}

#[test]
fn every_stanza_and_relation_of_the_real_indexes_parses() {
    let text = packages_text(BOOKWORM);
    let packages = parse_packages(&text, "bookworm/Packages").unwrap();
    assert_eq!(packages.len(), text.matches("\nPackage: ").count() + 1);
    assert!(packages.len() > 60_000);
    let depends: usize = packages.iter().map(|p| p.depends.0.len()).sum();
    assert!(depends > 200_000, "{depends}");
    let security = parse_packages(&packages_text(SECURITY), "security/Packages").unwrap();
    assert!(!security.is_empty());

    let find = |name: &str| packages.iter().find(|p| p.name == name).unwrap();
    let bash = find("bash");
    assert!(bash.essential);
    assert_eq!(bash.pre_depends.0.len(), 2);
    assert_eq!(bash.pre_depends.0[0].to_string(), "libc6 (>= 2.36)");
    let (source, version) = bash.source_package();
    assert_eq!((source, version.as_str()), ("bash", "5.2.15-2"));
    assert_eq!(bash.version.as_str(), "5.2.15-2+b13");

    let jre = find("openjdk-17-jre-headless");
    let java = jre
        .provides
        .iter()
        .find(|p| p.name == "java-runtime-headless")
        .unwrap();
    assert_eq!(java.version.as_ref().unwrap().as_str(), "17");
    let nss = jre
        .depends
        .0
        .iter()
        .find(|g| g.0[0].name == "libnss3")
        .unwrap();
    let constraint = nss.0[0].constraint.as_ref().unwrap();
    assert_eq!(
        (constraint.operator, constraint.version.epoch()),
        (Operator::LaterOrEqual, 2)
    );

    let r = find("r-base-core");
    let blas = r
        .depends
        .0
        .iter()
        .find(|g| g.0[0].name == "libblas3")
        .unwrap();
    assert_eq!(blas.to_string(), "libblas3 | libblas.so.3");

    let any = packages
        .iter()
        .flat_map(|p| p.depends.0.iter().flat_map(|g| g.0.iter()))
        .filter(|d| d.arch == Some(ArchQualifier::Any))
        .count();
    assert!(any > 100, "{any} `:any` dependencies");
}

/// Pairs of real versions, adjacent in imglock's order, that dpkg must order the same way.
#[test]
fn version_order_matches_dpkg_on_the_real_versions() {
    if !support::available(
        support::runs("dpkg", &["--version"]),
        "dpkg is not installed",
    ) {
        return;
    }
    let text = packages_text(BOOKWORM);
    let mut versions: Vec<Version> = text
        .lines()
        .filter_map(|line| line.strip_prefix("Version: "))
        .chain(text.lines().filter_map(|line| {
            line.strip_prefix("Source: ")
                .and_then(|s| s.split_once('('))
                .map(|(_, v)| v.trim_end_matches(')'))
        }))
        .map(|v| Version::parse(v).unwrap())
        .collect();
    versions.sort();
    versions.dedup_by(|a, b| a.as_str() == b.as_str());
    assert!(versions.len() > 20_000, "{}", versions.len());
    // Every pair where a `~`, an epoch or a revision makes the difference, and an even spread
    // of the rest: each adjacent in imglock's order, so a single misordering shows.
    let interesting = |v: &Version| v.as_str().contains('~') || v.epoch() > 0;
    let step = versions.len() / 1500;
    let pairs: Vec<(&Version, &Version)> = versions
        .windows(2)
        .enumerate()
        .filter(|(i, w)| i % step == 0 || interesting(&w[0]) || interesting(&w[1]))
        .map(|(_, w)| (&w[0], &w[1]))
        .collect();
    assert!(pairs.len() > 3000, "{}", pairs.len());
    let script: String = pairs
        .iter()
        .map(|(a, b)| {
            let relation = if a == b { "eq" } else { "lt" };
            format!("dpkg --compare-versions '{a}' {relation} '{b}' || echo '{a} {relation} {b}'\n")
        })
        .collect();
    let mut shell = std::process::Command::new("sh")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut shell.stdin.take().unwrap(), script.as_bytes()).unwrap();
    let output = shell.wait_with_output().unwrap();
    assert!(output.status.success());
    let disagreements = String::from_utf8_lossy(&output.stdout);
    assert!(disagreements.is_empty(), "dpkg disagrees:\n{disagreements}");
}

/// Debian's mirror layout copied (symbolic links followed), for tampering.
fn mirror_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    support::copy_dir(&fixtures(), dir.path());
    dir
}

fn sources(base: &str) -> Vec<imglock::apt::AptSource> {
    let lines = [
        format!("deb {base}/debian bookworm main"),
        format!("{base}/debian-security bookworm-security main"),
    ];
    parse_one_line(lines.iter().map(String::as_str), "imglock.toml").unwrap()
}

fn fetch(base: &str, cache: &Path) -> Result<AptIndex, AptError> {
    let fetcher = support::library_fetcher(cache);
    fetch_index(
        &fetcher,
        &sources(base),
        "amd64",
        &debian_keyring(),
        release_date(SECURITY),
    )
}

fn check_index(index: &AptIndex) {
    assert!(index.names() > 60_000, "{}", index.names());
    assert_eq!(index.origins().len(), 2);
    let bash = &index.candidates("bash")[0];
    assert_eq!(bash.package.version.as_str(), "5.2.15-2+b13");
    assert!(
        index
            .deb_url(bash)
            .unwrap()
            .as_str()
            .ends_with("/debian/pool/main/b/bash/bash_5.2.15-2+b13_amd64.deb")
    );
    let providers: Vec<&str> = index
        .providers("java-runtime-headless")
        .iter()
        .map(|p| p.package.as_str())
        .collect();
    assert!(
        providers.contains(&"openjdk-17-jre-headless"),
        "{providers:?}"
    );
    // A package updated by the security suite has a candidate from each suite.
    let security = parse_packages(&packages_text(SECURITY), "s").unwrap();
    let updated = security
        .iter()
        .find(|p| index.candidates(&p.name).len() > 1)
        .unwrap();
    let origins: Vec<&str> = index
        .candidates(&updated.name)
        .iter()
        .map(|c| index.origins()[c.origin].suite.as_str())
        .collect();
    assert!(
        origins.contains(&"bookworm") && origins.contains(&"bookworm-security"),
        "{origins:?}"
    );
}

#[test]
fn the_index_is_fetched_from_a_loopback_mirror_in_two_rounds_by_hash() {
    let server = Server::start(&fixtures());
    let latency = Duration::from_millis(150);
    server.set_latency(latency);
    let cache = tempfile::tempdir().unwrap();
    let index = fetch(&server.url(), cache.path()).unwrap();
    check_index(&index);
    let arrivals = server.arrivals();
    let paths: Vec<&str> = arrivals.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(paths.len(), 4, "{paths:?}");
    assert!(
        paths
            .iter()
            .filter(|p| p.contains("/by-hash/SHA256/"))
            .count()
            == 2,
        "{paths:?}"
    );
    // Two batches: every InRelease at once, then, once they are answered (one latency later),
    // every Packages index at once.
    let batch = |releases: bool| -> Vec<std::time::Instant> {
        arrivals
            .iter()
            .filter(|(path, _)| path.ends_with("/InRelease") == releases)
            .map(|(_, at)| *at)
            .collect()
    };
    let spread = |times: &[std::time::Instant]| {
        times
            .iter()
            .max()
            .unwrap()
            .duration_since(*times.iter().min().unwrap())
    };
    let (releases, indexes) = (batch(true), batch(false));
    assert!(
        spread(&releases) < latency / 2 && spread(&indexes) < latency / 2,
        "{arrivals:?}"
    );
    assert!(*indexes.iter().min().unwrap() >= *releases.iter().max().unwrap() + latency);
}

#[test]
fn the_index_is_read_from_a_file_mirror() {
    let cache = tempfile::tempdir().unwrap();
    let base = url::Url::from_directory_path(fixtures()).unwrap();
    let index = fetch(base.as_str().trim_end_matches('/'), cache.path()).unwrap();
    check_index(&index);
}

#[test]
fn a_tampered_packages_index_fails_on_its_sha256_naming_both() {
    let mirror = mirror_copy();
    let directory = mirror.path().join(SECURITY).join("main/binary-amd64");
    let mut tampered = std::fs::read(directory.join("Packages.xz")).unwrap();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 1;
    for entry in support::walk(&directory) {
        std::fs::write(entry, &tampered).unwrap();
    }
    let cache = tempfile::tempdir().unwrap();
    let base = url::Url::from_directory_path(mirror.path()).unwrap();
    let error = fetch(base.as_str().trim_end_matches('/'), cache.path()).unwrap_err();
    let AptError::Checksum {
        expected_sha256,
        actual_sha256,
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_ne!(expected_sha256, actual_sha256);
    let message = error.to_string();
    assert!(
        message.contains(expected_sha256.as_str()) && message.contains(actual_sha256.as_str()),
        "{message}"
    );
}

#[test]
fn a_mirror_serving_an_expired_release_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    let base = url::Url::from_directory_path(fixtures()).unwrap();
    let fetcher = support::library_fetcher(cache.path());
    let far_future: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    let error = fetch_index(
        &fetcher,
        &sources(base.as_str().trim_end_matches('/')),
        "amd64",
        &debian_keyring(),
        far_future,
    )
    .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("bookworm-security/InRelease` expired"),
        "{message}"
    );
}
