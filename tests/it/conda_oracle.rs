//! conda solutions compared with py-rattler's (scripts/conda-oracle.py) on the same channels:
//! the hand-written fixtures and the real channel metadata of ../shared/corpora/conda. Skipped
//! without py-rattler, except under `CI=true`, where that is a failure.

use std::collections::BTreeSet;

use crate::support::conda::*;
use crate::support::{Project, Server, stderr};

// ---- py-rattler as the oracle ----------------------------------------------------------------

/// Whether the oracle can run; under CI it must.
fn oracle_ready() -> bool {
    crate::support::available(
        py_rattler_available(),
        "python3 cannot import rattler and zstandard (pip install py-rattler zstandard)",
    )
}

/// One record the oracle chose.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Chosen {
    name: String,
    version: String,
    build: String,
    url: String,
}

/// py-rattler's solution for `specs` over `channels`, with the given virtual packages.
fn oracle(
    channels: &[String],
    virtual_packages: &[String],
    exclude_newer: Option<&str>,
    specs: &[&str],
) -> Result<BTreeSet<Chosen>, String> {
    let mut extra = Vec::new();
    if let Some(limit) = exclude_newer {
        extra.extend([
            "--exclude-newer",
            limit,
            "--timestamp-policy",
            "allow-missing",
        ]);
    }
    let output = conda_oracle_command(channels, virtual_packages, &extra, specs)
        .output()
        .expect("run python3 scripts/conda-oracle.py");
    match output.status.code() {
        Some(0) => {}
        Some(1) => return Err(stderr(&output)),
        _ => panic!("conda-oracle.py failed: {}", stderr(&output)),
    }
    let records: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    Ok(records
        .iter()
        .map(|r| Chosen {
            name: r["name"].as_str().unwrap().to_string(),
            version: r["version"].as_str().unwrap().to_string(),
            build: r["build"].as_str().unwrap().to_string(),
            url: r["url"].as_str().unwrap().to_string(),
        })
        .collect())
}

/// Resolves `specs` (one layer) over `channels` with imglock and with py-rattler, and checks
/// both chose the same records (name, version, build) from the same files.
fn agrees_with_oracle(channels: &[String], exclude_newer: Option<&str>, specs: &[&str]) -> usize {
    let project = Project::new(&conda_spec(channels, "", &[("env", specs)]));
    let mut args = vec!["resolve"];
    if let Some(limit) = exclude_newer {
        args.extend(["--exclude-newer", limit]);
    }
    let output = project.run(&args);
    assert!(output.status.success(), "{specs:?}: {}", stderr(&output));
    let lock = project.lock().unwrap();
    let ours: BTreeSet<Chosen> = lock_packages(&lock)
        .into_iter()
        .map(|p| Chosen {
            name: p.name,
            version: p.version,
            build: p.build,
            url: p.url,
        })
        .collect();
    let theirs = oracle(channels, &virtual_packages(&lock), exclude_newer, specs)
        .unwrap_or_else(|e| panic!("py-rattler finds no solution for {specs:?}:\n{e}"));
    let key = |c: &Chosen| (c.name.clone(), c.version.clone(), c.build.clone());
    let ours_keys: BTreeSet<_> = ours.iter().map(key).collect();
    let theirs_keys: BTreeSet<_> = theirs.iter().map(key).collect();
    assert_eq!(
        ours_keys,
        theirs_keys,
        "{specs:?}: imglock only {:?}, py-rattler only {:?}",
        ours_keys.difference(&theirs_keys).collect::<Vec<_>>(),
        theirs_keys.difference(&ours_keys).collect::<Vec<_>>()
    );
    assert_eq!(
        ours,
        theirs,
        "{specs:?}: same records, different files: imglock only {:?}, py-rattler only {:?}",
        ours.difference(&theirs).collect::<Vec<_>>(),
        theirs.difference(&ours).collect::<Vec<_>>()
    );
    ours.len()
}

#[test]
fn the_fixture_solutions_match_py_rattler() {
    if !oracle_ready() {
        return;
    }
    let server = serve_fixtures();
    let channels = vec![
        format!("{}/main", server.url()),
        format!("{}/forge", server.url()),
    ];
    assert_eq!(agrees_with_oracle(&channels, None, &DASK), 6);
    assert_eq!(
        agrees_with_oracle(&channels, Some("2023-01-01T00:00:00Z"), &DASK),
        6
    );
    assert_eq!(agrees_with_oracle(&channels, None, &["zedtool"]), 4);
    assert_eq!(agrees_with_oracle(&channels, None, &["pyfoo"]), 3);
    assert_eq!(
        agrees_with_oracle(
            &channels,
            None,
            &["dualfmt", "featpkg", "python", "tzdataish"]
        ),
        5
    );
    let reversed = vec![channels[1].clone(), channels[0].clone()];
    assert_eq!(
        agrees_with_oracle(&reversed, None, &["sharedpkg", "python"]),
        2
    );
    // And both find no solution where the README says there is none.
    let virtual_packages: Vec<String> = DEFAULT_VIRTUAL.iter().map(|s| s.to_string()).collect();
    assert!(
        oracle(
            &channels,
            &virtual_packages,
            None,
            &["conflict-a", "conflict-b"]
        )
        .is_err()
    );
}

/// The corpus channels served on 127.0.0.1, or `None` (with a message) without ../shared or
/// py-rattler.
fn corpus_server() -> Option<(tempfile::TempDir, Server)> {
    let corpus = conda_corpus()?;
    if !oracle_ready() {
        return None;
    }
    let root = conda_corpus_channels(&corpus);
    let server = Server::start(root.path());
    Some((root, server))
}

#[test]
fn the_defaults_corpus_solutions_match_py_rattler() {
    let Some((_root, server)) = corpus_server() else {
        return;
    };
    let index4 = vec![format!("{}/index4", server.url())];
    let sets: &[&[&str]] = &[
        &["python 3.6.*", "numpy", "pandas"],
        &["python 3.6.*", "scipy", "requests"],
        &["python 3.7.*", "matplotlib", "scipy"],
        &["dask", "distributed"],
    ];
    for specs in sets {
        let n = agrees_with_oracle(&index4, None, specs);
        assert!(n > 20, "{specs:?}: {n} packages");
    }
}

#[test]
fn the_pytorch_corpus_solutions_match_py_rattler() {
    let Some((_root, server)) = corpus_server() else {
        return;
    };
    let channels = vec![
        format!("{}/pytorch", server.url()),
        format!("{}/index4", server.url()),
    ];
    let sets: &[&[&str]] = &[
        &["pytorch-cpu"],
        &["python 3.6.*", "pytorch-cpu", "faiss-cpu"],
    ];
    for specs in sets {
        let n = agrees_with_oracle(&channels, None, specs);
        assert!(n > 20, "{specs:?}: {n} packages");
    }
}

#[test]
fn the_r_corpus_solutions_match_py_rattler() {
    let Some((_root, server)) = corpus_server() else {
        return;
    };
    let channels = vec![
        format!("{}/r", server.url()),
        format!("{}/index4", server.url()),
    ];
    let sets: &[&[&str]] = &[
        &["r-base", "r-ggplot2"],
        &["r-base", "r-dplyr", "r-data.table", "r-shiny"],
        &["r-essentials"],
    ];
    for specs in sets {
        let n = agrees_with_oracle(&channels, None, specs);
        assert!(n > 50, "{specs:?}: {n} packages");
    }
}
