//! Maven resolutions compared with real Maven's (scripts/maven-oracle.py, which runs Debian's
//! `mvn dependency:tree` over the same repository): every case of fixtures/maven, recorded in
//! fixtures/maven/expected by fixtures/maven/record-expected.sh, and the real Central POMs of
//! ../shared/corpora/maven/central, recorded in fixtures/maven/corpus-expected (skipped with a
//! message when ../shared is absent, a failure under `CI=true`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use imglock::maven::coordinate::Coordinate;
use imglock::maven::resolve::{Request, resolve};
use imglock::maven::store::PomStore;
use imglock::repository::Repository;

const G: &str = "org.imglock.fixture";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/maven")
}

/// `group:artifact:type:classifier:version scope` of each artifact.
type Answer = BTreeSet<String>;

/// A recorded case: its name, the root coordinates and the root exclusions.
type Case<'a> = (String, Vec<String>, Vec<(&'a str, &'a str)>);

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

/// A repository of only `maven-metadata.xml` files listing the versions whose POMs `corpus`
/// holds: what `scripts/maven-oracle.py --synthesize-metadata` gives Maven (the corpus has
/// none, and version ranges need them).
fn synthesized_metadata(corpus: &Path) -> tempfile::TempDir {
    fn walk(dir: &Path, found: &mut BTreeMap<PathBuf, Vec<String>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "pom") {
                let version_dir = path.parent().unwrap();
                let version = version_dir
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                found
                    .entry(version_dir.parent().unwrap().to_path_buf())
                    .or_default()
                    .push(version);
            }
        }
    }
    let mut found = BTreeMap::new();
    walk(corpus, &mut found);
    let overlay = tempfile::tempdir().unwrap();
    for (artifact_dir, versions) in found {
        let relative = artifact_dir.strip_prefix(corpus).unwrap();
        let list: String = versions
            .iter()
            .map(|v| format!("<version>{v}</version>"))
            .collect();
        let dir = overlay.path().join(relative);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("maven-metadata.xml"),
            format!("<metadata><versioning><versions>{list}</versions></versioning></metadata>"),
        )
        .unwrap();
    }
    overlay
}

fn imglock(repositories: &[&Path], roots: &[&str], exclusions: &[(&str, &str)]) -> Answer {
    let cache = tempfile::tempdir().unwrap();
    let fetcher = crate::support::library_fetcher(cache.path());
    let repositories = repositories
        .iter()
        .map(|path| {
            Repository::parse(
                &format!("file://{}", path.display()),
                Path::new("/"),
                Path::new("/"),
            )
            .unwrap()
        })
        .collect();
    let store = PomStore::new(&fetcher, repositories);
    let requests: Vec<Request> = roots
        .iter()
        .map(|root| Request {
            coordinate: Coordinate::parse(root).unwrap(),
            exclusions: exclusions
                .iter()
                .map(|(g, a)| (g.to_string(), a.to_string()))
                .collect(),
            scope: imglock::maven::Scope::Compile,
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
    let mut cases: Vec<Case> = single
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
        let ours = imglock(&[&fixtures().join("repo")], &roots, exclusions);
        let maven = expected(&fixtures().join(format!("expected/{name}.json")));
        assert!(!maven.is_empty(), "{name}: Maven resolved something");
        differences.extend(compare(name, &ours, &maven));
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn the_central_corpus_resolves_as_maven_does() {
    let Some(corpus) = crate::support::shared_corpus("maven/central") else {
        return;
    };
    let metadata = synthesized_metadata(&corpus);
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
        let ours = imglock(&[&corpus, metadata.path()], &[&root], &[]);
        differences.extend(compare(&root, &ours, &expected(&path)));
        checked += 1;
    }
    assert!(checked >= 2);
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// Real Maven, run now: its answers equal imglock's for a fixture scenario and a real Spark
/// artifact, and equal what fixtures/maven/expected recorded. Needs Debian's `maven` and
/// `libmaven-dependency-plugin-java` (scripts/test.sh installs them); skipped without them,
/// except under `CI=true`, where that is a failure.
#[test]
fn real_maven_agrees_now() {
    let has_maven = crate::support::runs("mvn", &["--version"])
        && Path::new("/usr/share/maven-repo/org/apache/maven/plugins/maven-dependency-plugin")
            .is_dir();
    if !crate::support::available(
        has_maven,
        "mvn or Debian's maven-dependency-plugin is not installed",
    ) {
        return;
    }
    let oracle = |repository: &Path, extra: &[&str], root: &str| -> Answer {
        let output = Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/maven-oracle.py"))
            .arg("--repo")
            .arg(repository)
            .args(extra)
            .arg(root)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &output.stdout).unwrap();
        expected(file.path())
    };
    let root = format!("{G}:app:1.0");
    let maven = oracle(&fixtures().join("repo"), &[], &root);
    assert_eq!(maven, expected(&fixtures().join("expected/app-1.0.json")));
    assert_eq!(imglock(&[&fixtures().join("repo")], &[&root], &[]), maven);

    if let Some(corpus) = crate::support::shared_corpus("maven/central") {
        let root = "org.apache.spark:spark-core_2.12:3.2.4";
        let maven = oracle(
            &corpus,
            &["--synthesize-metadata", "--allow-missing-poms"],
            root,
        );
        let metadata = synthesized_metadata(&corpus);
        assert_eq!(imglock(&[&corpus, metadata.path()], &[root], &[]), maven);
    }
}
