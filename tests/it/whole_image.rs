//! A whole image, built for real (issue 17's second proof): a parent spec on the test base image
//! with a CRAN layer and a GitHub R package (served by a GitHub-style API on loopback), and a
//! child spec in a sibling folder that `extends` it with a layer holding a URL jar, a `copy` of a
//! config file from the child's folder, a `run` line that reads it, and the image's
//! `entrypoint`. The child's emitted Dockerfile is built once by buildah, pushed to an OCI layout
//! and verified clean; images derived from it with one extra layer each (the jar's bytes
//! replaced, the GitHub package's `RemoteSha` rewritten) are mismatches naming the jar and both
//! commits.

use std::path::Path;

use crate::image_build::{Cleanup, base_digest, build, buildah};
use crate::support::github::GithubServer;
use crate::support::{Project, Server, fixtures, output_text, sha256_hex, stderr};

/// Where `main` of acme/ghtool points, and the commit the tampered image claims.
const TOOL: &str = "1f2e3d4c5b6a79881726354453627180a9b8c7d6";
const OTHER: &str = "8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b";
const HELPER: &str = "77aa88bb99cc00dd11ee22ff33aa44bb55cc66dd";

const JAR: &[u8] = b"PK\x03\x04 the app's jar, as locked";
const SWAPPED: &[u8] = b"PK\x03\x04 another jar with the same name";
const CONFIG: &str = "APP_JAR=/opt/jars/app.jar\nAPP_GREETING=/etc/app/greeting\n";

/// The repositories the two specs name, on loopback: the CRAN fixtures, a GitHub-style API
/// publishing acme/ghtool (main at TOOL) and acme/ghhelper (v1.0 at HELPER), and a folder
/// serving the jar.
struct Repositories {
    cran: Server,
    github: GithubServer,
    files: Server,
    _served: tempfile::TempDir,
}

impl Repositories {
    fn start() -> Self {
        let github = GithubServer::start();
        github.publish("acme", "ghtool", TOOL, &["HEAD", "main"], &[]);
        github.publish("acme", "ghhelper", HELPER, &["HEAD", "v1.0"], &[]);
        let served = tempfile::tempdir().unwrap();
        std::fs::write(served.path().join("app.jar"), JAR).unwrap();
        Self {
            cran: Server::start(&fixtures()),
            github,
            files: Server::start(served.path()),
            _served: served,
        }
    }

    /// The parent: the base image, a CRAN layer and a layer with a GitHub package.
    fn parent(&self, digest: &str) -> String {
        format!(
            "[image]\nname = \"whole-parent\"\nbase = \"localhost/imglock-test-base@{digest}\"\nr = \"4.2.2\"\n\n\
             [repositories]\ncran = [\"{}/cran\"]\ngithub = \"{}\"\n\n\
             [[layer]]\nname = \"r-cran\"\ncran = [\"fastsum\"]\n\n\
             [[layer]]\nname = \"r-github\"\ngithub = [\"acme/ghtool@main\"]\n",
            self.cran.url(),
            self.github.api()
        )
    }

    /// The child: the parent's layers, then a jar, a config file and a line that reads it.
    fn child(&self) -> String {
        format!(
            "extends = \"../parent/imglock.toml\"\n\n\
             [image]\nname = \"whole-child\"\nentrypoint = [\"Rscript\", \"-e\", \"cat(ghtool::ghtool_hello())\"]\n\n\
             [[layer]]\nname = \"app\"\n\
             files = [{{ url = \"{}/app.jar\", target = \"/opt/jars/\" }}]\n\
             steps = [\n\
             {{ copy = \"conf/app.conf\", to = \"/etc/app/\" }},\n\
             {{ run = \"set -e; . /etc/app/app.conf; test -s \\\"$APP_JAR\\\"; Rscript -e 'cat(ghtool::ghtool_hello())' > \\\"$APP_GREETING\\\"\" }},\n\
             ]\n",
            self.files.url()
        )
    }
}

/// Writes `text` at `path` below the project, making its folders.
fn write(project: &Project, path: &str, text: &[u8]) {
    let path = project.path(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn succeeded(output: std::process::Output) -> std::process::Output {
    assert!(output.status.success(), "{}", output_text(&output));
    output
}

/// Builds `dockerfile` (one layer on the built image, with `context` files) as `tag` and saves
/// it as the `docker save` tar `dir/name.tar`, whose path it returns. (Not an OCI layout: that
/// gzips the base image's layer again, a minute each on a busy machine; the tar keeps the
/// layers as they are, and `verify` reads both.)
fn derive(
    dir: &Path,
    name: &str,
    tag: &str,
    dockerfile: &str,
    context: &[(&str, &[u8])],
) -> String {
    let folder = dir.join(format!("{name}-context"));
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("Dockerfile"), dockerfile).unwrap();
    for (file, bytes) in context {
        std::fs::write(folder.join(file), bytes).unwrap();
    }
    succeeded(buildah(&["bud", "-t", tag, folder.to_str().unwrap()]));
    let archive = dir.join(format!("{name}.tar"));
    let destination = format!("docker-archive:{}:{tag}", archive.display());
    succeeded(buildah(&["push", tag, &destination]));
    archive.to_str().unwrap().to_string()
}

/// Pushes `tag` to the OCI layout `layout`, whose path it returns.
fn push(tag: &str, layout: &Path) -> String {
    succeeded(buildah(&[
        "push",
        tag,
        &format!("oci:{}", layout.display()),
    ]));
    layout.to_str().unwrap().to_string()
}

/// The configuration of the one image of the OCI layout `layout`.
fn image_config(layout: &Path) -> serde_json::Value {
    let blob = |digest: &serde_json::Value| -> serde_json::Value {
        let digest = digest.as_str().unwrap().strip_prefix("sha256:").unwrap();
        let bytes = std::fs::read(layout.join("blobs/sha256").join(digest)).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest = blob(&index["manifests"][0]["digest"]);
    blob(&manifest["config"]["digest"])
}

/// `imglock verify` of `image` against the child's lock: its exit code and JSON report.
fn verify(project: &Project, image: &str) -> (Option<i32>, serde_json::Value) {
    let output = project.run(&[
        "verify",
        image,
        "--lock",
        "child/imglock.lock",
        "--format",
        "json",
    ]);
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{}", output_text(&output)));
    (output.status.code(), report)
}

/// The messages of a report's findings.
fn findings(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

/// A project whose `parent/` and `child/` specs are resolved, and the child's Dockerfile
/// emitted into `child/build`.
fn emitted_child(repositories: &Repositories, digest: &str) -> Project {
    let project = Project::new("");
    write(
        &project,
        "parent/imglock.toml",
        repositories.parent(digest).as_bytes(),
    );
    write(
        &project,
        "child/imglock.toml",
        repositories.child().as_bytes(),
    );
    write(&project, "child/conf/app.conf", CONFIG.as_bytes());
    for spec in ["parent/imglock.toml", "child/imglock.toml"] {
        let output = project.run(&["resolve", "--spec", spec]);
        assert!(output.status.success(), "{spec}: {}", stderr(&output));
    }
    succeeded(project.run(&[
        "emit",
        "--lock",
        "child/imglock.lock",
        "--out",
        "child/build",
    ]));
    project
}

/// The image's configuration (in its OCI layout `oci`) has the child's entrypoint; its files
/// the copied config and what the `run` line made with it, after the jar and the GitHub
/// package were installed.
fn check_entrypoint_and_steps(tag: &str, oci: &str, cleanup: &mut Cleanup) {
    assert_eq!(
        image_config(Path::new(oci))["config"]["Entrypoint"],
        serde_json::json!(["Rscript", "-e", "cat(ghtool::ghtool_hello())"])
    );
    let container = format!("imglock-whole-probe-{}", std::process::id());
    succeeded(buildah(&["from", "--name", &container, tag]));
    cleanup.0.push(container.clone());
    let probe =
        "cat /etc/app/app.conf; echo; cat /etc/app/greeting; echo; sha256sum /opt/jars/app.jar";
    let shown = output_text(&succeeded(buildah(&[
        "run", &container, "--", "sh", "-c", probe,
    ])));
    assert!(shown.contains(CONFIG), "{shown}");
    assert!(shown.contains("hello from ghhelper"), "{shown}");
    assert!(shown.contains(&sha256_hex(JAR)), "{shown}");
}

/// `verify` of the built image: every locked package of both specs' layers checked, nothing
/// found, nothing to warn of (the base image's links, `usr/bin/python3 → python3.11`, … are
/// where Python files may be, and expected there).
fn check_clean(project: &Project, oci: &str, jar_url: &str) {
    let (code, report) = verify(project, oci);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(findings(&report), Vec::<String>::new());
    assert_eq!(report["warnings"], serde_json::json!([]), "{report}");
    let checked: Vec<String> = report["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["layer"].as_str().unwrap(),
                p["name"].as_str().unwrap()
            )
        })
        .collect();
    for expected in [
        "r-cran corekit".to_string(),
        "r-cran fastsum".into(),
        "r-github ghtool".into(),
        "r-github ghhelper".into(),
        "r-github tinyleaf".into(),
        format!("app {jar_url}"),
    ] {
        assert!(checked.contains(&expected), "{expected} in {checked:?}");
    }
}

#[test]
fn a_child_image_with_github_r_a_url_jar_and_custom_steps_builds_and_verifies() {
    let Some(digest) = base_digest() else { return };
    let repositories = Repositories::start();
    let project = emitted_child(&repositories, &digest);
    let tag = format!("localhost/imglock-whole-test-{}:1", std::process::id());
    let mut cleanup = Cleanup(vec![tag.clone()]);
    let (output, seconds) = build(&project, "child/build", &tag, &[]);
    assert!(output.status.success(), "{}", output_text(&output));
    eprintln!("whole image build: {seconds:.1} s");

    let images = tempfile::tempdir().unwrap();
    let oci = push(&tag, &images.path().join("oci"));
    check_entrypoint_and_steps(&tag, &oci, &mut cleanup);
    let jar_url = format!("{}/app.jar", repositories.files.url());
    check_clean(&project, &oci, &jar_url);

    // (a) The jar's bytes replaced in a layer on top.
    let swapped = format!("localhost/imglock-whole-jar-{}:1", std::process::id());
    cleanup.0.push(swapped.clone());
    let layout = derive(
        images.path(),
        "jar",
        &swapped,
        &format!("FROM {tag}\nCOPY app.jar /opt/jars/app.jar\n"),
        &[("app.jar", SWAPPED)],
    );
    let (code, report) = verify(&project, &layout);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(
        findings(&report),
        [format!(
            "/opt/jars/app.jar has sha256 {}, but the lock says {} for {jar_url}",
            sha256_hex(SWAPPED),
            sha256_hex(JAR)
        )]
    );

    // (b) ghtool's installed DESCRIPTION claiming another commit.
    let moved = format!("localhost/imglock-whole-commit-{}:1", std::process::id());
    cleanup.0.push(moved.clone());
    let layout = derive(
        images.path(),
        "commit",
        &moved,
        &format!(
            "FROM {tag}\nRUN sed -i 's/^RemoteSha: .*/RemoteSha: {OTHER}/' /usr/local/lib/R/site-library/ghtool/DESCRIPTION\n"
        ),
        &[],
    );
    let (code, report) = verify(&project, &layout);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(
        findings(&report),
        [format!(
            "ghtool is installed from commit {OTHER} of github acme/ghtool, but the lock has commit {TOOL} of GitHub acme/ghtool"
        )]
    );
}
