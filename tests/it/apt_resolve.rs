//! Debian packages in a resolve, run as a user runs it: a spec whose layers list `apt`
//! requests, on a base image (an OCI layout written by the test) whose dpkg status is the real
//! one of the test base image (fixtures/debian/oracle/status), against the recorded bookworm
//! archive served on loopback. The lock pins what apt itself installs (the oracle's recorded
//! answer), each .deb by the URL, sha256 and size its verified index gives; lower layers' pins
//! are installed for higher ones; the sources default to the base image's own; errors name the
//! layer and the package.

use std::collections::BTreeSet;

use crate::apt_solve::bookworm;
use crate::support::oci_layout::write_oci_layout;
use crate::support::{Project, Server, fixtures, stderr};

/// The recorded archive's two suites, as `[repositories] apt` lines on `server`. The security
/// suite's recorded Release expires a week after it was recorded: its validity is not checked,
/// as for any snapshot of an archive.
fn source_lines(server: &Server) -> String {
    format!(
        "[\"deb [check-valid-until=no] {0}/debian bookworm main\", \"deb [check-valid-until=no] {0}/debian-security bookworm-security main\"]",
        server.url()
    )
}

/// A spec on the base layout `oci:base` with `repositories` keys and `layers` (TOML).
fn spec(repositories: &str, layers: &str) -> String {
    format!(
        "[image]\nname = \"test\"\nbase = \"oci:base\"\n\n[repositories]\n{repositories}\n\n{layers}"
    )
}

/// Writes the base layout: the test base image's real dpkg status, the Debian archive keyring
/// where bookworm keeps it (`usr/share/keyrings`, which sources name with `signed-by`, and
/// `etc/apt/trusted.gpg.d`, which apt trusts for sources that name no key), and `extra` files.
fn write_base(project: &Project, extra: &[(&str, &[u8])]) {
    let status = std::fs::read(fixtures().join("debian/oracle/status")).unwrap();
    let keyring = std::fs::read(fixtures().join("debian/debian-archive-keyring.gpg")).unwrap();
    let mut files: Vec<(&str, &[u8])> = vec![
        ("var/lib/dpkg/status", &status),
        ("usr/share/keyrings/debian-archive-keyring.gpg", &keyring),
        ("etc/apt/trusted.gpg.d/debian-archive-keyring.gpg", &keyring),
    ];
    files.extend_from_slice(extra);
    write_oci_layout(&project.path("base"), &files);
}

/// The lock's apt packages of layer `layer`, as `name version` lines.
fn locked(lock: &str, layer: &str) -> BTreeSet<String> {
    apt_tables(lock, layer)
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect()
}

/// The lock's apt package tables of layer `layer`.
fn apt_tables(lock: &str, layer: &str) -> Vec<toml::Value> {
    let lock: toml::Value = toml::from_str(lock).unwrap();
    lock["layer"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["name"].as_str() == Some(layer))
        .flat_map(|l| l["package"].as_array().cloned().unwrap_or_default())
        .filter(|p| p["ecosystem"].as_str() == Some("apt"))
        .collect()
}

/// What apt itself installs for the oracle's recorded `request`.
fn apt_answer(request: &str) -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(fixtures().join(format!("debian/oracle/{request}.txt"))).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_layer_locks_what_apt_installs_each_deb_pinned_by_its_verified_index() {
    let server = Server::start(&fixtures().join("debian"));
    let layers = "[[layer]]\nname = \"system\"\napt = [\"libxml2-dev\", \"libcurl4-openssl-dev\", \"libssl-dev\"]\n";
    let project = Project::new(&spec(&format!("apt = {}", source_lines(&server)), layers));
    write_base(&project, &[]);
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert_eq!(locked(&lock, "system"), apt_answer("libxml2-dev"), "{lock}");

    let index = bookworm();
    for package in apt_tables(&lock, "system") {
        let name = package["name"].as_str().unwrap();
        let version = package["version"].as_str().unwrap();
        let candidate = index
            .candidates(name)
            .iter()
            .find(|c| c.package.version.as_str() == version)
            .unwrap();
        let url = package["url"].as_str().unwrap();
        let archive = index.origins()[candidate.origin].uri.path();
        let expected = format!("{}{archive}{}", server.url(), candidate.package.filename);
        assert_eq!(url, expected, "{name}");
        assert_eq!(
            package["sha256"].as_str(),
            Some(candidate.package.sha256.as_str())
        );
        assert_eq!(
            package["size"].as_integer(),
            Some(candidate.package.size as i64)
        );
        let (source, _) = candidate.package.source_package();
        assert_eq!(package["source"].as_str(), Some(source), "{name}");
        let suite = index.origins()[candidate.origin].suite.as_str();
        assert_eq!(package["suite"].as_str(), Some(suite), "{name}");
        assert_eq!(package["architecture"].as_str(), Some("amd64"), "{name}");
    }
    // What the requests name is requested; what they pull in says through what.
    let tables = apt_tables(&lock, "system");
    let find = |name: &str| {
        tables
            .iter()
            .find(|p| p["name"].as_str() == Some(name))
            .unwrap()
    };
    assert_eq!(find("libxml2-dev")["requested"].as_bool(), Some(true));
    let libxml2 = find("libxml2");
    assert!(libxml2.get("requested").is_none(), "{libxml2}");
    let via = libxml2["via"].as_array().unwrap();
    assert_eq!(via, &vec![toml::Value::from("libxml2-dev")]);
    let dependencies = find("libxml2-dev")["dependencies"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        dependencies.iter().any(|d| d.as_str() == Some("libxml2")),
        "{dependencies:?}"
    );

    // The same inputs give the same bytes.
    std::fs::remove_file(project.path("imglock.lock")).unwrap();
    assert!(project.run(&["resolve"]).status.success());
    assert_eq!(project.lock().unwrap(), lock);
}

#[test]
fn a_higher_layer_installs_on_what_lower_layers_locked() {
    let server = Server::start(&fixtures().join("debian"));
    let layers = "[[layer]]\nname = \"ssl\"\napt = [\"libssl-dev\"]\n\n[[layer]]\nname = \"web\"\napt = [\"libxml2-dev\", \"libcurl4-openssl-dev\", \"libssl-dev\"]\n";
    let project = Project::new(&spec(&format!("apt = {}", source_lines(&server)), layers));
    write_base(&project, &[]);
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    let lower = locked(&lock, "ssl");
    let higher = locked(&lock, "web");
    assert!(lower.iter().any(|p| p.starts_with("libssl-dev ")), "{lock}");
    assert!(lower.is_disjoint(&higher), "{lock}");
    let together: BTreeSet<String> = lower.union(&higher).cloned().collect();
    assert_eq!(together, apt_answer("libxml2-dev"));
}

#[test]
fn the_sources_default_to_the_base_images_own() {
    let server = Server::start(&fixtures().join("debian"));
    let sources = format!(
        "Types: deb\nURIs: {0}/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\nCheck-Valid-Until: no\n\nTypes: deb\nURIs: {0}/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\nCheck-Valid-Until: no\n",
        server.url()
    );
    let layers = "[[layer]]\nname = \"system\"\napt = [\"libxml2-dev\", \"libcurl4-openssl-dev\", \"libssl-dev\"]\n";
    let project = Project::new(&spec("", layers));
    write_base(
        &project,
        &[("etc/apt/sources.list.d/debian.sources", sources.as_bytes())],
    );
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert_eq!(locked(&lock, "system"), apt_answer("libxml2-dev"));
    let recorded = format!(
        "deb [check-valid-until=no] {}/debian/ bookworm main",
        server.url()
    );
    assert!(
        lock.contains(&recorded),
        "the lock records the sources used:\n{lock}"
    );

    // A base without sources, and a spec without them: an error saying what to add.
    let bare = Project::new(&spec("", layers));
    write_base(&bare, &[]);
    let output = bare.run(&["resolve"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("[repositories] apt") && message.contains("names an apt source"),
        "{message}"
    );
}

#[test]
fn errors_name_the_layer_the_package_and_the_source_line() {
    let server = Server::start(&fixtures().join("debian"));
    let layers = "[[layer]]\nname = \"system\"\napt = [\"libxml2-devv\"]\n";
    let project = Project::new(&spec(&format!("apt = {}", source_lines(&server)), layers));
    write_base(&project, &[]);
    let output = project.run(&["resolve"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("system")
            && message.contains("libxml2-devv")
            && message.contains("libxml2-dev`?"),
        "{message}"
    );
    assert!(project.lock().is_none());

    // A source line that is not one is refused where it is written.
    let project = Project::new(&spec(
        "apt = [\"deb [trusted=yes] http://example.invalid/debian bookworm main\"]",
        layers,
    ));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("imglock.toml:6:") && message.contains("trusted=yes"),
        "{message}"
    );

    // A Release signed by a key the keyrings lack is refused.
    let project = Project::new(&spec(&format!("apt = {}", source_lines(&server)), layers));
    write_oci_layout(
        &project.path("base"),
        &[(
            "var/lib/dpkg/status",
            &std::fs::read(fixtures().join("debian/oracle/status")).unwrap(),
        )],
    );
    let output = project.run(&["resolve"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("InRelease"), "{message}");
}

#[test]
fn a_source_that_names_its_keys_is_checked_against_those_alone() {
    let server = Server::start(&fixtures().join("debian"));
    let layers = "[[layer]]\nname = \"system\"\napt = [\"libssl-dev\"]\n";
    let keyring =
        imglock::apt::Keyring::from_files(&[&fixtures().join("debian/debian-archive-keyring.gpg")])
            .unwrap();
    let with = |signed_by: &str| {
        let lines = format!(
            "apt = [\"deb [check-valid-until=no signed-by={signed_by}] {0}/debian bookworm main\", \"deb [check-valid-until=no signed-by={signed_by}] {0}/debian-security bookworm-security main\"]",
            server.url()
        );
        let project = Project::new(&spec(&lines, layers));
        write_base(&project, &[]);
        project
    };
    // Every key of Debian's keyring by fingerprint: the Releases verify.
    let project = with(&keyring.fingerprints().join(","));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    // A key the Releases are not signed with, though the trusted keyrings have theirs: refused.
    let project = with("0123456789ABCDEF0123456789ABCDEF01234567");
    let output = project.run(&["resolve"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("InRelease"), "{}", stderr(&output));
    // A keyring file the base image lacks: an error naming it and what to do.
    let project = with("/usr/share/keyrings/vendor.gpg");
    let output = project.run(&["resolve"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("signed-by=/usr/share/keyrings/vendor.gpg")
            && message.contains("apt-keyring"),
        "{message}"
    );
}
