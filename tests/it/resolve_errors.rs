//! Resolution errors of the PyPI, Maven and conda layers, held to the R resolver's standard:
//! what failed, the chain from the layer's requirement, the lower layer that pinned a
//! conflicting package, "did you mean" for a misspelled name, and what to do. Each message is a
//! golden file (tests/golden/errors/, the loopback server's address written `{server}`);
//! `IMGLOCK_BLESS=1` re-creates them (review their diff).

use std::path::PathBuf;

use crate::pypi;
use crate::support::{Server, stderr};

/// Compares the error `text` (the server's address replaced) with the golden file `name`.
fn golden(name: &str, server: &Server, text: &str) {
    let produced = text.replace(&server.url(), "{server}");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/errors")
        .join(name);
    if std::env::var_os("IMGLOCK_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &produced).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no golden file {}: IMGLOCK_BLESS=1 creates it",
            path.display()
        )
    });
    assert_eq!(
        produced,
        expected,
        "the message drifted from {}; if intended, re-create it with IMGLOCK_BLESS=1 and review the diff",
        path.display()
    );
}

/// Resolves `layers` of Python requirements against the recorded index; the run must fail
/// without writing a lock, and its message is returned.
fn pypi_failure(server: &Server, layers: &[(&str, &[&str])]) -> String {
    let (project, output) = pypi::resolve_at(server, layers, pypi::EXCLUDE_NEWER, &[]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(project.lock().is_none(), "no lock is written");
    text
}

#[test]
fn a_misspelled_python_project_is_not_found_and_gets_a_suggestion() {
    let server = Server::start(&pypi::fixtures());
    let text = pypi_failure(
        &server,
        &[("base", &["requests==2.27.1"]), ("a", &["reqeusts==2.27.1"])],
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
}
