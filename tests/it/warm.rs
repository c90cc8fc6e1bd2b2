//! Warm runs: after a successful resolve, `--offline` resolves every example the tests can
//! serve (and every recorded PyPI set that resolves) to the same lock from the cache alone; a
//! warm resolve asks nothing for immutable files (released POMs, their checksums, jars) and only
//! revalidates mutable indexes; a 404 is remembered, not asked again within its time to live,
//! and asked again with `--refresh`.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use crate::support::mixed::MixedRepositories;
use crate::support::{Project, Server, output_text, pypi_sets};

/// The examples that name public repositories (they need internet), which the tests cannot
/// serve; every other example reads only the fixtures. The real images' specs (families in
/// folders of their own, `tests/it/real_images.rs`) are resolved there.
const NEEDS_INTERNET: [&str; 2] = ["python-pypi", "r-public"];

/// Resolves `project` online with `flags`, then `--offline` twice with the same cache (the lock
/// kept, then removed): both must succeed and write the same lock bytes. What went wrong, if
/// anything; `name` names the spec.
fn offline_after_resolve(project: &Project, flags: &[&str], name: &str) -> Result<(), String> {
    let run = |extra: &[&str]| {
        let mut args = vec!["resolve"];
        args.extend(flags);
        args.extend(extra);
        let output = project.run(&args);
        match output.status.success() {
            true => Ok(project.lock().unwrap()),
            false => Err(format!(
                "{name}: `imglock {}` failed:\n{}",
                args.join(" "),
                output_text(&output)
            )),
        }
    };
    let online = run(&[])?;
    if run(&["--offline"])? != online {
        return Err(format!("{name}: the lock kept, --offline locked otherwise"));
    }
    std::fs::remove_file(project.path("imglock.lock")).unwrap();
    if run(&["--offline"])? != online {
        return Err(format!(
            "{name}: the lock removed, --offline locked otherwise"
        ));
    }
    Ok(())
}

#[test]
fn offline_works_after_a_resolve_of_every_served_example() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let repositories = MixedRepositories::start();
    let (mut served, mut failures) = (BTreeSet::new(), Vec::new());
    for spec in crate::real_images::specs_below(&examples) {
        let folder = spec.parent().unwrap();
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        if NEEDS_INTERNET.contains(&name.as_str()) || crate::real_images::is_real_image(&spec) {
            continue;
        }
        let spec = std::fs::read_to_string(&spec).unwrap();
        let project = Project::new(&repositories.served(&spec));
        failures.extend(offline_after_resolve(&project, &[], &name).err());
        served.insert(name);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let expected = [
        "conda-fixture",
        "maven-fixture",
        "mixed-fixture",
        "r-fixture",
    ];
    assert_eq!(
        served,
        expected.map(String::from).into(),
        "the served examples"
    );
}

#[test]
fn offline_works_after_a_resolve_of_every_recorded_pypi_set() {
    let server = Server::start(&crate::pypi::fixtures());
    let index = format!("{}/simple", server.url());
    let (mut unresolved, mut failures) = (BTreeSet::new(), Vec::new());
    for entry in std::fs::read_dir(crate::support::fixtures().join("pypi/sets")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let requirements = pypi_sets::requirements(&name);
        let requirements: Vec<&str> = requirements.iter().map(String::as_str).collect();
        let project = Project::new(&crate::pypi::python_spec(&index, &[("py", &requirements)]));
        let exclude_newer = pypi_sets::exclude_newer(&name);
        let mut flags = vec!["--no-build"];
        if !name.starts_with("latest-") {
            flags.extend(["--exclude-newer", exclude_newer.as_str()]);
        }
        // Only a set that resolves online has a cache to resolve from offline.
        let mut args = vec!["resolve"];
        args.extend(&flags);
        if !project.run(&args).status.success() {
            unresolved.insert(name);
            continue;
        }
        std::fs::remove_file(project.path("imglock.lock")).unwrap();
        failures.extend(offline_after_resolve(&project, &flags, &name).err());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // `unsatisfiable` is so by design; `dask-worker` needs a metadata build (PyYAML 5.3.1),
    // which `--no-build` forbids (tests/it/pypi_metadata_build.rs builds it).
    let expected = ["dask-worker", "unsatisfiable"].map(String::from).into();
    assert_eq!(unresolved, expected, "the sets that do not resolve");
}

/// The paths `server` was asked for since `before` (a snapshot of its hits), with their counts.
pub(crate) fn asked_since(
    server: &Server,
    before: &HashMap<String, usize>,
) -> Vec<(String, usize)> {
    let mut asked: Vec<(String, usize)> = server
        .all_hits()
        .into_iter()
        .map(|(path, hits)| {
            let earlier = before.get(&path).copied().unwrap_or(0);
            (path, hits - earlier)
        })
        .filter(|(_, hits)| *hits > 0)
        .collect();
    asked.sort();
    asked
}

/// A project of the example `example`'s spec with its repository URL `local` (a `file:` URL,
/// as the example names it) served by `server` instead.
fn example_served(example: &str, local: &str, server: &Server) -> Project {
    let spec = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{example}/imglock.toml")),
    )
    .unwrap();
    assert!(spec.contains(local), "{example} does not name {local}");
    Project::new(&spec.replace(local, &server.url()))
}

/// `imglock resolve` with `flags`, which must succeed.
fn resolve_ok(project: &Project, flags: &[&str]) {
    let mut args = vec!["resolve"];
    args.extend(flags);
    let output = project.run(&args);
    assert!(output.status.success(), "{}", output_text(&output));
}

/// Whether the fixture repository served by `server` has `path`.
fn exists(root: &Path, path: &str) -> bool {
    root.join(path.trim_start_matches('/')).is_file()
}

#[test]
fn a_warm_maven_resolve_asks_only_for_mutable_metadata_and_remembers_404s() {
    let root = crate::support::fixtures().join("maven/repo");
    let server = Server::start(&root);
    let project = example_served("maven-fixture", "file:../../fixtures/maven/repo", &server);
    let resolve = |flags: &[&str]| resolve_ok(&project, flags);
    resolve(&[]);
    let cold = server.all_hits();
    let missing: Vec<&String> = cold.keys().filter(|p| !exists(&root, p)).collect();
    assert!(
        !missing.is_empty(),
        "the fixture repository lacks some checksum files, which a cold resolve asks for"
    );
    assert!(cold.keys().any(|p| p.ends_with(".pom")), "{cold:?}");

    // Warm: only maven-metadata.xml (mutable) may be asked again; no POM, checksum, jar or 404.
    resolve(&[]);
    let warm = asked_since(&server, &cold);
    assert!(
        warm.iter()
            .all(|(path, _)| path.ends_with("/maven-metadata.xml")),
        "a warm resolve asked for immutable or absent files: {warm:?}"
    );

    // `--refresh` asks again for everything, the 404s included.
    let before = server.all_hits();
    resolve(&["--refresh"]);
    let refreshed: HashMap<String, usize> = asked_since(&server, &before).into_iter().collect();
    // Which jar probes the kinds of checksum file the repository publishes depends on which
    // download starts first; the others ask only for the kind it found.
    let probe = |path: &str| path.ends_with(".jar.sha512") || path.ends_with(".jar.sha256");
    for path in cold.keys() {
        assert!(
            refreshed.contains_key(path) || path.ends_with(".jar") || probe(path),
            "`--refresh` did not ask again for {path}: {refreshed:?}"
        );
    }
    assert!(
        refreshed
            .keys()
            .any(|path| probe(path) && !exists(&root, path)),
        "`--refresh` did not probe the checksum kinds again: {refreshed:?}"
    );
}

#[test]
fn a_warm_conda_resolve_revalidates_the_repodata_and_remembers_the_missing_zst() {
    let root = crate::support::fixtures().join("conda/channels");
    let server = Server::start(&root);
    let project = example_served(
        "conda-fixture",
        "file:../../fixtures/conda/channels",
        &server,
    );
    let resolve = |flags: &[&str]| resolve_ok(&project, flags);
    resolve(&[]);
    let cold = server.all_hits();
    assert!(
        cold.keys().any(|p| p.ends_with("/repodata.json.zst")),
        "{cold:?}"
    );

    resolve(&[]);
    let warm: Vec<String> = asked_since(&server, &cold)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let mut repodata: Vec<String> = cold
        .keys()
        .filter(|p| p.ends_with("/repodata.json"))
        .cloned()
        .collect();
    repodata.sort();
    assert_eq!(warm, repodata, "only the repodata is revalidated");

    let before = server.all_hits();
    resolve(&["--refresh"]);
    let refreshed = asked_since(&server, &before);
    assert!(
        refreshed
            .iter()
            .any(|(p, _)| p.ends_with("/repodata.json.zst")),
        "`--refresh` asks again for the missing .zst: {refreshed:?}"
    );
}

#[test]
fn wheel_metadata_without_a_published_hash_is_not_asked_for_again() {
    let (_copy, server) =
        crate::pypi::serve_with_wheel("idna", "idna-3.3-py3-none-any.whl", |file, _| {
            file["core-metadata"] = serde_json::Value::Bool(true);
        });
    let url = format!("{}/simple", server.url());
    let project = Project::new(&crate::pypi::python_spec(&url, &[("py", &["idna==3.3"])]));
    let exclude_newer = pypi_sets::DEFAULT_EXCLUDE_NEWER;
    for _ in 0..2 {
        let output = project.run(&["resolve", "--upgrade", "--exclude-newer", exclude_newer]);
        assert!(output.status.success(), "{}", output_text(&output));
    }
    let metadata: Vec<(String, usize)> = server
        .all_hits()
        .into_iter()
        .filter(|(path, _)| path.ends_with("idna-3.3-py3-none-any.whl.metadata"))
        .collect();
    assert_eq!(metadata.len(), 1, "{metadata:?}");
    assert_eq!(metadata[0].1, 1, "the metadata was asked for once");
    assert_eq!(server.hits("/simple/idna/"), 2, "the page is revalidated");
}

/// Whether `path` is a mutable index, which a warm resolve revalidates: CRAN and Bioconductor
/// `PACKAGES`, a PyPI project page, conda repodata, `maven-metadata.xml`.
fn is_mutable_index(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or("");
    file.starts_with("PACKAGES")
        || file.starts_with("repodata.json")
        || file == "maven-metadata.xml"
        || (path.starts_with("/simple/") && path.ends_with('/'))
}

#[test]
fn a_warm_resolve_of_the_mixed_example_revalidates_only_indexes() {
    let repositories = MixedRepositories::start();
    let project = Project::new(&repositories.spec(None));
    let servers = [
        "cran",
        "bioc",
        "pypi/simple",
        "conda/channels",
        "maven/repo",
    ];
    let resolve = || resolve_ok(&project, &[]);
    resolve();
    let cold: Vec<HashMap<String, usize>> = servers
        .iter()
        .map(|name| repositories.server(name).all_hits())
        .collect();
    resolve();
    let mut warm = Vec::new();
    for (name, before) in servers.iter().zip(&cold) {
        warm.extend(asked_since(repositories.server(name), before));
    }
    let asked_again: Vec<&(String, usize)> = warm
        .iter()
        .filter(|(path, hits)| !is_mutable_index(path) || *hits > 1)
        .collect();
    assert!(
        asked_again.is_empty(),
        "a warm resolve asked for more than each index once: {asked_again:?}\n(all: {warm:?})"
    );
    assert!(!warm.is_empty(), "the indexes are revalidated");
}

#[test]
fn metadata_read_with_range_requests_is_kept_for_warm_and_offline_runs() {
    let (_copy, server, wheel) = crate::pypi::serve_requests_without_metadata_file();
    let url = format!("{}/simple", server.url());
    let project = Project::new(&crate::pypi::python_spec(
        &url,
        &[("py", &["requests==2.27.1"])],
    ));
    let flags = ["--exclude-newer", pypi_sets::DEFAULT_EXCLUDE_NEWER];
    let output = project.run(&["resolve", flags[0], flags[1]]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(server.range_hits(&wheel), 2, "read with range requests");

    let output = project.run(&["resolve", "--upgrade", flags[0], flags[1]]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(
        server.range_hits(&wheel),
        2,
        "a warm resolve reads no range again"
    );
    assert_eq!(server.hits(&wheel), 2, "nor the wheel");

    let online = project.lock().unwrap();
    std::fs::remove_file(project.path("imglock.lock")).unwrap();
    let output = project.run(&["resolve", "--offline", flags[0], flags[1]]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(project.lock().unwrap(), online);
}

/// A re-resolve with the lock in place asks for every PyPI page it revalidates in one round: the
/// replaced lock names them, so the pages of the dependencies do not wait for the pages of the
/// packages that need them (the Dask set's tree is six levels deep).
#[test]
fn a_warm_pypi_re_resolve_revalidates_its_pages_in_one_round() {
    const LATENCY: std::time::Duration = std::time::Duration::from_millis(200);
    let server = Server::start(&crate::pypi::fixtures());
    let index = format!("{}/simple", server.url());
    let requirements = pypi_sets::requirements("dask");
    let requirements: Vec<&str> = requirements.iter().map(String::as_str).collect();
    let project = Project::new(&crate::pypi::python_spec(&index, &[("py", &requirements)]));
    let exclude_newer = pypi_sets::exclude_newer("dask");
    let flags = ["--exclude-newer", exclude_newer.as_str()];
    resolve_ok(&project, &flags);
    server.set_latency(LATENCY);
    let before = server.arrivals().len();
    resolve_ok(&project, &flags);
    let pages: Vec<(String, std::time::Instant)> = server
        .arrivals()
        .split_off(before)
        .into_iter()
        .filter(|(path, _)| path.starts_with("/simple/"))
        .collect();
    assert!(!pages.is_empty(), "pages are revalidated");
    let late = crate::support::after_first_round(&pages, LATENCY);
    assert!(
        late.is_empty(),
        "{} of {} pages asked after the first round: {late:?}",
        late.len(),
        pages.len()
    );
}

#[test]
fn a_large_repodata_cached_as_it_arrives_serves_offline_resolves() {
    let Some(corpus) = crate::support::conda::conda_corpus() else {
        return;
    };
    let channels = crate::support::conda::conda_corpus_channels(&corpus);
    let repodata = channels.path().join("index4/linux-64/repodata.json");
    // Large enough to be written straight into its cache entry as it arrives.
    assert!(std::fs::metadata(&repodata).unwrap().len() > 2 << 20);
    let server = Server::start(channels.path());
    let channel = format!("{}/index4", server.url());
    let spec = crate::support::conda::conda_spec(
        &[channel],
        "",
        &[("env", &["python 3.6.*", "numpy", "requests"])],
    );
    let project = Project::new(&spec);
    offline_after_resolve(&project, &[], "index4").unwrap();
}
