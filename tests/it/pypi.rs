//! PyPI layers: resolution against a recording of real PyPI responses (fixtures/pypi, made by
//! fixtures/pypi/record.py) served on 127.0.0.1, compared with uv on the same index.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::support;
use crate::support::{Project, Server, stderr};

/// The `--exclude-newer` of the recorded sets that state none (record.py's default).
pub(crate) const EXCLUDE_NEWER: &str = support::pypi_sets::DEFAULT_EXCLUDE_NEWER;

pub(crate) fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pypi")
}

/// A spec with one Python layer per entry of `layers`.
pub(crate) fn python_spec(index: &str, layers: &[(&str, &[&str])]) -> String {
    let mut text = format!(
        "[image]\nname = \"py\"\nbase = \"docker.io/library/python:3.8-slim@sha256:{}\"\npython = \"3.8\"\n\n[repositories]\npypi = \"{index}\"\n",
        "b".repeat(64)
    );
    for (name, requirements) in layers {
        let quoted: Vec<String> = requirements.iter().map(|r| format!("{r:?}")).collect();
        text.push_str(&format!(
            "\n[[layer]]\nname = \"{name}\"\npypi = [{}]\n",
            quoted.join(", ")
        ));
    }
    text
}

/// The `--exclude-newer` instant of a recorded set, as record.py reads it.
pub(crate) fn set_exclude_newer(name: &str) -> String {
    support::pypi_sets::exclude_newer(name)
}

/// The requirements of a recorded set (`fixtures/pypi/sets/NAME.in`).
pub(crate) fn set(name: &str) -> Vec<String> {
    support::pypi_sets::requirements(name)
}

/// `name → version` of a lock's Python packages in one layer (all layers when `None`).
pub(crate) fn pins(lock: &str, layer: Option<&str>) -> BTreeMap<String, String> {
    let value: toml::Value = toml::from_str(lock).unwrap();
    value["layer"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| layer.is_none_or(|name| l["name"].as_str() == Some(name)))
        .flat_map(|l| {
            l.get("package")
                .and_then(|p| p.as_array())
                .cloned()
                .unwrap_or_default()
        })
        .filter(|p| p["ecosystem"].as_str() == Some("pypi"))
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn resolve(server: &Server, layers: &[(&str, &[&str])]) -> (Project, std::process::Output) {
    resolve_at(server, layers, EXCLUDE_NEWER, &[])
}

/// Resolves `layers` against `server`'s index as of `exclude_newer`, with `flags` added.
pub(crate) fn resolve_at(
    server: &Server,
    layers: &[(&str, &[&str])],
    exclude_newer: &str,
    flags: &[&str],
) -> (Project, std::process::Output) {
    resolve_on(
        &format!("{}/simple", server.url()),
        layers,
        exclude_newer,
        flags,
    )
}

/// Resolves `layers` against the index `index` as of `exclude_newer`, with `flags` added.
fn resolve_on(
    index: &str,
    layers: &[(&str, &[&str])],
    exclude_newer: &str,
    flags: &[&str],
) -> (Project, std::process::Output) {
    let project = Project::new(&python_spec(index, layers));
    let mut args = vec!["resolve", "--exclude-newer", exclude_newer];
    args.extend(flags);
    let output = project.run(&args);
    (project, output)
}

#[test]
fn extras_and_markers_are_evaluated_for_the_image() {
    let server = Server::start(&fixtures());
    let requirements: Vec<String> = set("web");
    let requirements: Vec<&str> = requirements.iter().map(String::as_str).collect();
    let (project, output) = resolve(&server, &[("py", &requirements)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    let pins = pins(&lock, None);
    assert_eq!(pins["requests"], "2.27.1");
    assert!(
        pins.contains_key("pysocks"),
        "requests[socks] brings PySocks: {pins:?}"
    );
    assert!(
        pins.contains_key("importlib-resources"),
        "python_version < \"3.9\" holds on 3.8: {pins:?}"
    );
    assert!(
        !pins.contains_key("typing-extensions"),
        "python_version < \"3.8\" does not: {pins:?}"
    );
    let value: toml::Value = toml::from_str(&lock).unwrap();
    let packages = value["layer"][0]["package"].as_array().unwrap();
    let pysocks = packages
        .iter()
        .find(|p| p["name"].as_str() == Some("pysocks"))
        .unwrap();
    assert_eq!(
        pysocks["markers"].as_array().unwrap()[0].as_str(),
        Some("extra == 'socks'")
    );
    let requests = packages
        .iter()
        .find(|p| p["name"].as_str() == Some("requests"))
        .unwrap();
    assert_eq!(requests["requested"].as_bool(), Some(true));
    assert!(
        requests["url"]
            .as_str()
            .unwrap()
            .ends_with("requests-2.27.1-py2.py3-none-any.whl")
    );
    assert_eq!(requests["sha256"].as_str().unwrap().len(), 64);
    assert!(requests["size"].as_integer().unwrap() > 0);
    assert_eq!(
        value["resolution"]["exclude-newer"].as_str(),
        Some(EXCLUDE_NEWER)
    );
    assert_eq!(
        value["resolution"]["python-platform"].as_str(),
        Some("manylinux_2_17_x86_64")
    );
    // Nothing but metadata was fetched: no wheel was downloaded to lock it.
    assert_eq!(server.hits("/files/2d/61/08076519c80041bc0ffa1a8af0cbd3bf3e2b62af10435d269a9d0f40564d/requests-2.27.1-py2.py3-none-any.whl"), 0);
}

#[test]
fn wheels_are_chosen_for_the_target_not_the_host() {
    let server = Server::start(&fixtures());
    let (project, output) = resolve(&server, &[("py", &["numpy==1.18.5"])]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert!(
        lock.contains("numpy-1.18.5-cp38-cp38-manylinux1_x86_64.whl"),
        "{lock}"
    );
}

#[test]
fn exclude_newer_ignores_later_uploads() {
    let server = Server::start(&fixtures());
    let project = Project::new(&python_spec(
        &format!("{}/simple", server.url()),
        &[("py", &["attrs"])],
    ));
    assert!(
        project
            .run(&["resolve", "--exclude-newer", EXCLUDE_NEWER])
            .status
            .success()
    );
    assert_eq!(pins(&project.lock().unwrap(), None)["attrs"], "21.4.0");
    let output = project.run(&["resolve", "--upgrade"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        pins(&project.lock().unwrap(), None)["attrs"],
        "22.2.0",
        "uploaded 2022-12-21, after the limit"
    );
    let output = project.run(&["resolve", "--exclude-newer", "last tuesday"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is not a UTC instant"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn yanked_releases_are_skipped_unless_pinned_exactly() {
    let server = Server::start(&fixtures());
    let (project, output) = resolve(&server, &[("py", &["gitpython>=3.1.14,<3.1.18"])]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(pins(&project.lock().unwrap(), None)["gitpython"], "3.1.14");
    let (project, output) = resolve(&server, &[("py", &["gitpython==3.1.17"])]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(pins(&project.lock().unwrap(), None)["gitpython"], "3.1.17");
}

#[test]
fn an_unsatisfiable_set_gets_pubgrubs_explanation() {
    let server = Server::start(&fixtures());
    let (_, output) = resolve(&server, &[("py", &["requests==2.27.1", "urllib3==1.20"])]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("requests 2.27.1 depends on urllib3 >=1.21.1"),
        "{message}"
    );
    assert!(
        message.contains("layer `py` depends on urllib3 1.20"),
        "{message}"
    );
}

/// Every layer's requested projects are asked for in the first round: the page of a higher
/// layer's project arrives before the lowest layer has had its first answer, not after that
/// layer is resolved.
#[test]
fn every_layers_requested_pages_are_asked_for_at_once() {
    const LATENCY: std::time::Duration = std::time::Duration::from_millis(300);
    let server = Server::start(&fixtures());
    server.set_latency(LATENCY);
    let (_, output) = resolve(
        &server,
        &[("base", &["urllib3==1.26.5"]), ("app", &["idna==3.3"])],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let log = server.arrivals();
    let first = log[0].1;
    let idna = log
        .iter()
        .find(|(path, _)| path == "/simple/idna/")
        .expect("idna's page is asked for");
    assert!(
        idna.1.duration_since(first) < LATENCY,
        "idna's page was asked {:?} after the first request: {log:?}",
        idna.1.duration_since(first)
    );
}

#[test]
fn a_higher_layer_resolves_against_the_lower_layers_pins() {
    let server = Server::start(&fixtures());
    let (project, output) = resolve(
        &server,
        &[
            ("base", &["urllib3==1.26.5"]),
            ("app", &["requests==2.27.1"]),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert_eq!(
        pins(&lock, Some("base")),
        BTreeMap::from([("urllib3".to_string(), "1.26.5".to_string())])
    );
    let app = pins(&lock, Some("app"));
    assert_eq!(app["requests"], "2.27.1");
    assert!(
        !app.contains_key("urllib3"),
        "urllib3 stays in the lower layer: {app:?}"
    );
    let (_, output) = resolve(
        &server,
        &[("base", &["urllib3==1.20"]), ("app", &["requests==2.27.1"])],
    );
    assert_eq!(
        output.status.code(),
        Some(2),
        "a higher layer cannot move a lower pin"
    );
}

#[test]
fn a_file_index_works_and_keeps_the_lock_free_of_machine_paths() {
    let project = Project::new("");
    let index = support::relative_path(project.dir.path(), &fixtures().join("simple"));
    project.write_spec(&python_spec(
        &format!("file:{index}"),
        &[("py", &["attrs==21.4.0"])],
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert!(
        lock.contains(&format!("url = \"file:{index}/../files/")),
        "{lock}"
    );
    assert!(!lock.contains(project.dir.path().to_str().unwrap()));
}

#[test]
fn pins_match_uv_on_the_same_index() {
    if !support::available(support::runs("uv", &["--version"]), "uv is not installed") {
        return;
    }
    let server = Server::start(&fixtures());
    for name in ["web", "science", "dask", "yanked"] {
        assert_pins_match_uv(&format!("{}/simple", server.url()), name);
    }
}

/// imglock's pins for the recorded set `name` equal `uv pip compile`'s on the same index
/// `index`, both as of the set's own `--exclude-newer`.
pub(crate) fn assert_pins_match_uv(index: &str, name: &str) {
    let exclude_newer = set_exclude_newer(name);
    let requirements = set(name);
    let refs: Vec<&str> = requirements.iter().map(String::as_str).collect();
    let (project, output) = resolve_on(index, &[("py", &refs)], &exclude_newer, &[]);
    assert!(output.status.success(), "{name}: {}", stderr(&output));
    let ours = pins(&project.lock().unwrap(), None);
    assert_eq!(
        ours,
        uv_pins(index, name),
        "imglock and uv disagree on `{name}`"
    );
}

/// `name → version` as `uv pip compile` pins the recorded set `name` on `index`, as of the set's
/// own `--exclude-newer`, for CPython 3.8 on manylinux 2.17.
pub(crate) fn uv_pins(index: &str, name: &str) -> BTreeMap<String, String> {
    let exclude_newer = set_exclude_newer(name);
    // uv targets 3.8 from this machine's interpreter; it must not try to download one.
    let output = Command::new("uv")
        .env("UV_PYTHON_DOWNLOADS", "never")
        .args([
            "pip",
            "compile",
            "--quiet",
            "--no-cache",
            "--no-header",
            "--no-annotate",
        ])
        .args([
            "--python",
            "python3",
            "--python-version",
            "3.8",
            "--python-platform",
            "x86_64-manylinux_2_17",
        ])
        .args(["--exclude-newer", &exclude_newer, "--index-url", index])
        .arg(support::pypi_sets::path(name))
        .output()
        .unwrap();
    assert!(output.status.success(), "uv on {name}: {}", stderr(&output));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once("=="))
        .map(|(name, version)| {
            (
                name.trim().to_lowercase().replace('_', "-"),
                version.trim().to_string(),
            )
        })
        .collect()
}

/// The `RUN` that installs a layer's Python packages, as the shell command it runs.
pub(crate) fn python_step(dockerfile: &str) -> String {
    run_after(dockerfile, ", Python packages: ")
}

/// The command of the first `RUN` after the first `marker` in `dockerfile`, its continued lines
/// joined.
pub(crate) fn run_after(dockerfile: &str, marker: &str) -> String {
    let comment = dockerfile
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in:\n{dockerfile}"));
    let start = comment + dockerfile[comment..].find("\nRUN ").expect("its RUN") + 1;
    let mut command = String::new();
    for line in dockerfile[start + 4..].lines() {
        match line.strip_suffix('\\') {
            Some(continued) => command.push_str(continued),
            None => {
                command.push_str(line);
                break;
            }
        }
    }
    command
}

#[test]
fn the_emitted_step_installs_exactly_the_lock_and_verify_agrees() {
    if !support::python_venv_available() {
        return;
    }
    let server = Server::start(&fixtures());
    let requirements = set("install-requests");
    let refs: Vec<&str> = requirements.iter().map(String::as_str).collect();
    let (project, output) = resolve(&server, &[("py", &refs)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    assert!(dockerfile.contains("pip install --no-deps --require-hashes --only-binary :all:"));

    // The image's /usr/local, as a virtual environment of this machine's Python.
    let root = tempfile::tempdir().unwrap();
    let prefix = root.path().join("usr/local");
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(status.success());
    let requirements_file = root.path().join("requirements.txt");
    let command = python_step(&dockerfile)
        .replace(
            "python3 -m pip",
            &format!("{} -m pip", prefix.join("bin/python").display()),
        )
        .replace(
            "/tmp/imglock-python-wheels.txt",
            requirements_file.to_str().unwrap(),
        );
    let output = Command::new("sh").args(["-c", &command]).output().unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );

    let report = project.verify_clean(root.path());
    assert_eq!(
        report["checked"].as_array().unwrap().len(),
        pins(&project.lock().unwrap(), None).len()
    );

    // An edited version and a stray distribution are found.
    let site = std::fs::read_dir(prefix.join("lib"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("site-packages");
    let metadata = site.join("requests-2.27.1.dist-info/METADATA");
    let text = std::fs::read_to_string(&metadata).unwrap().replacen(
        "Version: 2.27.1",
        "Version: 2.27.2",
        1,
    );
    std::fs::write(&metadata, text).unwrap();
    std::fs::create_dir_all(site.join("stray-1.0.dist-info")).unwrap();
    std::fs::write(
        site.join("stray-1.0.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: stray\nVersion: 1.0\n",
    )
    .unwrap();
    let output = project.run(&["verify", root.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("requests is installed at 2.27.2, but the lock says 2.27.1"),
        "{text}"
    );
    assert!(text.contains("stray 1.0"), "{text}");
}

#[test]
fn the_live_index_resolves_when_asked() {
    if std::env::var("IMGLOCK_LIVE_PYPI").as_deref() != Ok("1") {
        eprintln!("skipped: set IMGLOCK_LIVE_PYPI=1 to resolve against the public PyPI");
        return;
    }
    let project = Project::new(&python_spec(
        "https://pypi.org/simple",
        &[("py", &["requests[socks]==2.27.1", "numpy==1.18.5"])],
    ));
    let output = project.run(&["resolve", "--exclude-newer", EXCLUDE_NEWER]);
    assert!(output.status.success(), "{}", stderr(&output));
    let pinned = pins(&project.lock().unwrap(), None);
    assert_eq!(pinned["numpy"], "1.18.5");
    assert_eq!(pinned["urllib3"], "1.26.9");
    // The Databricks Runtime 10.4 set, with its sdist-only alembic, as uv locks it live.
    if !support::available(support::runs("uv", &["--version"]), "uv is not installed") {
        return;
    }
    assert_pins_match_uv("https://pypi.org/simple", "databricks-10.4");
    // The Dask worker set, whose PyYAML and locket metadata is built in the base image.
    let Some(digest) = crate::image_build::base_digest() else {
        return;
    };
    let project = crate::pypi_metadata_build::project_on_base_at(
        "https://pypi.org/simple",
        "dask-worker",
        &digest,
    );
    let output = crate::pypi_metadata_build::resolve(&project, "dask-worker", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        pins(&project.lock().unwrap(), None),
        uv_pins("https://pypi.org/simple", "dask-worker")
    );
}

#[test]
fn a_wheel_without_a_metadata_file_is_read_with_range_requests() {
    let (_copy, server, wheel_url) = serve_requests_without_metadata_file();
    let (project, output) = resolve(&server, &[("py", &["requests[socks]==2.27.1"])]);
    assert!(output.status.success(), "{}", stderr(&output));
    let pins = pins(&project.lock().unwrap(), None);
    assert_eq!(pins["requests"], "2.27.1");
    assert!(
        pins.contains_key("urllib3") && pins.contains_key("pysocks"),
        "its dependencies came from the wheel's METADATA: {pins:?}"
    );
    assert_eq!(
        server.range_hits(&wheel_url),
        2,
        "the end of the wheel, then the METADATA entry"
    );
    assert_eq!(
        server.hits(&wheel_url),
        2,
        "the wheel itself was never downloaded"
    );
}

/// The `.metadata` path of a recorded wheel, from its project page.
fn metadata_path(root: &Path, project: &str, filename: &str) -> String {
    let page = std::fs::read_to_string(root.join(format!("simple/{project}/index.json"))).unwrap();
    let json: serde_json::Value = serde_json::from_str(&page).unwrap();
    let file = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["filename"] == filename)
        .expect("the wheel is recorded");
    assert!(
        file["core-metadata"]["sha256"].is_string(),
        "the page gives the metadata's sha256"
    );
    format!(
        "{}.metadata",
        file["url"].as_str().unwrap().trim_start_matches("../..")
    )
}

#[test]
fn metadata_with_a_published_hash_is_fetched_once_and_verified() {
    let copy = tempfile::tempdir().unwrap();
    support::copy_dir(&fixtures(), copy.path());
    let idna = metadata_path(copy.path(), "idna", "idna-3.3-py3-none-any.whl");
    let server = Server::start(copy.path());
    let (project, output) = resolve(&server, &[("py", &["idna==3.3"])]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(server.hits(&idna), 1);
    // A second resolve revalidates the page but trusts the cached, hash-checked metadata.
    let output = project.run(&["resolve", "--upgrade", "--exclude-newer", EXCLUDE_NEWER]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        server.hits(&idna),
        1,
        "the metadata was not asked for again"
    );
    assert_eq!(server.hits("/simple/idna/"), 2);

    // Metadata that does not match the page's hash is refused, naming the file.
    std::fs::write(
        copy.path().join(idna.trim_start_matches('/')),
        "Metadata-Version: 2.1\nName: idna\nVersion: 3.3\nRequires-Dist: evil\n",
    )
    .unwrap();
    let fresh = Project::new(&python_spec(
        &format!("{}/simple", server.url()),
        &[("py", &["idna==3.3"])],
    ));
    let output = fresh.run(&["resolve", "--exclude-newer", EXCLUDE_NEWER]);
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(
        text.contains("idna-3.3-py3-none-any.whl.metadata") && text.contains("sha256"),
        "{text}"
    );
    assert!(fresh.lock().is_none(), "no lock is written");
}

/// A copy of the PyPI fixtures (kept alive by the returned folder), changed by `edit` (given
/// the copy's root), served on 127.0.0.1.
pub(crate) fn serve_edited(edit: impl FnOnce(&Path)) -> (tempfile::TempDir, Server) {
    let copy = tempfile::tempdir().unwrap();
    support::copy_dir(&fixtures(), copy.path());
    edit(copy.path());
    let server = Server::start(copy.path());
    (copy, server)
}

/// The fixtures with the wheel `idna-3.3-py3-none-any.whl` of idna's page changed by `edit`
/// (given the entry and the copy's root).
fn serve_with_idna_wheel(
    edit: impl FnOnce(&mut serde_json::Value, &Path),
) -> (tempfile::TempDir, Server) {
    serve_with_wheel("idna", "idna-3.3-py3-none-any.whl", edit)
}

/// The fixtures with the file `filename` of `project`'s page changed by `edit` (given the entry
/// and the copy's root).
pub(crate) fn serve_with_wheel(
    project: &str,
    filename: &str,
    edit: impl FnOnce(&mut serde_json::Value, &Path),
) -> (tempfile::TempDir, Server) {
    serve_edited(|root| {
        let page = root.join(format!("simple/{project}/index.json"));
        let mut json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&page).unwrap()).unwrap();
        let file = json["files"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|f| f["filename"] == filename)
            .unwrap();
        edit(file, root);
        std::fs::write(&page, serde_json::to_string(&json).unwrap()).unwrap();
    })
}

/// The fixtures without requests 2.27.1's wheel `.metadata` (not offered by the page, not
/// served), as PyPI has none for older uploads; and the wheel's path on the server.
pub(crate) fn serve_requests_without_metadata_file() -> (tempfile::TempDir, Server, String) {
    let mut wheel = String::new();
    let (copy, server) = serve_with_wheel(
        "requests",
        "requests-2.27.1-py2.py3-none-any.whl",
        |file, root| {
            file.as_object_mut().unwrap().remove("core-metadata");
            wheel = file["url"]
                .as_str()
                .unwrap()
                .trim_start_matches("../..")
                .to_string();
            std::fs::remove_file(root.join(format!("{}.metadata", &wheel[1..]))).unwrap();
        },
    );
    (copy, server, wheel)
}

/// Resolving `idna==3.3` fails, and says `explanation` rather than only PubGrub's "depends on".
fn assert_idna_refused(server: &Server, explanation: &[&str]) {
    let (project, output) = resolve(server, &[("py", &["idna==3.3"])]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    for part in explanation {
        assert!(text.contains(part), "missing {part:?} in:\n{text}");
    }
    assert!(project.lock().is_none(), "no lock is written");
}

#[test]
fn a_project_no_index_serves_is_said_to_be_missing() {
    let (_copy, server) = serve_edited(|root| {
        std::fs::remove_dir_all(root.join("simple/idna")).unwrap();
    });
    let page = format!("`{}/simple/idna/`", server.url());
    assert_idna_refused(
        &server,
        &["idna is on none of the indexes", &page, "not found"],
    );
}

#[test]
fn a_page_that_is_not_an_index_page_is_said_to_be_one() {
    // What a login page or a captive portal answers, with status 200.
    let (_copy, server) = serve_edited(|root| {
        std::fs::write(
            root.join("simple/idna/index.json"),
            "<html><body><form>Please sign in</form></body></html>",
        )
        .unwrap();
    });
    assert_idna_refused(
        &server,
        &["lists no files of idna", "not a PEP 503/691 project page"],
    );
}

#[test]
fn a_page_whose_file_names_are_unusable_names_them() {
    let (_copy, server) = serve_edited(|root| {
        let page = root.join("simple/idna/index.json");
        let mut json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&page).unwrap()).unwrap();
        for file in json["files"].as_array_mut().unwrap() {
            let name = file["filename"].as_str().unwrap().replace('.', "_");
            file["filename"] = format!("{name}.exe").into();
        }
        std::fs::write(&page, serde_json::to_string(&json).unwrap()).unwrap();
    });
    assert_idna_refused(
        &server,
        &[
            "offers no usable version of idna",
            "whose names are not wheels or sdists of idna",
            ".exe`",
        ],
    );
}

#[test]
fn a_malformed_index_digest_is_refused_naming_the_page_and_the_file() {
    let (_copy, server) = serve_with_idna_wheel(|file, _| file["hashes"]["sha256"] = "abc".into());
    let (project, output) = resolve(&server, &[("py", &["idna==3.3"])]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("/simple/idna/")
            && text.contains("idna-3.3-py3-none-any.whl")
            && text.contains("sha256 `abc`")
            && text.contains("64 hexadecimal digits"),
        "{text}"
    );
    assert!(project.lock().is_none(), "no lock is written");
}

#[test]
fn a_remote_index_may_not_point_the_lock_at_local_files() {
    let mut local = None;
    let (_copy, server) = serve_with_idna_wheel(|file, root| {
        // A file the test controls, so that without the rule the lock would be written with it.
        let relative = file["url"].as_str().unwrap().trim_start_matches("../../");
        let url = url::Url::from_file_path(root.join(relative)).unwrap();
        file["url"] = url.as_str().into();
        local = Some(url);
    });
    let local = local.unwrap();
    let (project, output) = resolve(&server, &[("py", &["idna==3.3"])]);
    let text = stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{text}\n{:?}",
        project.lock()
    );
    assert!(
        text.contains(&format!("{}/simple", server.url()))
            && text.contains(local.as_str())
            && text.contains("idna")
            && text.contains("http:// or https://"),
        "{text}"
    );
    assert!(project.lock().is_none(), "no lock is written");
}

#[test]
fn a_remote_index_may_not_name_etc_passwd() {
    let (_copy, server) =
        serve_with_idna_wheel(|file, _| file["url"] = "file:///etc/passwd".into());
    let (project, output) = resolve(&server, &[("py", &["idna==3.3"])]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("file:///etc/passwd") && text.contains("http:// or https://"),
        "{text}"
    );
    assert!(project.lock().is_none(), "no lock is written");
}

#[test]
fn an_error_page_served_as_metadata_is_refused_not_read_as_no_dependencies() {
    let (_copy, server) = serve_with_idna_wheel(|file, root| {
        // Metadata offered without a hash is fetched as a page; here the server answers it with
        // an error page and status 200.
        file["core-metadata"] = true.into();
        let url = file["url"].as_str().unwrap().trim_start_matches("../../");
        std::fs::write(
            root.join(format!("{url}.metadata")),
            "<html><body>Service unavailable</body></html>",
        )
        .unwrap();
    });
    assert_idna_refused(
        &server,
        &[
            "idna-3.3-py3-none-any.whl.metadata",
            "not that distribution's core metadata",
        ],
    );
}
