//! apt fetching against a hand-made mirror signed with a key made for the test: a Release as
//! older archives write it (no `No-Support-for-Architecture-all`, `all` among its
//! Architectures, no by-hash), so `binary-all` is fetched too; an index whose `.xz` the Release
//! lists but the mirror lacks is read from its `.gz`, and one listed only plain is read plain.

use std::io::Write;
use std::path::Path;

use imglock::apt::sources::parse_one_line;
use imglock::apt::{AptError, Keyring, fetch_index};
use pgp::composed::{
    CleartextSignedMessage, KeyType, SecretKeyParamsBuilder, SignedPublicKey, SignedSecretKey,
};
use pgp::ser::Serialize;
use pgp::types::Password;
use rand::SeedableRng;
use sha2::{Digest, Sha256};

use crate::support::{self, Server};

const AMD64: &str = "Package: hello\nVersion: 2.10-3\nArchitecture: amd64\n\
    Depends: libc6 (>= 2.34)\nFilename: pool/main/h/hello/hello_2.10-3_amd64.deb\nSize: 53000\n\
    SHA256: 1111111111111111111111111111111111111111111111111111111111111111\n\n\
    Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\nMulti-Arch: same\n\
    Filename: pool/main/g/glibc/libc6_2.36-9_amd64.deb\nSize: 2750000\n\
    SHA256: 2222222222222222222222222222222222222222222222222222222222222222\n";

const ALL: &str = "Package: hello-docs\nVersion: 2.10-3\nArchitecture: all\n\
    Provides: hello-doc (= 2.10)\nFilename: pool/main/h/hello/hello-docs_2.10-3_all.deb\n\
    Size: 1200\nSHA256: 3333333333333333333333333333333333333333333333333333333333333333\n";

fn key() -> SignedSecretKey {
    let mut rng = rand::rngs::StdRng::seed_from_u64(16);
    SecretKeyParamsBuilder::default()
        .key_type(KeyType::Ed25519Legacy)
        .can_sign(true)
        .primary_user_id("imglock test archive <test@imglock.invalid>".into())
        .build()
        .unwrap()
        .generate(&mut rng)
        .unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn table_line(bytes: &[u8], path: &str) -> String {
    format!(
        " {} {} {path}\n",
        hex::encode(Sha256::digest(bytes)),
        bytes.len()
    )
}

/// Writes the mirror below `root` and returns the keyring that trusts it.
fn write_mirror(root: &Path, key: &SignedSecretKey) -> Keyring {
    let suite = root.join("debian/dists/old");
    let amd64 = suite.join("main/binary-amd64");
    let all = suite.join("main/binary-all");
    std::fs::create_dir_all(&amd64).unwrap();
    std::fs::create_dir_all(&all).unwrap();
    let amd64_gz = gzip(AMD64.as_bytes());
    std::fs::write(amd64.join("Packages.gz"), &amd64_gz).unwrap();
    std::fs::write(all.join("Packages"), ALL).unwrap();
    // Listed, never served: the fetch falls back to the `.gz`.
    let missing_xz = b"an xz the mirror lost";
    let release = format!(
        "Origin: Test\nSuite: old\nCodename: old\nDate: Sat, 05 Dec 2026 10:00:00 UTC\n\
         Architectures: all amd64\nComponents: main\nSHA256:\n{}{}{}",
        table_line(missing_xz, "main/binary-amd64/Packages.xz"),
        table_line(&amd64_gz, "main/binary-amd64/Packages.gz"),
        table_line(ALL.as_bytes(), "main/binary-all/Packages"),
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let signed =
        CleartextSignedMessage::sign(&mut rng, &release, &key.primary_key, &Password::empty())
            .unwrap();
    let armored = signed.to_armored_string(Default::default()).unwrap();
    std::fs::write(suite.join("InRelease"), armored).unwrap();
    let public = SignedPublicKey::from(key.clone());
    Keyring::from_bytes(&public.to_bytes().unwrap(), "test.gpg").unwrap()
}

fn now() -> jiff::Timestamp {
    "2026-12-05T12:00:00Z".parse().unwrap()
}

#[test]
fn binary_all_and_compression_fallbacks_are_fetched_as_apt_would() {
    let mirror = tempfile::tempdir().unwrap();
    let keyring = write_mirror(mirror.path(), &key());
    let server = Server::start(mirror.path());
    let sources = parse_one_line(
        [format!("deb {}/debian old main", server.url()).as_str()],
        "t",
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let fetcher = support::library_fetcher(cache.path());
    let index = fetch_index(&fetcher, &sources, "amd64", &keyring, now()).unwrap();
    assert_eq!(index.names(), 3);
    assert_eq!(
        index.candidates("hello")[0].package.depends.0[0].to_string(),
        "libc6 (>= 2.34)"
    );
    let docs = &index.providers("hello-doc")[0];
    assert_eq!(
        (
            docs.package.as_str(),
            docs.version.as_ref().unwrap().as_str()
        ),
        ("hello-docs", "2.10")
    );
    let architectures: Vec<&str> = index
        .origins()
        .iter()
        .map(|o| o.architecture.as_str())
        .collect();
    assert_eq!(architectures, vec!["amd64", "all"]);
    let mut asked: Vec<String> = server.all_hits().into_keys().collect();
    asked.sort();
    assert_eq!(
        asked,
        vec![
            "/debian/dists/old/InRelease",
            "/debian/dists/old/main/binary-all/Packages",
            "/debian/dists/old/main/binary-amd64/Packages.gz",
            "/debian/dists/old/main/binary-amd64/Packages.xz",
        ]
    );
}

#[test]
fn another_archives_key_is_unknown_to_debians_keyring() {
    let mirror = tempfile::tempdir().unwrap();
    write_mirror(mirror.path(), &key());
    let debian =
        Keyring::from_files(&[&Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/debian/debian-archive-keyring.gpg")])
        .unwrap();
    let base = url::Url::from_directory_path(mirror.path()).unwrap();
    let sources = parse_one_line([format!("deb {}debian old main", base).as_str()], "t").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let fetcher = support::library_fetcher(cache.path());
    let error = fetch_index(&fetcher, &sources, "amd64", &debian, now()).unwrap_err();
    assert!(matches!(error, AptError::UnknownKey { .. }), "{error:?}");
    assert!(error.to_string().contains("dists/old/InRelease"), "{error}");
}
