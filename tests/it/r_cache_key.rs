//! The R binary cache key names what a binary was compiled against (issue 18, item 2): the
//! lock records each package's `LinkingTo` (`linking-to`), and a package's key covers the
//! version and sha256 of every package it names there. When headerlib, which usehdr's C code
//! includes, is upgraded, usehdr's key changes: `resolve` drops its recorded binary and the
//! emitted step builds it from source, while the packages not compiled against headerlib keep
//! theirs.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::r_binaries::with_binaries;
use crate::support::{
    self, Project, Server, copy_dir, fixture_copy, fixtures, locks, runs, spec, stderr,
};

/// The emitted Dockerfile of `project`'s lock.
fn dockerfile(project: &Project) -> String {
    let output = project.run(&["emit", "--out", "out"]);
    assert!(output.status.success(), "{}", stderr(&output));
    std::fs::read_to_string(project.path("out/Dockerfile")).unwrap()
}

/// The fifth installer argument (the recorded binary sha256, or `-`) of each package.
fn binary_arguments(dockerfile: &str) -> BTreeMap<String, String> {
    dockerfile
        .lines()
        .filter_map(|line| line.trim().strip_prefix("imglock-r-install "))
        .map(|rest| {
            let fields: Vec<&str> = rest.split(' ').collect();
            (fields[0].to_string(), fields[4].to_string())
        })
        .collect()
}

/// Publishes headerlib 2.1.0 (a changed header) in the CRAN repository `cran`, made by
/// `R CMD build` and indexed by `tools::write_PACKAGES`, as CRAN does; 2.0.0 goes to the archive.
fn publish_headerlib_2_1_0(cran: &Path) {
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("headerlib");
    copy_dir(&fixtures().join("r-src/headerlib/2.0.0/headerlib"), &source);
    let description = source.join("DESCRIPTION");
    let text = std::fs::read_to_string(&description).unwrap();
    std::fs::write(
        &description,
        text.replace("Version: 2.0.0", "Version: 2.1.0"),
    )
    .unwrap();
    let header = source.join("inst/include/headerlib.h");
    let text = std::fs::read_to_string(&header).unwrap();
    std::fs::write(&header, text.replace("2 * x", "x + x")).unwrap();
    let output = Command::new("R")
        .args([
            "CMD",
            "build",
            "--no-build-vignettes",
            "--no-manual",
            "headerlib",
        ])
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let contrib = cran.join("src/contrib");
    std::fs::create_dir_all(contrib.join("Archive/headerlib")).unwrap();
    std::fs::rename(
        contrib.join("headerlib_2.0.0.tar.gz"),
        contrib.join("Archive/headerlib/headerlib_2.0.0.tar.gz"),
    )
    .unwrap();
    std::fs::copy(
        work.path().join("headerlib_2.1.0.tar.gz"),
        contrib.join("headerlib_2.1.0.tar.gz"),
    )
    .unwrap();
    crate::support::write_packages(&contrib);
}

#[test]
fn upgrading_a_linking_to_package_changes_the_key_and_rebuilds_its_dependents_only() {
    if !support::available(runs("Rscript", &["--version"]), "R (R CMD build)") {
        return;
    }
    let copy = fixture_copy();
    let server = Server::start(copy.path());
    let repositories = format!("cran = [\"{}/cran\"]", server.url());
    let project = Project::new(&spec(
        &repositories,
        "[[layer]]\nname = \"r\"\ncran = [\"usehdr\"]",
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    let packages = locks::packages(&lock);
    let linking = |name: &str| {
        let package = packages.iter().find(|p| p["name"].as_str() == Some(name));
        package.unwrap().get("linking-to").map(|l| l.to_string())
    };
    assert_eq!(linking("usehdr").as_deref(), Some("[\"headerlib\"]"));
    assert_eq!(
        linking("fastsum").as_deref(),
        Some("[]"),
        "compiled: recorded"
    );
    assert_eq!(linking("corekit"), None, "nothing to compile: not recorded");

    // Every binary recorded, as `verify --record-binaries` would.
    let recorded: Vec<(&str, String)> = ["corekit", "fastsum", "headerlib", "usehdr"]
        .iter()
        .zip('1'..)
        .map(|(name, seed)| (*name, seed.to_string().repeat(64)))
        .collect();
    std::fs::write(
        project.path("imglock.lock"),
        with_binaries(&lock, &recorded),
    )
    .unwrap();
    let before = dockerfile(&project);
    let keys = locks::r_package_keys(&before);
    assert_ne!(keys["usehdr"], keys["fastsum"], "usehdr's names headerlib");
    assert_eq!(
        keys["fastsum"], keys["corekit"],
        "neither is compiled against anything"
    );

    // headerlib 2.1.0 published and taken: usehdr's key changes, its binary is dropped and it is
    // built from source; the others keep their keys and binaries.
    publish_headerlib_2_1_0(&copy.path().join("cran"));
    let output = project.run(&["resolve", "--upgrade-package", "headerlib"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert!(lock.contains("version = \"2.1.0\""), "{lock}");
    let after = dockerfile(&project);
    let new_keys = locks::r_package_keys(&after);
    assert_ne!(new_keys["usehdr"], keys["usehdr"]);
    for name in ["corekit", "fastsum"] {
        assert_eq!(new_keys[name], keys[name], "{name}");
    }
    let binaries = binary_arguments(&after);
    assert_eq!(binaries["usehdr"], "-", "usehdr is rebuilt: {after}");
    assert_eq!(binaries["headerlib"], "-", "a new source");
    assert_eq!(binaries["corekit"], recorded[0].1);
    assert_eq!(binaries["fastsum"], recorded[1].1);
    assert_eq!(
        locks::binary_digests(&lock).keys().collect::<Vec<_>>(),
        ["corekit", "fastsum"]
    );

    // A lock written before `linking-to` was recorded still reads: a package that may compile
    // counts all its dependencies (usehdr: fastsum and headerlib), so its key differs.
    let old: String = lock
        .lines()
        .filter(|l| !l.starts_with("linking-to = "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(project.path("imglock.lock"), old).unwrap();
    let old_keys = locks::r_package_keys(&dockerfile(&project));
    assert_ne!(old_keys["usehdr"], new_keys["usehdr"]);
    assert_ne!(
        old_keys["fastsum"], new_keys["fastsum"],
        "fastsum imports corekit"
    );
    assert_eq!(old_keys["corekit"], new_keys["corekit"]);
}
