//! `imglock tree` and `imglock why` over the mixed example's lock (lockfiles/mixed-fixture.lock):
//! what each layer asked for and what it brought in, and the chains that bring a package in.

use std::path::Path;

use crate::support::{run_in, stderr};

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `lines`, each ended by a newline.
fn lines(lines: &[&str]) -> String {
    lines.iter().map(|line| format!("{line}\n")).collect()
}

/// Runs `imglock ARGS` in a folder holding the mixed example's lock as `imglock.lock`.
fn run(args: &[&str]) -> std::process::Output {
    let work = tempfile::tempdir().unwrap();
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("lockfiles/mixed-fixture.lock");
    std::fs::copy(lock, work.path().join("imglock.lock")).unwrap();
    run_in(work.path(), args)
}

#[test]
fn tree_shows_each_request_with_what_it_brought_in_and_shared_subtrees_once() {
    let output = run(&["tree", "--layer", "r-core"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        lines(&[
            "layer `r-core`:",
            "plotkit 3.4.1 [cran] (requested)",
            "├── corekit 1.1-2 [cran]",
            "└── fastsum 0.3.1 [cran]",
            "    └── corekit 1.1-2 [cran]",
            "usehdr 0.1.0 [cran] (requested)",
            "├── fastsum 0.3.1 [cran] (*)",
            "└── headerlib 2.0.0 [cran]",
        ])
    );
}

#[test]
fn why_walks_up_from_a_package_to_the_requests() {
    let output = run(&["why", "libzbase"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        lines(&[
            "layer `conda-tools`:",
            "libzbase 1.0.2 [conda]",
            "└── libzed 2.1.0 [conda]",
            "    ├── zedcli 1.2.0 [conda]",
            "    │   └── zedtool 0.9.0 [conda] (requested)",
            "    └── zedtool 0.9.0 [conda] (requested)",
        ])
    );
    let inverted = run(&["tree", "--invert", "libzbase"]);
    assert_eq!(stdout(&inverted), stdout(&output));
}

#[test]
fn tree_as_json_nests_the_dependencies() {
    let output = run(&["tree", "zedtool", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let trees: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let root = &trees[0];
    assert_eq!(root["name"], "zedtool");
    assert_eq!(root["layer"], "conda-tools");
    assert_eq!(root["requested"], true);
    let children: Vec<&str> = root["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|child| child["name"].as_str().unwrap())
        .collect();
    assert_eq!(children, ["libzed", "zedcli"]);
    assert_eq!(root["children"][0]["children"][0]["name"], "libzbase");
}

#[test]
fn an_unknown_package_is_an_error_with_the_closest_name() {
    let output = run(&["why", "corkit"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no package `corkit` is in the lock (did you mean `corekit`?)"),
        "{}",
        stderr(&output)
    );
}
