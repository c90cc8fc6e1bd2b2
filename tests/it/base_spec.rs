//! The base image in a resolve, run as a user runs it: `image.base` by tag is pinned to a digest
//! in the lock and kept there until `--upgrade-package base`; the Dockerfile's `FROM` names the
//! pin; `image.r` and `image.python` default to what the base holds, and a declared one that
//! disagrees is an error naming both. Bases are small OCI layouts written by the test, read from
//! their folder or pushed to a real registry on loopback.

use std::path::Path;

use crate::base_image::options as base_options;
use crate::support::oci_layout::{
    r_and_python_files, write_multi_platform_layout, write_oci_layout,
};
use crate::support::registry::Registry;
use crate::support::{Project, Server, fixtures, stderr};

/// A spec on `base` (as written) whose one layer installs `usehdr` from the fixture CRAN at
/// `server`, with `image` keys `extra`.
fn r_spec(base: &str, extra: &str, server: &Server) -> String {
    format!(
        "[image]\nname = \"test\"\nbase = \"{base}\"\n{extra}\n[repositories]\ncran = [\"{}/cran\"]\n\n[[layer]]\nname = \"r\"\ncran = [\"usehdr\"]\n",
        server.url()
    )
}

/// Writes a layout of R `r` and Python `python` at `dir`; returns its manifest digest.
fn layout(dir: &Path, r: &str, python: &str) -> String {
    write_oci_layout(dir, &refs(&r_and_python_files(r, python)))
}

/// `files` as the layout writers take them.
fn refs(files: &[(String, Vec<u8>)]) -> Vec<(&str, &[u8])> {
    files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect()
}

fn locked_base(project: &Project) -> String {
    let lock: toml::Value = toml::from_str(&project.lock().expect("a lock")).unwrap();
    lock["image"]["base"].as_str().unwrap().to_string()
}

#[test]
fn image_r_defaults_to_the_base_and_a_disagreeing_one_is_an_error_naming_both() {
    let server = Server::start(&fixtures());
    let project = Project::new(&r_spec("oci:base", "", &server));
    let digest = layout(&project.path("base"), "4.2.2", "3.11");
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(locked_base(&project), format!("oci:base@{digest}"));
    let lock = project.lock().unwrap();
    assert!(lock.contains("usehdr"), "{lock}");
    assert!(
        lock.contains("\"4.2.2\""),
        "R's version is the base's:\n{lock}"
    );

    // The Dockerfile's FROM names the local image as buildah reads it.
    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    assert!(
        dockerfile.lines().any(|l| l == "FROM oci:base"),
        "{dockerfile}"
    );

    // A declared release of the base's R is taken; another is an error naming both.
    project.write_spec(&r_spec("oci:base", "r = \"4.2\"", &server));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    project.write_spec(&r_spec("oci:base", "r = \"4.3.1\"", &server));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("r = \"4.3.1\"") && message.contains("has R 4.2.2"),
        "{message}"
    );
    // Python too.
    project.write_spec(&r_spec("oci:base", "python = \"3.12\"", &server));
    let message = stderr(&project.run(&["resolve"]));
    assert!(
        message.contains("python = \"3.12\"") && message.contains("has Python 3.11"),
        "{message}"
    );
}

#[test]
fn a_base_without_r_needs_image_r_for_r_layers() {
    let server = Server::start(&fixtures());
    let project = Project::new(&r_spec("oci:base", "", &server));
    write_oci_layout(&project.path("base"), &[("etc/hostname", b"x\n")]);
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("`[image] r` is not set"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_local_base_pin_is_kept_until_upgraded_and_a_changed_file_is_an_error() {
    let server = Server::start(&fixtures());
    let project = Project::new(&r_spec("oci:base", "", &server));
    let first = layout(&project.path("base"), "4.2.2", "3.11");
    assert!(project.run(&["resolve"]).status.success());
    assert_eq!(locked_base(&project), format!("oci:base@{first}"));
    // The folder now holds another image: the lock's pin is not silently moved.
    std::fs::remove_dir_all(project.path("base")).unwrap();
    let second = layout(&project.path("base"), "4.2.3", "3.11");
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains(&first), "{}", stderr(&output));
    let output = project.run(&["resolve", "--upgrade-package", "base"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(locked_base(&project), format!("oci:base@{second}"));
    assert!(
        !stderr(&output).contains("no package of that name"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_registry_tag_is_pinned_in_the_lock_and_moves_only_on_upgrade() {
    let Some(registry) = Registry::start() else {
        return;
    };
    if !crate::support::available(
        crate::support::runs("skopeo", &["--version"]),
        "skopeo is not installed",
    ) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    layout(&work.path().join("one"), "4.2.2", "3.11");
    // skopeo writes the manifest anew: the registry's digest is the one to pin.
    let first = registry.push(
        &format!("oci:{}", work.path().join("one").display()),
        "r/base:4.2",
    );
    let server = Server::start(&fixtures());
    let tag = format!("{}/r/base:4.2", registry.host());
    // R layers without `image.r`: the base is read, its R taken.
    let project = Project::new(&r_spec(&tag, "", &server));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(locked_base(&project), format!("{tag}@{first}"));
    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains(&format!("FROM {tag}@{first}\n")),
        "{dockerfile}"
    );

    // The tag moves; the lock's pin does not, until asked.
    layout(&work.path().join("two"), "4.2.3", "3.11");
    let second = registry.push(
        &format!("oci:{}", work.path().join("two").display()),
        "r/base:4.2",
    );
    assert!(project.run(&["resolve"]).status.success());
    assert_eq!(locked_base(&project), format!("{tag}@{first}"));
    let output = project.run(&["resolve", "--upgrade-package", "base"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(locked_base(&project), format!("{tag}@{second}"));

    // With `image.r` declared the base is only pinned (its manifest fetched), never downloaded.
    let declared = Project::new(&r_spec(&tag, "r = \"4.2.3\"", &server));
    let output = declared.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(locked_base(&declared), format!("{tag}@{second}"));
}

#[test]
fn r_recommended_packages_come_from_the_base_not_a_built_in_list() {
    let server = Server::start(&fixtures());
    let spec = |base: &str| {
        format!(
            "[image]\nname = \"test\"\nbase = \"{base}\"\n\n[repositories]\ncran = [\"{}/cran\"]\n\n[[layer]]\nname = \"r\"\ncran = [\"plotkit\"]\n",
            server.url()
        )
    };
    // plotkit imports the recommended Matrix: a base that has it provides it.
    let project = Project::new(&spec("oci:with-matrix"));
    layout(&project.path("with-matrix"), "4.2.2", "3.11");
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert!(lock.contains("name = \"plotkit\""), "{lock}");
    assert!(!lock.contains("name = \"Matrix\""), "{lock}");

    // A base without it does not: Matrix must then come from a repository (the fixture CRAN
    // has none), however recommended R calls it.
    let files = r_and_python_files("4.2.2", "3.11");
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .filter(|(path, _)| !path.contains("Matrix"))
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    write_oci_layout(&project.path("without-matrix"), &files);
    project.write_spec(&spec("oci:without-matrix"));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("Matrix"), "{}", stderr(&output));
}

#[test]
fn a_multi_platform_base_is_read_for_the_spec_platform() {
    use imglock::base::{BaseOptions, BaseReference, read_base};
    use imglock::platform::Platform;
    let dir = tempfile::tempdir().unwrap();
    let amd64 = r_and_python_files("4.2.2", "3.11");
    let arm64 = r_and_python_files("4.3.0", "3.12");
    let amd64_refs = refs(&amd64);
    let arm64_refs = refs(&arm64);
    let index = write_multi_platform_layout(
        &dir.path().join("multi"),
        &[("linux/amd64", &amd64_refs), ("linux/arm64", &arm64_refs)],
    );
    let cache = imglock::fetch::Cache::at(dir.path().join("cache"));
    let read = |platform: &str| {
        let platform: Platform = platform.parse().unwrap();
        let options = base_options(&platform, &cache, dir.path(), true);
        read_base(&BaseReference::parse("oci:multi").unwrap(), options)
    };
    let amd = read("linux/amd64").unwrap();
    assert_eq!(amd.contents.r.unwrap().version, "4.2.2");
    // The pin is the index's digest, as for a tag of a multi-platform image.
    assert_eq!(amd.reference.digest(), Some(index.as_str()));
    let arm = read("linux/arm64").unwrap();
    assert_eq!(arm.contents.r.unwrap().version, "4.3.0");
    assert_eq!(arm.contents.python.unwrap().version, "3.12");
    let error = read("linux/s390x").unwrap_err();
    let message = crate::support::causes(&error);
    assert!(
        message.contains("no manifest for the platform linux/s390x")
            && message.contains("linux/amd64, linux/arm64"),
        "{message}"
    );

    // The same index in a registry: the tag names the index, the platform picks the image.
    let Some(registry) = Registry::start() else {
        return;
    };
    let source = format!("oci:{}", dir.path().join("multi").display());
    let pushed = registry.push_with(&source, "multi:latest", &["--all"]);
    let platform: Platform = "linux/arm64".parse().unwrap();
    let options = base_options(&platform, &cache, dir.path(), false);
    let tag = BaseReference::parse(&format!("{}/multi:latest", registry.host())).unwrap();
    let read = read_base(&tag, options).unwrap();
    assert_eq!(read.reference.digest(), Some(pushed.as_str()));
    assert_eq!(read.contents.r.as_ref().unwrap().version, "4.3.0");

    // Pinned, what it holds is remembered: read offline without its blobs.
    std::fs::remove_dir_all(dir.path().join("cache/artifacts")).unwrap();
    let offline = BaseOptions {
        offline: true,
        ..options
    };
    let again = read_base(&read.reference, offline).unwrap();
    assert_eq!(again.contents, read.contents);
    // A damaged memory is read from the blobs again (here: not in the cache, so an error).
    for entry in std::fs::read_dir(dir.path().join("cache/base")).unwrap() {
        std::fs::write(entry.unwrap().path(), b"{").unwrap();
    }
    let error = read_base(&read.reference, offline).unwrap_err();
    assert!(
        crate::support::causes(&error).contains("--offline"),
        "{error}"
    );
}

#[test]
fn a_docker_archive_base_is_read_and_pinned_by_its_image_id() {
    if !crate::support::available(
        crate::support::runs("skopeo", &["--version"]),
        "skopeo is not installed",
    ) {
        return;
    }
    let server = Server::start(&fixtures());
    let project = Project::new(&r_spec("docker-archive:base.tar", "", &server));
    let work = tempfile::tempdir().unwrap();
    layout(&work.path().join("layout"), "4.2.2", "3.11");
    let output = std::process::Command::new("skopeo")
        .arg("copy")
        .arg("--quiet")
        .arg(format!("oci:{}", work.path().join("layout").display()))
        .arg(format!(
            "docker-archive:{}",
            project.path("base.tar").display()
        ))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    // `docker save`'s configuration is named by its digest, the image ID.
    let archive = std::fs::File::open(project.path("base.tar")).unwrap();
    let config = tar::Archive::new(archive)
        .entries()
        .unwrap()
        .map(|entry| {
            entry
                .unwrap()
                .path()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .find_map(|path| {
            let hex = path
                .trim_start_matches("blobs/sha256/")
                .trim_end_matches(".json");
            (hex.len() == 64 && path.ends_with(".json")).then(|| hex.to_string())
        });
    let base = locked_base(&project);
    assert!(
        base.starts_with("docker-archive:base.tar@sha256:"),
        "{base}"
    );
    let config = config.expect("a configuration named by its digest");
    assert!(
        base.ends_with(&config),
        "{base} is pinned by the image ID {config}"
    );
    assert!(project.lock().unwrap().contains("\"4.2.2\""));
}

#[test]
fn a_registry_that_asks_for_a_bearer_token_is_read_with_an_anonymous_one() {
    use imglock::base::{BaseReference, read_base};
    use imglock::platform::Platform;
    if !crate::support::available(
        crate::support::runs("skopeo", &["--version"]),
        "skopeo is not installed",
    ) {
        return;
    }
    let Some(registry) = Registry::start_with_token(&["token/base"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    layout(&dir.path().join("layout"), "4.2.2", "3.11");
    let source = format!("oci:{}", dir.path().join("layout").display());
    let pushed = registry.push(&source, "token/base:latest");
    let given = registry.token.as_ref().unwrap().given();
    // Without a token the registry answers 401 with its Bearer challenge.
    let mut stream = std::net::TcpStream::connect(registry.host()).unwrap();
    use std::io::{Read, Write};
    write!(
        stream,
        "GET /v2/token/base/tags/list HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        registry.host()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 401") && answer.contains("Bearer realm="),
        "{answer}"
    );

    let platform = Platform::default();
    let cache = imglock::fetch::Cache::at(dir.path().join("cache"));
    let options = base_options(&platform, &cache, dir.path(), false);
    let tag = BaseReference::parse(&format!("{}/token/base:latest", registry.host())).unwrap();
    let read = read_base(&tag, options).unwrap();
    assert_eq!(read.reference.digest(), Some(pushed.as_str()));
    assert_eq!(read.contents.r.unwrap().version, "4.2.2");
    assert!(
        registry.token.as_ref().unwrap().given() > given,
        "imglock asked for a token"
    );
}

/// A spec on `oci:base` whose one layer installs requests 2.27.1 from the fixture PyPI at
/// `server`, with every dependency but idna pinned to the recording's files.
fn requests_on_base(server: &Server) -> String {
    format!(
        "[image]\nname = \"test\"\nbase = \"oci:base\"\n\n[repositories]\npypi = \"{}/pypi/simple\"\n\n[[layer]]\nname = \"py\"\npypi = [\"requests==2.27.1\", \"certifi==2022.5.18.1\", \"charset-normalizer==2.0.12\", \"urllib3==1.26.9\"]\n",
        server.url()
    )
}

/// The files of a base with R 4.2.2, Python 3.11 and the distribution `name` `version`.
fn base_with_python_package(dir: &Path, name: &str, version: &str) {
    let mut files = r_and_python_files("4.2.2", "3.11");
    files.push((
        format!("usr/local/lib/python3.11/site-packages/{name}-{version}.dist-info/METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n").into_bytes(),
    ));
    write_oci_layout(dir, &refs(&files));
}

#[test]
fn what_the_base_has_installed_is_not_installed_again_and_is_never_changed() {
    let server = Server::start(&fixtures());
    let project = Project::new(&requests_on_base(&server));
    // A version no index has, as a distribution's own build of a package may be.
    base_with_python_package(&project.path("base"), "idna", "3.4.post1");
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert!(lock.contains("name = \"requests\""), "{lock}");
    assert!(lock.contains("name = \"urllib3\""), "{lock}");
    assert!(
        !lock.contains("name = \"idna\""),
        "the base's idna meets requests' requirement:\n{lock}"
    );

    // A base version outside the requirement is not upgraded: the error names the base image.
    std::fs::remove_dir_all(project.path("base")).unwrap();
    base_with_python_package(&project.path("base"), "idna", "1.1");
    let output = project.run(&["resolve", "--upgrade-package", "base"]);
    assert!(!output.status.success(), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("idna") && message.contains("base image"),
        "{message}"
    );
}

#[test]
fn a_conda_package_the_base_prefix_holds_is_not_installed_again() {
    let server = Server::start(&fixtures().join("conda/channels"));
    let spec = format!(
        "[image]\nname = \"test\"\nbase = \"oci:base\"\n\n[repositories]\nconda = [\"{}/main\"]\n\n[[layer]]\nname = \"tools\"\nconda = [\"zedtool\"]\n",
        server.url()
    );
    let project = Project::new(&spec);
    let record =
        br#"{"name": "libzbase", "version": "1.0.2", "build": "h7f8727e_0", "build_number": 0}"#;
    write_oci_layout(
        &project.path("base"),
        &[(
            "opt/conda/conda-meta/libzbase-1.0.2-h7f8727e_0.json",
            record.as_slice(),
        )],
    );
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert!(lock.contains("name = \"zedtool\""), "{lock}");
    assert!(lock.contains("name = \"libzed\""), "{lock}");
    assert!(
        !lock.contains("name = \"libzbase\""),
        "the base's libzbase meets libzed's requirement:\n{lock}"
    );
}
