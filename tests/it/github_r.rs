//! GitHub R packages (`github = ["owner/repo/subdir@ref"]`), run as a user runs them: the
//! binary against a GitHub-style API and archives on loopback (`support::github`) and the CRAN
//! fixtures on another server. A ref resolves to a commit, the archive at that commit is pinned
//! by sha256, its DESCRIPTION's dependencies come from CRAN or from its GitHub `Remotes`, emit
//! hands the installer the `Remote*` fields, and verify checks the installed commit.

use std::path::Path;

use crate::support::github::{GithubServer, github_archive};
use crate::support::locks::package;
use crate::support::{Fault, Project, Server, fixtures, output_text, sha256_hex, spec, stderr};

const TOOL_A: &str = "3f5e0c1d2b4a69788796a5b4c3d2e1f001122334";
const TOOL_B: &str = "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4938271605";
const HELPER: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";
const MONO: &str = "5555aaaa5555aaaa5555aaaa5555aaaa5555aaaa";

/// The CRAN fixtures and an API publishing `acme/ghtool` (HEAD and main at TOOL_A),
/// `acme/ghhelper` (HEAD and v1.0 at HELPER) and `acme/monorepo` (HEAD and v2 at MONO).
struct Repos {
    cran: Server,
    github: GithubServer,
    /// The archive of acme/ghtool at TOOL_A.
    tool: Vec<u8>,
}

impl Repos {
    fn start() -> Self {
        let github = GithubServer::start();
        let tool = github.publish("acme", "ghtool", TOOL_A, &["HEAD", "main"], &[]);
        github.publish("acme", "ghhelper", HELPER, &["HEAD", "v1.0"], &[]);
        github.publish("acme", "monorepo", MONO, &["HEAD", "v2"], &[]);
        Self {
            cran: Server::start(&fixtures()),
            github,
            tool,
        }
    }

    /// A spec whose one layer `r` lists `github`.
    fn spec(&self, github: &[&str]) -> String {
        let entries: Vec<String> = github.iter().map(|e| format!("\"{e}\"")).collect();
        spec(
            &format!(
                "cran = [\"{}/cran\"]\ngithub = \"{}\"",
                self.cran.url(),
                self.github.api()
            ),
            &format!("[[layer]]\nname = \"r\"\ngithub = [{}]", entries.join(", ")),
        )
    }
}

fn resolved(project: &Project) -> toml::Value {
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    toml::from_str(&project.lock().unwrap()).unwrap()
}

fn field<'a>(package: &'a toml::Value, key: &str) -> &'a str {
    package
        .get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("no {key} in {package}"))
}

#[test]
fn a_ref_resolves_to_a_commit_whose_archive_is_pinned_with_its_cran_and_remotes_dependencies() {
    let repos = Repos::start();
    let project = Project::new(&repos.spec(&["acme/ghtool"]));
    // api.github.com answers an archive with a redirect to codeload.
    repos.github.redirect_next("acme", "ghtool", TOOL_A);
    let lock = resolved(&project);
    let api = repos.github.api();

    let tool = package(&lock, "ghtool");
    assert_eq!(field(tool, "ecosystem"), "github");
    assert_eq!(field(tool, "version"), "0.3.0");
    assert_eq!(field(tool, "repository"), api);
    assert_eq!(field(tool, "github"), "acme/ghtool");
    assert_eq!(field(tool, "ref"), "HEAD");
    assert_eq!(field(tool, "commit"), TOOL_A);
    assert!(tool.get("subdir").is_none());
    assert_eq!(
        field(tool, "url"),
        format!("{api}/repos/acme/ghtool/tarball/{TOOL_A}")
    );
    assert_eq!(field(tool, "sha256"), sha256_hex(&repos.tool));
    assert_eq!(tool["size"].as_integer(), Some(repos.tool.len() as i64));
    assert_eq!(tool["requested"].as_bool(), Some(true));
    let dependencies: Vec<&str> = tool["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(dependencies, ["corekit", "ghhelper"]);
    assert_eq!(
        repos
            .github
            .server
            .hits(&GithubServer::codeload_path("acme", "ghtool", TOOL_A)),
        1,
        "the redirect was followed"
    );

    // `Remotes: acme/ghhelper@v1.0`: from GitHub at that ref, not requested by the layer.
    let helper = package(&lock, "ghhelper");
    assert_eq!(field(helper, "ecosystem"), "github");
    assert_eq!(field(helper, "ref"), "v1.0");
    assert_eq!(field(helper, "commit"), HELPER);
    assert_eq!(helper.get("requested").and_then(|r| r.as_bool()), None);
    // Their CRAN dependencies, from CRAN.
    for name in ["corekit", "tinyleaf"] {
        assert_eq!(field(package(&lock, name), "ecosystem"), "cran", "{name}");
    }
    let resolution = &lock["resolution"];
    assert_eq!(resolution["github-api"].as_str(), Some(api.as_str()));

    // The same bytes again (the branch asked about again), offline (not asked), and from a cold
    // cache.
    let first = project.lock().unwrap();
    let commits = GithubServer::commits_path("acme", "ghtool", "HEAD");
    assert_eq!(repos.github.server.hits(&commits), 1);
    assert!(project.run(&["resolve"]).status.success());
    assert_eq!(project.lock().unwrap(), first);
    assert_eq!(
        repos.github.server.hits(&commits),
        2,
        "a branch is revalidated"
    );
    let output = project.run(&["resolve", "--offline"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(project.lock().unwrap(), first);
    assert_eq!(repos.github.server.hits(&commits), 2);
    let cold = Project::new(&repos.spec(&["acme/ghtool"]));
    let _ = resolved(&cold);
    assert_eq!(cold.lock().unwrap(), first);
    assert_eq!(project.run(&["check"]).status.code(), Some(0));
}

#[test]
fn a_package_with_bioc_views_brings_bioconductor_repositories() {
    let repos = Repos::start();
    repos
        .github
        .publish("acme", "biocish", MONO, &["HEAD"], &[]);
    let spec = repos.spec(&["acme/biocish"]).replacen(
        "\ngithub = ",
        &format!("\nbioconductor = \"{}/bioc\"\ngithub = ", repos.cran.url()),
        1,
    );
    let project = Project::new(&spec);
    let lock = resolved(&project);
    assert_eq!(field(package(&lock, "biocish"), "ecosystem"), "github");
    assert_eq!(
        field(package(&lock, "SeqTools"), "ecosystem"),
        "bioconductor"
    );
    assert_eq!(field(package(&lock, "fastsum"), "ecosystem"), "cran");
}

#[test]
fn a_moved_branch_is_revalidated_and_diff_shows_the_new_commit() {
    let repos = Repos::start();
    let project = Project::new(&repos.spec(&["acme/ghtool@main"]));
    let lock = resolved(&project);
    assert_eq!(field(package(&lock, "ghtool"), "commit"), TOOL_A);
    std::fs::copy(project.path("imglock.lock"), project.path("old.lock")).unwrap();

    let moved = repos.github.publish(
        "acme",
        "ghtool",
        TOOL_B,
        &["main"],
        &[("NEWS.md", "# ghtool 0.3.0\n\n* A later commit.\n")],
    );
    let lock = resolved(&project);
    let tool = package(&lock, "ghtool");
    assert_eq!(field(tool, "ref"), "main");
    assert_eq!(field(tool, "commit"), TOOL_B);
    assert_eq!(field(tool, "sha256"), sha256_hex(&moved));

    let output = project.run(&["diff", "old.lock", "imglock.lock"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = output_text(&output);
    assert!(
        text.contains(&format!("commit {TOOL_A} → commit {TOOL_B}")),
        "{text}"
    );
}

#[test]
fn a_subdirectory_and_an_explicit_commit_are_honoured() {
    let repos = Repos::start();
    let pinned = format!("acme/ghhelper@{HELPER}");
    let project = Project::new(&repos.spec(&["acme/monorepo/pkg/ghsub@v2", &pinned]));
    let lock = resolved(&project);
    let sub = package(&lock, "ghsub");
    assert_eq!(field(sub, "github"), "acme/monorepo");
    assert_eq!(field(sub, "subdir"), "pkg/ghsub");
    assert_eq!(field(sub, "ref"), "v2");
    assert_eq!(field(sub, "commit"), MONO);
    let helper = package(&lock, "ghhelper");
    assert_eq!(field(helper, "ref"), HELPER);
    assert_eq!(field(helper, "commit"), HELPER);
    // A commit is immutable: nothing asks what it points at.
    let commits = repos.github.server.all_hits();
    assert!(
        !commits.keys().any(|path| path.contains("ghhelper/commits")),
        "{commits:?}"
    );
}

#[test]
fn an_unknown_ref_a_refusal_and_a_malformed_entry_say_what_to_do() {
    let repos = Repos::start();
    let project = Project::new(&repos.spec(&["acme/ghtool@nope"]));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("the `github` entry of layer `r` `acme/ghtool@nope`: GitHub has no repository `acme/ghtool` with a ref `nope`"),
        "{message}"
    );
    assert!(message.contains("answered 404"), "{message}");

    let path = GithubServer::commits_path("acme", "ghtool", "HEAD");
    repos.github.server.inject(&path, vec![Fault::Status(403)]);
    project.write_spec(&repos.spec(&["acme/ghtool"]));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("(HTTP 403): it wants a token; set GITHUB_TOKEN or GITHUB_PAT"),
        "{message}"
    );

    project.write_spec(&repos.spec(&["acme/ghtool", "acme/gh;tool@main"]));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("imglock.toml:12:26: in layer `r`: `acme/gh;tool@main` is not a GitHub package reference"),
        "{message}"
    );
    assert!(project.lock().is_none());
}

#[test]
fn a_token_from_the_environment_goes_to_the_api_and_nowhere_else() {
    let repos = Repos::start();
    let project = Project::new(&repos.spec(&["acme/ghtool"]));
    let token = "ghp_imglockTestToken0123456789";
    let output = project.run_with(&["resolve"], &[("GITHUB_PAT", token)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let path = GithubServer::commits_path("acme", "ghtool", "HEAD");
    assert_eq!(
        repos.github.server.authorization(&path),
        Some(format!("Bearer {token}"))
    );
    assert_eq!(
        repos.cran.authorization("/cran/src/contrib/PACKAGES.gz"),
        None
    );
    for file in crate::support::walk(project.dir.path())
        .into_iter()
        .chain(crate::support::walk(project.cache.path()))
    {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(token),
            "{} holds the token",
            file.display()
        );
    }
}

/// The installer, with its records and build folder moved below `dir`, and a fake `R` that keeps
/// the DESCRIPTION it is asked to build (in `dir/built-DESCRIPTION`) and makes a binary.
fn fake_installer(dir: &Path) -> std::path::PathBuf {
    let script = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cran/emit/imglock-r-install.sh"),
    )
    .unwrap();
    let root = dir.display();
    let script = script
        .replace(
            "records=/usr/local/share/imglock/r-binaries",
            &format!("records={root}/records"),
        )
        .replace("work=/tmp/imglock-r-build", &format!("work={root}/work"));
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("imglock-r-install"), script).unwrap();
    // R CMD INSTALL -l LIB DIR: the package's DESCRIPTION kept, and "installed" into LIB (the
    // installer then normalises and packs what is there); Rscript does nothing.
    let fake_r = format!(
        "#!/bin/sh\n# R CMD INSTALL -l LIB DIR\nshift 2\nlib=$2\nshift 2\ncp \"$1/DESCRIPTION\" {root}/built-DESCRIPTION\nname=$(sed -n 's/^Package: //p' \"$1/DESCRIPTION\")\nmkdir -p \"$lib/$name\" && cp \"$1/DESCRIPTION\" \"$lib/$name/DESCRIPTION\"\n"
    );
    std::fs::write(bin.join("R"), fake_r).unwrap();
    std::fs::write(bin.join("Rscript"), "#!/bin/sh\nexit 0\n").unwrap();
    for name in ["imglock-r-install", "R", "Rscript"] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

/// Runs one emitted `imglock-r-install …` line with the fake installer.
fn install(line: &str, bin: &Path) -> std::process::Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(line)
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("IMGLOCK_R_KEY", "4.2.2/linux-amd64/test")
        .env("IMGLOCK_R_LIBRARY", bin.with_file_name("library"))
        .output()
        .unwrap()
}

#[test]
fn emit_installs_the_checked_archive_from_its_subdirectory_with_the_remote_fields() {
    let repos = Repos::start();
    let project = Project::new(&repos.spec(&["acme/monorepo/pkg/ghsub@v2"]));
    let lock = resolved(&project);
    let sha256 = field(package(&lock, "ghsub"), "sha256").to_string();
    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    let line = dockerfile
        .lines()
        .map(|l| l.trim().trim_end_matches(" \\").trim_end_matches(" &&"))
        .find(|l| l.starts_with("imglock-r-install ghsub "))
        .unwrap_or_else(|| panic!("{dockerfile}"))
        .to_string();
    let host = repos.github.api().replace("http://", "");
    for expected in [
        format!(
            "imglock-r-install ghsub 0.1.0 {sha256} {}/repos/acme/monorepo/tarball/{MONO} -",
            repos.github.api()
        ),
        "'RemoteType: github'".into(),
        format!("'RemoteHost: {host}'"),
        "'RemoteUsername: acme'".into(),
        "'RemoteRepo: monorepo'".into(),
        "'RemoteRef: v2'".into(),
        format!("'RemoteSha: {MONO}'"),
        "'RemoteSubdir: pkg/ghsub'".into(),
    ] {
        assert!(line.contains(&expected), "{expected} in {line}");
    }

    // The emitted line, run: the archive is downloaded, checked, and built from its
    // subdirectory with the fields added to its DESCRIPTION.
    let dir = tempfile::tempdir().unwrap();
    let bin = fake_installer(dir.path());
    let output = install(&line, &bin);
    assert!(output.status.success(), "{}", stderr(&output));
    let built = std::fs::read_to_string(dir.path().join("built-DESCRIPTION")).unwrap();
    assert!(
        built.starts_with("Package: ghsub\nVersion: 0.1.0\n"),
        "{built}"
    );
    assert!(built.contains("Imports: corekit\n"), "{built}");
    assert!(built.contains(&format!("\nRemoteSha: {MONO}\n")), "{built}");
    assert!(built.contains("\nRemoteSubdir: pkg/ghsub\n"), "{built}");
    assert!(built.contains("\nRemoteType: github\n"), "{built}");

    // Other bytes at the same URL are refused before anything is built.
    std::fs::remove_file(dir.path().join("built-DESCRIPTION")).unwrap();
    let other = github_archive(
        &fixtures().join("github/acme/monorepo"),
        &format!("acme-monorepo-{}", &MONO[..7]),
        MONO,
        &[("pkg/ghsub/R/extra.R", "extra <- 1\n")],
    );
    std::fs::write(
        repos
            .github
            .dir
            .path()
            .join(GithubServer::tarball_path("acme", "monorepo", MONO).trim_start_matches('/')),
        &other,
    )
    .unwrap();
    let output = install(&line, &bin);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(&format!(
            "checksum mismatch for R package ghsub 0.1.0 from {}/repos/acme/monorepo/tarball/{MONO}: the lock says sha256 {sha256}, the download has {}",
            repos.github.api(),
            sha256_hex(&other)
        )),
        "{}",
        stderr(&output)
    );
    assert!(!dir.path().join("built-DESCRIPTION").exists());
}

#[test]
fn the_installer_refuses_a_malformed_field_or_commit() {
    let dir = tempfile::tempdir().unwrap();
    let bin = fake_installer(dir.path());
    let base = format!(
        "imglock-r-install ghsub 0.1.0 {} https://127.0.0.1:9/a.tar.gz - {}",
        "8".repeat(64),
        "0".repeat(64)
    );
    for (fields, expected) in [
        ("'Remote$(id): x'", "is not a DESCRIPTION field"),
        ("'RemoteType'", "is not a DESCRIPTION field (NAME: value)"),
        (
            "'RemoteSha: abc'",
            "the commit (RemoteSha) `abc` is not 40 lowercase",
        ),
        (
            "'RemoteType: github'",
            "the commit (RemoteSha) `` is not 40 lowercase",
        ),
        (
            "'RemoteSha: 5555aaaa5555aaaa5555aaaa5555aaaa5555aaaa' 'RemoteSubdir: ../x'",
            "the subdirectory `../x` is not a plain relative path",
        ),
    ] {
        let output = install(&format!("{base} {fields}"), &bin);
        assert_eq!(output.status.code(), Some(1), "{fields}");
        assert!(
            stderr(&output).contains(expected),
            "{fields}: {}",
            stderr(&output)
        );
    }
}

/// A root filesystem holding each of `lock`'s R packages, GitHub ones with `RemoteSha: commit`.
fn image_with(lock: &toml::Value, commit: impl Fn(&str) -> Option<String>) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for layer in lock["layer"].as_array().unwrap() {
        for package in layer["package"].as_array().unwrap() {
            let (name, version) = (field(package, "name"), field(package, "version"));
            let mut text = format!("Package: {name}\nVersion: {version}\n");
            if let Some(sha) = commit(name) {
                let repo = field(package, "github").split_once('/').unwrap();
                text.push_str(&format!(
                    "RemoteType: github\nRemoteUsername: {}\nRemoteRepo: {}\nRemoteSha: {sha}\n",
                    repo.0, repo.1
                ));
            } else {
                text.push_str("Repository: CRAN\n");
            }
            let folder = root.path().join("usr/local/lib/R/site-library").join(name);
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("DESCRIPTION"), text).unwrap();
        }
    }
    root
}

#[test]
fn verify_checks_the_installed_commit() {
    let repos = Repos::start();
    let project = Project::new(&repos.spec(&["acme/ghtool"]));
    let lock = resolved(&project);
    let locked = |name: &str| match name {
        "ghtool" => Some(TOOL_A.to_string()),
        "ghhelper" => Some(HELPER.to_string()),
        _ => None,
    };
    let verify = |image: &Path| project.run(&["verify", image.to_str().unwrap()]);

    let clean = image_with(&lock, locked);
    let output = verify(clean.path());
    assert_eq!(output.status.code(), Some(0), "{}", output_text(&output));

    let other = image_with(&lock, |name| match name {
        "ghtool" => Some(TOOL_B.to_string()),
        _ => locked(name),
    });
    let output = verify(other.path());
    assert_eq!(output.status.code(), Some(1));
    let text = output_text(&output);
    assert!(
        text.contains(&format!(
            "ghtool is installed from commit {TOOL_B} of github acme/ghtool, but the lock has commit {TOOL_A} of GitHub acme/ghtool"
        )),
        "{text}"
    );

    // The same version from CRAN is not the locked GitHub package either.
    let from_cran = image_with(&lock, |name| match name {
        "ghtool" => None,
        _ => locked(name),
    });
    let output = verify(from_cran.path());
    assert_eq!(output.status.code(), Some(1));
    let text = output_text(&output);
    assert!(
        text.contains(&format!(
            "ghtool was installed from CRAN (its DESCRIPTION has no RemoteSha), but the lock has commit {TOOL_A} of GitHub acme/ghtool"
        )),
        "{text}"
    );
}

/// A real build: the emitted Dockerfile built by buildah on the test base image installs the
/// GitHub packages at their locked commits (its R loads them), `verify` finds the image clean,
/// and an image whose ghtool says another commit is a mismatch naming both.
#[test]
fn a_built_image_holds_the_locked_commits_and_verify_catches_another() {
    use crate::image_build::{Cleanup, base_digest, build, buildah};
    let Some(digest) = base_digest() else { return };
    let repos = Repos::start();
    let base = format!("localhost/imglock-test-base@{digest}");
    let spec = repos.spec(&["acme/ghtool@main"]).replace(
        &format!("docker.io/rocker/r-ver:4.2.2@sha256:{}", "a".repeat(64)),
        &base,
    );
    let project = Project::new(&spec);
    let _ = resolved(&project);
    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let tag = format!("localhost/imglock-github-test-{}:1", std::process::id());
    let mut cleanup = Cleanup(vec![tag.clone()]);
    let (output, seconds) = build(&project, "build", &tag, &[]);
    assert!(output.status.success(), "{}", output_text(&output));
    eprintln!("GitHub package image build: {seconds:.1} s");

    let container = format!("imglock-github-probe-{}", std::process::id());
    let output = buildah(&["from", "--name", &container, &tag]);
    assert!(output.status.success(), "{}", output_text(&output));
    cleanup.0.push(container.clone());
    let probe = "library(ghtool); cat(ghtool_hello(), '\\n'); cat(packageDescription('ghtool')$RemoteSha, packageDescription('ghhelper')$RemoteRef, '\\n')";
    let output = buildah(&["run", &container, "--", "Rscript", "-e", probe]);
    let shown = output_text(&output);
    assert!(output.status.success(), "{shown}");
    assert!(shown.contains("hello from ghhelper"), "{shown}");
    assert!(shown.contains(&format!("{TOOL_A} v1.0")), "{shown}");

    let images = tempfile::tempdir().unwrap();
    let oci = images.path().join("oci");
    let output = buildah(&["push", &tag, &format!("oci:{}", oci.display())]);
    assert!(output.status.success(), "{}", output_text(&output));
    let report = project.verify_clean(&oci);
    let checked: Vec<String> = report["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["ecosystem"].as_str().unwrap(),
                p["name"].as_str().unwrap()
            )
        })
        .collect();
    for expected in [
        "github ghtool",
        "github ghhelper",
        "cran corekit",
        "cran tinyleaf",
    ] {
        assert!(checked.contains(&expected.to_string()), "{checked:?}");
    }

    // The same image with ghtool claiming another commit.
    let folder = images.path().join("tamper");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("Dockerfile"),
        format!(
            "FROM {tag}\nRUN sed -i 's/^RemoteSha: .*/RemoteSha: {TOOL_B}/' /usr/local/lib/R/site-library/ghtool/DESCRIPTION\n"
        ),
    )
    .unwrap();
    let tampered = format!("localhost/imglock-github-tampered-{}:1", std::process::id());
    cleanup.0.push(tampered.clone());
    let output = buildah(&["bud", "-t", &tampered, folder.to_str().unwrap()]);
    assert!(output.status.success(), "{}", output_text(&output));
    let oci = images.path().join("oci-tampered");
    let output = buildah(&["push", &tampered, &format!("oci:{}", oci.display())]);
    assert!(output.status.success(), "{}", output_text(&output));
    let output = project.run(&["verify", oci.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    let shown = output_text(&output);
    assert!(
        shown.contains(&format!("ghtool is installed from commit {TOOL_B} of github acme/ghtool, but the lock has commit {TOOL_A} of GitHub acme/ghtool")),
        "{shown}"
    );
}

#[test]
fn a_lock_whose_github_fields_could_reach_the_shell_is_refused() {
    let repos = Repos::start();
    let project = Project::new(&repos.spec(&["acme/monorepo/pkg/ghsub@v2"]));
    let _ = resolved(&project);
    let lock = project.lock().unwrap();
    for (from, to, expected) in [
        (
            format!("commit = \"{MONO}\""),
            "commit = \"$(id)\"".to_string(),
            "its `commit` `$(id)` is not 40 lowercase hexadecimal digits".to_string(),
        ),
        (
            "subdir = \"pkg/ghsub\"".into(),
            "subdir = \"../../etc\"".into(),
            "its GitHub source: `acme/monorepo/../../etc@v2` is not a GitHub package reference"
                .into(),
        ),
        (
            "ref = \"v2\"".into(),
            "ref = \"v2; rm -rf /\"".into(),
            "is not a GitHub package reference: the ref".into(),
        ),
        (
            "github = \"acme/monorepo\"\n".into(),
            String::new(),
            "a `github` package has no `github`".into(),
        ),
    ] {
        assert!(lock.contains(&from), "{from} in {lock}");
        std::fs::write(project.path("imglock.lock"), lock.replace(&from, &to)).unwrap();
        let output = project.run(&["emit", "--out", "build"]);
        assert_eq!(output.status.code(), Some(2), "{to}");
        let message = stderr(&output);
        assert!(message.contains("is not a valid imglock lock"), "{message}");
        assert!(message.contains(&expected), "{expected}: {message}");
    }
}
