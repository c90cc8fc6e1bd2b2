//! Per-package repositories: a layer entry that names the one repository (CRAN-like repository,
//! PyPI index, conda channel) its package comes from, served by several loopback servers and
//! read through `file://`. The named package comes only from there; its dependencies resolve
//! as usual, and nothing else is taken from the named repository.

use crate::support::locks::package;
use crate::support::{Project, Server, fixtures, spec, stderr};

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
    let corekit = package(&lock, "corekit");
    assert_eq!(corekit["version"].as_str(), Some("1.2.0"));
    let named = format!("{}/cran-next", pinned.url());
    assert_eq!(corekit["repository"].as_str(), Some(named.as_str()));
    let corekit_url = format!("{named}/src/contrib/corekit_1.2.0.tar.gz");
    assert_eq!(corekit["url"].as_str(), Some(corekit_url.as_str()));
    let fastsum = package(&lock, "fastsum");
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
    assert_eq!(package(&lock, "corekit")["version"].as_str(), Some("1.1-2"));
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
    assert!(
        error.contains("a package comes from one repository"),
        "{error}"
    );
}

// ---- conda: `channel::name`, `{ name, channel }` and the channel priority ----------------------

/// A conda spec over `channels` (priority order) with `repositories_extra` lines in
/// `[repositories]` and one layer `env` whose `conda` list is `entries`, written as TOML.
fn conda_project(channels: &[String], repositories_extra: &str, entries: &str) -> Project {
    let text = crate::support::conda::conda_spec(channels, "", &[]).replacen(
        "[repositories]\n",
        &format!("[repositories]\n{repositories_extra}\n"),
        1,
    );
    Project::new(&format!(
        "{text}\n[[layer]]\nname = \"env\"\nconda = [{entries}]\n"
    ))
}

/// The locked conda package `name`.
fn conda_locked(project: &Project, name: &str) -> crate::support::conda::Locked {
    let packages = crate::support::conda::lock_packages(&project.lock().unwrap());
    crate::support::conda::find(&packages, name).clone()
}

#[test]
fn channel_colon_colon_name_works_with_file_and_url_channels() {
    let server = crate::support::conda::serve_fixtures();
    let channels_dir = crate::support::conda::conda_channels();
    let absolute = format!("file://{}", channels_dir.join("forge").display());
    let over_http = vec![
        format!("{}/main", server.url()),
        format!("{}/forge", server.url()),
    ];
    let over_file = vec![
        format!("file://{}", channels_dir.join("main").display()),
        absolute.clone(),
    ];
    // forge's sharedpkg 2.0, though main (first, strict) has 1.0: asked by the channel's last
    // path segment, by its URL as written, and by the same URL spelt with a trailing slash.
    let cases = [
        (&over_file, "\"forge::sharedpkg\"".to_string()),
        (&over_file, format!("\"{absolute}::sharedpkg\"")),
        (&over_file, format!("\"{absolute}/::sharedpkg\"")),
        (&over_http, "\"forge::sharedpkg\"".to_string()),
        (&over_http, format!("\"{}/forge::sharedpkg\"", server.url())),
    ];
    for (channels, entry) in cases {
        let project = conda_project(channels, "", &entry);
        let output = project.run(&["resolve"]);
        assert!(output.status.success(), "{entry}: {}", stderr(&output));
        let shared = conda_locked(&project, "sharedpkg");
        assert_eq!(shared.version, "2.0", "{entry}");
        assert_eq!(shared.repository, channels[1], "{entry}");
    }
}

#[test]
fn channel_colon_colon_name_works_with_relative_file_channels() {
    let project = Project::new("");
    crate::support::copy_dir(
        &crate::support::conda::conda_channels(),
        &project.path("mirror"),
    );
    let channels = [
        "file:mirror/main".to_string(),
        "file:mirror/forge".to_string(),
    ];
    for entry in ["\"forge::sharedpkg\"", "\"file:mirror/forge::sharedpkg\""] {
        let text = crate::support::conda::conda_spec(&channels, "", &[]);
        project.write_spec(&format!(
            "{text}\n[[layer]]\nname = \"env\"\nconda = [{entry}]\n"
        ));
        let output = project.run(&["resolve"]);
        assert!(output.status.success(), "{entry}: {}", stderr(&output));
        let shared = conda_locked(&project, "sharedpkg");
        assert_eq!(
            (shared.version.as_str(), shared.repository.as_str()),
            ("2.0", "file:mirror/forge"),
            "{entry}"
        );
    }
}

#[test]
fn a_conda_package_comes_from_a_channel_the_repositories_do_not_list() {
    let (general, named) = (
        crate::support::conda::serve_fixtures(),
        crate::support::conda::serve_fixtures(),
    );
    let forge = format!("{}/forge", named.url());
    // Disabled priority would take forge's python 3.10.4 if forge were one of the channels: it
    // serves tini alone.
    let project = conda_project(
        &[format!("{}/main", general.url())],
        "conda-channel-priority = \"disabled\"",
        &format!("{{ name = \"tini\", channel = \"{forge}\" }}, \"python\""),
    );
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let tini = conda_locked(&project, "tini");
    assert_eq!(
        (tini.version.as_str(), tini.repository.as_str()),
        ("0.19.0", forge.as_str())
    );
    assert_eq!(conda_locked(&project, "python").version, "3.9.7");
    let lock: toml::Value = toml::from_str(&project.lock().unwrap()).unwrap();
    assert_eq!(
        crate::support::conda::strings(lock["resolution"].get("conda-channels")),
        [format!("{}/main", general.url())]
    );
}

#[test]
fn a_named_channel_without_the_package_says_where_it_is() {
    let server = crate::support::conda::serve_fixtures();
    let (main, forge) = (
        format!("{}/main", server.url()),
        format!("{}/forge", server.url()),
    );
    let project = conda_project(
        &[main.clone(), forge.clone()],
        "",
        &format!("{{ name = \"tini\", channel = \"{main}\" }}"),
    );
    let error = resolve_fails(&project);
    assert!(
        error.contains(&format!("tini is not in {main}; it is in {forge}")),
        "{error}"
    );
    assert!(error.contains("layer `env`"), "{error}");
}

#[test]
fn conda_channel_priority_is_strict_flexible_or_disabled_as_conda_defines_them() {
    let server = crate::support::conda::serve_fixtures();
    let channels = vec![
        format!("{}/main", server.url()),
        format!("{}/forge", server.url()),
    ];
    let solve = |priority: &str, entries: &str| {
        let project = conda_project(&channels, priority, entries);
        let output = project.run(&["resolve"]);
        (project, output)
    };
    // strict (conda's default): sharedpkg only from main, the first channel that has it; so no
    // python 3.10 (forge's) either.
    for priority in ["", "conda-channel-priority = \"strict\""] {
        let (project, output) = solve(priority, "\"sharedpkg\"");
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(conda_locked(&project, "sharedpkg").version, "1.0");
        let (_, output) = solve(priority, "\"python 3.10.*\"");
        assert!(
            !output.status.success(),
            "strict priority masks forge's python"
        );
    }
    // disabled: the highest version from any channel.
    let disabled = "conda-channel-priority = \"disabled\"";
    let (project, output) = solve(disabled, "\"sharedpkg\", \"python\"");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(conda_locked(&project, "sharedpkg").version, "2.0");
    assert_eq!(conda_locked(&project, "python").version, "3.10.4");
    let lock: toml::Value = toml::from_str(&project.lock().unwrap()).unwrap();
    assert_eq!(
        lock["resolution"]["conda-channel-priority"].as_str(),
        Some("disabled")
    );
    // flexible: a later channel only where the earlier ones have nothing that fits.
    let flexible = "conda-channel-priority = \"flexible\"";
    let (project, output) = solve(flexible, "\"sharedpkg\", \"python 3.10.*\"");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(conda_locked(&project, "sharedpkg").version, "1.0");
    assert_eq!(conda_locked(&project, "python").version, "3.10.4");
    // Anything else is refused at its place.
    let (_, output) = solve("conda-channel-priority = \"loose\"", "\"sharedpkg\"");
    let error = stderr(&output);
    assert!(!output.status.success());
    assert!(error.contains("conda-channel-priority"), "{error}");
    assert!(error.contains("`strict`"), "{error}");
}

// ---- PyPI: `{ requirement, index }` -----------------------------------------------------------

/// A PyPI index in a temporary folder holding `projects` (name and the one version kept of the
/// recorded pages), whose files are the recorded ones.
fn named_pypi_index(projects: &[(&str, &str)]) -> tempfile::TempDir {
    let recorded = crate::pypi::fixtures();
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(recorded.join("files"), dir.path().join("files")).unwrap();
    for (name, version) in projects {
        let page = recorded.join(format!("simple/{name}/index.json"));
        let mut json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(page).unwrap()).unwrap();
        let prefix = format!("{name}-{version}-");
        json["files"]
            .as_array_mut()
            .unwrap()
            .retain(|file| file["filename"].as_str().unwrap().starts_with(&prefix));
        let folder = dir.path().join(format!("simple/{name}"));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("index.json"), json.to_string()).unwrap();
    }
    dir
}

/// A Python spec over the general index `index` whose one layer `py` lists `entries` (TOML).
fn pypi_project(index: &str, entries: &str) -> Project {
    let text = crate::pypi::python_spec(index, &[]);
    Project::new(&format!(
        "{text}\n[[layer]]\nname = \"py\"\npypi = [{entries}]\n"
    ))
}

#[test]
fn a_pypi_requirement_comes_from_the_index_its_entry_names() {
    let general = Server::start(&crate::pypi::fixtures());
    let named_dir = named_pypi_index(&[("attrs", "21.4.0"), ("six", "1.15.0")]);
    let named = Server::start(named_dir.path());
    let named_index = format!("{}/simple", named.url());
    let project = pypi_project(
        &format!("{}/simple", general.url()),
        &format!("{{ requirement = \"attrs\", index = \"{named_index}\" }}, \"six\""),
    );
    let lock = resolve(&project);
    let attrs = package(&lock, "attrs");
    // The general index has attrs 22.2.0; the named one only 21.4.0.
    assert_eq!(attrs["version"].as_str(), Some("21.4.0"));
    assert_eq!(attrs["repository"].as_str(), Some(named_index.as_str()));
    assert!(
        attrs["url"].as_str().unwrap().starts_with(&named.url()),
        "{attrs}"
    );
    // six comes from the general index, which the named one is not asked for.
    assert_eq!(package(&lock, "six")["version"].as_str(), Some("1.16.0"));
    assert_eq!(named.hits("/simple/six/"), 0);
    assert_eq!(general.hits("/simple/attrs/"), 0);
    let settings: Vec<&str> = lock["resolution"]["pypi-indexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(settings, [format!("{}/simple", general.url())]);
}

#[test]
fn a_named_file_index_without_the_project_says_so() {
    let general = Server::start(&crate::pypi::fixtures());
    let named_dir = named_pypi_index(&[("attrs", "21.4.0")]);
    let named_index = format!("file://{}/simple", named_dir.path().display());
    // A file:// index serves what it has…
    let project = pypi_project(
        &format!("{}/simple", general.url()),
        &format!("{{ requirement = \"attrs<22\", index = \"{named_index}\" }}"),
    );
    let lock = resolve(&project);
    assert_eq!(package(&lock, "attrs")["version"].as_str(), Some("21.4.0"));
    // …and only that: six is on the general index, not on the named one.
    let project = pypi_project(
        &format!("{}/simple", general.url()),
        &format!("{{ requirement = \"six\", index = \"{named_index}\" }}"),
    );
    let error = resolve_fails(&project);
    assert!(
        error.contains(&format!("six is not on {named_index}")),
        "{error}"
    );
    assert!(error.contains("layer `py`"), "{error}");
}

// ---- Maven: a coordinate's own repository ----------------------------------------------------

/// A Maven repository in a temporary folder: fixtures/maven/repo without `app`.
fn maven_without_app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = fixtures().join("maven/repo");
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(source.join("org"))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(copied.success());
    std::fs::remove_dir_all(dir.path().join("org/imglock/fixture/app")).unwrap();
    dir
}

#[test]
fn a_maven_coordinate_comes_from_the_repository_its_entry_names() {
    let general_repo = maven_without_app();
    let (general, named) = (
        Server::start(general_repo.path()),
        Server::start(&fixtures().join("maven/repo")),
    );
    let header = format!(
        "[image]\nname = \"jars\"\nbase = \"docker.io/library/eclipse-temurin@sha256:{}\"\n\n[repositories]\nmaven = [\"{}\"]\n\n[[layer]]\nname = \"jars\"\nmaven-target = \"/databricks/jars\"\n",
        "e".repeat(64),
        general.url()
    );
    let entry = |repository: &str| {
        format!(
            "{header}maven = [{{ coordinate = \"org.imglock.fixture:app:1.0\", repository = \"{repository}\" }}]\n"
        )
    };
    let project = Project::new(&entry(&named.url()));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock: toml::Value = toml::from_str(&project.lock().unwrap()).unwrap();
    let packages = lock["layer"][0]["package"].as_array().unwrap();
    assert!(packages.len() > 3, "{packages:?}");
    for package in packages {
        let expected = match package["name"].as_str().unwrap() {
            "org.imglock.fixture:app" => named.url(),
            _ => general.url(),
        };
        assert_eq!(
            package["repository"].as_str(),
            Some(expected.as_str()),
            "{package}"
        );
    }
    // The named repository was asked for app's files alone; the general list stays the spec's.
    let asked: Vec<String> = named.all_hits().into_keys().collect();
    assert!(
        asked.iter().all(|path| path.contains("/fixture/app/")),
        "{asked:?}"
    );
    let listed = lock["resolution"]["maven-repositories"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");

    // A named repository without the coordinate: not found, and no other repository is asked.
    let project = Project::new(&entry(&general.url()));
    let error = resolve_fails(&project);
    assert!(
        error.contains(&format!(
            "{}/org/imglock/fixture/app/1.0/app-1.0",
            general.url()
        )),
        "{error}"
    );
    assert_eq!(named.hits("/org/imglock/fixture/app/1.0/app-1.0.pom"), 1);
    // A misspelt key of the table is an error, not a silently lost exclusion.
    let project = Project::new(&format!(
        "{header}maven = [{{ coordinate = \"org.imglock.fixture:leaf-k:1.0\", exlude = [\"a:b\"] }}]\n"
    ));
    let error = resolve_fails(&project);
    assert!(error.contains("imglock.toml:11:"), "{error}");
}

#[test]
fn a_bioconductor_package_comes_from_the_repository_its_entry_names() {
    let (general, named) = (Server::start(&fixtures()), Server::start(&fixtures()));
    let software = format!("{}/bioc/packages/3.16/bioc", named.url());
    let project = Project::new(&spec(
        &format!(
            "cran = [\"{0}/cran\"]\nbioconductor = \"{0}/bioc\"",
            general.url()
        ),
        &format!(
            "[[layer]]\nname = \"bioc\"\nbioconductor = [{{ name = \"BiocLite\", repository = \"{software}\" }}]"
        ),
    ));
    let lock = resolve(&project);
    let bioc_lite = package(&lock, "BiocLite");
    assert_eq!(bioc_lite["ecosystem"].as_str(), Some("bioconductor"));
    assert_eq!(bioc_lite["repository"].as_str(), Some(software.as_str()));
    let corekit = package(&lock, "corekit");
    assert_eq!(
        corekit["repository"].as_str(),
        Some(format!("{}/cran", general.url()).as_str())
    );
    assert_eq!(
        general.hits("/bioc/packages/3.16/bioc/src/contrib/BiocLite_1.20.0.tar.gz"),
        0
    );
}

#[test]
fn a_conda_or_pypi_package_named_with_two_sources_is_refused() {
    let server = crate::support::conda::serve_fixtures();
    let channels = vec![
        format!("{}/main", server.url()),
        format!("{}/forge", server.url()),
    ];
    let text = crate::support::conda::conda_spec(&channels, "", &[]);
    let project = Project::new(&format!(
        "{text}\n[[layer]]\nname = \"one\"\nconda = [\"forge::sharedpkg\"]\n\n[[layer]]\nname = \"two\"\nconda = [{{ name = \"sharedpkg\", channel = \"main\" }}]\n"
    ));
    let error = resolve_fails(&project);
    assert!(
        error.contains("a package comes from one channel"),
        "{error}"
    );
    assert!(error.contains("layer `one`"), "{error}");

    let general = Server::start(&crate::pypi::fixtures());
    let index = format!("{}/simple", general.url());
    let project = pypi_project(
        &index,
        &format!(
            "{{ requirement = \"six\", index = \"{index}\" }}, {{ requirement = \"six<2\", index = \"file:elsewhere\" }}"
        ),
    );
    let error = resolve_fails(&project);
    assert!(error.contains("a package comes from one index"), "{error}");
}

// ---- CRAN as of a date: `cran-snapshot`, `--exclude-newer` ----------------------------------

/// A source tarball of `name` `version` whose DESCRIPTION says it was published at `published`.
fn dated_tarball(name: &str, version: &str, published: &str) -> Vec<u8> {
    let description = format!(
        "Package: {name}\nVersion: {version}\nLicense: MIT\nNeedsCompilation: no\nDate/Publication: {published}\n"
    );
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(encoder);
    let mut header = tar::Header::new_gnu();
    header.set_size(description.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(
            &mut header,
            format!("{name}/DESCRIPTION"),
            description.as_bytes(),
        )
        .unwrap();
    builder.into_inner().unwrap().finish().unwrap()
}

/// A CRAN-like repository in a temporary folder: `dated` 3.0 (published 2023-01-10) current,
/// 1.0 (2021-01-10) and 2.0 (2022-02-10) in its archive, whose folder has a web server's listing;
/// `plain` 1.0 (2020-01-10), which imports `dated`.
fn dated_cran() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let contrib = dir.path().join("src/contrib");
    let archive = contrib.join("Archive/dated");
    std::fs::create_dir_all(&archive).unwrap();
    std::fs::write(
        contrib.join("PACKAGES"),
        "Package: dated\nVersion: 3.0\nNeedsCompilation: no\n\nPackage: plain\nVersion: 1.0\nImports: dated\nNeedsCompilation: no\n",
    )
    .unwrap();
    let write = |path: std::path::PathBuf, name, version, published| {
        std::fs::write(path, dated_tarball(name, version, published)).unwrap();
    };
    write(
        contrib.join("dated_3.0.tar.gz"),
        "dated",
        "3.0",
        "2023-01-10 08:00:00 UTC",
    );
    write(
        contrib.join("plain_1.0.tar.gz"),
        "plain",
        "1.0",
        "2020-01-10 08:00:00 UTC",
    );
    write(
        archive.join("dated_1.0.tar.gz"),
        "dated",
        "1.0",
        "2021-01-10 08:00:00 UTC",
    );
    write(
        archive.join("dated_2.0.tar.gz"),
        "dated",
        "2.0",
        "2022-02-10 08:00:00 UTC",
    );
    std::fs::write(
        archive.join("index.html"),
        "<html><body><pre><a href=\"?C=N;O=D\">Name</a>\n<a href=\"dated_1.0.tar.gz\">dated_1.0.tar.gz</a> 2021-01-10 08:00 1.2K\n<a href=\"dated_2.0.tar.gz\">dated_2.0.tar.gz</a> 2022-02-10 08:00 1.2K\n</pre></body></html>\n",
    )
    .unwrap();
    dir
}

#[test]
fn a_cran_snapshot_takes_each_packages_newest_version_published_by_its_date() {
    let cran = dated_cran();
    let server = Server::start(cran.path());
    let over_http = format!("cran = [\"{}\"]", server.url());
    let over_file = format!("cran = [\"file://{}\"]", cran.path().display());
    let layer = "[[layer]]\nname = \"r\"\ncran = [\"plain\"]";
    let dated = |repositories: &str, args: &[&str]| {
        let project = Project::new(&spec(repositories, layer));
        let mut all = vec!["resolve"];
        all.extend_from_slice(args);
        let output = project.run(&all);
        assert!(output.status.success(), "{}", stderr(&output));
        let lock: toml::Value = toml::from_str(&project.lock().unwrap()).unwrap();
        let dated = package(&lock, "dated");
        (
            dated["version"].as_str().unwrap().to_string(),
            dated["url"].as_str().unwrap().to_string(),
            lock["resolution"]
                .get("cran-as-of")
                .map(|v| v.as_str().unwrap().to_string()),
        )
    };
    assert_eq!(dated(&over_http, &[]).0, "3.0");
    let snapshot = format!("{over_http}\ncran-snapshot = \"2022-03-01\"");
    let (version, url, as_of) = dated(&snapshot, &[]);
    assert_eq!(version, "2.0");
    assert_eq!(
        url,
        format!(
            "{}/src/contrib/Archive/dated/dated_2.0.tar.gz",
            server.url()
        )
    );
    assert_eq!(as_of.as_deref(), Some("2022-03-01T00:00:00Z"));
    let snapshot = format!("{over_file}\ncran-snapshot = \"2022-03-01\"");
    assert_eq!(dated(&snapshot, &[]).0, "2.0");
    // --exclude-newer does the same for CRAN; the earlier of the two dates counts.
    assert_eq!(
        dated(&over_http, &["--exclude-newer", "2021-06-01"]).0,
        "1.0"
    );
    let snapshot = format!("{over_http}\ncran-snapshot = \"2022-03-01\"");
    assert_eq!(
        dated(&snapshot, &["--exclude-newer", "2021-06-01"]).0,
        "1.0"
    );
    // Nothing published by the date: said so, with the way out.
    let project = Project::new(&spec(
        &format!("{over_http}\ncran-snapshot = \"2020-06-01\""),
        layer,
    ));
    let error = resolve_fails(&project);
    assert!(error.contains("no version of dated"), "{error}");
    assert!(error.contains("plain 1.0 requires dated"), "{error}");
    // A date that is not one is refused at its place.
    let project = Project::new(&spec(
        &format!("{over_http}\ncran-snapshot = \"March 2022\""),
        layer,
    ));
    let error = resolve_fails(&project);
    assert!(error.contains("cran-snapshot"), "{error}");
}

#[test]
fn a_pin_kept_from_the_lock_gives_way_to_an_earlier_snapshot_date() {
    let cran = dated_cran();
    let server = Server::start(cran.path());
    let repositories = format!("cran = [\"{}\"]", server.url());
    let layer = "[[layer]]\nname = \"r\"\ncran = [\"plain\"]";
    let dated = |date: &str| {
        spec(
            &format!("{repositories}\ncran-snapshot = \"{date}\""),
            layer,
        )
    };
    let project = Project::new(&dated("2022-03-01"));
    let lock = resolve(&project);
    assert_eq!(package(&lock, "dated")["version"].as_str(), Some("2.0"));
    // 2.0 is in the archive, where a kept pin is looked for; but it is newer than the new date.
    project.write_spec(&dated("2021-06-01"));
    let lock = resolve(&project);
    assert_eq!(package(&lock, "dated")["version"].as_str(), Some("1.0"));
}

/// Read as of a date, the walk reads each package's DESCRIPTION from its tarball: the tarballs
/// of the current versions' whole closure are fetched at once, before the first level is
/// chosen, not one level (or one package) after another (seven packages, two levels: one round
/// of tarball requests, not two or seven).
#[test]
fn a_dated_walk_fetches_the_whole_current_closure_at_once() {
    let server = Server::start(&fixtures());
    let latency = std::time::Duration::from_millis(150);
    server.set_latency(latency);
    let project = Project::new(&spec(
        &format!("cran = [\"{}/cran\"]", server.url()),
        "[[layer]]\nname = \"r\"\ncran = [\"plotkit\", \"usehdr\", \"leafy\", \"tinyleaf\"]",
    ));
    let output = project.run(&["resolve", "--exclude-newer", "2100-01-01"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let mut tarballs: Vec<std::time::Instant> = server
        .arrivals()
        .into_iter()
        .filter(|(path, _)| path.ends_with(".tar.gz"))
        .map(|(_, at)| at)
        .collect();
    tarballs.sort();
    assert_eq!(tarballs.len(), 7, "{:?}", server.all_hits());
    let rounds = 1 + tarballs
        .windows(2)
        .filter(|pair| pair[1].duration_since(pair[0]) >= latency / 2)
        .count();
    // Every package is current, so the tarballs of the current versions' whole closure are
    // everything the walk reads: one round, however deep the closure is.
    assert_eq!(rounds, 1, "{rounds} rounds of tarball requests");
}

/// A dated walk over Bioconductor and CRAN fetches the Bioconductor tarballs (not dated, but
/// pinned) with the CRAN ones it reads dates from: one round of tarball requests, not a round
/// for the dates and another for the pins.
#[test]
fn a_dated_walk_fetches_bioconductor_tarballs_with_the_cran_ones() {
    let server = Server::start(&fixtures());
    let latency = std::time::Duration::from_millis(150);
    server.set_latency(latency);
    let project = Project::new(&spec(
        &format!(
            "cran = [\"{0}/cran\"]\nbioconductor = \"{0}/bioc\"",
            server.url()
        ),
        "[[layer]]\nname = \"bio\"\nbioconductor = [\"SeqTools\"]",
    ));
    let output = project.run(&["resolve", "--exclude-newer", "2100-01-01"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let tarballs: Vec<(String, std::time::Instant)> = server
        .arrivals()
        .into_iter()
        .filter(|(path, _)| path.ends_with(".tar.gz"))
        .collect();
    assert!(
        tarballs.iter().any(|(path, _)| path.starts_with("/bioc/"))
            && tarballs.iter().any(|(path, _)| path.starts_with("/cran/")),
        "{tarballs:?}"
    );
    let first = tarballs.iter().map(|(_, at)| *at).min().unwrap();
    let late: Vec<&String> = tarballs
        .iter()
        .filter(|(_, at)| at.duration_since(first) >= latency / 2)
        .map(|(path, _)| path)
        .collect();
    assert!(late.is_empty(), "asked a round after the first: {late:?}");
}
