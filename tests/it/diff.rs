//! `imglock diff`: every change kind in all three formats (golden files in fixtures/diff/),
//! exit codes, the Docker cache impact, and `--git` against a temporary repository.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{Project, Server, fixtures, spec, stderr};

fn imglock_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imglock"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn every_change_kind_in_every_format_matches_the_golden_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for format in ["text", "markdown", "json"] {
        let output = imglock_in(
            root,
            &[
                "diff",
                "fixtures/diff/old.lock",
                "fixtures/diff/new.lock",
                "--format",
                format,
            ],
        );
        assert_eq!(
            output.status.code(),
            Some(1),
            "differences exit 1: {}",
            stderr(&output)
        );
        let expected =
            std::fs::read_to_string(root.join(format!("fixtures/diff/expected.{format}"))).unwrap();
        assert_eq!(
            stdout(&output),
            expected,
            "`--format {format}` drifted from fixtures/diff/expected.{format}"
        );
    }
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("fixtures/diff/expected.json")).unwrap(),
    )
    .unwrap();
    let kinds: std::collections::BTreeSet<&str> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "added",
        "removed",
        "upgraded",
        "downgraded",
        "moved",
        "source-changed",
        "artifact-changed",
    ] {
        assert!(kinds.contains(kind), "the fixture pair covers `{kind}`");
    }
    assert_eq!(
        json["warnings"].as_array().unwrap().len(),
        2,
        "a re-published artifact and a downgrade"
    );
}

#[test]
fn identical_locks_exit_zero() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = imglock_in(
        root,
        &["diff", "fixtures/diff/old.lock", "fixtures/diff/old.lock"],
    );
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("No differences"));
}

#[test]
fn bad_locks_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.lock"), "version = 1\nthis is not toml").unwrap();
    std::fs::write(dir.path().join("future.lock"), "version = 7\n").unwrap();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/diff/old.lock");
    let golden = golden.to_str().unwrap();
    let output = imglock_in(dir.path(), &["diff", golden, "bad.lock"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`bad.lock` is not a valid imglock lock"),
        "{}",
        stderr(&output)
    );
    let output = imglock_in(dir.path(), &["diff", "future.lock", golden]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("has lock version 7"),
        "{}",
        stderr(&output)
    );
    let output = imglock_in(dir.path(), &["diff", "missing.lock", golden]);
    assert_eq!(output.status.code(), Some(2));
    let output = imglock_in(dir.path(), &["diff", golden]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("give two locks"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn long_layers_fold_in_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let old = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/diff/old.lock"),
    )
    .unwrap();
    let mut new = old.clone();
    for i in 0..11 {
        new.push_str(&format!(
            "\n[[layer.package]]\necosystem = \"cran\"\nname = \"extra{i:02}\"\nversion = \"1.0\"\nrepository = \"https://cran.example.invalid\"\nurl = \"https://cran.example.invalid/src/contrib/extra{i:02}_1.0.tar.gz\"\nsha256 = \"{}\"\nsize = 1\ndependencies = []\n",
            "a".repeat(64)
        ));
    }
    std::fs::write(dir.path().join("old.lock"), old).unwrap();
    std::fs::write(dir.path().join("new.lock"), new).unwrap();
    let output = imglock_in(
        dir.path(),
        &["diff", "old.lock", "new.lock", "--format", "markdown"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("<details><summary>11 changes</summary>"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn the_cache_impact_of_a_leaf_is_the_last_step() {
    let server = Server::start(&fixtures());
    let repos = format!("cran = [\"{}/cran\"]", server.url());
    let project = Project::new(&spec(
        &repos,
        "[[layer]]\nname = \"r\"\ncran = [\"plotkit\", \"usehdr\"]",
    ));
    assert!(project.run(&["resolve"]).status.success());
    std::fs::copy(project.path("imglock.lock"), project.path("old.lock")).unwrap();
    project.write_spec(&spec(
        &repos,
        "[[layer]]\nname = \"r\"\ncran = [\"plotkit\", \"usehdr\", \"tinyleaf\"]",
    ));
    assert!(project.run(&["resolve"]).status.success());
    let output = project.run(&["diff", "old.lock", "imglock.lock"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("+ tinyleaf 0.1.0 (cran)"), "{text}");
    assert!(
        text.contains("layer `r`: step 3 of 3 rebuilds, 3 packages"),
        "{text}"
    );
}

#[test]
fn git_compares_a_revision_with_the_working_tree() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
    };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/diff");
    git(&["init", "-q", "-b", "main"]);
    std::fs::copy(fixtures.join("old.lock"), dir.path().join("imglock.lock")).unwrap();
    git(&["add", "imglock.lock"]);
    git(&["commit", "-q", "-m", "lock"]);
    let output = imglock_in(dir.path(), &["diff", "--git", "main"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    std::fs::copy(fixtures.join("new.lock"), dir.path().join("imglock.lock")).unwrap();
    let output = imglock_in(dir.path(), &["diff", "--git", "main", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["old"], "imglock.lock@main");
    assert_eq!(json["changes"].as_array().unwrap().len(), 8);
    let output = imglock_in(dir.path(), &["diff", "--git", "no-such-branch"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read `imglock.lock` at git revision `no-such-branch`"),
        "{}",
        stderr(&output)
    );
}
