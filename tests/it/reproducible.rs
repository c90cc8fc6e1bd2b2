//! Bit-for-bit identical layers (issue 18, item 1): the same emitted lock built with `buildah bud
//! --timestamp 0` in two separate storage roots, each with its own empty binary cache, gives the
//! same layer digests; and so does a third build, later, that installs every R package from the
//! binary cache the second build filled. Every kind of install step is in the lock: Debian
//! packages (`libsodium-dev`, with what it pulls in, from the recorded bookworm archive), R (one
//! compiled package, `fastsum`, and one that compiles against another's headers, `usehdr`,
//! `LinkingTo: headerlib`), a Python wheel (`idna`, whose `.pyc` files pip compiles), conda
//! packages from two channels (installed by the test base image's py-rattler stand-in for
//! micromamba) and a Maven tree of jars.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::image_build::base_digest;
use crate::r_binaries::with_binaries;
use crate::support::{Project, Server, TEST_BASE_IMAGE, fixtures, output_text as text, stderr};

/// A buildah storage root of its own (images, layers and, through `TMPDIR`, the cache mounts),
/// removed with its folder.
struct Storage {
    dir: tempfile::TempDir,
}

impl Storage {
    fn new() -> Self {
        // /var/tmp: the vfs driver copies whole root filesystems, too big for a tmpfs /tmp.
        let dir = tempfile::tempdir_in("/var/tmp").unwrap();
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        Self { dir }
    }

    fn buildah(&self, args: &[&str]) -> Output {
        let path = |name: &str| self.dir.path().join(name);
        Command::new("buildah")
            .arg("--root")
            .arg(path("root"))
            .arg("--runroot")
            .arg(path("run"))
            .args(args)
            .env("STORAGE_DRIVER", "vfs")
            .env("BUILDAH_ISOLATION", "chroot")
            .env("TMPDIR", path("tmp"))
            .output()
            .expect("run buildah")
    }

    /// Builds `context` with fixed timestamps and returns the image's layer digests (the
    /// uncompressed `diff_ids`) and the build's output.
    fn build(&self, context: &Path, tag: &str) -> (Vec<String>, String) {
        let context = context.to_string_lossy();
        let output = self.buildah(&["bud", "--layers", "--timestamp", "0", "-t", tag, &context]);
        assert!(output.status.success(), "{}", text(&output));
        let format = "{{range .OCIv1.RootFS.DiffIDs}}{{.}} {{end}}";
        let inspect = self.buildah(&["inspect", "--type", "image", "--format", format, tag]);
        assert!(inspect.status.success(), "{}", text(&inspect));
        let layers = String::from_utf8_lossy(&inspect.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        (layers, text(&output))
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        // vfs layers may hold read-only folders; buildah removes its own storage cleanly.
        let _ = self.buildah(&["rmi", "--all", "--force"]);
    }
}

/// The base image as an OCI layout (uncompressed, so its digest stays the one it has here).
fn base_layout(dir: &Path) -> PathBuf {
    let layout = dir.join("base");
    let output = crate::image_build::buildah(&[
        "push",
        "--disable-compression",
        TEST_BASE_IMAGE,
        &format!("oci:{}", layout.display()),
    ]);
    assert!(output.status.success(), "{}", text(&output));
    layout
}

/// The binary sha256 the installer printed for each package it built, by name (sorted: packages
/// of a step build at once, and end in any order).
fn built_binaries(log: &str) -> Vec<(String, String)> {
    let mut built: Vec<(String, String)> = log
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("imglock: R package ")?;
            let (name, rest) = rest.split_once(' ')?;
            let digest = rest.split("(binary sha256 ").nth(1)?.strip_suffix(')')?;
            Some((name.to_string(), digest.to_string()))
        })
        .collect();
    built.sort();
    built
}

/// The positions where two images' layer lists differ (all of them when their lengths do).
fn differing(one: &[String], two: &[String]) -> Vec<usize> {
    if one.len() != two.len() {
        return (0..one.len().max(two.len())).collect();
    }
    (0..one.len()).filter(|&i| one[i] != two[i]).collect()
}

/// The spec: one layer of every kind of install step, on the base image read from `base` (an
/// OCI layout: apt resolves against the packages it holds), every repository served by `server`.
fn spec(base: &Path, server: &Server) -> String {
    let url = server.url();
    let keyring = fixtures().join("debian/debian-archive-keyring.gpg");
    format!(
        "[image]\nname = \"repro\"\nbase = \"oci:{}\"\nr = \"4.2.2\"\npython = \"3.11\"\nconda-prefix = \"/opt/conda\"\n\n\
         [repositories]\ncran = [\"{url}/cran\"]\npypi = \"{url}/pypi/simple\"\n\
         conda = [\"{url}/conda/channels/main\", \"{url}/conda/channels/forge\"]\nmaven = [\"{url}/maven/repo\"]\n\
         apt = [\"deb [check-valid-until=no] {url}/debian/debian bookworm main\", \
         \"deb [check-valid-until=no] {url}/debian/debian-security bookworm-security main\"]\n\
         apt-keyring = [\"{}\"]\n\n\
         [[layer]]\nname = \"system\"\napt = [\"libsodium-dev\"]\n\n\
         [[layer]]\nname = \"r\"\ncran = [\"usehdr\"]\n\n[[layer]]\nname = \"py\"\npypi = [\"idna==3.3\"]\n\n\
         [[layer]]\nname = \"conda\"\nconda = [\"zedtool\", \"tini 0.19.0\"]\n\n\
         [[layer]]\nname = \"jars\"\nmaven = [\"org.imglock.fixture:app:1.0\"]\nmaven-target = \"/opt/jars\"\n",
        base.display(),
        keyring.display()
    )
}

#[test]
fn two_cold_builds_in_separate_storage_and_a_later_warm_one_give_identical_layers() {
    if base_digest().is_none() {
        return;
    }
    let server = Server::start(&fixtures());
    // buildah names a pulled layout after its path, which must then be lowercase.
    let layouts = tempfile::Builder::new()
        .prefix(&format!("imglock-repro-{}", std::process::id()))
        .rand_bytes(0)
        .tempdir_in("/var/tmp")
        .unwrap();
    let layout = base_layout(layouts.path());
    let project = Project::new(&spec(&layout, &server));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));

    let tag = "localhost/imglock-repro:1";
    // The first storage is removed once its layers are read: two at once need twice the disk.
    let (one, log) = Storage::new().build(&project.path("build"), tag);
    let built = built_binaries(&log);
    assert_eq!(built.len(), 4, "every package compiled: {log}");
    // The second build runs later (the pull and the first build took many seconds).
    let second = Storage::new();
    let (two, log) = second.build(&project.path("build"), tag);
    assert_eq!(built_binaries(&log), built, "the same binaries: {log}");
    assert!(one.len() > 6, "the base and a layer per step: {one:?}");
    assert_eq!(
        differing(&one, &two),
        Vec::<usize>::new(),
        "the layers (from 0, the base's first) of two cold builds differ: {one:?} {two:?}"
    );

    // The lock records the binaries; the steps change, so they run again in the second storage,
    // later still, every package from its binary cache: the same layers once more.
    let recorded: Vec<(&str, String)> =
        built.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
    let lock = with_binaries(&project.lock().unwrap(), &recorded);
    std::fs::write(project.path("imglock.lock"), lock).unwrap();
    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let (three, log) = second.build(&project.path("build"), "localhost/imglock-repro:2");
    let cached = log
        .lines()
        .filter(|l| l.starts_with("imglock: R package ") && l.ends_with("from the binary cache"))
        .count();
    assert_eq!(cached, 4, "{log}");
    assert_eq!(
        differing(&one, &three),
        Vec::<usize>::new(),
        "the layers (from 0, the base's first) of a warm build differ: {one:?} {three:?}"
    );
}
