//! One spec with every ecosystem (examples/mixed-fixture: CRAN, Bioconductor, PyPI, conda and
//! Maven layers, read through `file:` paths) resolves, checks and emits as a whole. Each
//! ecosystem reads only its own lists, with its own grammar: the R parser once read every list
//! and refused `python-dateutil==2.8.2`, Maven coordinates and conda specs as R package names.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::mixed::MixedRepositories;
use crate::support::{
    Project, after_first_round, output_text, resolved_mixed_example, run_in, stderr,
};

#[test]
fn a_spec_mixing_every_ecosystem_resolves_checks_and_emits() {
    let work = resolved_mixed_example();
    let lock = work.path().join("imglock.lock");

    // Every layer holds its own ecosystem's packages, and only those.
    let value: toml::Value = toml::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    let mut ecosystems: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for layer in value["layer"].as_array().unwrap() {
        let mut found: Vec<String> = layer["package"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["ecosystem"].as_str().unwrap().to_string())
            .collect();
        found.dedup();
        ecosystems.insert(layer["name"].as_str().unwrap().to_string(), found);
    }
    let expected: BTreeMap<String, Vec<String>> = [
        ("r-core", "cran"),
        ("r-bioc", "bioconductor"),
        ("python", "pypi"),
        ("conda-tools", "conda"),
        ("jars", "maven"),
    ]
    .into_iter()
    .map(|(layer, ecosystem)| (layer.to_string(), vec![ecosystem.to_string()]))
    .collect();
    assert_eq!(ecosystems, expected);

    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mixed-fixture/imglock.toml");
    let check = [
        "check",
        "--spec",
        spec.to_str().unwrap(),
        "--lock",
        "imglock.lock",
    ];
    let output = run_in(work.path(), &check);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = work.path().join("build");
    let output = run_in(
        work.path(),
        &[
            "emit",
            "--lock",
            "imglock.lock",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let dockerfile = std::fs::read_to_string(out.join("Dockerfile")).unwrap();
    for step in [
        "R CMD INSTALL",
        "pip install",
        "micromamba install",
        "/opt/jars",
    ] {
        assert!(
            dockerfile.contains(step),
            "no `{step}` step in:\n{dockerfile}"
        );
    }
}

/// Every ecosystem's first request is in flight before any repository has answered: the five
/// repositories (each its own server, each answering after `LATENCY`) are asked at once, not one
/// ecosystem after another. Before, the R indexes were fetched first, conda's repodata after
/// them, and the PyPI pages and Maven POMs only once R and conda had resolved.
#[test]
fn every_ecosystem_of_a_mixed_spec_fetches_from_the_first_instant() {
    const LATENCY: Duration = Duration::from_millis(400);
    let repositories = MixedRepositories::start();
    let names = [
        "cran",
        "bioc",
        "pypi/simple",
        "conda/channels",
        "maven/repo",
    ];
    for name in names {
        repositories.server(name).set_latency(LATENCY);
    }
    let project = Project::new(&repositories.spec(None));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", output_text(&output));

    let firsts: Vec<(String, Instant)> = names
        .iter()
        .map(|name| (name.to_string(), repositories.server(name).arrivals()[0].1))
        .collect();
    let late = after_first_round(&firsts, LATENCY);
    assert!(
        late.is_empty(),
        "asked only after the first answer ({LATENCY:?}): {late:?}"
    );
}

/// When several ecosystems fail, the error reported is the earliest stage's (here conda's
/// repodata, which it cannot load), not the first to happen (PyPI's unknown project, which a
/// slow conda server lets PyPI find first): the same spec gives the same error every time.
#[test]
fn of_several_failing_ecosystems_the_earliest_stage_is_reported() {
    let repositories = MixedRepositories::start();
    repositories
        .server("conda/channels")
        .set_latency(Duration::from_millis(500));
    let spec = repositories
        .spec(None)
        .replace("\"idna==3.3\"", "\"nosuchproject==1.0\"")
        .replace("/main\"", "/nosuchchannel\"");
    assert!(spec.contains("nosuchproject") && spec.contains("nosuchchannel"));
    let project = Project::new(&spec);
    let output = project.run(&["resolve"]);
    let text = output_text(&output);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains("cannot prepare the conda packages"),
        "the conda channel's failure is reported: {text}"
    );
    assert!(!text.contains("nosuchproject"), "{text}");
}
