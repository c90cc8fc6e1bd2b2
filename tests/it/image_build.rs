//! Real image builds: the emitted Dockerfile built by buildah (no Docker daemon), from the fixture
//! repositories served on 127.0.0.1, on a Debian bookworm + R base image that
//! `scripts/base-image.sh` makes. Skipped when buildah, root or the base image is missing, except
//! under `CI=true`, where that is a failure.

use std::process::{Command, Output};
use std::time::Instant;

use crate::support;
use crate::support::mixed::MixedRepositories;
use crate::support::{Project, Server, fixture_copy, output_text as text, stderr};

const BASE: &str = "localhost/imglock-test-base:bookworm-r-python-conda";

fn buildah(args: &[&str]) -> Output {
    Command::new("buildah")
        .args(args)
        .env("STORAGE_DRIVER", "vfs")
        .env("BUILDAH_ISOLATION", "chroot")
        .output()
        .expect("run buildah")
}

/// The base image's digest, or `None` (with a message) when real builds cannot run here.
fn base_digest() -> Option<String> {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let digest = Command::new("buildah")
        .args([
            "inspect",
            "--type",
            "image",
            "--format",
            "{{.FromImageDigest}}",
            BASE,
        ])
        .env("STORAGE_DRIVER", "vfs")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match (is_root, digest) {
        (true, Some(digest)) if digest.starts_with("sha256:") => Some(digest),
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
struct Cleanup(Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for name in self.0.iter().rev() {
            let _ = buildah(&["rm", name]);
            let _ = buildah(&["rmi", "-f", name]);
        }
        let _ = buildah(&["rmi", "--prune"]);
    }
}

fn build(project: &Project, dir: &str, tag: &str, extra: &[&str]) -> (Output, f64) {
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

fn locked(project: &Project) -> Vec<String> {
    let lock: toml::Value = toml::from_str(&project.lock().unwrap()).unwrap();
    let mut packages: Vec<String> = lock["layer"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["package"].as_array().unwrap())
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

    // Cold: every step runs (packages come from the binary cache if an earlier run left them).
    let steps = emit(&project, "build1");
    cleanup.0.push(tag(1));
    let (output, cold) = build(&project, "build1", &tag(1), &[]);
    assert!(output.status.success(), "{}", text(&output));
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

    // Without the layer cache, every package comes from the binary cache: nothing is compiled.
    cleanup.0.push(tag(3));
    let (output, _) = build(&project, "build1", &tag(3), &["--no-cache"]);
    assert!(output.status.success(), "{}", text(&output));
    let reports = installer_reports(&output);
    assert!(
        !reports.iter().any(|r| r.ends_with("built from source")),
        "{reports:?}"
    );
    assert_eq!(
        reports
            .iter()
            .filter(|r| r.ends_with("installed from the binary cache"))
            .count(),
        locked(&project).len(),
        "{reports:?}"
    );

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
