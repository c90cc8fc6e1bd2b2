//! Per-package repositories: a layer entry that names the one repository (CRAN-like repository,
//! PyPI index, conda channel) its package comes from, served by several loopback servers and
//! read through `file://`. The named package comes only from there; its dependencies resolve
//! as usual, and nothing else is taken from the named repository.

use crate::support::{Project, Server, fixtures, spec, stderr};

/// The package `name` of a lock, as a TOML table.
fn locked<'a>(lock: &'a toml::Value, name: &str) -> &'a toml::Value {
    lock["layer"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| {
            l.get("package")
                .and_then(|p| p.as_array())
                .into_iter()
                .flatten()
        })
        .find(|p| p["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("{name} is not locked"))
}

/// Resolves the project, which must succeed, and returns its lock.
fn resolve(project: &Project) -> toml::Value {
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    toml::from_str(&project.lock().unwrap()).unwrap()
}

/// Resolves the project, which must fail, and returns its stderr.
fn resolve_fails(project: &Project) -> String {
    let output = project.run(&["resolve"]);
    assert!(!output.status.success(), "resolve succeeded");
    stderr(&output)
}

#[test]
fn a_cran_package_comes_from_the_repository_its_entry_names() {
    let (general, pinned) = (Server::start(&fixtures()), Server::start(&fixtures()));
    let project = Project::new(&spec(
        &format!("cran = [\"{}/cran\"]", general.url()),
        &format!(
            "[[layer]]\nname = \"r\"\ncran = [\"fastsum\", {{ name = \"corekit\", repository = \"{}/cran-next\" }}]",
            pinned.url()
        ),
    ));
    let lock = resolve(&project);
    // The general CRAN has corekit 1.1-2; the named one 1.2.0.
    let corekit = locked(&lock, "corekit");
    assert_eq!(corekit["version"].as_str(), Some("1.2.0"));
    let named = format!("{}/cran-next", pinned.url());
    assert_eq!(corekit["repository"].as_str(), Some(named.as_str()));
    let corekit_url = format!("{named}/src/contrib/corekit_1.2.0.tar.gz");
    assert_eq!(corekit["url"].as_str(), Some(corekit_url.as_str()));
    let fastsum = locked(&lock, "fastsum");
    assert_eq!(
        fastsum["repository"].as_str(),
        Some(format!("{}/cran", general.url()).as_str())
    );
    // Nothing but corekit was taken from the named repository.
    assert_eq!(
        pinned.hits("/cran-next/src/contrib/fastsum_0.3.1.tar.gz"),
        0
    );
    assert_eq!(general.hits("/cran/src/contrib/corekit_1.1-2.tar.gz"), 0);
    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dockerfile = std::fs::read_to_string(project.path("build").join("Dockerfile")).unwrap();
    assert!(dockerfile.contains(&corekit_url), "{dockerfile}");
}

#[test]
fn a_named_cran_repository_serves_only_the_package_named() {
    let (general, pinned) = (Server::start(&fixtures()), Server::start(&fixtures()));
    // fastsum from the named CRAN; its dependency corekit is in no general repository (cran-sys
    // has only syslibs), and the named one does not serve it.
    let project = Project::new(&spec(
        &format!("cran = [\"{}/cran-sys\"]", general.url()),
        &format!(
            "[[layer]]\nname = \"r\"\ncran = [{{ name = \"fastsum\", repository = \"{}/cran\" }}]",
            pinned.url()
        ),
    ));
    let error = resolve_fails(&project);
    assert!(error.contains("no repository has `corekit`"), "{error}");
    assert!(error.contains("fastsum 0.3.1 requires corekit"), "{error}");
}

#[test]
fn a_named_file_repository_without_the_package_says_where_it_is() {
    let general = Server::start(&fixtures());
    let named = format!("file://{}/cran", fixtures().display());
    let project = Project::new(&spec(
        &format!("cran = [\"{}/cran-sys\"]", general.url()),
        &format!(
            "[[layer]]\nname = \"sys\"\ncran = [{{ name = \"syslibs\", repository = \"{named}\" }}]"
        ),
    ));
    let error = resolve_fails(&project);
    let elsewhere = format!("{}/cran-sys", general.url());
    assert!(
        error.contains(&format!("syslibs is not in {named}; it is in {elsewhere}")),
        "{error}"
    );
    assert!(error.contains("layer `sys`"), "{error}");
    // A file: repository resolves like any other.
    let project = Project::new(&spec(
        &format!("cran = [\"{}/cran-sys\"]", general.url()),
        &format!(
            "[[layer]]\nname = \"r\"\ncran = [{{ name = \"corekit\", repository = \"{named}\" }}]"
        ),
    ));
    let lock = resolve(&project);
    assert_eq!(locked(&lock, "corekit")["version"].as_str(), Some("1.1-2"));
}

#[test]
fn a_package_named_with_two_repositories_is_refused() {
    let server = Server::start(&fixtures());
    let project = Project::new(&spec(
        &format!("cran = [\"{}/cran\"]", server.url()),
        &format!(
            "[[layer]]\nname = \"one\"\ncran = [{{ name = \"corekit\", repository = \"{0}/cran\" }}]\n\n[[layer]]\nname = \"two\"\ncran = [{{ name = \"corekit\", repository = \"{0}/cran-next\" }}]",
            server.url()
        ),
    ));
    let error = resolve_fails(&project);
    assert!(error.contains("corekit"), "{error}");
    assert!(error.contains("two repositories"), "{error}");
}
