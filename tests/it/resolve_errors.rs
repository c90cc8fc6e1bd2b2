//! Resolution errors of the PyPI, Maven and conda layers, held to the R resolver's standard:
//! what failed, the chain from the layer's requirement, the lower layer that pinned a
//! conflicting package, "did you mean" for a misspelled name, and what to do. Each message is a
//! golden file (tests/golden/errors/, the loopback server's address written `{server}`);
//! `IMGLOCK_BLESS=1` re-creates them (review their diff).

use std::process::Output;

use crate::support::conda;
use crate::support::{Project, Server, stderr};
use crate::{maven, pypi, support};

/// Compares the error `text` (the server's address replaced) with the golden file `name`.
fn golden(name: &str, server: &Server, text: &str) {
    let text = text.replace(&server.url(), "{server}");
    support::golden(&format!("errors/{name}"), &text);
}

/// The message of a resolve that must have failed (exit status 2) without writing a lock.
fn refused(project: &Project, output: &Output) -> String {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(project.lock().is_none(), "no lock is written");
    text
}

/// Resolves `layers` of Python requirements against the recorded index; the run must fail
/// without writing a lock, and its message is returned.
fn pypi_failure(server: &Server, layers: &[(&str, &[&str])]) -> String {
    let (project, output) = pypi::resolve_at(server, layers, pypi::EXCLUDE_NEWER, &[]);
    refused(&project, &output)
}

#[test]
fn a_misspelled_python_project_is_not_found_and_gets_a_suggestion() {
    let server = Server::start(&pypi::fixtures());
    let text = pypi_failure(
        &server,
        &[
            ("base", &["requests==2.27.1"]),
            ("a", &["reqeusts==2.27.1"]),
        ],
    );
    assert!(text.contains("did you mean `requests`?"), "{text}");
    golden("pypi-not-found.txt", &server, &text);
}

#[test]
fn a_python_conflict_with_a_lower_layer_names_that_layer_and_its_pin() {
    let server = Server::start(&pypi::fixtures());
    let text = pypi_failure(
        &server,
        &[("base", &["urllib3==1.20"]), ("app", &["requests==2.27.1"])],
    );
    assert!(text.contains("layer `base`"), "{text}");
    golden("pypi-lower-layer.txt", &server, &text);
    // The layer asks for the project itself.
    let text = pypi_failure(
        &server,
        &[("base", &["urllib3==1.20"]), ("app", &["urllib3>=1.21"])],
    );
    golden("pypi-lower-layer-direct.txt", &server, &text);
}

/// Resolves a Maven layer `jars` of `lower` and above it a layer `more` of `coordinates`
/// against the fixtures' repository; the run must fail without writing a lock, and its message
/// is returned.
fn maven_failure(server: &Server, lower: &[&str], coordinates: &[&str]) -> String {
    let list = |items: &[&str]| {
        let quoted: Vec<String> = items.iter().map(|c| format!("{c:?}")).collect();
        format!("maven = [{}]", quoted.join(", "))
    };
    let project = Project::new(&format!(
        "{}\n[[layer]]\nname = \"more\"\nmaven-target = \"/databricks/jars\"\n{}\n",
        maven::spec(&server.url(), &list(lower)),
        list(coordinates)
    ));
    refused(&project, &project.run(&["resolve"]))
}

#[test]
fn a_misspelled_maven_coordinate_is_not_found_in_the_repositories() {
    let server = Server::start(&maven::repository());
    let text = maven_failure(
        &server,
        &["org.imglock.fixture:app:1.0"],
        &["org.imglock.fixture:aap:1.0"],
    );
    assert!(text.contains("layer `more`"), "{text}");
    assert!(
        text.contains("did you mean `org.imglock.fixture:app`?"),
        "{text}"
    );
    golden("maven-not-found.txt", &server, &text);
    let text = maven_failure(
        &server,
        &["org.imglock.fixture:app:1.0"],
        &["org.imglock.fixture:leaf-c:3.0"],
    );
    assert!(text.contains("1.0, 2.0"), "{text}");
    golden("maven-unknown-version.txt", &server, &text);
    let text = maven_failure(
        &server,
        &["org.imglock.fixture:app:1.0"],
        &["org.imglock.fixture:ranged:[3.0,4.0)"],
    );
    assert!(text.contains("(1.0, 1.2, 1.10"), "{text}");
    golden("maven-no-version-in-range.txt", &server, &text);
}

#[test]
fn two_versions_of_one_maven_artifact_in_a_layer_are_refused() {
    let server = Server::start(&maven::repository());
    let text = maven_failure(
        &server,
        &["org.imglock.fixture:app:1.0"],
        &[
            "org.imglock.fixture:leaf-c:1.0",
            "org.imglock.fixture:leaf-c:2.0",
        ],
    );
    assert!(text.contains("leaf-c:2.0"), "{text}");
    golden("maven-two-versions.txt", &server, &text);
}

#[test]
fn an_artifact_that_cannot_be_downloaded_is_named_with_its_package_and_layer() {
    // The repository lacks leaf-c 1.0 altogether (POM and jar), which nw-b 1.0 depends on: as
    // Maven does for a missing POM, the walk goes on without its dependencies, and its jar then
    // cannot be downloaded.
    let repository = tempfile::tempdir().unwrap();
    support::copy_dir(&maven::repository(), repository.path());
    std::fs::remove_dir_all(repository.path().join("org/imglock/fixture/leaf-c/1.0")).unwrap();
    let server = Server::start(repository.path());
    let text = maven_failure(
        &server,
        &["org.imglock.fixture:leaf-j:1.0"],
        &["org.imglock.fixture:nw-b:1.0"],
    );
    assert!(
        text.contains("the Maven package `org.imglock.fixture:leaf-c` 1.0 (layer `more`)"),
        "{text}"
    );
    golden("maven-artifact-missing.txt", &server, &text);
}

#[test]
fn a_conda_conflict_with_a_lower_layer_names_that_layer() {
    let server = conda::serve_fixtures();
    let (project, output) = conda::resolve_http(
        &server,
        &["main", "forge"],
        "",
        &[("base", &["libzed 1.5.*"]), ("tools", &["zedcli"])],
        &[],
    );
    let text = refused(&project, &output);
    assert!(text.contains("layer `base`"), "{text}");
    golden("conda-lower-layer.txt", &server, &text);
}
