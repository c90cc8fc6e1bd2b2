//! `imglock resolve` and `imglock check` for R layers, run as a user runs them: the binary against
//! fixture repositories served by a real HTTP server on 127.0.0.1, or read through `file://`.

use crate::support::locks::package;
use crate::support::{Fault, Project, Server, fixture_copy, fixtures, spec, stderr};

fn http_repos(server: &Server) -> String {
    format!(
        "cran = [\"{0}/cran\"]\nbioconductor = \"{0}/bioc\"",
        server.url()
    )
}

/// The `(name, version)` pairs of one layer of a lock, in lock order.
fn layer_packages(lock: &str, layer: &str) -> Vec<(String, String)> {
    let value: toml::Value = toml::from_str(lock).unwrap();
    let layers = value["layer"].as_array().unwrap();
    let layer = layers
        .iter()
        .find(|l| l["name"].as_str() == Some(layer))
        .unwrap_or_else(|| panic!("no layer {layer} in\n{lock}"));
    layer
        .get("package")
        .and_then(|p| p.as_array())
        .map(|packages| {
            packages
                .iter()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap().to_string(),
                        p["version"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn names(pairs: &[(String, String)]) -> Vec<&str> {
    pairs.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn resolves_the_closure_of_several_roots_over_http() {
    let server = Server::start(&fixtures());
    let project = Project::new(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"r\"\ncran = [\"plotkit (>= 3.0)\", \"usehdr\"]",
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    // Depends + Imports + LinkingTo (headerlib) followed; base (stats, methods) and recommended
    // (Matrix) packages are provided by the image; Suggests (testthatish) are not followed.
    assert_eq!(
        layer_packages(&lock, "r"),
        [
            ("corekit".into(), "1.1-2".into()),
            ("fastsum".into(), "0.3.1".into()),
            ("headerlib".into(), "2.0.0".into()),
            ("plotkit".into(), "3.4.1".into()),
            ("usehdr".into(), "0.1.0".into()),
        ]
    );
    let value: toml::Value = toml::from_str(&lock).unwrap();
    let usehdr = package(&value, "usehdr");
    assert_eq!(usehdr["needs-compilation"].as_bool(), Some(true));
    assert_eq!(
        usehdr["dependencies"].as_array().unwrap(),
        &vec![toml::Value::from("fastsum"), toml::Value::from("headerlib")]
    );
    let fastsum = std::fs::read(fixtures().join("cran/src/contrib/fastsum_0.3.1.tar.gz")).unwrap();
    let fastsum_lock = package(&value, "fastsum");
    assert_eq!(
        fastsum_lock["sha256"].as_str().unwrap(),
        crate::support::sha256_hex(&fastsum),
        "the lock holds the sha256 of the served bytes"
    );
    assert_eq!(
        fastsum_lock["size"].as_integer().unwrap() as usize,
        fastsum.len()
    );
    assert_eq!(
        fastsum_lock["url"].as_str().unwrap(),
        format!("{}/cran/src/contrib/fastsum_0.3.1.tar.gz", server.url())
    );
}

#[test]
fn file_urls_resolve_like_http() {
    let server = Server::start(&fixtures());
    let layers = "[[layer]]\nname = \"r\"\ncran = [\"leafy\"]\nbioconductor = [\"SeqTools\"]";
    let over_http = Project::new(&spec(&http_repos(&server), layers));
    let absolute = fixtures();
    let over_file = Project::new(&spec(
        &format!(
            "cran = [\"file://{0}/cran\"]\nbioconductor = \"file://{0}/bioc\"",
            absolute.display()
        ),
        layers,
    ));
    for project in [&over_http, &over_file] {
        let output = project.run(&["resolve"]);
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let (http_lock, file_lock) = (over_http.lock().unwrap(), over_file.lock().unwrap());
    assert_eq!(
        layer_packages(&http_lock, "r"),
        layer_packages(&file_lock, "r")
    );
    let without_repos = |lock: &str| {
        lock.lines()
            .filter(|l| {
                !l.contains("://") && !l.contains("spec-hash") && !l.starts_with("\"repositories/")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without_repos(&http_lock), without_repos(&file_lock));
    assert!(file_lock.contains(&format!(
        "file://{}/cran/src/contrib/leafy_0.2.0.tar.gz",
        absolute.display()
    )));
}

#[test]
fn bioconductor_packages_pull_cran_dependencies_from_cran() {
    let server = Server::start(&fixtures());
    let project = Project::new(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"bio\"\nbioconductor = [\"SeqTools\"]",
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let value: toml::Value = toml::from_str(&project.lock().unwrap()).unwrap();
    let origin = |name: &str| {
        let p = package(&value, name);
        (
            p["ecosystem"].as_str().unwrap().to_string(),
            p["repository"].as_str().unwrap().to_string(),
        )
    };
    let base = server.url();
    assert_eq!(
        origin("SeqTools"),
        (
            "bioconductor".into(),
            format!("{base}/bioc/packages/3.16/bioc")
        )
    );
    assert_eq!(
        origin("AnnoData"),
        (
            "bioconductor".into(),
            format!("{base}/bioc/packages/3.16/data/annotation")
        )
    );
    assert_eq!(origin("corekit"), ("cran".into(), format!("{base}/cran")));
    assert_eq!(origin("fastsum"), ("cran".into(), format!("{base}/cran")));
    assert_eq!(
        value["resolution"]["bioconductor-release"].as_str(),
        Some("3.16")
    );
}

/// An image of R 3.4 (doAzureParallel's clusters run 3.4.2) takes Bioconductor 3.6, laid out as
/// it was then: three repositories, no `workflows` or `books` asked for; and what needs a newer
/// R is refused naming the image's R.
#[test]
fn an_r_3_4_image_takes_bioconductor_3_6_as_it_was_laid_out() {
    let server = Server::start(&fixtures());
    let old_r =
        |layers: &str| spec(&http_repos(&server), layers).replace("r = \"4.2.2\"", "r = \"3.4.2\"");
    let project = Project::new(&old_r(
        "[[layer]]\nname = \"bio\"\nbioconductor = [\"SeqTools\"]",
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    let value: toml::Value = toml::from_str(&lock).unwrap();
    assert_eq!(
        value["resolution"]["bioconductor-release"].as_str(),
        Some("3.6")
    );
    let seqtools = package(&value, "SeqTools");
    assert_eq!(seqtools["version"].as_str(), Some("1.0.0"));
    assert_eq!(
        seqtools["repository"].as_str().unwrap(),
        format!("{}/bioc/packages/3.6/bioc", server.url())
    );
    assert_eq!(
        layer_packages(&lock, "bio"),
        [
            ("SeqTools".into(), "1.0.0".into()),
            ("corekit".into(), "1.1-2".into())
        ]
    );
    let asked: Vec<String> = server.all_hits().into_keys().collect();
    for repo in ["bioc", "data/annotation", "data/experiment"] {
        let index = format!("/bioc/packages/3.6/{repo}/src/contrib/PACKAGES.gz");
        assert!(asked.contains(&index), "{index} not asked: {asked:?}");
    }
    let later = asked
        .iter()
        .filter(|path| path.contains("/workflows/") || path.contains("/books/"))
        .collect::<Vec<_>>();
    assert!(later.is_empty(), "Bioconductor 3.6 had no {later:?}");

    let project = Project::new(&old_r("[[layer]]\nname = \"r\"\ncran = [\"plotkit\"]"));
    let output = project.run(&["resolve"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("plotkit") && message.contains("3.5.0") && message.contains("3.4.2"),
        "{message}"
    );
}

#[test]
fn an_exact_pin_resolves_from_the_archive() {
    let server = Server::start(&fixtures());
    let project = Project::new(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"r\"\ncran = [\"corekit == 1.0.0\", \"headerlib\"]",
    ));
    let output = project.run(&["resolve", "--verbose"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let value: toml::Value = toml::from_str(&project.lock().unwrap()).unwrap();
    let corekit = package(&value, "corekit");
    assert_eq!(corekit["version"].as_str(), Some("1.0.0"));
    assert!(
        corekit["url"]
            .as_str()
            .unwrap()
            .ends_with("/cran/src/contrib/Archive/corekit/corekit_1.0.0.tar.gz")
    );
    assert!(
        stderr(&output).contains("from the archive"),
        "{}",
        stderr(&output)
    );
    // Downloaded once: to read its DESCRIPTION, then pinned from the cache.
    assert_eq!(
        server.hits("/cran/src/contrib/Archive/corekit/corekit_1.0.0.tar.gz"),
        1
    );
}

#[test]
fn a_conflict_shows_both_chains_and_writes_no_lock() {
    let server = Server::start(&fixtures());
    let project = Project::new(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"r\"\ncran = [\"plotkit\", \"wantsnew\"]",
    ));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("cannot resolve layer `r`"), "{message}");
    assert!(
        message.contains("wantsnew 1.0.0 requires corekit (>= 2.0)"),
        "{message}"
    );
    assert!(message.contains("corekit 1.1-2"), "{message}");
    assert!(
        message.contains("plotkit 3.4.1 requires corekit (>= 1.0)"),
        "{message}"
    );
    assert!(project.lock().is_none());
}

#[test]
fn unknown_packages_get_a_suggestion_and_a_chain() {
    let server = Server::start(&fixtures());
    let project = Project::new(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"r\"\ncran = [\"plotkitt\"]",
    ));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no repository has `plotkitt`"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("did you mean `plotkit`?"),
        "{}",
        stderr(&output)
    );

    project.write_spec(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"r\"\ncran = [\"needsghost\"]",
    ));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no repository has `ghostpkg` (layer `r` asks for needsghost → needsghost 1.0 requires ghostpkg)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_version_no_repository_has_names_what_there_is() {
    let server = Server::start(&fixtures());
    let project = Project::new(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"r\"\ncran = [\"plotkit (>= 4.0)\"]",
    ));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("layer `r` asks for plotkit (>= 4.0)"),
        "{message}"
    );
    assert!(
        message.contains(&format!("{}/cran has plotkit 3.4.1", server.url())),
        "{message}"
    );
}

#[test]
fn a_package_needing_a_newer_r_is_refused() {
    let server = Server::start(&fixtures());
    let project = Project::new(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"r\"\ncran = [\"futurer\"]",
    ));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("futurer 1.0.0 needs R >= 9.9, but the image has R 4.2.2"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_package_is_locked_once_in_the_lowest_layer_and_lower_pins_are_fixed() {
    let server = Server::start(&fixtures());
    let project = Project::new(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"base\"\ncran = [\"fastsum\"]\n\n[[layer]]\nname = \"top\"\ncran = [\"plotkit\", \"fastsum\"]",
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert_eq!(
        names(&layer_packages(&lock, "base")),
        ["corekit", "fastsum"]
    );
    assert_eq!(names(&layer_packages(&lock, "top")), ["plotkit"]);

    // A higher layer cannot move a lower layer's pin.
    project.write_spec(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"base\"\ncran = [\"corekit == 1.0.0\"]\n\n[[layer]]\nname = \"top\"\ncran = [\"fastsum\"]",
    ));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(
            "corekit (>= 1.1) conflicts with corekit 1.0.0, locked in the lower layer `base`"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_server_error_is_retried() {
    let server = Server::start(&fixtures());
    server.inject(
        "/cran/src/contrib/PACKAGES.gz",
        vec![Fault::Status(500), Fault::Reset],
    );
    server.inject(
        "/cran/src/contrib/corekit_1.1-2.tar.gz",
        vec![Fault::Status(503), Fault::Truncate],
    );
    let project = Project::new(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"r\"\ncran = [\"fastsum\"]",
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(server.hits("/cran/src/contrib/PACKAGES.gz"), 3);
    assert_eq!(server.hits("/cran/src/contrib/corekit_1.1-2.tar.gz"), 3);
    assert_eq!(
        names(&layer_packages(&project.lock().unwrap(), "r")),
        ["corekit", "fastsum"]
    );
}

#[test]
fn a_not_found_is_not_retried_and_falls_back_to_plain_packages() {
    let server = Server::start(&fixtures());
    server.inject("/cran/src/contrib/PACKAGES.gz", vec![Fault::Status(404)]);
    let project = Project::new(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"r\"\ncran = [\"fastsum\"]",
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(server.hits("/cran/src/contrib/PACKAGES.gz"), 1);
    assert_eq!(server.hits("/cran/src/contrib/PACKAGES"), 1);
}

#[test]
fn a_truncated_index_is_an_error_never_half_an_index() {
    // Cut off on the wire, every time.
    let server = Server::start(&fixtures());
    server.inject("/cran/src/contrib/PACKAGES.gz", vec![Fault::Truncate; 4]);
    let project = Project::new(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"r\"\ncran = [\"fastsum\"]",
    ));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(&format!(
            "could not fetch `{}/cran/src/contrib/PACKAGES.gz` after 4 attempts",
            server.url()
        )),
        "{}",
        stderr(&output)
    );
    assert!(project.lock().is_none());

    // Served whole, but the file itself is cut short.
    let copy = fixture_copy();
    let gz = copy.path().join("cran/src/contrib/PACKAGES.gz");
    let bytes = std::fs::read(&gz).unwrap();
    std::fs::write(&gz, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let server = Server::start(copy.path());
    project.write_spec(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"r\"\ncran = [\"fastsum\"]",
    ));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("corrupt or truncated"),
        "{}",
        stderr(&output)
    );
    assert!(project.lock().is_none());
}

#[test]
fn an_md5_mismatch_fails_closed_and_keeps_the_old_lock() {
    let copy = fixture_copy();
    let server = Server::start(copy.path());
    let project = Project::new(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"r\"\ncran = [\"fastsum\"]",
    ));
    assert!(project.run(&["resolve"]).status.success());
    let good_lock = project.lock().unwrap();

    // The tarball is re-published with other bytes; the index still has the old MD5.
    let tarball = copy.path().join("cran/src/contrib/headerlib_2.0.0.tar.gz");
    let mut bytes = std::fs::read(&tarball).unwrap();
    bytes.extend_from_slice(b"tampered");
    std::fs::write(&tarball, &bytes).unwrap();
    project.write_spec(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"r\"\ncran = [\"fastsum\", \"headerlib\"]",
    ));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    let expected_md5 = {
        use md5::Digest;
        hex::encode(md5::Md5::digest(&bytes[..bytes.len() - 8]))
    };
    let actual_md5 = {
        use md5::Digest;
        hex::encode(md5::Md5::digest(&bytes))
    };
    assert!(message.contains("checksum mismatch"), "{message}");
    assert!(
        message.contains(&format!(
            "{}/cran/src/contrib/headerlib_2.0.0.tar.gz",
            server.url()
        )),
        "{message}"
    );
    assert!(
        message.contains(&expected_md5) && message.contains(&actual_md5),
        "{message}"
    );
    assert_eq!(
        project.lock().unwrap(),
        good_lock,
        "the previous lock is untouched"
    );
}

#[test]
fn offline_uses_the_warm_cache_and_names_what_is_missing() {
    let server = Server::start(&fixtures());
    let layers =
        "[[layer]]\nname = \"r\"\ncran = [\"plotkit\", \"corekit\"]\nbioconductor = [\"SeqTools\"]";
    let project = Project::new(&spec(&http_repos(&server), layers));
    assert!(project.run(&["resolve"]).status.success());
    let online = project.lock().unwrap();
    std::fs::remove_file(project.path("imglock.lock")).unwrap();
    let url = server.url();
    drop(server);
    let output = project.run(&["resolve", "--offline"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(project.lock().unwrap(), online);

    // A cold cache has nothing to offer.
    let cold = Project::new(&spec(
        &format!("cran = [\"{url}/cran\"]"),
        "[[layer]]\nname = \"r\"\ncran = [\"fastsum\"]",
    ));
    let output = cold.run(&["resolve", "--offline"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(&format!(
            "`{url}/cran/src/contrib/PACKAGES.gz` is not in the cache"
        )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_warm_rerun_revalidates_and_downloads_nothing_again() {
    let server = Server::start(&fixtures());
    let project = Project::new(&spec(
        &http_repos(&server),
        "[[layer]]\nname = \"r\"\ncran = [\"plotkit\"]",
    ));
    assert!(project.run(&["resolve"]).status.success());
    let tarball = "/cran/src/contrib/plotkit_3.4.1.tar.gz";
    assert_eq!(server.hits(tarball), 1);
    let output = project.run(&["resolve"]);
    assert!(output.status.success());
    assert!(stderr(&output).contains("Unchanged"), "{}", stderr(&output));
    assert_eq!(
        server.hits(tarball),
        1,
        "artifacts are cached by URL and sha256"
    );
    assert_eq!(
        server.hits("/cran/src/contrib/PACKAGES.gz"),
        2,
        "indexes are revalidated"
    );
}

#[test]
fn the_lock_is_byte_identical_across_runs_and_thread_counts() {
    let server = Server::start(&fixtures());
    let layers = "[[layer]]\nname = \"a\"\ncran = [\"usehdr\", \"plotkit\"]\n\n[[layer]]\nname = \"b\"\ncran = [\"leafy\"]\nbioconductor = [\"SeqTools\"]";
    let one = Project::new(&spec(&http_repos(&server), layers));
    let many = Project::new(&spec(&http_repos(&server), layers));
    assert!(
        one.run_with(&["resolve"], &[("RAYON_NUM_THREADS", "1")])
            .status
            .success()
    );
    assert!(
        many.run_with(&["resolve"], &[("RAYON_NUM_THREADS", "8")])
            .status
            .success()
    );
    let first = one.lock().unwrap();
    assert_eq!(first, many.lock().unwrap());
    std::fs::remove_file(one.path("imglock.lock")).unwrap();
    assert!(one.run(&["resolve", "--upgrade"]).status.success());
    assert_eq!(first, one.lock().unwrap());
}

/// A spec whose layer `r` asks for fastsum, from the fixture repository `repository` (`cran`,
/// or `cran-next`, the later snapshot publishing corekit 1.2.0 and archiving 1.1-2).
fn fastsum_spec(server: &Server, repository: &str) -> String {
    spec(
        &format!("cran = [\"{}/{repository}\"]", server.url()),
        "[[layer]]\nname = \"r\"\ncran = [\"fastsum\"]",
    )
}

/// A name no locked package has, given to `--upgrade-package`, is an error naming the closest
/// locked name, and the lock is left as it was (a typo would otherwise upgrade nothing).
#[test]
fn an_unknown_upgrade_package_is_an_error_with_the_closest_name() {
    let server = Server::start(&fixtures());
    let project = Project::new(&fastsum_spec(&server, "cran"));
    assert!(project.run(&["resolve"]).status.success());
    let before = project.lock().unwrap();
    project.write_spec(&fastsum_spec(&server, "cran-next"));
    let output = project.run(&["resolve", "--upgrade-package", "corekti"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "--upgrade-package corekti: no package of that name is in the lock (did you mean `corekit`?)"
        ),
        "{}",
        stderr(&output)
    );
    assert_eq!(project.lock().unwrap(), before, "the lock was written");
}

/// `resolve` says what it changed, in `imglock diff`'s words; `--dry-run` says it and writes
/// nothing; `--locked` fails, writing nothing, while the lock is not what the spec resolves to,
/// and passes once it is.
#[test]
fn resolve_says_what_changed_and_dry_run_and_locked_write_nothing() {
    let server = Server::start(&fixtures());
    let project = Project::new(&fastsum_spec(&server, "cran"));
    assert!(project.run(&["resolve"]).status.success());
    let before = project.lock().unwrap();
    project.write_spec(&fastsum_spec(&server, "cran-next"));
    let upgrade = ["resolve", "--upgrade-package", "corekit"];
    let upgraded = "layer `r`: ↑ corekit 1.1-2 → 1.2.0";

    let output = project.run(&[&upgrade[..], &["--dry-run"]].concat());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains(upgraded), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Would write"),
        "{}",
        stderr(&output)
    );
    assert_eq!(project.lock().unwrap(), before, "--dry-run wrote the lock");

    let output = project.run(&["resolve", "--locked"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("(--locked)"),
        "{}",
        stderr(&output)
    );
    assert_eq!(project.lock().unwrap(), before, "--locked wrote the lock");

    let output = project.run(&upgrade);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains(upgraded), "{}", stderr(&output));
    let output = project.run(&["resolve", "--locked"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("Unchanged"), "{}", stderr(&output));
}

#[test]
fn existing_pins_are_kept_until_upgraded() {
    let server = Server::start(&fixtures());
    let layers = "[[layer]]\nname = \"r\"\ncran = [\"fastsum\"]";
    let project = Project::new(&spec(
        &format!("cran = [\"{}/cran\"]", server.url()),
        layers,
    ));
    assert!(project.run(&["resolve"]).status.success());
    let version = |project: &Project| {
        let value: toml::Value = toml::from_str(&project.lock().unwrap()).unwrap();
        package(&value, "corekit")["version"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(version(&project), "1.1-2");

    // A later snapshot publishes corekit 1.2.0 and archives 1.1-2: the pin holds.
    project.write_spec(&spec(
        &format!("cran = [\"{}/cran-next\"]", server.url()),
        layers,
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(version(&project), "1.1-2");
    assert!(
        project
            .lock()
            .unwrap()
            .contains("cran-next/src/contrib/Archive/corekit/corekit_1.1-2.tar.gz")
    );

    let output = project.run(&["resolve", "--upgrade-package", "corekit"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(version(&project), "1.2.0");

    // A pin that no longer fits the spec is chosen again.
    project.write_spec(&spec(
        &format!("cran = [\"{}/cran-next\"]", server.url()),
        "[[layer]]\nname = \"r\"\ncran = [\"corekit == 1.0.0\"]",
    ));
    assert!(project.run(&["resolve"]).status.success());
    assert_eq!(version(&project), "1.0.0");
    project.write_spec(&spec(
        &format!("cran = [\"{}/cran-next\"]", server.url()),
        layers,
    ));
    assert!(project.run(&["resolve"]).status.success());
    assert_eq!(
        version(&project),
        "1.2.0",
        "fastsum needs corekit >= 1.1, so the 1.0.0 pin gives way"
    );
    project.write_spec(&spec(
        &format!("cran = [\"{}/cran\"]", server.url()),
        layers,
    ));
    assert!(project.run(&["resolve", "--upgrade"]).status.success());
    assert_eq!(version(&project), "1.1-2");
}

#[test]
fn check_tells_fresh_from_stale_without_the_network() {
    let server = Server::start(&fixtures());
    let repos = http_repos(&server);
    let project = Project::new(&spec(
        &repos,
        "[[layer]]\nname = \"r\"\ncran = [\"fastsum\"]",
    ));
    assert!(project.run(&["resolve"]).status.success());
    drop(server);
    let output = project.run(&["check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Comments and formatting do not make a lock stale.
    project.write_spec(&format!(
        "# a comment\n{}",
        spec(
            &repos,
            "[[layer]]\nname   =   \"r\"\ncran = [ \"fastsum\" ]"
        )
    ));
    assert_eq!(project.run(&["check"]).status.code(), Some(0));
    project.write_spec(&spec(
        &repos,
        "[[layer]]\nname = \"r\"\ncran = [\"fastsum\", \"headerlib\"]",
    ));
    let output = project.run(&["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["fresh"], serde_json::Value::Bool(false));
    assert_ne!(report["spec_hash"], report["lock_spec_hash"]);
}

#[test]
fn a_missing_lock_is_stale_and_a_missing_spec_an_error() {
    let project = Project::new(&spec(
        "cran = [\"https://cran.example.invalid\"]",
        "[[layer]]\nname = \"r\"\ncran = [\"x\"]",
    ));
    let output = project.run(&["check"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("there is no lock yet"),
        "{}",
        stderr(&output)
    );
    let output = project.run(&["resolve", "--spec", "nowhere.toml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("nowhere.toml: cannot read the spec"),
        "{}",
        stderr(&output)
    );
}
