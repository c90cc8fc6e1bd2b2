//! `imglock diff`: every change kind in all three formats (golden files in fixtures/diff/),
//! exit codes, the Docker cache impact, `--git` against a temporary repository, and, on
//! hand-written locks, conda rebuilds and each ecosystem's own version order (Debian's in
//! [`apt`]).

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{Project, Server, fixtures, run_in, spec, stderr};

mod apt;

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn every_change_kind_in_every_format_matches_the_golden_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for format in ["text", "markdown", "json"] {
        let output = run_in(
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
    let output = run_in(
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
    let output = run_in(dir.path(), &["diff", golden, "bad.lock"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`bad.lock` is not a valid imglock lock"),
        "{}",
        stderr(&output)
    );
    let output = run_in(dir.path(), &["diff", "future.lock", golden]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("has lock version 7"),
        "{}",
        stderr(&output)
    );
    let output = run_in(dir.path(), &["diff", "missing.lock", golden]);
    assert_eq!(output.status.code(), Some(2));
    let output = run_in(dir.path(), &["diff", golden]);
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
    let output = run_in(
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

/// A git repository (in a temporary folder) whose `main` holds `fixtures/diff/old.lock` as
/// `imglock.lock`, and the folder of those fixtures.
fn repository_with_the_old_lock() -> (tempfile::TempDir, std::path::PathBuf) {
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
    (dir, fixtures)
}

#[test]
fn git_compares_a_revision_with_the_working_tree() {
    let (dir, fixtures) = repository_with_the_old_lock();
    let output = run_in(dir.path(), &["diff", "--git", "main"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    std::fs::copy(fixtures.join("new.lock"), dir.path().join("imglock.lock")).unwrap();
    let output = run_in(dir.path(), &["diff", "--git", "main", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["old"], "imglock.lock@main");
    assert_eq!(json["changes"].as_array().unwrap().len(), 8);
    let output = run_in(dir.path(), &["diff", "--git", "no-such-branch"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read `imglock.lock` at git revision `no-such-branch`"),
        "{}",
        stderr(&output)
    );
}

/// A revision that looks like an option (`--output=x.txt` made git write a file) is refused
/// before git runs, and nothing is written.
#[test]
fn a_revision_that_looks_like_an_option_is_refused_and_writes_nothing() {
    let (dir, _) = repository_with_the_old_lock();
    for hostile in ["--output=x.txt", "-p"] {
        let output = run_in(dir.path(), &["diff", &format!("--git={hostile}")]);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(
            stderr(&output).contains(&format!("git revision `{hostile}`"))
                && stderr(&output).contains("must not start with `-`"),
            "{}",
            stderr(&output)
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".git", "imglock.lock"]);
}

/// A lock of one layer `env` holding `packages` (from [`conda`], [`pypi`] and [`maven`]).
fn lock(packages: &[String]) -> String {
    format!(
        "version = 1\nspec-hash = \"sha256:{}\"\n\n[image]\nname = \"hand-written\"\nbase = \"docker.io/library/debian:12\"\nplatform = \"linux/amd64\"\n\n[[layer]]\nname = \"env\"\nmaven-target = \"/opt/jars\"\n{}",
        "0".repeat(64),
        packages.concat()
    )
}

/// A `[[layer.package]]` table whose artifact is `repository/file` with the sha256 `sha` × 64.
fn package(
    ecosystem: &str,
    name: &str,
    version: &str,
    repository: &str,
    file: &str,
    sha: char,
) -> String {
    format!(
        "\n[[layer.package]]\necosystem = \"{ecosystem}\"\nname = \"{name}\"\nversion = \"{version}\"\nrepository = \"{repository}\"\nurl = \"{repository}/{file}\"\nsha256 = \"{}\"\nsize = 1\n",
        sha.to_string().repeat(64)
    )
}

/// A conda record; `build` like `h166bdaf_4` or `he550d4f_1_cpython` (the build number is its
/// last `_`-separated number).
fn conda(name: &str, version: &str, build: &str, sha: char) -> String {
    let number = build
        .rsplit('_')
        .find(|part| part.parse::<u64>().is_ok())
        .unwrap();
    package(
        "conda",
        name,
        version,
        "https://conda.anaconda.org/conda-forge",
        &format!("linux-64/{name}-{version}-{build}.conda"),
        sha,
    ) + &format!("build = \"{build}\"\nbuild-number = {number}\nsubdir = \"linux-64\"\n")
}

fn pypi(name: &str, version: &str) -> String {
    package(
        "pypi",
        name,
        version,
        "https://pypi.org/simple",
        &format!("{name}-{version}-py3-none-any.whl"),
        version.chars().find(char::is_ascii_digit).unwrap(),
    )
}

/// A Maven artifact; `name` is `group:artifact`.
fn maven(name: &str, version: &str) -> String {
    let artifact = name.split(':').nth(1).unwrap();
    package(
        "maven",
        name,
        version,
        "https://repo.maven.apache.org/maven2",
        &format!("{artifact}-{version}.jar"),
        version.chars().find(char::is_ascii_digit).unwrap(),
    )
}

/// `imglock diff old.lock new.lock --format FORMAT` on the two locks: its exit code and stdout.
fn diff_of(old: &[String], new: &[String], format: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old.lock"), lock(old)).unwrap();
    std::fs::write(dir.path().join("new.lock"), lock(new)).unwrap();
    let output = run_in(
        dir.path(),
        &["diff", "old.lock", "new.lock", "--format", format],
    );
    assert!(output.status.code() != Some(2), "{}", stderr(&output));
    (output.status.code(), stdout(&output))
}

/// The JSON diff of two locks that differ (exit 1).
fn json_diff(old: &[String], new: &[String]) -> serde_json::Value {
    let (code, out) = diff_of(old, new, "json");
    assert_eq!(code, Some(1), "differences exit 1: {out}");
    serde_json::from_str(&out).unwrap()
}

/// The one change of package `name`, as (kind, level).
fn change_of(json: &serde_json::Value, name: &str) -> (String, Option<String>) {
    let changes: Vec<&serde_json::Value> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == name)
        .collect();
    assert_eq!(changes.len(), 1, "one change of {name}: {json:#}");
    let text = |key: &str| changes[0][key].as_str().map(str::to_string);
    (text("kind").unwrap(), text("level"))
}

fn warnings(json: &serde_json::Value) -> Vec<&str> {
    json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect()
}

#[test]
fn a_conda_build_change_is_a_rebuild_not_a_tampered_artifact() {
    let old = [conda("zlib", "1.2.13", "h166bdaf_4", 'a')];
    let new = [conda("zlib", "1.2.13", "h166bdaf_5", 'b')];
    let json = json_diff(&old, &new);
    assert_eq!(change_of(&json, "zlib"), ("rebuilt".to_string(), None));
    let change = &json["changes"][0];
    assert_eq!(change["old_build"], "h166bdaf_4");
    assert_eq!(change["new_build"], "h166bdaf_5");
    assert_eq!(change["new_sha256"], "b".repeat(64));
    assert!(warnings(&json).is_empty(), "{json:#}");

    let (code, text) = diff_of(&old, &new, "text");
    assert_eq!(code, Some(1));
    assert!(
        text.contains("  ~ zlib 1.2.13 build h166bdaf_4 → h166bdaf_5 (conda)\n"),
        "{text}"
    );
    assert!(!text.contains("warning"), "{text}");
    let (code, markdown) = diff_of(&old, &new, "markdown");
    assert_eq!(code, Some(1));
    assert!(
        markdown.contains(
            "| rebuilt | `zlib` | conda | 1.2.13 | 1.2.13 | build h166bdaf_4 → h166bdaf_5 |"
        ),
        "{markdown}"
    );
    assert!(!markdown.contains("Warning"), "{markdown}");
}

#[test]
fn the_same_conda_build_with_other_bytes_is_still_a_republished_artifact() {
    let json = json_diff(
        &[conda("zlib", "1.2.13", "h166bdaf_4", 'a')],
        &[conda("zlib", "1.2.13", "h166bdaf_4", 'b')],
    );
    assert_eq!(
        change_of(&json, "zlib"),
        ("artifact-changed".to_string(), None)
    );
    let warnings = warnings(&json);
    assert_eq!(warnings.len(), 1, "{json:#}");
    assert!(
        warnings[0].starts_with("zlib 1.2.13 in layer `env` has a different sha256")
            && warnings[0].contains("re-published or tampered"),
        "{}",
        warnings[0]
    );
}

#[test]
fn pypi_changes_follow_pep_440() {
    let json = json_diff(
        &[
            pypi("numpy", "1.19.5"),
            pypi("pandas", "1.5.3"),
            pypi("urllib3", "2.0rc1"),
        ],
        &[
            pypi("numpy", "1.18.5"),
            pypi("pandas", "2.0.0"),
            pypi("urllib3", "2.0"),
        ],
    );
    let minor = Some("minor".to_string());
    assert_eq!(change_of(&json, "numpy"), ("downgraded".to_string(), minor));
    assert_eq!(
        change_of(&json, "pandas"),
        ("upgraded".to_string(), Some("major".to_string()))
    );
    // A release after its candidate: newer, and the release segment is the same.
    assert_eq!(
        change_of(&json, "urllib3"),
        ("upgraded".to_string(), Some("other".to_string()))
    );
    assert_eq!(
        warnings(&json),
        ["numpy is downgraded from 1.19.5 to 1.18.5 in layer `env`"]
    );
    let (_, text) = diff_of(
        &[pypi("numpy", "1.19.5")],
        &[pypi("numpy", "1.18.5")],
        "text",
    );
    assert!(
        text.contains("  ↓ numpy 1.19.5 → 1.18.5 (pypi; minor)\n"),
        "{text}"
    );
}

#[test]
fn maven_changes_follow_comparable_version() {
    let json = json_diff(
        &[
            maven("com.fasterxml.jackson.core:jackson-databind", "2.12.7"),
            maven("org.example:widget", "1.0-beta"),
            maven("org.example:gadget", "1.10"),
        ],
        &[
            maven("com.fasterxml.jackson.core:jackson-databind", "2.13.0"),
            maven("org.example:widget", "1.0"),
            maven("org.example:gadget", "1.9"),
        ],
    );
    assert_eq!(
        change_of(&json, "com.fasterxml.jackson.core:jackson-databind"),
        ("upgraded".to_string(), Some("minor".to_string()))
    );
    // The release is newer than its beta; the numbers are the same, so the level is other.
    assert_eq!(
        change_of(&json, "org.example:widget"),
        ("upgraded".to_string(), Some("other".to_string()))
    );
    // 1.9 sorts after 1.10 as text, before it as a version.
    assert_eq!(
        change_of(&json, "org.example:gadget"),
        ("downgraded".to_string(), Some("minor".to_string()))
    );
    assert_eq!(
        warnings(&json),
        ["org.example:gadget is downgraded from 1.10 to 1.9 in layer `env`"]
    );
}

#[test]
fn conda_changes_follow_condas_order() {
    let json = json_diff(
        &[
            conda("openssl", "1.1.1t", "h0b41bf4_0", 'a'),
            conda("libffi", "3.4.2", "h7f98852_5", 'a'),
            conda("python", "3.11.0", "he550d4f_1_cpython", 'a'),
        ],
        &[
            conda("openssl", "3.0.8", "h0b41bf4_0", 'b'),
            conda("libffi", "3.4.4", "h6a678d5_0", 'b'),
            conda("python", "3.9.18", "h0755675_0_cpython", 'b'),
        ],
    );
    // A new version with a new build is an upgrade, not a rebuild.
    assert_eq!(
        change_of(&json, "openssl"),
        ("upgraded".to_string(), Some("major".to_string()))
    );
    assert_eq!(
        change_of(&json, "libffi"),
        ("upgraded".to_string(), Some("patch".to_string()))
    );
    assert_eq!(
        change_of(&json, "python"),
        ("downgraded".to_string(), Some("minor".to_string()))
    );
    assert_eq!(
        warnings(&json),
        ["python is downgraded from 3.11.0 to 3.9.18 in layer `env`"]
    );
}
