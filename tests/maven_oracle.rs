//! Maven resolutions compared with real Maven's (scripts/maven-oracle.py, which runs Debian's
//! `mvn dependency:tree` over the same repository): every case of fixtures/maven, recorded in
//! fixtures/maven/expected by fixtures/maven/record-expected.sh, and the real Central POMs of
//! ../shared/corpora/maven/central, recorded in fixtures/maven/corpus-expected (skipped with a
//! message when ../shared is absent).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use imglock::fetch::{Cache, FetchOptions, Fetcher};
use imglock::maven::coordinate::Coordinate;
use imglock::maven::resolve::{Request, resolve};
use imglock::maven::store::PomStore;
use imglock::progress::Progress;
use imglock::repository::Repository;

const G: &str = "org.imglock.fixture";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/maven")
}

/// `group:artifact:type:classifier:version scope` of each artifact.
type Answer = BTreeSet<String>;

fn expected(file: &Path) -> Answer {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] != "pom")
        .map(|a| {
            format!(
                "{}:{}:{}:{}:{} {}",
                a["group"].as_str().unwrap(),
                a["artifact"].as_str().unwrap(),
                a["type"].as_str().unwrap(),
                a["classifier"].as_str().unwrap(),
                a["version"].as_str().unwrap(),
                a["scope"].as_str().unwrap()
            )
        })
        .collect()
}

fn imglock(repository: &Path, roots: &[&str], exclusions: &[(&str, &str)]) -> Answer {
    let cache = tempfile::tempdir().unwrap();
    let fetcher = Fetcher::new(FetchOptions {
        cache: Cache::at(cache.path()),
        offline: false,
        progress: Progress::hidden(),
    })
    .unwrap();
    let repository = Repository::parse(
        &format!("file://{}", repository.display()),
        Path::new("/"),
        Path::new("/"),
    )
    .unwrap();
    let store = PomStore::new(&fetcher, vec![repository]);
    let requests: Vec<Request> = roots
        .iter()
        .map(|root| Request {
            coordinate: Coordinate::parse(root).unwrap(),
            exclusions: exclusions
                .iter()
                .map(|(g, a)| (g.to_string(), a.to_string()))
                .collect(),
            scope: "compile",
        })
        .collect();
    resolve(&store, &requests)
        .unwrap()
        .artifacts
        .into_iter()
        .map(|a| {
            let c = a.coordinate;
            format!(
                "{}:{}:{}:{}:{} {}",
                c.group,
                c.artifact,
                c.kind,
                c.classifier.unwrap_or_default(),
                c.version,
                a.scope
            )
        })
        .collect()
}

fn compare(name: &str, ours: &Answer, maven: &Answer) -> Option<String> {
    (ours != maven).then(|| {
        format!(
            "{name}: only imglock {:?}; only Maven {:?}",
            ours.difference(maven).collect::<Vec<_>>(),
            maven.difference(ours).collect::<Vec<_>>()
        )
    })
}

#[test]
fn every_fixture_case_resolves_as_maven_does() {
    let single = [
        "core",
        "uses-bom",
        "with-exclusions",
        "with-optional",
        "scoped",
        "ranged-user",
        "relocated-user",
        "nearest-user",
        "first-user",
        "first-user-rev",
        "conflicts",
        "native-user",
        "tj-user",
        "profiled",
        "profiled-default",
    ];
    let mut cases: Vec<(String, Vec<String>, Vec<(&str, &str)>)> = single
        .iter()
        .map(|a| (format!("{a}-1.0"), vec![format!("{G}:{a}:1.0")], Vec::new()))
        .collect();
    cases.push(("app-1.0".into(), vec![format!("{G}:app:1.0")], Vec::new()));
    cases.push(("app-2.0".into(), vec![format!("{G}:app:2.0")], Vec::new()));
    cases.push((
        "legacy-old-name-1.0".into(),
        vec!["org.imglock.legacy:old-name:1.0".into()],
        Vec::new(),
    ));
    cases.push((
        "multi-root".into(),
        vec![
            format!("{G}:first-user:1.0"),
            format!("{G}:leaf-d:2.0"),
            format!("{G}:natives-lib:natives:1.0"),
            format!("{G}:core-api:test-jar:tests:1.0"),
        ],
        Vec::new(),
    ));
    cases.push((
        "root-exclusions".into(),
        vec![
            format!("{G}:with-exclusions:1.0"),
            format!("{G}:nearest-user:1.0"),
        ],
        vec![("org.imglock.noise", "*"), (G, "leaf-c")],
    ));
    cases.push((
        "app-1.0-plus-rev".into(),
        vec![format!("{G}:app:1.0"), format!("{G}:first-user-rev:1.0")],
        Vec::new(),
    ));
    let mut differences = Vec::new();
    for (name, roots, exclusions) in &cases {
        let roots: Vec<&str> = roots.iter().map(String::as_str).collect();
        let ours = imglock(&fixtures().join("repo"), &roots, exclusions);
        let maven = expected(&fixtures().join(format!("expected/{name}.json")));
        assert!(!maven.is_empty(), "{name}: Maven resolved something");
        differences.extend(compare(name, &ours, &maven));
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn the_central_corpus_resolves_as_maven_does() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/maven/central");
    if !corpus.is_dir() {
        eprintln!("skipped: ../shared/corpora/maven/central is absent");
        return;
    }
    let mut differences = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(fixtures().join("corpus-expected")).unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .strip_suffix(".json")
        else {
            continue;
        };
        let parts: Vec<&str> = stem.split('_').collect();
        let (group, rest) = (parts[0], &parts[1..]);
        let version = rest[rest.len() - 1];
        let artifact = rest[..rest.len() - 1].join("_");
        let root = format!("{group}:{artifact}:{version}");
        let ours = imglock(&corpus, &[&root], &[]);
        differences.extend(compare(&root, &ours, &expected(&path)));
        checked += 1;
    }
    assert!(checked >= 2);
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
