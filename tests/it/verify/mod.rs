//! `imglock verify` on images built in the test: root filesystem folders, `docker save` tars
//! (legacy layout), OCI archives and OCI layout folders, with whiteouts, gzip and zstd layers,
//! and hostile entries. (Images built by buildah are verified in `image_build.rs`.)

use std::io::Write;
use std::path::Path;
use std::process::Output;

use crate::support::stderr;
use sha2::Digest;

mod apt;
mod digests;
mod large_files;
mod links;
mod record_binaries;
mod special_files;

const SITE: &str = "usr/local/lib/R/site-library";

/// The lock the images are checked against: fixtures/diff/old.lock (8 R packages).
fn lock() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/diff/old.lock")
}

fn locked() -> Vec<(&'static str, &'static str)> {
    vec![
        ("corekit", "1.1-2"),
        ("fastsum", "0.3.1"),
        ("headerlib", "2.0.0"),
        ("wantsnew", "1.0.0"),
        ("plotkit", "3.4.1"),
        ("leafy", "0.2.0"),
        ("usehdr", "0.1.0"),
        ("SeqTools", "1.4.0"),
    ]
}

fn description(name: &str, version: &str, extra: &str) -> Vec<u8> {
    format!("Package: {name}\nVersion: {version}\nBuilt: R 4.2.2; ; 2026-01-01 00:00:00 UTC; unix\n{extra}").into_bytes()
}

fn verify(image: &Path, format: &str) -> Output {
    verify_against(image, &lock(), format)
}

fn verify_against(image: &Path, lock: &Path, format: &str) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_imglock"))
        .arg("verify")
        .arg(image)
        .arg("--lock")
        .arg(lock)
        .args(["--format", format])
        .output()
        .unwrap()
}

fn findings(output: &Output) -> Vec<(String, String)> {
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{}", stderr(output)));
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// One entry of a layer built by the test.
enum Entry<'a> {
    File(&'a str, Vec<u8>),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
    /// A file whose name is written into the header as is (no checks), like `../x`.
    RawName(&'a [u8], Vec<u8>),
}

fn layer(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        match entry {
            Entry::File(path, bytes) => {
                header.set_size(bytes.len() as u64);
                builder
                    .append_data(&mut header, path, bytes.as_slice())
                    .unwrap();
            }
            Entry::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                builder
                    .append_data(&mut header, path, std::io::empty())
                    .unwrap();
            }
            Entry::Symlink(path, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                builder.append_link(&mut header, path, target).unwrap();
            }
            Entry::HardLink(path, target) => {
                header.set_entry_type(tar::EntryType::Link);
                header.set_size(0);
                builder.append_link(&mut header, path, target).unwrap();
            }
            Entry::RawName(name, bytes) => {
                header.set_size(bytes.len() as u64);
                header.as_old_mut().name[..name.len()].copy_from_slice(name);
                header.set_cksum();
                builder.append(&header, bytes.as_slice()).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

fn packages_layer(packages: &[(&str, &str)]) -> Vec<u8> {
    let entries: Vec<Entry<'_>> = packages
        .iter()
        .map(|(name, version)| {
            Entry::File(
                Box::leak(format!("{SITE}/{name}/DESCRIPTION").into_boxed_str()),
                description(name, version, ""),
            )
        })
        .collect();
    layer(&entries)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn digest(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Writes an OCI layout (into a folder, or as a tar) with the given layer blobs.
fn oci(layers: &[(Vec<u8>, &str)], out: &Path, as_tar: bool) {
    let mut files: Vec<(String, Vec<u8>)> = vec![(
        "oci-layout".into(),
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    )];
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
            .to_vec();
    let mut descriptors = Vec::new();
    for (blob, media_type) in layers {
        descriptors.push(format!(
            r#"{{"mediaType":"{media_type}","digest":"sha256:{}","size":{}}}"#,
            digest(blob),
            blob.len()
        ));
        files.push((format!("blobs/sha256/{}", digest(blob)), blob.clone()));
    }
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{}","size":{}}},"layers":[{}]}}"#,
        digest(&config),
        config.len(),
        descriptors.join(",")
    );
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":{}}}]}}"#,
        digest(manifest.as_bytes()),
        manifest.len()
    );
    files.push((format!("blobs/sha256/{}", digest(&config)), config));
    files.push((
        format!("blobs/sha256/{}", digest(manifest.as_bytes())),
        manifest.into_bytes(),
    ));
    files.push(("index.json".into(), index.into_bytes()));
    write_files(&files, out, as_tar);
}

/// Writes a `docker save` tar in the legacy layout (`manifest.json` + `<id>/layer.tar`).
fn docker_archive(layers: &[Vec<u8>], out: &Path) {
    let ids: Vec<String> = (0..layers.len())
        .map(|i| format!("{i:03}/layer.tar"))
        .collect();
    let manifest = format!(
        r#"[{{"Config":"config.json","RepoTags":["t:1"],"Layers":{}}}]"#,
        serde_json::to_string(&ids).unwrap()
    );
    let mut files = vec![
        ("manifest.json".to_string(), manifest.into_bytes()),
        ("config.json".into(), b"{}".to_vec()),
    ];
    files.extend(ids.into_iter().zip(layers.iter().cloned()));
    write_files(&files, out, true);
}

fn write_files(files: &[(String, Vec<u8>)], out: &Path, as_tar: bool) {
    if as_tar {
        let entries: Vec<Entry<'_>> = files
            .iter()
            .map(|(p, b)| Entry::File(p, b.clone()))
            .collect();
        std::fs::write(out, layer(&entries)).unwrap();
    } else {
        for (path, bytes) in files {
            let path = out.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
    }
}

#[test]
fn a_root_filesystem_folder_is_checked_package_by_package() {
    let root = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: Vec<u8>| {
        let path = root.path().join(SITE).join(name);
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join("DESCRIPTION"), bytes).unwrap();
    };
    for (name, version) in locked() {
        write(name, description(name, version, ""));
    }
    // R's own packages do not count as unexpected, in the site library or in R's.
    write(
        "Matrix",
        description("Matrix", "1.5-3", "Priority: recommended\n"),
    );
    let base = root.path().join("usr/lib/R/library/stats");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(
        base.join("DESCRIPTION"),
        description("stats", "4.2.2", "Priority: base\n"),
    )
    .unwrap();
    let output = verify(root.path(), "text");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("8 locked packages verified"));

    std::fs::remove_dir_all(root.path().join(SITE).join("leafy")).unwrap();
    write("plotkit", description("plotkit", "3.4.2", ""));
    write(
        "usehdr",
        description(
            "usehdr",
            "0.1.0",
            "RemoteType: github\nRemoteSha: 0123abcd\n",
        ),
    );
    write("stray", description("stray", "1.0", ""));
    let output = verify(root.path(), "json");
    assert_eq!(output.status.code(), Some(1));
    let mut found = findings(&output);
    found.sort();
    assert_eq!(
        found,
        [
            ("missing".to_string(), "leafy".to_string()),
            ("unexpected".into(), "stray".into()),
            ("wrong-source".into(), "usehdr".into()),
            ("wrong-version".into(), "plotkit".into()),
        ]
    );

    let output = verify(root.path(), "junit");
    let xml = String::from_utf8_lossy(&output.stdout);
    assert!(
        xml.contains(r#"tests="9" failures="4" errors="0""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase classname="top.cran" name="plotkit 3.4.1" time="#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase classname="base.cran" name="corekit 1.1-2" time="#),
        "{xml}"
    );
}

#[test]
fn a_legacy_docker_save_tar_applies_whiteouts_in_layer_order() {
    let dir = tempfile::tempdir().unwrap();
    let lower = packages_layer(&locked());
    // The upper layer deletes plotkit and upgrades leafy.
    let upper = layer(&[
        Entry::File(&format!("{SITE}/.wh.plotkit"), Vec::new()),
        Entry::File(
            &format!("{SITE}/leafy/DESCRIPTION"),
            description("leafy", "0.3.0", ""),
        ),
    ]);
    let image = dir.path().join("image.tar");
    docker_archive(&[lower, upper], &image);
    let output = verify(&image, "json");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let mut found = findings(&output);
    found.sort();
    assert_eq!(
        found,
        [
            ("missing".to_string(), "plotkit".to_string()),
            ("wrong-version".into(), "leafy".into())
        ]
    );
}

#[test]
fn oci_archives_and_layout_folders_read_gzip_zstd_and_opaque_whiteouts() {
    let dir = tempfile::tempdir().unwrap();
    let all = locked();
    let (first, second) = all.split_at(4);
    let layers = vec![
        (
            gzip(&packages_layer(first)),
            "application/vnd.oci.image.layer.v1.tar+gzip",
        ),
        (
            zstd::encode_all(packages_layer(second).as_slice(), 3).unwrap(),
            "application/vnd.oci.image.layer.v1.tar+zstd",
        ),
    ];
    let archive = dir.path().join("oci.tar");
    oci(&layers, &archive, true);
    let output = verify(&archive, "text");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );

    // An opaque whiteout hides everything the lower layers put in the site library.
    let mut with_opaque = layers.clone();
    with_opaque.push((
        layer(&[
            Entry::Dir(SITE),
            Entry::File(&format!("{SITE}/.wh..wh..opq"), Vec::new()),
            Entry::File(
                &format!("{SITE}/corekit/DESCRIPTION"),
                description("corekit", "1.1-2", ""),
            ),
        ]),
        "application/vnd.oci.image.layer.v1.tar",
    ));
    let folder = dir.path().join("layout");
    oci(&with_opaque, &folder, false);
    let output = verify(&folder, "json");
    assert_eq!(output.status.code(), Some(1));
    let found = findings(&output);
    assert_eq!(found.len(), 7, "{found:?}");
    assert!(
        found
            .iter()
            .all(|(kind, name)| kind == "missing" && name != "corekit")
    );
}

#[test]
fn hostile_entries_are_skipped_with_warnings_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut entries = vec![
        Entry::RawName(
            b"../escape/DESCRIPTION",
            b"Package: escape\nVersion: 1\n".to_vec(),
        ),
        Entry::RawName(
            b"/usr/local/lib/R/site-library/abs/DESCRIPTION",
            description("abs", "1", ""),
        ),
        Entry::Symlink(
            "usr/local/lib/R/site-library/evil/DESCRIPTION",
            "/etc/passwd",
        ),
        Entry::HardLink(
            "usr/local/lib/R/site-library/ghost/DESCRIPTION",
            "nowhere/DESCRIPTION",
        ),
    ];
    let all = packages_layer(&locked());
    let layers = vec![(all, "application/vnd.oci.image.layer.v1.tar")];
    let hostile = layer(&std::mem::take(&mut entries));
    let mut layers = layers;
    layers.push((hostile, "application/vnd.oci.image.layer.v1.tar"));
    let image = dir.path().join("image");
    oci(&layers, &image, false);
    let output = verify(&image, "json");
    assert_eq!(
        output.status.code(),
        Some(0),
        "the locked packages are all there: {}",
        stderr(&output)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let warnings: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings.iter().any(|w| w.contains("climbs out")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("absolute path")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("symbolic link")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("hard link")),
        "{warnings:?}"
    );
    assert!(!dir.path().join("escape").exists() && !Path::new("/escape").exists());
}

#[test]
fn a_decompression_bomb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = layer(&[Entry::File("big", vec![0u8; 8 << 20])]);
    let image = dir.path().join("bomb");
    oci(
        &[(gzip(&zeros), "application/vnd.oci.image.layer.v1.tar+gzip")],
        &image,
        false,
    );
    let limits = imglock::verify::Limits {
        max_file_bytes: 1 << 20,
        max_layer_bytes: 1 << 20,
    };
    let error = imglock::verify::verify(&image, &lock(), None, limits)
        .unwrap_err()
        .to_string();
    assert!(error.contains("decompression bomb"), "{error}");
}

#[test]
fn an_absurd_size_a_truncated_layer_and_a_missing_image_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut header = tar::Header::new_gnu();
    header.set_path(format!("{SITE}/huge/DESCRIPTION")).unwrap();
    header.set_size(1 << 40);
    header.set_cksum();
    let mut absurd = header.as_bytes().to_vec();
    absurd.extend_from_slice(&[0u8; 1024]);
    let image = dir.path().join("absurd");
    oci(
        &[(absurd, "application/vnd.oci.image.layer.v1.tar")],
        &image,
        false,
    );
    let output = verify(&image, "text");
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        stderr(&output).contains("corrupt or truncated"),
        "{}",
        stderr(&output)
    );

    let mut bytes = packages_layer(&locked());
    bytes.truncate(bytes.len() / 2);
    let image = dir.path().join("truncated");
    oci(
        &[(gzip(&bytes), "application/vnd.oci.image.layer.v1.tar+gzip")],
        &image,
        false,
    );
    let output = verify(&image, "text");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("corrupt or truncated"),
        "{}",
        stderr(&output)
    );
    let output = verify(&dir.path().join("nothing-here"), "text");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read the image"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_locks_r_library_is_where_packages_are_expected() {
    let dir = tempfile::tempdir().unwrap();
    let lock_text = std::fs::read_to_string(lock()).unwrap().replacen(
        "platform = \"linux/amd64\"\n",
        "platform = \"linux/amd64\"\nr-library = \"/opt/R/library\"\n",
        1,
    );
    let lock_path = dir.path().join("imglock.lock");
    std::fs::write(&lock_path, lock_text).unwrap();
    let root = dir.path().join("root");
    for (name, version) in locked() {
        let path = root.join("opt/R/library").join(name);
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join("DESCRIPTION"), description(name, version, "")).unwrap();
    }
    let stray = root.join("opt/R/library/stray");
    std::fs::create_dir_all(&stray).unwrap();
    std::fs::write(stray.join("DESCRIPTION"), description("stray", "1", "")).unwrap();
    let report =
        imglock::verify::verify(&root, &lock_path, None, imglock::verify::Limits::default())
            .unwrap();
    let kinds: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.kind, f.name.as_str()))
        .collect();
    assert_eq!(kinds, [(imglock::verify::FindingKind::Unexpected, "stray")]);
}

/// A layer of regular files.
fn files_layer(files: &[(&str, &[u8])]) -> Vec<u8> {
    let entries: Vec<Entry<'_>> = files
        .iter()
        .map(|(path, bytes)| Entry::File(path, bytes.to_vec()))
        .collect();
    layer(&entries)
}

#[test]
fn every_r_library_is_checked_for_unexpected_packages() {
    let dir = tempfile::tempdir().unwrap();
    let r_own =
        |name: &str, priority: &str| description(name, "4.2.2", &format!("Priority: {priority}\n"));
    // What Debian's r-base-core and r-recommended install (R's `translations` has no Priority),
    // strangers besides (one claiming to be a base package), and imglock's layer.
    let debian = [
        (
            "usr/lib/R/library/stats/DESCRIPTION",
            r_own("stats", "base"),
        ),
        (
            "usr/lib/R/library/Matrix/DESCRIPTION",
            r_own("Matrix", "recommended"),
        ),
        (
            "usr/lib/R/site-library/lattice/DESCRIPTION",
            r_own("lattice", "recommended"),
        ),
        (
            "usr/lib/R/site-library/littler/DESCRIPTION",
            description("littler", "0.3.17", ""),
        ),
        (
            "usr/lib/R/library/translations/DESCRIPTION",
            description("translations", "4.2.2", "License: Part of R 4.2.2\n"),
        ),
        (
            "usr/lib/R/library/notbase/DESCRIPTION",
            r_own("notbase", "base"),
        ),
        (
            "usr/local/lib/R/library/docopt/DESCRIPTION",
            description("docopt", "0.7.1", ""),
        ),
    ];
    let debian: Vec<(&str, &[u8])> = debian.iter().map(|(p, b)| (*p, b.as_slice())).collect();
    let image = dir.path().join("image");
    oci(
        &[
            (
                files_layer(&debian),
                "application/vnd.oci.image.layer.v1.tar",
            ),
            (
                packages_layer(&locked()),
                "application/vnd.oci.image.layer.v1.tar",
            ),
        ],
        &image,
        false,
    );
    let output = verify(&image, "json");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let mut found = findings(&output);
    found.sort();
    assert_eq!(
        found,
        [
            ("unexpected".to_string(), "docopt".to_string()),
            ("unexpected".into(), "littler".into()),
            ("unexpected".into(), "notbase".into()),
        ]
    );
    let text = String::from_utf8_lossy(&verify(&image, "text").stdout).into_owned();
    assert!(
        text.contains("littler 0.3.17 is in /usr/lib/R/site-library but not in the lock"),
        "{text}"
    );
}
