//! `imglock verify` of Debian packages on hand-made OCI layouts: a base image (dpkg status of
//! two packages, `bin` a merged-/usr link) and an image built on it whose apt layer installs two
//! locked packages with their `md5sums` lists, a conffile and a file behind merged /usr. A clean
//! image has no finding; each tamper (a missing package, another version, another
//! architecture, an unexpected package, a base package upgraded unpinned, a changed file, a
//! removed file) has exactly its own; a changed conffile is none, and neither is the
//! documentation a slim image's dpkg configuration leaves out.

use std::path::{Path, PathBuf};

use md5::Digest;

use super::*;

const LIBFOO: &[u8] = b"\x7fELF libfoo 2.0\n";
const FOO: &[u8] = b"#!/bin/sh\necho foo 2.0\n";
const CONF: &[u8] = b"# foo's settings\n";
const DOC: &[u8] = b"foo's copyright\n";

fn md5(bytes: &[u8]) -> String {
    hex::encode(md5::Md5::digest(bytes))
}

/// A dpkg status paragraph of an installed package.
fn paragraph(name: &str, version: &str, architecture: &str, extra: &str) -> String {
    format!(
        "Package: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: {architecture}\nVersion: {version}\n{extra}Description: {name}\n its description\n\n"
    )
}

/// The base image's packages.
fn base_status() -> String {
    paragraph("base-files", "12.4+deb12u5", "amd64", "Essential: yes\n")
        + &paragraph("libc6", "2.36-9+deb12u4", "amd64", "Multi-Arch: same\n")
}

/// The locked packages' status paragraphs as dpkg writes them after the install.
fn locked_status(libfoo: (&str, &str), tools_version: &str) -> String {
    paragraph(
        "libfoo1",
        libfoo.0,
        libfoo.1,
        "Multi-Arch: same\nSource: foo\n",
    ) + &paragraph(
        "foo-tools",
        tools_version,
        "amd64",
        &format!(
            "Source: foo (1:2.0-1)\nConffiles:\n /etc/foo.conf {}\n",
            md5(CONF)
        ),
    )
}

/// The base image's one layer: its dpkg status, and merged /usr's `bin` link.
fn base_layer() -> Vec<u8> {
    layer(&[
        Entry::Symlink("bin", "usr/bin"),
        Entry::File("var/lib/dpkg/status", base_status().into_bytes()),
    ])
}

/// How an image differs from the one the lock describes.
#[derive(Clone, Copy, PartialEq)]
enum Tamper {
    None,
    MissingPackage,
    OtherVersion,
    OtherArchitecture,
    UnexpectedPackage,
    BaseUpgraded,
    ChangedFile,
    RemovedFile,
    ChangedConffile,
    /// Not tampered: a slim image, whose dpkg configuration leaves documentation out.
    Slim,
}

/// The apt layer an install of the lock writes, `tamper`ed with where that is in its status.
fn apt_layer(tamper: Tamper) -> Vec<u8> {
    let libfoo = match tamper {
        Tamper::OtherArchitecture => ("1:2.0-1", "i386"),
        _ => ("1:2.0-1", "amd64"),
    };
    let tools = if tamper == Tamper::OtherVersion {
        "1:2.0-2"
    } else {
        "1:2.0-1"
    };
    let mut status = base_status();
    if tamper == Tamper::BaseUpgraded {
        status = status.replace("2.36-9+deb12u4", "2.36-9+deb12u7");
    }
    status += &locked_status(libfoo, tools);
    if tamper == Tamper::MissingPackage {
        status = status.replace(
            &paragraph(
                "libfoo1",
                "1:2.0-1",
                "amd64",
                "Multi-Arch: same\nSource: foo\n",
            ),
            "",
        );
    }
    if tamper == Tamper::UnexpectedPackage {
        status += &paragraph("curl", "7.88.1-10+deb12u5", "amd64", "");
    }
    let libfoo_md5sums = format!("{}  usr/lib/x86_64-linux-gnu/libfoo.so.1\n", md5(LIBFOO));
    // Lists built by old debhelper name the conffiles too.
    let tools_md5sums = format!(
        "{}  bin/foo\n{}  etc/foo.conf\n{}  usr/share/doc/foo-tools/copyright\n",
        md5(FOO),
        md5(CONF),
        md5(DOC)
    );
    let libfoo_list = format!("var/lib/dpkg/info/libfoo1:{}.md5sums", libfoo.1);
    let mut entries = vec![
        Entry::File("etc/foo.conf", CONF.to_vec()),
        Entry::File("usr/bin/foo", FOO.to_vec()),
        Entry::File("usr/lib/x86_64-linux-gnu/libfoo.so.1", LIBFOO.to_vec()),
        Entry::File("usr/share/doc/foo-tools/copyright", DOC.to_vec()),
        Entry::File(
            "var/lib/dpkg/info/foo-tools.md5sums",
            tools_md5sums.into_bytes(),
        ),
        Entry::File(&libfoo_list, libfoo_md5sums.into_bytes()),
        Entry::File("var/lib/dpkg/status", status.into_bytes()),
    ];
    if tamper == Tamper::MissingPackage {
        entries.retain(|e| !matches!(e, Entry::File(p, _) if p.contains("libfoo")));
    }
    if tamper == Tamper::Slim {
        entries.retain(|e| !matches!(e, Entry::File(p, _) if p.starts_with("usr/share/doc/")));
        entries.push(Entry::File(
            "etc/dpkg/dpkg.cfg.d/docker",
            b"path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/changelog.Debian.*\n"
                .to_vec(),
        ));
    }
    layer(&entries)
}

/// A layer built after the install that changes what it installed, for the tampers that do.
fn tamper_layer(tamper: Tamper) -> Option<Vec<u8>> {
    match tamper {
        Tamper::ChangedFile => Some(layer(&[Entry::File(
            "usr/bin/foo",
            b"#!/bin/sh\necho owned\n".to_vec(),
        )])),
        Tamper::RemovedFile => Some(layer(&[Entry::File(
            "usr/share/doc/foo-tools/.wh.copyright",
            Vec::new(),
        )])),
        Tamper::ChangedConffile => Some(layer(&[Entry::File(
            "etc/foo.conf",
            b"# the admin's settings\n".to_vec(),
        )])),
        _ => None,
    }
}

/// A locked Debian package.
fn deb(name: &str, version: &str, architecture: &str) -> String {
    format!(
        "\n[[layer.package]]\necosystem = \"apt\"\nname = \"{name}\"\nversion = \"{version}\"\nrepository = \"http://deb.debian.org/debian\"\nurl = \"http://deb.debian.org/debian/pool/main/f/foo/{name}_2.0-1_{architecture}.deb\"\nsha256 = \"{}\"\nsize = 1000\narchitecture = \"{architecture}\"\nsource = \"foo\"\nsuite = \"bookworm\"\nrequested = true\ndependencies = []\n",
        "a".repeat(64)
    )
}

/// Writes the base layout, the lock (its base the layout, by digest) and the image `tamper`ed
/// with, all in `dir`; returns the image and the lock.
fn project(dir: &Path, tamper: Tamper) -> (PathBuf, PathBuf) {
    let base = dir.join("base");
    let base_blob = base_layer();
    oci(
        &[(base_blob.clone(), "application/vnd.oci.image.layer.v1.tar")],
        &base,
        false,
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(base.join("index.json")).unwrap()).unwrap();
    let base_digest = index["manifests"][0]["digest"].as_str().unwrap();
    let lock = format!(
        "version = 1\nspec-hash = \"sha256:{}\"\n\n[image]\nname = \"debs\"\nbase = \"oci:base@{base_digest}\"\nplatform = \"linux/amd64\"\n\n[[layer]]\nname = \"system\"\n{}{}",
        "0".repeat(64),
        deb("foo-tools", "1:2.0-1", "amd64"),
        deb("libfoo1", "1:2.0-1", "amd64"),
    );
    let lock_path = dir.join("imglock.lock");
    std::fs::write(&lock_path, lock).unwrap();
    let tar = "application/vnd.oci.image.layer.v1.tar";
    let mut layers = vec![(base_blob, tar), (apt_layer(tamper), tar)];
    layers.extend(tamper_layer(tamper).map(|blob| (blob, tar)));
    let image = dir.join("image");
    oci(&layers, &image, false);
    (image, lock_path)
}

/// `imglock verify` of the image `tamper`ed with, in `format`, with a cache of its own.
fn verify_debs(tamper: Tamper, format: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let (image, lock) = project(dir.path(), tamper);
    std::process::Command::new(env!("CARGO_BIN_EXE_imglock"))
        .arg("verify")
        .arg(&image)
        .arg("--lock")
        .arg(&lock)
        .args(["--format", format])
        .env("IMGLOCK_CACHE_DIR", dir.path().join("cache"))
        .output()
        .unwrap()
}

/// The findings of verifying the image `tamper`ed with, as (kind, name).
fn findings_of(tamper: Tamper) -> Vec<(String, String)> {
    findings(&verify_debs(tamper, "json"))
}

fn one(kind: &str, name: &str) -> Vec<(String, String)> {
    vec![(kind.to_string(), name.to_string())]
}

#[test]
fn a_clean_image_matches_and_a_changed_conffile_is_the_admins() {
    for tamper in [Tamper::None, Tamper::ChangedConffile, Tamper::Slim] {
        let output = verify_debs(tamper, "text");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            crate::support::output_text(&output)
        );
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("2 locked packages verified"), "{text}");
        assert!(!text.contains("warning"), "{text}");
    }
}

#[test]
fn each_tamper_with_the_packages_is_exactly_its_finding() {
    assert_eq!(
        findings_of(Tamper::MissingPackage),
        one("missing", "libfoo1")
    );
    assert_eq!(
        findings_of(Tamper::OtherVersion),
        one("wrong-version", "foo-tools")
    );
    assert_eq!(
        findings_of(Tamper::OtherArchitecture),
        one("wrong-architecture", "libfoo1")
    );
    assert_eq!(
        findings_of(Tamper::UnexpectedPackage),
        one("unexpected", "curl")
    );
    assert_eq!(
        findings_of(Tamper::BaseUpgraded),
        one("unexpected", "libc6")
    );
}

#[test]
fn a_changed_or_removed_file_is_found_by_its_md5sums() {
    for (tamper, file) in [
        (Tamper::ChangedFile, "/usr/bin/foo (changed)"),
        (
            Tamper::RemovedFile,
            "/usr/share/doc/foo-tools/copyright (gone)",
        ),
    ] {
        let output = verify_debs(tamper, "json");
        assert_eq!(
            output.status.code(),
            Some(1),
            "{}",
            crate::support::output_text(&output)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let findings = report["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "{report:#}");
        let finding = &findings[0];
        assert_eq!(finding["kind"], "changed-file");
        assert_eq!(finding["name"], "foo-tools");
        assert_eq!(finding["found"], file);
        assert!(
            finding["message"].as_str().unwrap().contains(file),
            "{finding:#}"
        );
    }
}

#[test]
fn the_json_report_names_the_layer_the_versions_and_the_ecosystem() {
    let output = verify_debs(Tamper::OtherVersion, "json");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        crate::support::output_text(&output)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["findings"][0],
        serde_json::json!({
            "kind": "wrong-version",
            "layer": "system",
            "ecosystem": "apt",
            "name": "foo-tools",
            "expected": "1:2.0-1",
            "found": "1:2.0-2",
            "message": "foo-tools:amd64 is installed at 1:2.0-2, but the lock says 1:2.0-1",
        })
    );
    let checked: Vec<&str> = report["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(checked, ["foo-tools", "libfoo1"]);
    let text = verify_debs(Tamper::UnexpectedPackage, "text");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(
            "unexpected: curl:amd64 7.88.1-10+deb12u5 is installed, but neither the lock nor the base image has it"
        ),
        "{text}"
    );
}

#[test]
fn a_root_filesystem_folder_is_checked_through_its_merged_usr_link() {
    let dir = tempfile::tempdir().unwrap();
    let (_, lock) = project(dir.path(), Tamper::None);
    let root = dir.path().join("rootfs");
    let layer = apt_layer(Tamper::None);
    let mut archive = tar::Archive::new(layer.as_slice());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = root.join(entry.path().unwrap());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        entry.unpack(&path).unwrap();
    }
    std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_imglock"))
            .arg("verify")
            .arg(&root)
            .arg("--lock")
            .arg(&lock)
            .args(["--format", "json"])
            .env("IMGLOCK_CACHE_DIR", dir.path().join("cache"))
            .output()
            .unwrap()
    };
    let clean = run();
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        crate::support::output_text(&clean)
    );
    std::fs::write(root.join("usr/bin/foo"), b"#!/bin/sh\necho owned\n").unwrap();
    let report: serde_json::Value = serde_json::from_slice(&run().stdout).unwrap();
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        1,
        "{report:#}"
    );
    assert_eq!(report["findings"][0]["found"], "/usr/bin/foo (changed)");
}

#[test]
fn a_registry_base_is_read_once_and_then_known_from_the_cache() {
    let Some(registry) = crate::support::registry::Registry::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (image, lock) = project(dir.path(), Tamper::UnexpectedPackage);
    let base = dir.path().join("base");
    let pushed = registry.push(&format!("oci:{}", base.display()), "imglock/debian-base:12");
    let text = std::fs::read_to_string(&lock).unwrap();
    let local = text.lines().find(|l| l.starts_with("base = ")).unwrap();
    let in_registry = format!(
        "base = \"{}/imglock/debian-base:12@{pushed}\"",
        registry.host()
    );
    std::fs::write(&lock, text.replace(local, &in_registry)).unwrap();
    std::fs::remove_dir_all(&base).unwrap();
    let run = || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_imglock"))
            .arg("verify")
            .arg(&image)
            .arg("--lock")
            .arg(&lock)
            .args(["--format", "json"])
            .env("IMGLOCK_CACHE_DIR", dir.path().join("cache"))
            .output()
            .unwrap();
        findings(&output)
    };
    // The base's packages are not unexpected; curl, which it lacks, is.
    assert_eq!(run(), one("unexpected", "curl"));
    drop(registry);
    assert_eq!(run(), one("unexpected", "curl"));
}

#[test]
fn a_base_that_cannot_be_read_is_an_error_that_says_why_verify_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let (image, lock) = project(dir.path(), Tamper::None);
    std::fs::remove_dir_all(dir.path().join("base")).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_imglock"))
        .arg("verify")
        .arg(&image)
        .arg("--lock")
        .arg(&lock)
        .env("IMGLOCK_CACHE_DIR", dir.path().join("cache"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("has Debian packages, so verify reads its base image")
            && err.contains("relative to the lock's folder")
            && err.contains("cannot read the base image `oci:base@sha256:"),
        "{err}"
    );
}
