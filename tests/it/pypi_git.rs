//! PyPI git direct references (`name @ git+URL@REF#subdirectory=sub`, issue 17): real git
//! repositories made with the `git` CLI in temporary folders, read through `git+file:` and served
//! over git's "dumb" HTTP protocol by the test server on 127.0.0.1. The ref resolves to a commit,
//! the lock pins the commit and the sha256 of the source archive imglock packs from its tree
//! (the same bytes anywhere), a moved branch makes `check` say stale, and `emit` writes the
//! archive into the build context, installed by its hash; a real buildah build installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::pypi::{EXCLUDE_NEWER, fixtures, python_spec};
use crate::support::{self, Project, Server, stderr};

/// The project at the top of the test repository (static metadata; certifi is in the fixture).
const PYPROJECT: &str = r#"[build-system]
requires = ["setuptools>=61", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "gitdemo"
version = "0.1.0"
dependencies = ["certifi"]

[tool.setuptools]
py-modules = ["gitdemo"]
"#;

/// Runs `git ARGS` in `dir` without the user's configuration; its standard output.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_DATE", "2022-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2022-01-01T00:00:00Z")
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        support::output_text(&output)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// A test repository: a working copy and the bare repository it pushes to, which is served.
struct Repo {
    root: tempfile::TempDir,
}

impl Repo {
    /// `gitdemo` 0.1.0 at the top (tag `v0.1.0`, branch `main`) and `other` 2.0 in `sub/`.
    fn new() -> Self {
        let repo = Self {
            root: tempfile::tempdir().unwrap(),
        };
        let work = repo.work();
        std::fs::create_dir_all(work.join("sub")).unwrap();
        std::fs::write(work.join("pyproject.toml"), PYPROJECT).unwrap();
        std::fs::write(work.join("gitdemo.py"), "VALUE = 1\n").unwrap();
        // As setuptools-scm asks: git archive would write the refs naming the commit into it.
        std::fs::write(
            work.join(".gitattributes"),
            ".git_archival.txt export-subst\n",
        )
        .unwrap();
        std::fs::write(work.join(".git_archival.txt"), "ref-names: $Format:%D$\n").unwrap();
        std::fs::write(
            work.join("sub/pyproject.toml"),
            PYPROJECT
                .replace("gitdemo", "other")
                .replace("0.1.0", "2.0"),
        )
        .unwrap();
        std::fs::write(work.join("sub/other.py"), "").unwrap();
        git(&work, &["init", "--quiet"]);
        git(&work, &["add", "."]);
        git(&work, &["commit", "--quiet", "-m", "first"]);
        git(&work, &["tag", "-a", "v0.1.0", "-m", "release"]);
        git(
            repo.root.path(),
            &["clone", "--quiet", "--bare", "work", "repo.git"],
        );
        repo.publish();
        repo
    }

    fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    fn bare(&self) -> PathBuf {
        self.root.path().join("repo.git")
    }

    /// Pushes the working copy's branches and tags, and writes what dumb HTTP serves.
    fn publish(&self) {
        let bare = self.bare();
        let work = self.work();
        git(
            &work,
            &[
                "push",
                "--quiet",
                "--force",
                bare.to_str().unwrap(),
                "refs/heads/*:refs/heads/*",
                "refs/tags/*:refs/tags/*",
            ],
        );
        git(&bare, &["update-server-info"]);
    }

    /// The commit `main` is at.
    fn head(&self) -> String {
        git(&self.work(), &["rev-parse", "HEAD"])
    }

    /// Commits a change to `main` and publishes it: the new commit.
    fn advance(&self) -> String {
        let work = self.work();
        std::fs::write(work.join("gitdemo.py"), "VALUE = 2\n").unwrap();
        git(&work, &["commit", "--quiet", "-am", "second"]);
        self.publish();
        self.head()
    }

    /// Commits `pyproject` (and `files`) as the top project's on `main`, published.
    fn commit_project(&self, pyproject: &str, files: &[(&str, &str)]) {
        let work = self.work();
        std::fs::write(work.join("pyproject.toml"), pyproject).unwrap();
        for (name, text) in files {
            std::fs::write(work.join(name), text).unwrap();
        }
        git(&work, &["add", "."]);
        git(&work, &["commit", "--quiet", "-m", "change"]);
        self.publish();
    }

    /// Makes the top project's dependencies dynamic (read by setuptools from a file) on `main`.
    fn make_dependencies_dynamic(&self) {
        let pyproject = PYPROJECT.replace(
            "dependencies = [\"certifi\"]",
            "dynamic = [\"dependencies\"]\n\n[tool.setuptools.dynamic]\ndependencies = {file = [\"requirements.txt\"]}",
        );
        self.commit_project(&pyproject, &[("requirements.txt", "certifi\n")]);
    }

    /// `git+file://` URL of the bare repository.
    fn file_url(&self) -> String {
        format!("git+file://{}", self.bare().display())
    }
}

/// A project whose one layer asks for `requirement`, with the PyPI fixture as its index.
fn project_with(index: &Server, requirement: &str) -> Project {
    Project::new(&python_spec(
        &format!("{}/simple", index.url()),
        &[("py", &[requirement])],
    ))
}

fn resolve(project: &Project) -> std::process::Output {
    project.run(&["resolve", "--exclude-newer", EXCLUDE_NEWER])
}

/// The lock entry of `name`.
fn entry(project: &Project, name: &str) -> toml::Value {
    let lock = project.lock().expect("a lock");
    support::locks::package(&toml::from_str(&lock).unwrap(), name).clone()
}

fn field<'a>(entry: &'a toml::Value, key: &str) -> &'a str {
    entry
        .get(key)
        .and_then(toml::Value::as_str)
        .unwrap_or_else(|| panic!("no `{key}` in {entry}"))
}

#[test]
fn branches_tags_and_commits_resolve_to_the_commit_pinned_by_the_archives_sha256() {
    let repo = Repo::new();
    let index = Server::start(&fixtures());
    let served = Server::start(repo.root.path());
    let commit = repo.head();
    let http = format!("git+{}/repo.git", served.url());
    let mut sha256s = Vec::new();
    for (url, git_ref) in [
        (repo.file_url(), Some("main")),
        (http.clone(), Some("main")),
        (http.clone(), Some("v0.1.0")),
        (http.clone(), Some(commit.as_str())),
        (http.clone(), Some(&commit[..8])),
        (http.clone(), None),
    ] {
        let written = match git_ref {
            Some(git_ref) => format!("{url}@{git_ref}"),
            None => url.clone(),
        };
        let project = project_with(&index, &format!("gitdemo @ {written}"));
        let output = resolve(&project);
        assert!(output.status.success(), "{written}: {}", stderr(&output));
        let gitdemo = entry(&project, "gitdemo");
        let bare_url = url.strip_prefix("git+").unwrap();
        assert_eq!(field(&gitdemo, "commit"), commit, "{written}");
        assert_eq!(field(&gitdemo, "ref"), git_ref.unwrap_or("HEAD"));
        assert_eq!(field(&gitdemo, "git"), bare_url);
        assert_eq!(field(&gitdemo, "version"), "0.1.0");
        assert_eq!(field(&gitdemo, "url"), format!("{url}@{commit}"));
        assert_eq!(field(&gitdemo, "repository"), url);
        sha256s.push(field(&gitdemo, "sha256").to_string());
        // Its dependency came from the index.
        assert_eq!(field(&entry(&project, "certifi"), "version"), "2022.5.18.1");
    }
    // Another branch at the commit changes nothing of its archive.
    git(&repo.bare(), &["branch", "extra", &commit]);
    let project = project_with(&index, &format!("gitdemo @ {http}@{commit}"));
    assert!(resolve(&project).status.success());
    sha256s.push(field(&entry(&project, "gitdemo"), "sha256").to_string());
    sha256s.dedup();
    assert_eq!(sha256s.len(), 1, "one commit, one archive: {sha256s:?}");
}

#[test]
fn two_resolves_in_different_folders_write_the_same_bytes_and_a_cached_commit_needs_no_network() {
    let repo = Repo::new();
    let index = Server::start(&fixtures());
    let served = Server::start(repo.root.path());
    let commit = repo.head();
    let requirement = format!(
        "other @ git+{}/repo.git@{commit}#subdirectory=sub",
        served.url()
    );
    let first = project_with(&index, &requirement);
    let second = project_with(&index, &requirement);
    for project in [&first, &second] {
        let output = resolve(project);
        assert!(output.status.success(), "{}", stderr(&output));
    }
    assert_eq!(first.lock().unwrap(), second.lock().unwrap());
    let other = entry(&first, "other");
    assert_eq!(field(&other, "subdirectory"), "sub");
    assert_eq!(field(&other, "version"), "2.0");
    assert!(
        field(&other, "url").ends_with(&format!("@{commit}#subdirectory=sub")),
        "{other}"
    );

    // The git server gone, the commit comes from the cache.
    let lock = first.lock().unwrap();
    drop(served);
    std::fs::remove_file(first.path("imglock.lock")).unwrap();
    let output = resolve(&first);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(first.lock().unwrap(), lock);
}

#[test]
fn a_moved_branch_makes_check_say_stale_and_diff_shows_the_commits() {
    let repo = Repo::new();
    let index = Server::start(&fixtures());
    let project = project_with(&index, &format!("gitdemo @ {}@main", repo.file_url()));
    assert!(resolve(&project).status.success());
    let old = repo.head();
    let output = project.run(&["check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let new = repo.advance();
    let output = project.run(&["check"]);
    let said = support::output_text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!("{} -> {}", &old[..7], &new[..7])),
        "{said}"
    );

    let before = project.path("before.lock");
    std::fs::copy(project.path("imglock.lock"), &before).unwrap();
    assert!(resolve(&project).status.success());
    assert_eq!(field(&entry(&project, "gitdemo"), "commit"), new);
    let output = project.run(&["diff", before.to_str().unwrap(), "imglock.lock"]);
    let said = support::output_text(&output);
    assert!(
        said.contains(&format!("commit {} → commit {}", &old[..7], &new[..7])),
        "{said}"
    );
    assert_eq!(project.run(&["check"]).status.code(), Some(0));

    // Another ref in the spec: stale too.
    let spec = std::fs::read_to_string(project.path("imglock.toml")).unwrap();
    project.write_spec(&spec.replace("@main", "@v0.1.0"));
    assert_eq!(project.run(&["check"]).status.code(), Some(1));
}

#[test]
fn emit_writes_the_archive_into_the_context_and_a_tampered_one_fails() {
    let repo = Repo::new();
    let index = Server::start(&fixtures());
    let project = project_with(&index, &format!("gitdemo @ {}@v0.1.0", repo.file_url()));
    let output = resolve(&project);
    assert!(output.status.success(), "{}", stderr(&output));
    let sha256 = field(&entry(&project, "gitdemo"), "sha256").to_string();

    let emit = || project.run(&["emit", "--out", "build"]);
    let output = emit();
    assert!(output.status.success(), "{}", stderr(&output));
    let archive = project.path("build/imglock-artifacts/gitdemo-0.1.0.tar.gz");
    assert_eq!(
        support::sha256_hex(&std::fs::read(&archive).unwrap()),
        sha256
    );
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains(&format!(
            "gitdemo @ file:///imglock-context/imglock-artifacts/gitdemo-0.1.0.tar.gz --hash=sha256:{sha256}"
        )),
        "{dockerfile}"
    );
    assert!(!dockerfile.contains("git+"), "{dockerfile}");

    // Without the cached archive, emit packs the commit again: the same bytes.
    let kept = project
        .cache
        .path()
        .join(format!("git/archives/{sha256}.tar.gz"));
    std::fs::remove_file(&kept).unwrap();
    std::fs::remove_dir_all(project.path("build")).unwrap();
    let output = emit();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        support::sha256_hex(&std::fs::read(&archive).unwrap()),
        sha256
    );

    // Without the cache's repository either, emit fetches the commit again.
    std::fs::remove_file(&kept).unwrap();
    std::fs::remove_dir_all(project.cache.path().join("git/db")).unwrap();
    let output = emit();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        support::sha256_hex(&std::fs::read(&archive).unwrap()),
        sha256
    );

    // A tampered archive is refused.
    std::fs::write(&kept, b"not the archive").unwrap();
    let output = emit();
    assert!(!output.status.success());
    let said = stderr(&output);
    assert!(said.contains(&sha256), "{said}");
}

#[test]
fn references_that_cannot_be_locked_say_why() {
    let repo = Repo::new();
    let index = Server::start(&fixtures());
    let url = repo.file_url();
    let cases = [
        (
            format!("gitdemo @ {url}@nope"),
            "no branch or tag `nope`".to_string(),
        ),
        (
            format!("gitdemo @ {url}@nope"),
            "refs it has: main, v0.1.0".to_string(),
        ),
        (
            format!("gitdemo @ {url}@main#subdirectory=sub"),
            "is named `other`, not `gitdemo`".to_string(),
        ),
        (
            "gitdemo @ git+http://127.0.0.1:9/repo.git@main".to_string(),
            "cannot be reached".to_string(),
        ),
        (
            format!("gitdemo @ {url}@--upload-pack=x"),
            "not a branch, tag or commit name".to_string(),
        ),
    ];
    for (requirement, says) in cases {
        let project = project_with(&index, &requirement);
        let output = resolve(&project);
        assert!(!output.status.success(), "{requirement} locked");
        let message = stderr(&output);
        assert!(
            message.contains(&says) && message.contains("layer `py`"),
            "{requirement}: {message}"
        );
    }
    // A version computed at build time.
    repo.commit_project(
        &PYPROJECT.replace("version = \"0.1.0\"", "dynamic = [\"version\"]"),
        &[],
    );
    let project = project_with(&index, &format!("gitdemo @ {url}@main"));
    let output = resolve(&project);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("gives no static version"),
        "{}",
        stderr(&output)
    );
    // No git on PATH.
    let project = project_with(&index, &format!("gitdemo @ {url}@main"));
    let empty = tempfile::tempdir().unwrap();
    let output = project.run_with(
        &["resolve", "--exclude-newer", EXCLUDE_NEWER],
        &[("PATH", empty.path().to_str().unwrap())],
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("`git` program is not on PATH"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn dynamic_dependencies_take_the_sdists_isolated_build_path() {
    let repo = Repo::new();
    repo.make_dependencies_dynamic();
    let index = Server::start(&fixtures());
    let project = project_with(&index, &format!("gitdemo @ {}@main", repo.file_url()));
    // The build path it takes is the sdists' one: `--no-build` refuses it by the archive's name.
    let output = project.run(&["resolve", "--exclude-newer", EXCLUDE_NEWER, "--no-build"]);
    assert!(!output.status.success());
    let said = stderr(&output);
    assert!(
        said.contains("gitdemo-0.1.0.tar.gz holds no static metadata")
            && said.contains("`--no-build` forbids building it"),
        "{said}"
    );
}

#[test]
fn credentials_in_the_url_never_reach_the_lock() {
    let repo = Repo::new();
    let index = Server::start(&fixtures());
    let served = Server::start(repo.root.path());
    let url = served.url().replace("http://", "http://user:secret@");
    let project = project_with(&index, &format!("gitdemo @ git+{url}/repo.git@main"));
    let output = resolve(&project);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert!(
        !lock.contains("secret") && !lock.contains("user@"),
        "{lock}"
    );
    assert_eq!(
        field(&entry(&project, "gitdemo"), "git"),
        format!("{}/repo.git", served.url())
    );
}

#[test]
fn a_real_build_installs_the_commits_archive_and_verify_is_clean() {
    use crate::image_build::{Cleanup, base_digest, build, buildah};
    let Some(digest) = base_digest() else { return };
    let repo = Repo::new();
    let index = Server::start(&fixtures());
    let served = Server::start(repo.root.path());
    let project = Project::new(&format!(
        "[image]\nname = \"git-test\"\nbase = \"localhost/imglock-test-base@{digest}\"\npython = \"3.11\"\n\n[repositories]\npypi = \"{}/simple\"\n\n[[layer]]\nname = \"py\"\npypi = [\"gitdemo @ git+{}/repo.git@main\"]\n",
        index.url(),
        served.url()
    ));
    let output = resolve(&project);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    // The build reaches neither the git server nor git.
    drop(served);
    let tag = format!("localhost/imglock-git-test-{}:1", std::process::id());
    let _cleanup = Cleanup(vec![tag.clone()]);
    let (output, seconds) = build(&project, "build", &tag, &["--no-cache"]);
    assert!(output.status.success(), "{}", support::output_text(&output));
    let images = tempfile::tempdir().unwrap();
    let oci = images.path().join("image");
    let output = buildah(&["push", &tag, &format!("oci:{}", oci.display())]);
    assert!(output.status.success(), "{}", support::output_text(&output));
    let report = project.verify_clean(&oci);
    let checked: Vec<&str> = report["checked"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(checked.contains(&"gitdemo"), "{report}");
    eprintln!("git package image build: {seconds:.1} s");

    // Locked at the branch's next commit (the same version), the image is from another one.
    let commit = repo.advance();
    let served = Server::start(repo.root.path());
    let spec = std::fs::read_to_string(project.path("imglock.toml")).unwrap();
    project.write_spec(&spec.replace(
        &format!("git+http://127.0.0.1:{}/", port_of(&spec)),
        &format!("git+{}/", served.url()),
    ));
    let output = resolve(&project);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(field(&entry(&project, "gitdemo"), "commit"), commit);
    let output = project.run(&["verify", oci.to_str().unwrap(), "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        support::output_text(&output)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let text = report.to_string();
    assert!(
        text.contains("wrong-source") && text.contains(&commit),
        "{report}"
    );
}

/// The port of the git server a spec names.
fn port_of(spec: &str) -> String {
    let after = spec.split("git+http://127.0.0.1:").nth(1).unwrap();
    after.split('/').next().unwrap().to_string()
}
