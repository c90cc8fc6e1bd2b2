//! Real image builds: the emitted Dockerfile built by buildah (no Docker daemon), from the fixture
//! repositories served on 127.0.0.1, on a Debian bookworm + R base image that
//! `scripts/base-image.sh` makes. Skipped when buildah, root or the base image is missing, except
//! under `CI=true`, where that is a failure.

use std::cell::Cell;
use std::process::{Command, Output};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use crate::support;
use crate::support::mixed::MixedRepositories;
use crate::support::{Project, Server, fixture_copy, locks, output_text as text, stderr};

/// Held (shared) by every build, and (alone) by every removal of images or containers: builds
/// with `--layers` share intermediate images (the same base and first steps), and a removal
/// while a build runs takes an image or container the build is using; the build then fails
/// with "image not known" or "layer not known".
static BUILDS: RwLock<()> = RwLock::new(());

thread_local! {
    /// Whether this thread holds [`BUILDS`] alone ([`alone`]): its builds and removals then
    /// take no lock of their own.
    static ALONE: Cell<bool> = const { Cell::new(false) };
}

/// A guard under which no image or container is removed: for a build run by another program
/// (`imglock cache warm`).
pub(crate) fn building() -> Option<RwLockReadGuard<'static, ()>> {
    (!ALONE.get()).then(|| {
        BUILDS
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    })
}

/// A guard under which no other test builds or removes anything: for a test whose builds must
/// not share intermediate images with builds that other tests remove.
pub(crate) struct Alone {
    _guard: Option<RwLockWriteGuard<'static, ()>>,
}

pub(crate) fn alone() -> Alone {
    let guard = removing();
    ALONE.set(true);
    Alone { _guard: guard }
}

impl Drop for Alone {
    fn drop(&mut self) {
        ALONE.set(false);
    }
}

/// The lock a removal holds: none when this thread holds it alone already.
fn removing() -> Option<RwLockWriteGuard<'static, ()>> {
    (!ALONE.get()).then(|| {
        BUILDS
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    })
}

pub(crate) fn buildah(args: &[&str]) -> Output {
    let _building = if args.first() == Some(&"bud") {
        building()
    } else {
        None
    };
    let _removing = if matches!(args.first(), Some(&"rm" | &"rmi")) {
        removing()
    } else {
        None
    };
    Command::new("buildah")
        .args(args)
        .env("STORAGE_DRIVER", "vfs")
        .env("BUILDAH_ISOLATION", "chroot")
        .output()
        .expect("run buildah")
}

/// The base image's digest, or `None` (with a message) when real builds cannot run here.
pub(crate) fn base_digest() -> Option<String> {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let digest = support::test_base_digest();
    match (is_root, digest) {
        (true, Some(digest)) => Some(digest),
        _ => {
            support::available(
                false,
                "real image builds need root, buildah and the base image",
            );
            None
        }
    }
}

/// Images and containers this test made, removed when it ends however it ends.
pub(crate) struct Cleanup(pub(crate) Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for name in self.0.iter().rev() {
            let _ = buildah(&["rm", name]);
            let _ = buildah(&["rmi", "-f", name]);
        }
        let _ = buildah(&["rmi", "--prune"]);
    }
}

pub(crate) fn build(project: &Project, dir: &str, tag: &str, extra: &[&str]) -> (Output, f64) {
    let context = project.path(dir);
    let started = Instant::now();
    let mut args = vec!["bud", "--layers", "-t", tag];
    args.extend_from_slice(extra);
    let context = context.to_string_lossy().into_owned();
    args.push(&context);
    let output = buildah(&args);
    (output, started.elapsed().as_secs_f64())
}

fn emit(project: &Project, out: &str) -> usize {
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = project.run(&["emit", "--out", out]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dockerfile = std::fs::read_to_string(project.path(out).join("Dockerfile")).unwrap();
    dockerfile.lines().filter(|l| l.starts_with("RUN ")).count()
}

/// The lines the installer printed, one per package installed (`imglock: R package …`).
fn installer_reports(output: &Output) -> Vec<String> {
    text(output)
        .lines()
        .filter(|line| line.starts_with("imglock: R package "))
        .map(str::to_string)
        .collect()
}

/// `name version` of every package in the image's site library.
fn installed(image: &str, cleanup: &mut Cleanup) -> Vec<String> {
    let container = format!("{}-probe", image.replace([':', '/'], "-"));
    let output = buildah(&["from", "--name", &container, image]);
    assert!(output.status.success(), "{}", text(&output));
    cleanup.0.push(container.clone());
    let script = "ip <- installed.packages(lib.loc = '/usr/local/lib/R/site-library'); cat(paste(ip[, 'Package'], ip[, 'Version']), sep = '\\n')";
    let output = buildah(&["run", &container, "--", "Rscript", "-e", script]);
    assert!(output.status.success(), "{}", text(&output));
    let mut packages: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    packages.sort();
    packages
}

/// The `binary-sha256` the lock records, by package name.
fn binaries(project: &Project) -> std::collections::BTreeMap<String, String> {
    locks::binary_digests(&project.lock().unwrap())
}

/// A folder (under `dir`) holding a Dockerfile that, from the base image, mounts imglock's
/// binary cache as the installer does and copies `donor`'s recorded binary over `victim`'s,
/// and the sha256 the victim's entry then has.
fn plant(
    project: &Project,
    base: &str,
    victim: &str,
    donor: &str,
    dir: &std::path::Path,
) -> (std::path::PathBuf, String) {
    let packages = locks::packages(&project.lock().unwrap());
    let dockerfile = std::fs::read_to_string(project.path("build1/Dockerfile")).unwrap();
    let keys = locks::r_package_keys(&dockerfile);
    let entry = |name: &str| {
        let package = packages.iter().find(|p| p["name"].as_str() == Some(name));
        let field = |f: &str| package.unwrap()[f].as_str().unwrap().to_string();
        let (version, sha256, binary) = (field("version"), field("sha256"), field("binary-sha256"));
        let key = &keys[name];
        let path = format!("/var/cache/imglock/r/{key}/{name}_{version}_{sha256}/{binary}.tar.gz");
        (path, binary)
    };
    let (to, _) = entry(victim);
    let (from, found) = entry(donor);
    let folder = dir.join("plant");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("Dockerfile"),
        format!(
            "FROM localhost/imglock-test-base@{base}\nRUN --mount=type=cache,target=/var/cache/imglock,sharing=locked cp {from} {to}\n"
        ),
    )
    .unwrap();
    (folder, found)
}

fn locked(project: &Project) -> Vec<String> {
    let mut packages: Vec<String> = locks::packages(&project.lock().unwrap())
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect();
    packages.sort();
    packages
}

#[test]
fn built_images_hold_exactly_the_lock_and_rebuild_only_what_changed() {
    let Some(digest) = base_digest() else { return };
    let copy = fixture_copy();
    let server = Server::start(copy.path());
    let spec = |bio: &str| {
        format!(
            "[image]\nname = \"build-test\"\nbase = \"localhost/imglock-test-base@{digest}\"\nr = \"4.2.2\"\n\n\
             [repositories]\ncran = [\"{0}/cran\"]\nbioconductor = \"{0}/bioc\"\n\n\
             [[layer]]\nname = \"r\"\ncran = [\"plotkit\", \"usehdr\"]\n\n[[layer]]\nname = \"bio\"\n{bio}\n",
            server.url()
        )
    };
    let project = Project::new(&spec("bioconductor = [\"SeqTools\"]"));
    let tag = |n: u32| format!("localhost/imglock-build-test-{}:{n}", std::process::id());
    let mut cleanup = Cleanup(Vec::new());

    // Cold: every step runs, and every package is compiled: the lock records no binary yet, so
    // nothing an earlier build left in the binary cache is trusted.
    let steps = emit(&project, "build1");
    cleanup.0.push(tag(1));
    let (output, cold) = build(&project, "build1", &tag(1), &[]);
    assert!(output.status.success(), "{}", text(&output));
    let reports = installer_reports(&output);
    assert_eq!(reports.len(), locked(&project).len(), "{reports:?}");
    assert!(
        reports
            .iter()
            .all(|r| r.contains(" built from source (binary sha256 ")),
        "{reports:?}"
    );
    assert_eq!(
        installed(&tag(1), &mut cleanup),
        locked(&project),
        "the image holds exactly the lock"
    );

    // The built image verifies clean as an OCI layout and as a docker-archive tar, and a copy
    // whose plotkit DESCRIPTION was edited in an extra layer does not.
    let images = tempfile::tempdir().unwrap();
    let oci = format!("oci:{}", images.path().join("oci").display());
    let output = buildah(&["push", &tag(1), &oci]);
    assert!(output.status.success(), "{}", text(&output));
    let archive = images.path().join("image.tar");
    let output = Command::new("skopeo")
        .args([
            "copy",
            &oci,
            &format!("docker-archive:{}:imglock-test:1", archive.display()),
        ])
        .output()
        .expect("run skopeo");
    assert!(output.status.success(), "{}", text(&output));
    for image in [images.path().join("oci"), archive] {
        let output = project.run(&["verify", image.to_str().unwrap()]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            stderr(&output)
        );
    }
    let tamper = images.path().join("tamper");
    std::fs::create_dir_all(&tamper).unwrap();
    std::fs::write(
        tamper.join("Dockerfile"),
        format!("FROM {}\nRUN sed -i 's/^Version: 3.4.1$/Version: 3.4.2/' /usr/local/lib/R/site-library/plotkit/DESCRIPTION\n", tag(1)),
    )
    .unwrap();
    cleanup.0.push(tag(9));
    let output = buildah(&["bud", "-t", &tag(9), tamper.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));
    let tampered = format!("oci:{}", images.path().join("tampered").display());
    let output = buildah(&["push", &tag(9), &tampered]);
    assert!(output.status.success(), "{}", text(&output));
    let output = project.run(&["verify", images.path().join("tampered").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        report.contains("plotkit is installed at 3.4.2, but the lock says 3.4.1"),
        "{report}"
    );

    // Unchanged: every step is reused.
    cleanup.0.push(tag(2));
    let (output, cached) = build(&project, "build1", &tag(2), &[]);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(
        text(&output).matches("Using cache").count(),
        steps,
        "{}",
        text(&output)
    );

    // The image's records give every R package its binary sha256 in the lock.
    let output = project.run(&[
        "verify",
        images.path().join("oci").to_str().unwrap(),
        "--record-binaries",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let count = locked(&project).len();
    assert!(
        stderr(&output).contains(&format!(
            "recorded the binary sha256 of {count} R package(s)"
        )),
        "{}",
        stderr(&output)
    );
    assert_eq!(binaries(&project).len(), count);
    let output = project.run(&["emit", "--out", "build1"]);
    assert!(output.status.success(), "{}", stderr(&output));

    // The R steps changed, so they run once more, every package from the binary cache: nothing
    // is compiled; and so again without the layer cache.
    for (number, extra) in [(3, &[][..]), (8, &["--no-cache"][..])] {
        cleanup.0.push(tag(number));
        let (output, _) = build(&project, "build1", &tag(number), extra);
        assert!(output.status.success(), "{}", text(&output));
        let reports = installer_reports(&output);
        let cached = reports
            .iter()
            .filter(|r| r.ends_with("installed from the binary cache"))
            .count();
        assert_eq!((reports.len(), cached), (count, count), "{reports:?}");
    }

    // Another build on this builder plants usehdr's binary as plotkit's cache entry: it is not
    // installed; plotkit is compiled again and the image holds exactly the lock.
    let (planted, found) = plant(&project, &digest, "plotkit", "usehdr", images.path());
    cleanup.0.push(tag(6));
    let output = buildah(&[
        "bud",
        "--no-cache",
        "-t",
        &tag(6),
        planted.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output));
    cleanup.0.push(tag(7));
    let (output, _) = build(&project, "build1", &tag(7), &["--no-cache"]);
    assert!(output.status.success(), "{}", text(&output));
    let recorded = &binaries(&project)["plotkit"];
    assert!(
        text(&output).contains(&format!(
            "imglock: not installing the binary cache's R package plotkit 3.4.1: its sha256 is {found}, but the lock records {recorded}; building it from source"
        )),
        "{}",
        text(&output)
    );
    let reports = installer_reports(&output);
    let compiled: Vec<&String> = reports
        .iter()
        .filter(|r| r.contains("built from source"))
        .collect();
    assert_eq!(compiled.len(), 1, "{reports:?}");
    assert!(
        compiled[0]
            .starts_with("imglock: R package plotkit 3.4.1 built from source (binary sha256 "),
        "{reports:?}"
    );
    assert_eq!(reports.len(), count, "{reports:?}");
    assert_eq!(installed(&tag(7), &mut cleanup), locked(&project));

    // One leaf added to the last layer: only the last R step runs.
    project.write_spec(&spec("bioconductor = [\"SeqTools\"]\ncran = [\"leafy\"]"));
    let steps = emit(&project, "build2");
    cleanup.0.push(tag(4));
    let (output, leaf) = build(&project, "build2", &tag(4), &[]);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(
        text(&output).matches("Using cache").count(),
        steps - 1,
        "{}",
        text(&output)
    );
    // That step reinstalls its packages: the new leaf, and SeqTools from the binary cache.
    let reports = installer_reports(&output);
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(
        reports
            .iter()
            .any(|r| r.starts_with("imglock: R package leafy 0.2.0 ")),
        "{reports:?}"
    );
    assert!(
        reports.contains(
            &"imglock: R package SeqTools 1.4.0 installed from the binary cache".to_string()
        ),
        "{reports:?}"
    );
    assert_eq!(installed(&tag(4), &mut cleanup), locked(&project));

    // A tarball replaced on the server after locking: the build fails, naming the package.
    project.write_spec(&spec(
        "bioconductor = [\"SeqTools\"]\ncran = [\"leafy\", \"tinyleaf\"]",
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    std::fs::write(
        copy.path().join("cran/src/contrib/tinyleaf_0.1.0.tar.gz"),
        b"not the locked bytes",
    )
    .unwrap();
    let output = project.run(&["emit", "--out", "build3"]);
    assert!(output.status.success(), "{}", stderr(&output));
    cleanup.0.push(tag(5));
    let (output, _) = build(&project, "build3", &tag(5), &[]);
    assert!(
        !output.status.success(),
        "a tampered tarball must fail the build"
    );
    assert!(
        text(&output).contains("checksum mismatch for R package tinyleaf 0.1.0"),
        "{}",
        text(&output)
    );

    eprintln!(
        "build times: cold {cold:.1} s, fully cached {cached:.1} s, one leaf added {leaf:.1} s"
    );
}

/// The Python layer of an image built for real: pip in the image installs the emitted
/// requirements (wheels fetched from the recorded index on 127.0.0.1, hashes checked) and the
/// result verifies clean; a wheel replaced after locking fails the build.
#[test]
fn a_python_layer_installs_exactly_the_lock() {
    let Some(digest) = base_digest() else { return };
    let copy = tempfile::tempdir().unwrap();
    support::copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pypi"),
        copy.path(),
    );
    let server = Server::start(copy.path());
    // Debian 12's Python is 3.11: markers and wheel tags are evaluated for it.
    let project = Project::new(&format!(
        "[image]\nname = \"python-build-test\"\nbase = \"localhost/imglock-test-base@{digest}\"\npython = \"3.11\"\n\n\
         [repositories]\npypi = \"{}/simple\"\n\n[[layer]]\nname = \"py\"\npypi = [\"requests[socks]==2.27.1\"]\n",
        server.url()
    ));
    let output = project.run(&["resolve", "--exclude-newer", "2022-06-01T00:00:00Z"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let tag = format!("localhost/imglock-python-test-{}:1", std::process::id());
    let mut cleanup = Cleanup(vec![tag.clone()]);
    let (output, seconds) = build(&project, "build", &tag, &[]);
    assert!(output.status.success(), "{}", text(&output));

    let container = format!("imglock-python-probe-{}", std::process::id());
    let output = buildah(&["from", "--name", &container, &tag]);
    assert!(output.status.success(), "{}", text(&output));
    cleanup.0.push(container.clone());
    let output = buildah(&[
        "run",
        &container,
        "--",
        "python3",
        "-c",
        "import requests, socks; print(requests.__version__)",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "2.27.1");

    let images = tempfile::tempdir().unwrap();
    let oci = images.path().join("oci");
    let output = buildah(&["push", &tag, &format!("oci:{}", oci.display())]);
    assert!(output.status.success(), "{}", text(&output));
    let report = project.verify_clean(&oci);
    assert_eq!(
        report["checked"].as_array().unwrap().len(),
        locked(&project).len()
    );

    // A wheel replaced on the index after locking: pip's hash check fails the build.
    let lock: toml::Value = toml::from_str(&project.lock().unwrap()).unwrap();
    let idna = lock["layer"][0]["package"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str() == Some("idna"))
        .expect("idna is locked");
    let path = idna["url"]
        .as_str()
        .unwrap()
        .split("/files/")
        .nth(1)
        .unwrap();
    std::fs::write(
        copy.path().join("files").join(path),
        b"not the locked wheel",
    )
    .unwrap();
    let rebuilt = format!("localhost/imglock-python-test-{}:2", std::process::id());
    cleanup.0.push(rebuilt.clone());
    let (output, _) = build(&project, "build", &rebuilt, &["--no-cache"]);
    assert!(
        !output.status.success(),
        "a replaced wheel must fail the build"
    );
    assert!(
        text(&output).contains("THESE PACKAGES DO NOT MATCH THE HASHES"),
        "{}",
        text(&output)
    );
    eprintln!("python layer build: {seconds:.1} s");
}

/// The mixed example (examples/mixed-fixture: CRAN, Bioconductor, PyPI, conda and Maven layers
/// in one spec), each repository on a loopback server of its own: resolved, emitted, built for
/// real by buildah, every ecosystem's packages found in the image, and `verify` clean.
#[test]
fn the_mixed_example_builds_and_verifies() {
    let Some(digest) = base_digest() else { return };
    let repositories = MixedRepositories::start();
    let spec = repositories.spec(Some(&format!("localhost/imglock-test-base@{digest}")));
    let project = Project::new(&spec);
    let steps = emit(&project, "build");
    assert!(steps >= 5, "at least one step per layer");
    let tag = format!("localhost/imglock-mixed-test-{}:1", std::process::id());
    let mut cleanup = Cleanup(vec![tag.clone()]);
    let (output, seconds) = build(&project, "build", &tag, &[]);
    assert!(output.status.success(), "{}", text(&output));

    let container = format!("imglock-mixed-probe-{}", std::process::id());
    let output = buildah(&["from", "--name", &container, &tag]);
    assert!(output.status.success(), "{}", text(&output));
    cleanup.0.push(container.clone());
    let probe = "Rscript -e 'library(plotkit); library(SeqTools); cat(\"R ok\\n\")' \
                 && python3 -c 'import requests, socks; print(\"python\", requests.__version__)' \
                 && /opt/conda/bin/zedtool && /opt/conda/bin/tini \
                 && ls /opt/jars";
    let output = buildah(&["run", &container, "--", "sh", "-c", probe]);
    let shown = text(&output);
    assert!(output.status.success(), "{shown}");
    assert!(
        shown.contains("R ok") && shown.contains("python 2.27.1"),
        "{shown}"
    );
    assert!(shown.contains("app-1.0.jar"), "{shown}");

    let images = tempfile::tempdir().unwrap();
    let oci = images.path().join("oci");
    let output = buildah(&["push", &tag, &format!("oci:{}", oci.display())]);
    assert!(output.status.success(), "{}", text(&output));
    let report = project.verify_clean(&oci);
    let checked: std::collections::BTreeSet<&str> = report["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ecosystem"].as_str().unwrap())
        .collect();
    assert_eq!(
        checked.into_iter().collect::<Vec<_>>(),
        ["bioconductor", "conda", "cran", "maven", "pypi"]
    );
    assert_eq!(
        report["checked"].as_array().unwrap().len(),
        locked(&project).len()
    );
    eprintln!("mixed image build: {seconds:.1} s");
}
