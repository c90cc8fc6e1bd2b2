//! The base image read as layer zero, without a daemon: the test base image
//! (scripts/base-image.sh) pushed into a real registry on loopback (Debian's `docker-registry`)
//! and read by tag and by digest, and saved as an OCI layout and read from there. What imglock
//! finds installed is checked against the image itself, asked from inside a container of it
//! (`dpkg-query`, `R --version`, `python3`). A blob whose bytes do not match its digest is
//! refused, from the registry and from a layout.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Instant;

use imglock::base::{BaseContents, BaseError, BaseOptions, BaseReference, read_base};
use imglock::fetch::Cache;
use imglock::platform::Platform;

use crate::image_build::{Cleanup, base_digest, buildah};
use crate::support::TEST_BASE_IMAGE;
use crate::support::registry::Registry;

/// What the test base image says of itself, from inside a container of it.
struct Oracle {
    /// Packages dpkg calls installed (`ii`).
    dpkg_installed: usize,
    /// `R --version`'s version, like `4.2.2`.
    r_version: String,
    /// `python3`'s `major.minor`.
    python_version: String,
    /// `pip`'s version, as `python3 -m pip --version` prints it.
    pip_version: String,
}

/// The oracle, asked once for every test of this file.
fn oracle() -> &'static Oracle {
    static ORACLE: OnceLock<Oracle> = OnceLock::new();
    ORACLE.get_or_init(|| {
        let container = format!("imglock-base-oracle-{}", std::process::id());
        let _cleanup = Cleanup(vec![container.clone()]);
        let made = buildah(&["from", "--name", &container, TEST_BASE_IMAGE]);
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let run = |script: &str| {
            let output = buildah(&["run", &container, "--", "sh", "-c", script]);
            assert!(
                output.status.success(),
                "{script}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8_lossy(&output.stdout).trim().to_string()
        };
        let statuses = run("dpkg-query -W -f '${db:Status-Abbrev}\\n'");
        let r = run("R --version | head -1");
        Oracle {
            dpkg_installed: statuses.lines().filter(|l| l.starts_with("ii")).count(),
            r_version: r.split_whitespace().nth(2).unwrap_or_default().to_string(),
            python_version: run("python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'"),
            pip_version: run("python3 -m pip --version")
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string(),
        }
    })
}

/// Whether these tests can run here: root, buildah, skopeo and the test base image.
fn can_run() -> bool {
    base_digest().is_some()
        && crate::support::available(
            crate::support::runs("skopeo", &["--version"]),
            "skopeo is not installed",
        )
}

pub(crate) fn options<'a>(
    platform: &'a Platform,
    cache: &'a Cache,
    spec_dir: &'a Path,
    offline: bool,
) -> BaseOptions<'a> {
    BaseOptions {
        platform,
        conda_prefix: "/opt/conda",
        spec_dir,
        cache,
        offline,
    }
}

/// `contents` holds what the oracle says the test base image has.
fn check_contents(contents: &BaseContents) {
    let oracle = oracle();
    assert_eq!(
        contents.dpkg.len(),
        oracle.dpkg_installed,
        "dpkg's installed packages"
    );
    let r = contents.r.as_ref().expect("the image has R");
    assert_eq!(r.version, oracle.r_version);
    assert_eq!(r.packages["base"].priority.as_deref(), Some("base"));
    assert_eq!(
        r.packages["Matrix"].priority.as_deref(),
        Some("recommended")
    );
    let python = contents.python.as_ref().expect("the image has Python");
    assert_eq!(python.version, oracle.python_version);
    assert_eq!(python.packages["pip"].version, oracle.pip_version);
    let r_base = contents
        .dpkg
        .iter()
        .find(|p| p.name == "r-base-core")
        .expect("r-base-core");
    assert!(
        r_base.version.starts_with(&oracle.r_version),
        "{}",
        r_base.version
    );
    assert!(
        contents
            .dpkg
            .iter()
            .any(|p| p.essential && p.name == "dpkg")
    );
    assert!(
        contents.apt_sources.contains_key("etc/apt/sources.list"),
        "{:?}",
        contents.apt_sources.keys()
    );
    assert!(
        contents
            .keyrings
            .keys()
            .any(|k| k.starts_with("usr/share/keyrings/")),
        "{:?}",
        contents.keyrings.keys()
    );
    // The test base image has no conda environment (its micromamba is a stand-in).
    assert!(contents.conda.is_empty());
}

#[test]
fn a_registry_image_is_read_by_tag_then_by_its_pinned_digest_from_the_cache() {
    if !can_run() {
        return;
    }
    let Some(registry) = Registry::start() else {
        return;
    };
    let pushed = registry.push(
        &format!("containers-storage:{TEST_BASE_IMAGE}"),
        "imglock/base:bookworm",
    );
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(cache_dir.path());
    let platform = Platform::default();
    let by_tag =
        BaseReference::parse(&format!("{}/imglock/base:bookworm", registry.host())).unwrap();
    let started = Instant::now();
    let read = read_base(&by_tag, options(&platform, &cache, cache_dir.path(), false)).unwrap();
    eprintln!(
        "read the base image's inventory from the registry, cold: {:?}",
        started.elapsed()
    );
    assert_eq!(read.reference.digest(), Some(pushed.as_str()));
    assert_eq!(read.reference.to_string(), format!("{by_tag}@{pushed}"));
    check_contents(&read.contents);

    // Pinned, it is read again from the cache alone.
    let started = Instant::now();
    let again = read_base(
        &read.reference,
        options(&platform, &cache, cache_dir.path(), true),
    )
    .unwrap();
    eprintln!(
        "read it again by digest, offline from the cache: {:?}",
        started.elapsed()
    );
    assert_eq!(again.contents, read.contents);
    assert_eq!(again.reference, read.reference);

    // A tag cannot be read offline: what it points at may have moved.
    let error = read_base(&by_tag, options(&platform, &cache, cache_dir.path(), true)).unwrap_err();
    assert!(matches!(error, BaseError::Offline { .. }), "{error}");

    drop(registry);
}

#[test]
fn a_registry_blob_that_does_not_match_its_digest_is_refused() {
    if !can_run() {
        return;
    }
    let Some(registry) = Registry::start() else {
        return;
    };
    let pushed = registry.push(
        &format!("containers-storage:{TEST_BASE_IMAGE}"),
        "imglock/base:tampered",
    );
    // The registry's storage holds each blob as `blobs/sha256/<ab>/<hex>/data`: alter the
    // largest (a layer).
    let largest = largest_file(&registry.storage().join("docker/registry/v2/blobs"));
    tamper(&largest);
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(cache_dir.path());
    let platform = Platform::default();
    let reference =
        BaseReference::parse(&format!("{}/imglock/base@{pushed}", registry.host())).unwrap();
    let error = read_base(
        &reference,
        options(&platform, &cache, cache_dir.path(), false),
    )
    .unwrap_err();
    let message = crate::support::causes(&error);
    assert!(message.contains("do not match its digest"), "{message}");
    // Nothing of the altered blob was kept.
    let hex = largest
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        !cache_dir
            .path()
            .join("artifacts/sha256")
            .join(&hex)
            .exists()
    );
}

#[test]
fn a_local_oci_layout_is_read_and_a_tampered_one_refused() {
    if !can_run() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("base");
    let pushed = buildah(&[
        "push",
        TEST_BASE_IMAGE,
        &format!("oci:{}", layout.display()),
    ]);
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    let cache = Cache::at(dir.path().join("cache"));
    let platform = Platform::default();
    let reference = BaseReference::parse("oci:base").unwrap();
    let started = Instant::now();
    let read = read_base(&reference, options(&platform, &cache, dir.path(), true)).unwrap();
    eprintln!(
        "read the base image's inventory from an OCI layout: {:?}",
        started.elapsed()
    );
    check_contents(&read.contents);
    let digest = read.reference.digest().unwrap().to_string();
    assert_eq!(read.reference.to_string(), format!("oci:base@{digest}"));

    // Pinned to another digest, the layout is refused.
    let other = reference.pinned(&format!("sha256:{}", "0".repeat(64)));
    let error = read_base(&other, options(&platform, &cache, dir.path(), true)).unwrap_err();
    assert!(
        crate::support::causes(&error).contains("sha256:0000"),
        "{error}"
    );

    tamper(&largest_file(&layout.join("blobs")));
    let error = read_base(
        &read.reference,
        options(&platform, &cache, dir.path(), true),
    )
    .unwrap_err();
    let message = crate::support::causes(&error);
    assert!(message.contains("does not match its digest"), "{message}");
}

/// The largest file below `dir`.
fn largest_file(dir: &Path) -> std::path::PathBuf {
    let mut best = (0, dir.to_path_buf());
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.len() > best.0 {
                best = (meta.len(), entry.path());
            }
        }
    }
    best.1
}

/// Flips one byte near the end of `path` (past a gzip header, inside the data).
fn tamper(path: &Path) {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let at = file.metadata().unwrap().len() / 2;
    let mut byte = [0u8];
    file.seek(SeekFrom::Start(at)).unwrap();
    file.read_exact(&mut byte).unwrap();
    file.seek(SeekFrom::Start(at)).unwrap();
    file.write_all(&[byte[0] ^ 0xff]).unwrap();
}
