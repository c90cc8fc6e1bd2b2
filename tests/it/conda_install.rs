//! A real conda install: the fixture channels (real package files) served on 127.0.0.1, resolved
//! and emitted by imglock; the emitted `RUN` steps then run for real in `sh` (curl, `sha256sum`,
//! the explicit environment file, the `conda-meta` check), with py-rattler's installer
//! (`scripts/conda-install.py`) standing in for micromamba and a folder standing in for the
//! image's root. `imglock verify` then checks that root, clean and tampered. Skipped when
//! py-rattler is not installed, except under `CI=true`, where that is a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support;
use crate::support::{Project, Server, output_text as text, stderr};

fn channels() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/conda/channels")
}

fn has_py_rattler() -> bool {
    support::available(
        support::runs("python3", &["-c", "import rattler"]),
        "py-rattler is not installed (pip install py-rattler)",
    )
}

fn spec(server: &Server) -> String {
    format!(
        "[image]\nname = \"conda-install\"\nbase = \"docker.io/mambaorg/micromamba@sha256:{digest}\"\nglibc = \"2.17\"\n\n\
         [repositories]\nconda = [\"{url}/main\", \"{url}/forge\"]\n\n\
         [[layer]]\nname = \"base\"\nconda = [\"python 3.8.*\", \"zedtool\"]\n\n\
         [[layer]]\nname = \"worker\"\nconda = [\"daskish\", \"lz4ish\", \"tini 0.19.0\", \"dualfmt\"]\n",
        digest = "c".repeat(64),
        url = server.url()
    )
}

/// A copy of the fixture channels served on 127.0.0.1, a project resolved over them, and the
/// Dockerfile emitted from its lock.
fn resolve_and_emit() -> (tempfile::TempDir, Server, Project, String) {
    let served = tempfile::tempdir().unwrap();
    support::copy_dir(&channels(), served.path());
    let server = Server::start(served.path());
    let project = Project::new(&spec(&server));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    (served, server, project, dockerfile)
}

/// The conda `RUN` steps of a Dockerfile, as shell commands (continuation lines joined).
fn conda_steps(dockerfile: &str) -> Vec<String> {
    let mut steps = Vec::new();
    let mut lines = dockerfile.lines();
    while let Some(line) = lines.next() {
        let Some(first) = line.strip_prefix("RUN ") else {
            continue;
        };
        let mut command = String::new();
        let mut current = first;
        loop {
            match current.strip_suffix('\\') {
                Some(continued) => {
                    // As Docker does: the backslash and the line break go.
                    command.push_str(continued);
                    current = lines.next().unwrap_or_default();
                }
                None => {
                    command.push_str(current);
                    break;
                }
            }
        }
        if command.contains("imglock-conda") {
            steps.push(command);
        }
    }
    steps
}

/// Runs an emitted step with the image's root at `root` and py-rattler as the installer.
fn run_step(step: &str, root: &Path, work: &Path) -> Output {
    let prefix = root.join("opt/conda");
    let installer = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/conda-install.py");
    let command = step
        .replace(
            "micromamba install -y -p /opt/conda -f",
            &format!("python3 {} --prefix /opt/conda", installer.display()),
        )
        .replace("/opt/conda", prefix.to_str().unwrap())
        .replace("/tmp/imglock-conda", work.to_str().unwrap());
    Command::new("sh").args(["-c", &command]).output().unwrap()
}

#[test]
fn the_emitted_steps_install_exactly_the_lock_and_verify_agrees() {
    if !has_py_rattler() {
        return;
    }
    let (_served, _server, project, dockerfile) = resolve_and_emit();
    let steps = conda_steps(&dockerfile);
    assert_eq!(steps.len(), 2, "one conda step per layer:\n{dockerfile}");

    let root = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    for step in &steps {
        let output = run_step(step, root.path(), &work.path().join("step"));
        assert!(output.status.success(), "{}\n{step}", text(&output));
    }
    let lock: toml::Value = toml::from_str(&project.lock().unwrap()).unwrap();
    let locked: Vec<String> = lock["layer"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["package"].as_array().unwrap())
        .map(|p| {
            format!(
                "{}-{}-{}.json",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap(),
                p["build"].as_str().unwrap()
            )
        })
        .collect();
    let mut installed: Vec<String> = std::fs::read_dir(root.path().join("opt/conda/conda-meta"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    installed.sort();
    let mut expected = locked.clone();
    expected.sort();
    assert_eq!(installed, expected, "the prefix holds exactly the lock");
    assert!(
        root.path()
            .join("opt/conda/share/zedtool/VERSION")
            .is_file(),
        "the payload is linked into the prefix"
    );

    let report = project.verify_clean(root.path());
    assert_eq!(report["checked"].as_array().unwrap().len(), locked.len());

    // Another build of libzed and a stray record are found.
    let meta = root.path().join("opt/conda/conda-meta");
    let libzed = meta.join("libzed-2.1.0-h7f8727e_0.json");
    let edited = std::fs::read_to_string(&libzed)
        .unwrap()
        .replace("\"h7f8727e_0\"", "\"h7f8727e_9\"");
    std::fs::write(&libzed, edited).unwrap();
    std::fs::write(
        meta.join("stray-1.0-h0_0.json"),
        r#"{"name": "stray", "version": "1.0", "build": "h0_0"}"#,
    )
    .unwrap();
    let output = project.run(&["verify", root.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let report = text(&output);
    assert!(
        report.contains("libzed is installed as 2.1.0 h7f8727e_9"),
        "{report}"
    );
    assert!(report.contains("stray 1.0 h0_0"), "{report}");
}

#[test]
fn a_package_replaced_after_locking_fails_the_step() {
    if !has_py_rattler() {
        return;
    }
    let (served, _server, _project, dockerfile) = resolve_and_emit();
    std::fs::write(
        served
            .path()
            .join("main/linux-64/zedtool-0.9.0-h295c915_0.tar.bz2"),
        b"other bytes",
    )
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let output = run_step(
        &conda_steps(&dockerfile)[0],
        root.path(),
        &work.path().join("step"),
    );
    assert!(!output.status.success());
    assert!(
        text(&output).contains("checksum mismatch for a conda package of layer `base`"),
        "{}",
        text(&output)
    );
    assert!(
        !root
            .path()
            .join("opt/conda/conda-meta/zedtool-0.9.0-h295c915_0.json")
            .exists(),
        "nothing was installed"
    );
}
