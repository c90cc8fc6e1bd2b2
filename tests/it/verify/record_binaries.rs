//! `imglock verify IMAGE --record-binaries`: the records the R installer leaves in an image
//! (`/usr/local/share/imglock/r-binaries/NAME`) are read from a root folder, an OCI layout and a
//! `docker save` tar, and each one that matches a locked package (name, version, source
//! sha256, cache key) puts its binary sha256 into the lock; the rest of the lock stays byte for
//! byte, and records that do not match are ignored and said.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use super::{
    Entry, SITE, description, docker_archive, gzip, layer, lock, locked, oci, packages_layer,
};
use crate::support::{locks, output_text, stderr};

const RECORDS: &str = "usr/local/share/imglock/r-binaries";

/// A copy of the test lock in `dir` (recording writes it), and the cache key `emit` gives each
/// of its R packages.
fn lock_copy(dir: &Path) -> (PathBuf, BTreeMap<String, String>) {
    let path = dir.join("imglock.lock");
    std::fs::copy(lock(), &path).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_imglock"))
        .args(["emit", "--lock"])
        .arg(&path)
        .arg("--out")
        .arg(dir.join("emitted"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let dockerfile = std::fs::read_to_string(dir.join("emitted/Dockerfile")).unwrap();
    (path, locks::r_package_keys(&dockerfile))
}

/// The locked source sha256 of the test package `name`.
fn source_digest(name: &str) -> String {
    let packages = locks::packages(&std::fs::read_to_string(lock()).unwrap());
    let package = packages.iter().find(|p| p["name"].as_str() == Some(name));
    package.unwrap()["sha256"].as_str().unwrap().to_string()
}

/// A record as the installer writes it.
fn record(name: &str, version: &str, source: &str, key: &str, binary: &str) -> Vec<u8> {
    format!(
        "# imglock R binary record 1\nname {name}\nversion {version}\nsource-sha256 {source}\ncache-key {key}\nbinary-sha256 {binary}\n"
    )
    .into_bytes()
}

/// The binary digest the tests give package number `i`.
fn binary(i: usize) -> String {
    format!("{i:x}").repeat(64)
}

/// A record for every locked package, matching the lock.
fn matching_records(keys: &BTreeMap<String, String>) -> Vec<(String, Vec<u8>)> {
    locked()
        .iter()
        .enumerate()
        .map(|(i, (name, version))| {
            (
                format!("{RECORDS}/{name}"),
                record(
                    name,
                    version,
                    &source_digest(name),
                    &keys[*name],
                    &binary(i + 1),
                ),
            )
        })
        .collect()
}

fn run(image: &Path, lock: &Path) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_imglock"))
        .arg("verify")
        .arg(image)
        .arg("--lock")
        .arg(lock)
        .arg("--record-binaries")
        .output()
        .unwrap()
}

/// `(name, binary-sha256)` of every locked package that has one, sorted by name.
fn recorded(lock: &Path) -> Vec<(String, String)> {
    locks::binary_digests(&std::fs::read_to_string(lock).unwrap())
        .into_iter()
        .collect()
}

#[test]
fn records_in_a_root_folder_go_into_the_lock_and_strangers_are_said() {
    let dir = tempfile::tempdir().unwrap();
    let (lock, keys) = lock_copy(dir.path());
    let original = std::fs::read_to_string(&lock).unwrap();
    let root = dir.path().join("root");
    let write = |path: &str, bytes: &[u8]| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    for (name, version) in locked() {
        write(
            &format!("{SITE}/{name}/DESCRIPTION"),
            &description(name, version, ""),
        );
    }
    for (path, bytes) in matching_records(&keys) {
        write(&path, &bytes);
    }
    // plotkit built from other source bytes, leafy for another R/platform/base, usehdr with a
    // malformed digest, and a package the lock does not have.
    let other = "f".repeat(64);
    let hex = binary(15);
    write(
        &format!("{RECORDS}/plotkit"),
        &record("plotkit", "3.4.1", &other, &keys["plotkit"], &hex),
    );
    write(
        &format!("{RECORDS}/leafy"),
        &record(
            "leafy",
            "0.2.0",
            &source_digest("leafy"),
            "4.1.0/linux-arm64/x",
            &hex,
        ),
    );
    write(
        &format!("{RECORDS}/usehdr"),
        &record(
            "usehdr",
            "0.1.0",
            &source_digest("usehdr"),
            &keys["usehdr"],
            "not-hex",
        ),
    );
    write(
        &format!("{RECORDS}/stray"),
        &record("stray", "1.0", &other, &keys["plotkit"], &hex),
    );

    let output = run(&root, &lock);
    assert_eq!(output.status.code(), Some(0), "{}", output_text(&output));
    let said = stderr(&output);
    assert!(
        said.contains("recorded the binary sha256 of 5 R package(s)"),
        "{said}"
    );
    for expected in [
        "`stray`: the lock has no R package `stray`",
        &format!("`plotkit`: plotkit 3.4.1 was built from source sha256 {other}, but the lock has"),
        "`leafy`: it was built for cache key 4.1.0/linux-arm64/x, but the lock's is",
        "`usehdr`: its binary-sha256 `not-hex` is not 64 lowercase hexadecimal digits",
    ] {
        assert!(said.contains(expected), "{expected}\n{said}");
    }
    let names: Vec<String> = recorded(&lock).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["SeqTools", "corekit", "fastsum", "headerlib", "wantsnew"]
    );
    assert!(recorded(&lock).contains(&("corekit".to_string(), binary(1))));
    // Nothing else of the lock changed.
    let written = std::fs::read_to_string(&lock).unwrap();
    let without: String = written
        .lines()
        .filter(|l| !l.starts_with("binary-sha256 = "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(without, original);

    // Again: the same bytes.
    let output = run(&root, &lock);
    assert_eq!(output.status.code(), Some(0), "{}", output_text(&output));
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), written);

    // An image that does not match the lock records nothing.
    let fresh = dir.path().join("fresh.lock");
    std::fs::copy(super::lock(), &fresh).unwrap();
    std::fs::remove_dir_all(root.join(SITE).join("corekit")).unwrap();
    let output = run(&root, &fresh);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert!(
        stderr(&output).contains("nothing recorded: the image does not match the lock"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(&fresh).unwrap(), original);
}

#[test]
fn records_are_read_from_oci_layouts_and_docker_archives_with_whiteouts() {
    let dir = tempfile::tempdir().unwrap();
    let records = matching_records(&lock_copy(dir.path()).1);
    let entries: Vec<Entry<'_>> = records
        .iter()
        .map(|(path, bytes)| Entry::File(path, bytes.clone()))
        .collect();
    let lower = packages_layer(&locked());
    let with_records = layer(&entries);
    // The upper layer deletes leafy's record: leafy is not recorded.
    let upper = layer(&[Entry::File(&format!("{RECORDS}/.wh.leafy"), Vec::new())]);
    let expected: Vec<String> = {
        let mut names: Vec<String> = locked()
            .iter()
            .map(|(n, _)| n.to_string())
            .filter(|n| n != "leafy")
            .collect();
        names.sort();
        names
    };

    let layout = dir.path().join("oci");
    let media = "application/vnd.oci.image.layer.v1.tar+gzip";
    oci(
        &[
            (gzip(&lower), media),
            (gzip(&with_records), media),
            (gzip(&upper), media),
        ],
        &layout,
        false,
    );
    let archive = dir.path().join("image.tar");
    docker_archive(&[lower, with_records, upper], &archive);
    for image in [layout, archive] {
        let (lock, _) = lock_copy(dir.path());
        let output = run(&image, &lock);
        assert_eq!(output.status.code(), Some(0), "{}", output_text(&output));
        assert!(
            stderr(&output).contains("recorded the binary sha256 of 7 R package(s)"),
            "{}",
            stderr(&output)
        );
        let names: Vec<String> = recorded(&lock).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, expected, "{}", image.display());
    }
}
