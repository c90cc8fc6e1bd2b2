//! PyPI direct references (`name @ URL`, PEP 508): the named file is the project's only file,
//! pinned by its sha256 (the URL's `#sha256=` when given, checked; else the file's own), its
//! dependencies resolved from the index; the emitted step installs it from its URL, verified.
//! Served on 127.0.0.1 from the recorded PyPI fixture, and read through `file:`.

use crate::pypi::{EXCLUDE_NEWER, fixtures, python_spec};
use crate::support::{self, Project, Server, stderr};

/// certifi's wheel in the recorded fixture, relative to the fixture's root.
const CERTIFI: &str = "files/11/dd/e015f3780f42dd9af62cf0107b44ea1298926627ecd70c17b0e484e95bcd/certifi-2022.5.18.1-py3-none-any.whl";

fn sha256_of(path: &std::path::Path) -> String {
    support::sha256_hex(&std::fs::read(path).unwrap())
}

/// The lock entry of `name`.
fn entry(lock: &str, name: &str) -> toml::Value {
    support::locks::package(&toml::from_str(lock).unwrap(), name).clone()
}

fn resolve(project: &Project) -> std::process::Output {
    project.run(&["resolve", "--exclude-newer", EXCLUDE_NEWER])
}

#[test]
fn a_wheel_url_is_the_projects_only_file_pinned_by_its_sha256() {
    let server = Server::start(&fixtures());
    let url = format!("{}/{CERTIFI}", server.url());
    let requirement = format!("certifi @ {url}");
    let project = Project::new(&python_spec(
        &format!("{}/simple", server.url()),
        &[("py", &["requests==2.27.1", &requirement])],
    ));
    let output = resolve(&project);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    let certifi = entry(&lock, "certifi");
    let expected = sha256_of(&fixtures().join(CERTIFI));
    assert_eq!(certifi["version"].as_str(), Some("2022.5.18.1"));
    assert_eq!(certifi["url"].as_str(), Some(url.as_str()));
    assert_eq!(certifi["repository"].as_str(), Some(url.as_str()));
    assert_eq!(certifi["sha256"].as_str(), Some(expected.as_str()));
    assert_eq!(
        certifi["size"].as_integer(),
        Some(std::fs::metadata(fixtures().join(CERTIFI)).unwrap().len() as i64)
    );
    // The index was never asked for certifi; requests' other dependencies came from it.
    assert_eq!(
        server.hits("/simple/certifi/"),
        0,
        "{:?}",
        server.all_hits()
    );
    assert!(
        entry(&lock, "idna")["url"]
            .as_str()
            .unwrap()
            .contains("/files/")
    );

    let again = Project::new(&std::fs::read_to_string(project.path("imglock.toml")).unwrap());
    assert!(resolve(&again).status.success());
    assert_eq!(again.lock().unwrap(), lock, "the same bytes twice");

    let out = project.path("build");
    let output = project.run(&["emit", "--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let emitted: String = walk_text(&out);
    assert!(
        emitted.contains(&url) && emitted.contains(&expected),
        "the emitted steps install the URL checked by its sha256:\n{emitted}"
    );
}

#[test]
fn a_given_sha256_is_checked_and_a_wrong_one_fails_closed() {
    let server = Server::start(&fixtures());
    let url = format!("{}/{CERTIFI}", server.url());
    let right = sha256_of(&fixtures().join(CERTIFI));
    let index = format!("{}/simple", server.url());
    let with = |sha256: &str| format!("certifi @ {url}#sha256={sha256}");

    let project = Project::new(&python_spec(&index, &[("py", &[&with(&right)])]));
    let output = resolve(&project);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        entry(&project.lock().unwrap(), "certifi")["sha256"].as_str(),
        Some(right.as_str())
    );

    let wrong = "0".repeat(64);
    let project = Project::new(&python_spec(&index, &[("py", &[&with(&wrong)])]));
    let output = resolve(&project);
    assert!(!output.status.success(), "a wrong sha256 must not lock");
    let message = stderr(&output);
    assert!(
        message.contains(&wrong) && message.contains("certifi"),
        "{message}"
    );
    assert!(project.lock().is_none());
}

#[test]
fn a_file_path_is_locked_relative_to_the_lock() {
    let project = Project::new("");
    let relative = support::relative_path(project.dir.path(), &fixtures().join(CERTIFI));
    let index = support::relative_path(project.dir.path(), &fixtures().join("simple"));
    let requirement = format!("certifi @ file:{relative}");
    project.write_spec(&python_spec(
        &format!("file:{index}"),
        &[("py", &[requirement.as_str()])],
    ));
    let output = resolve(&project);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert_eq!(
        entry(&lock, "certifi")["url"].as_str(),
        Some(format!("file:{relative}").as_str())
    );
    assert!(!lock.contains(project.dir.path().to_str().unwrap()));
}

#[test]
fn references_that_cannot_be_locked_say_what_to_write() {
    let server = Server::start(&fixtures());
    let index = format!("{}/simple", server.url());
    let cases = [
        (
            "hail @ git+git://git.example/hail.git@0123abc",
            "git over `git:` cannot be locked",
        ),
        (
            &*format!("idna @ {}/{CERTIFI}", server.url()),
            "is not a wheel or an sdist of idna",
        ),
        ("certifi @ hg+https://hg.example/certifi", "not `hg+https:`"),
        (
            &*format!(
                "certifi @ {}/files/certifi-9.9-cp27-cp27mu-manylinux1_i686.whl",
                server.url()
            ),
            "does not run on the image",
        ),
    ];
    for (requirement, says) in cases {
        let project = Project::new(&python_spec(&index, &[("py", &[requirement])]));
        let output = resolve(&project);
        assert!(!output.status.success(), "{requirement} locked");
        let message = stderr(&output);
        assert!(
            message.contains(says) && message.contains("layer `py`"),
            "{requirement}: {message}"
        );
    }
}

/// Every text file under `dir`, concatenated.
fn walk_text(dir: &std::path::Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            text.push_str(&walk_text(&path));
        } else if let Ok(content) = std::fs::read_to_string(&path) {
            text.push_str(&content);
        }
    }
    text
}
