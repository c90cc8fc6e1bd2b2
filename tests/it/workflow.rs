//! The CI and upkeep workflow, run as a user runs it against fixture repositories served on
//! 127.0.0.1: `--locked` and `--frozen` on `resolve`, `emit` and `check`; `check` naming each
//! reason a lock is stale (golden text in tests/golden/check/); `check` without a lock; the
//! local cache chosen with `--cache-dir` or made temporary with `--no-cache`; and `cache dir`,
//! `cache clean` and `cache prune` of the local cache (golden text in tests/golden/cache/).

use std::path::Path;

use crate::support::{Project, Server, fixture_copy, fixtures, golden, output_text, stderr};

/// A spec of two R layers (`base`: corekit, `r`: fastsum) from the fixture CRAN `repository`
/// of `server`, with `layers` in place of those when given.
fn two_layer_spec(server: &Server, repository: &str, base: &str, layers: Option<&str>) -> String {
    let layers = layers.unwrap_or(
        "[[layer]]\nname = \"base\"\ncran = [\"corekit\"]\n\n[[layer]]\nname = \"r\"\ncran = [\"fastsum\"]",
    );
    format!(
        "[image]\nname = \"test\"\nbase = \"docker.io/rocker/r-ver:4.2.2@sha256:{}\"\nr = \"4.2.2\"\n\n[repositories]\ncran = [\"{}/{repository}\"]\n\n{layers}\n",
        base.repeat(64),
        server.url()
    )
}

fn code(output: &std::process::Output) -> Option<i32> {
    output.status.code()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `--frozen` never opens the spec: `resolve` and `check` only read the lock, `emit` writes the
/// Dockerfile from it; `--locked` fails, writing nothing, once the lock is not what the spec
/// resolves to; the two flags conflict.
#[test]
fn frozen_uses_the_lock_as_it_is_and_locked_refuses_a_stale_one() {
    let copy = fixture_copy();
    let server = Server::start(copy.path());
    let project = Project::new(&two_layer_spec(&server, "cran", "a", None));
    assert!(project.run(&["resolve"]).status.success());
    let lock = project.lock().unwrap();
    let spec = std::fs::read_to_string(project.path("imglock.toml")).unwrap();

    // The spec, unreadable: --frozen does not care.
    project.write_spec("this is [not a spec");
    let output = project.run(&["resolve", "--frozen"]);
    assert_eq!(code(&output), Some(0), "{}", output_text(&output));
    assert!(stderr(&output).contains("Frozen: "), "{}", stderr(&output));
    let output = project.run(&["emit", "--frozen", "--out", "frozen"]);
    assert_eq!(code(&output), Some(0), "{}", output_text(&output));
    assert!(project.path("frozen/Dockerfile").is_file());
    let output = project.run(&["check", "--frozen"]);
    assert_eq!(code(&output), Some(0), "{}", output_text(&output));
    assert!(
        stdout(&output).contains("is a valid lock"),
        "{}",
        stdout(&output)
    );
    assert_eq!(project.lock().unwrap(), lock);

    // Fresh: --locked passes everywhere.
    project.write_spec(&spec);
    for args in [
        &["resolve", "--locked"][..],
        &["emit", "--locked", "--out", "fresh"],
        &["check", "--locked"],
    ] {
        let output = project.run(args);
        assert_eq!(code(&output), Some(0), "{args:?}: {}", output_text(&output));
    }

    // The repository moved on (corekit 1.1-2 archived, 1.2.0 published) while the spec stayed:
    // the offline check cannot tell, --locked can.
    std::fs::remove_dir_all(copy.path().join("cran")).unwrap();
    std::fs::rename(copy.path().join("cran-next"), copy.path().join("cran")).unwrap();
    assert_eq!(code(&project.run(&["check"])), Some(0));
    let output = project.run(&["check", "--locked"]);
    assert_eq!(code(&output), Some(1), "{}", output_text(&output));
    assert!(
        stdout(&output).contains("the spec resolves to another lock now"),
        "{}",
        output_text(&output)
    );
    let output = project.run(&["emit", "--locked", "--out", "stale"]);
    assert_eq!(code(&output), Some(2), "{}", output_text(&output));
    assert!(
        stderr(&output).contains("(--locked)"),
        "{}",
        stderr(&output)
    );
    assert!(!project.path("stale").exists(), "emit --locked wrote");
    assert_eq!(
        project.lock().unwrap(),
        lock,
        "a --locked run wrote the lock"
    );

    for command in ["resolve", "emit", "check"] {
        let output = project.run(&[command, "--locked", "--frozen"]);
        assert_eq!(code(&output), Some(2), "{}", output_text(&output));
        assert!(
            stderr(&output).contains("cannot be used with"),
            "{}",
            stderr(&output)
        );
    }
}

/// `check` names every part of the spec that changed since the lock was resolved, a line each
/// with what to do, and the same reasons in JSON.
#[test]
fn check_names_each_reason_a_lock_is_stale() {
    let server = Server::start(&fixtures());
    let project = Project::new(&two_layer_spec(&server, "cran", "a", None));
    assert!(project.run(&["resolve"]).status.success());
    project.write_spec(&two_layer_spec(
        &server,
        "cran-next",
        "b",
        Some(
            "[[layer]]\nname = \"base\"\ncran = [\"corekit (>= 1.0)\"]\n\n[[layer]]\nname = \"stats\"\ncran = [\"fastsum\", \"headerlib\"]\n\n[[layer]]\nname = \"extra\"\ncran = [\"rlang\"]",
        ),
    ));
    let output = project.run(&["check"]);
    assert_eq!(code(&output), Some(1), "{}", output_text(&output));
    golden("check/stale.txt", &stdout(&output));

    let output = project.run(&["check", "--format", "json"]);
    assert_eq!(code(&output), Some(1), "{}", output_text(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let reasons = serde_json::to_string_pretty(&report["reasons"]).unwrap() + "\n";
    golden("check/stale-reasons.json", &reasons);
}

/// A lock written before locks recorded their spec's parts is still fresh while its spec is
/// unchanged, and once it changed `check` says so without naming parts.
#[test]
fn a_lock_without_spec_parts_is_checked_by_its_hash() {
    let server = Server::start(&fixtures());
    let spec = two_layer_spec(&server, "cran", "a", None);
    let project = Project::new(&spec);
    assert!(project.run(&["resolve"]).status.success());
    let lock = project.lock().unwrap();
    let start = lock
        .find("\n[spec-parts]\n")
        .expect("the lock records its parts");
    let end = start + 1 + lock[start + 1..].find("\n[").unwrap();
    std::fs::write(
        project.path("imglock.lock"),
        format!("{}{}", &lock[..start], &lock[end..]),
    )
    .unwrap();
    let output = project.run(&["check"]);
    assert_eq!(code(&output), Some(0), "{}", output_text(&output));
    project.write_spec(&spec.replace("\"fastsum\"", "\"fastsum\", \"headerlib\""));
    let output = project.run(&["check"]);
    assert_eq!(code(&output), Some(1), "{}", output_text(&output));
    assert_eq!(
        stdout(&output),
        "imglock.lock is stale:\n  imglock.toml changed since it was resolved (the lock records no parts to say which); run `imglock resolve`\n"
    );
}

/// Without a lock, `check` still reads the spec (its errors named with file and line) and says
/// there is no lock yet, exiting 1.
#[test]
fn check_without_a_lock_validates_the_spec_and_says_so() {
    let server = Server::start(&fixtures());
    let project = Project::new(&two_layer_spec(&server, "cran", "a", None));
    let output = project.run(&["check"]);
    assert_eq!(code(&output), Some(1), "{}", output_text(&output));
    assert_eq!(
        stdout(&output),
        "there is no lock yet: imglock.lock does not exist (imglock.toml reads without errors); run `imglock resolve`\n"
    );
    let output = project.run(&["check", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["reasons"][0]["kind"], "no-lock", "{report}");

    project.write_spec("[image]\nname = \"test\"\nbase = 3\n");
    let output = project.run(&["check"]);
    assert_eq!(code(&output), Some(2), "{}", output_text(&output));
    assert!(
        stderr(&output).contains("imglock.toml:3"),
        "{}",
        stderr(&output)
    );
}

/// Every regular file below `dir`.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    if dir.exists() {
        crate::support::walk(dir)
    } else {
        Vec::new()
    }
}

/// `--cache-dir` puts the cache where it says; `--no-cache` fetches into a temporary cache and
/// removes it; `cache dir` prints the folder in use.
#[test]
fn cache_dir_and_no_cache_choose_the_local_cache() {
    let server = Server::start(&fixtures());
    let project = Project::new(&two_layer_spec(&server, "cran", "a", None));
    let chosen = project.path("chosen");
    let chosen_arg = chosen.to_str().unwrap();
    let output = project.run(&["--cache-dir", chosen_arg, "resolve"]);
    assert_eq!(code(&output), Some(0), "{}", output_text(&output));
    assert!(
        !files(&chosen.join("http")).is_empty(),
        "nothing in --cache-dir"
    );
    assert!(
        files(project.cache.path()).is_empty(),
        "the default cache was used"
    );

    let output = project.run(&["cache", "dir", "--cache-dir", chosen_arg]);
    assert_eq!(stdout(&output), format!("{chosen_arg}\n"));
    let output = project.run(&["cache", "dir"]);
    assert_eq!(
        stdout(&output),
        format!("{}\n", project.cache.path().display())
    );

    let temporary = tempfile::tempdir().unwrap();
    std::fs::remove_file(project.path("imglock.lock")).unwrap();
    let tmpdir = [("TMPDIR", temporary.path().to_str().unwrap())];
    let output = project.run_with(&["--no-cache", "resolve"], &tmpdir);
    assert_eq!(code(&output), Some(0), "{}", output_text(&output));
    assert!(project.lock().is_some());
    assert!(
        files(project.cache.path()).is_empty(),
        "--no-cache used the cache"
    );
    let left: Vec<_> = std::fs::read_dir(temporary.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "--no-cache left {left:?}");
}

/// `cache prune` removes from the local cache only what no run can use (a killed run's
/// temporary, an old remembered 404, a damaged entry, a record of a blob that is gone), says
/// what and how many bytes, and an offline resolve still works after it; `cache clean` removes
/// everything and says how much.
#[test]
fn cache_prune_removes_what_no_run_uses_and_clean_removes_all() {
    let server = Server::start(&fixtures());
    let project = Project::new(&two_layer_spec(&server, "cran", "a", None));
    assert!(project.run(&["resolve"]).status.success());
    let cache = project.cache.path();
    let http = cache.join("http");
    let planted = [
        (
            http.join(".abc.tmp-4000000000-x1"),
            "half a download".to_string(),
        ),
        (
            http.join("0".repeat(64)),
            "{\"url\":\"http://127.0.0.1:1/gone\",\"absent_since\":1}\n".to_string(),
        ),
        (http.join("1".repeat(64)), "not an entry".to_string()),
        (
            cache.join("artifacts/by-url").join("2".repeat(64)),
            "3".repeat(64),
        ),
    ];
    for (path, text) in &planted {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let before = files(cache);
    let shown = |output: &std::process::Output| {
        stdout(output).replace(&cache.display().to_string(), "CACHE")
    };

    let output = project.run(&["cache", "prune", "--dry-run"]);
    assert_eq!(code(&output), Some(0), "{}", output_text(&output));
    golden("cache/prune-dry-run.txt", &shown(&output));
    assert_eq!(files(cache), before, "--dry-run removed files");

    let output = project.run(&["cache", "prune"]);
    assert_eq!(code(&output), Some(0), "{}", output_text(&output));
    golden("cache/prune.txt", &shown(&output));
    for (path, _) in &planted {
        assert!(!path.exists(), "{} kept", path.display());
    }
    assert_eq!(files(cache).len(), before.len() - planted.len());
    std::fs::remove_file(project.path("imglock.lock")).unwrap();
    let output = project.run(&["resolve", "--offline"]);
    assert_eq!(code(&output), Some(0), "{}", output_text(&output));

    let held: u64 = files(cache)
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    let count = files(cache).len();
    let output = project.run(&["cache", "clean"]);
    assert_eq!(code(&output), Some(0), "{}", output_text(&output));
    assert_eq!(
        stdout(&output),
        format!("Removed {}: {count} files, {held} bytes\n", cache.display())
    );
    assert!(!cache.exists());
}
