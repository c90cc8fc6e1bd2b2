//! How Maven POMs are fetched: over hand-written repositories served with latency, the server's
//! log of when each file was asked for shows that a POM leads at once to its parent, all its
//! BOMs and its dependencies' POMs, and that the rounds taken match the critical-path bound.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use imglock::fetch::REQUESTS_PER_HOST;
use imglock::maven::coordinate::Coordinate;
use imglock::maven::resolve::{Request, resolve};
use imglock::maven::store::PomStore;
use imglock::maven::{Scope, bound};
use imglock::repository::Repository;

use crate::support::{Fault, Server};

/// Writes the POM of `org.overlap:{artifact}:1` into the repository at `root`, with `body` (its
/// parent, dependencies, dependency management) after the coordinates.
fn write_pom(root: &Path, artifact: &str, body: &str) {
    let folder = root.join(format!("org/overlap/{artifact}/1"));
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join(format!("{artifact}-1.pom")),
        format!(
            "<project><modelVersion>4.0.0</modelVersion><groupId>org.overlap</groupId>\
             <artifactId>{artifact}</artifactId><version>1</version>{body}</project>"
        ),
    )
    .unwrap();
}

/// A `<dependency>` on `org.overlap:{artifact}`, with `extra` elements (a version, a scope).
fn dependency(artifact: &str, extra: &str) -> String {
    format!(
        "<dependency><groupId>org.overlap</groupId><artifactId>{artifact}</artifactId>{extra}</dependency>"
    )
}

/// What resolving `org.overlap:app:1` showed.
struct Overlap {
    /// When each file was last asked for, by file name.
    asked: HashMap<String, Instant>,
    /// The artifacts chosen, by artifact name.
    chosen: Vec<String>,
    /// The critical-path bound, in rounds.
    bound: usize,
    /// The critical-path bound of a client with imglock's limit of requests in flight per host.
    within: usize,
    /// The dependent rounds imglock's requests took.
    rounds: usize,
}

/// Resolves `org.overlap:app:1` from the repository at `root`, served with 100 ms of latency
/// (and what `prepare` sets up).
fn resolve_overlap(root: &Path, prepare: impl FnOnce(&Server)) -> Overlap {
    let server = Server::start(root);
    server.set_latency(Duration::from_millis(100));
    prepare(&server);
    let cache = tempfile::tempdir().unwrap();
    let fetcher = crate::support::library_fetcher(cache.path());
    let repository = Repository::parse(&server.url(), Path::new("/"), Path::new("/")).unwrap();
    let store = PomStore::new(&fetcher, vec![repository]);
    let coordinate = Coordinate::parse("org.overlap:app:1").unwrap();
    let request = Request {
        coordinate: coordinate.clone(),
        exclusions: Vec::new(),
        scope: Scope::Compile,
    };
    let resolution = resolve(&store, &[request]).unwrap();
    let needed: Vec<_> = resolution
        .artifacts
        .iter()
        .map(|a| a.coordinate.gav())
        .collect();
    let chosen = resolution
        .artifacts
        .iter()
        .map(|a| a.coordinate.artifact.clone())
        .collect();
    let asked = server
        .arrivals()
        .into_iter()
        .map(|(path, at)| (path.rsplit('/').next().unwrap().to_string(), at))
        .collect();
    let roots = [coordinate.gav()];
    Overlap {
        asked,
        chosen,
        bound: bound::rounds(&store, &roots, &needed),
        within: bound::rounds_within(&store, &roots, &needed, REQUESTS_PER_HOST, 0),
        rounds: store.rounds(),
    }
}

#[test]
fn a_pom_leads_at_once_to_all_its_boms_and_dependencies_wait_for_no_other_branch() {
    let served = tempfile::tempdir().unwrap();
    let root = served.path();
    // app imports nine BOMs (bom-0 manages lib's version) and depends on lib, on `chained`
    // (three parents deep) and on `near`, which depends on `far`.
    let imports: String = (0..9)
        .map(|i| {
            dependency(
                &format!("bom-{i}"),
                "<version>1</version><type>pom</type><scope>import</scope>",
            )
        })
        .collect();
    let dependencies = [
        dependency("lib", ""),
        dependency("chained", "<version>1</version>"),
        dependency("near", "<version>1</version>"),
    ]
    .concat();
    write_pom(
        root,
        "app",
        &format!(
            "<dependencyManagement><dependencies>{imports}</dependencies></dependencyManagement>\
             <dependencies>{dependencies}</dependencies>"
        ),
    );
    for i in 0..9 {
        let managed = dependency(
            if i == 0 { "lib" } else { "unused" },
            "<version>1</version>",
        );
        write_pom(
            root,
            &format!("bom-{i}"),
            &format!(
                "<packaging>pom</packaging><dependencyManagement><dependencies>{managed}</dependencies></dependencyManagement>"
            ),
        );
    }
    let parent = |name: &str| {
        format!(
            "<parent><groupId>org.overlap</groupId><artifactId>{name}</artifactId><version>1</version></parent>"
        )
    };
    write_pom(root, "chained", &parent("parent-1"));
    write_pom(root, "parent-1", &parent("parent-2"));
    write_pom(root, "parent-2", &parent("parent-3"));
    write_pom(root, "parent-3", "<packaging>pom</packaging>");
    write_pom(
        root,
        "near",
        &format!(
            "<dependencies>{}</dependencies>",
            dependency("far", "<version>1</version>")
        ),
    );
    for leaf in ["lib", "far"] {
        write_pom(root, leaf, "");
    }

    let Overlap {
        asked,
        chosen,
        bound,
        within,
        rounds,
    } = resolve_overlap(root, |_| {});
    assert_eq!(chosen, ["app", "lib", "chained", "near", "far"]);
    assert_eq!(within, bound, "a few POMs a round fit the per-host limit");
    // A perfect client needs six rounds: app; the BOMs; lib, chained and near; then chained's
    // three parents one by one (far comes with the first of them). imglock takes as many.
    assert_eq!((bound, rounds), (6, 6));
    // The nine BOMs are asked for together, within one round trip, not one per round trip.
    let boms: Vec<Instant> = (0..9).map(|i| asked[&format!("bom-{i}-1.pom")]).collect();
    let spread = *boms.iter().max().unwrap() - *boms.iter().min().unwrap();
    assert!(
        spread < Duration::from_millis(100),
        "the nine BOMs were asked for over {spread:?}"
    );
    // `far` is asked for as soon as `near` is read, not after `chained`'s parents: before the
    // last of them.
    assert!(
        asked["far-1.pom"] < asked["parent-3-1.pom"],
        "far was asked for {:?} after parent-3",
        asked["far-1.pom"] - asked["parent-3-1.pom"]
    );
    // `chained`'s jar is asked for as soon as its POM is read, beside its first parent: the
    // dependency that named it said which file it is, so its parents need not be read first.
    assert!(
        asked["chained-1.jar"] < asked["parent-2-1.pom"],
        "chained's jar was asked for {:?} after parent-2",
        asked["chained-1.jar"] - asked["parent-2-1.pom"]
    );
}

#[test]
fn a_bom_leads_to_its_parent_without_waiting_for_the_other_boms() {
    let served = tempfile::tempdir().unwrap();
    let root = served.path();
    let import = "<version>1</version><type>pom</type><scope>import</scope>";
    write_pom(
        root,
        "app",
        &format!(
            "<dependencyManagement><dependencies>{}{}</dependencies></dependencyManagement>",
            dependency("quick-bom", import),
            dependency("slow-bom", import)
        ),
    );
    write_pom(
        root,
        "quick-bom",
        "<parent><groupId>org.overlap</groupId><artifactId>bom-parent</artifactId><version>1</version></parent><packaging>pom</packaging>",
    );
    write_pom(root, "bom-parent", "<packaging>pom</packaging>");
    write_pom(root, "slow-bom", "<packaging>pom</packaging>");
    // slow-bom's first answer drips and breaks off: it lands only when asked again.
    let Overlap { asked, .. } = resolve_overlap(root, |server| {
        let drip = Fault::Drip {
            interval: Duration::from_millis(50),
            bytes: 6,
        };
        server.inject("/org/overlap/slow-bom/1/slow-bom-1.pom", vec![drip]);
    });
    assert!(
        asked["bom-parent-1.pom"] < asked["slow-bom-1.pom"],
        "bom-parent was asked for {:?} after slow-bom's second request",
        asked["bom-parent-1.pom"] - asked["slow-bom-1.pom"]
    );
}

/// Every Maven layer's POMs are asked for from the first round: the second layer's root POM
/// does not wait for the first layer's tree to be resolved.
#[test]
fn every_maven_layers_poms_are_asked_for_from_the_first_round() {
    const LATENCY: Duration = Duration::from_millis(200);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/maven/repo");
    let server = Server::start(&root);
    server.set_latency(LATENCY);
    let spec = format!(
        "[image]\nname = \"jars\"\nbase = \"docker.io/library/eclipse-temurin@sha256:{}\"\n\n\
         [repositories]\nmaven = [\"{}\"]\n\n\
         [[layer]]\nname = \"base\"\nmaven-target = \"/opt/jars\"\nmaven = [\"org.imglock.fixture:app:1.0\"]\n\n\
         [[layer]]\nname = \"more\"\nmaven-target = \"/opt/jars\"\nmaven = [\"org.imglock.fixture:uses-bom:1.0\"]\n",
        "e".repeat(64),
        server.url()
    );
    let project = crate::support::Project::new(&spec);
    let output = project.run(&["resolve"]);
    assert!(
        output.status.success(),
        "{}",
        crate::support::output_text(&output)
    );
    let arrivals = server.arrivals();
    let first = arrivals[0].1;
    let (_, asked) = arrivals
        .iter()
        .find(|(path, _)| path.ends_with("/uses-bom-1.0.pom"))
        .expect("the second layer's root POM is asked for");
    assert!(
        asked.duration_since(first) < LATENCY,
        "the second layer's root POM was asked {:?} after the first request",
        asked.duration_since(first)
    );
}

/// The bound holds a perfect client to imglock's limit of requests in flight per host: 120
/// dependencies named by one POM are one round deep, but take three rounds of 50 requests.
#[test]
fn the_bound_holds_a_client_to_the_requests_in_flight_per_host() {
    let served = tempfile::tempdir().unwrap();
    let root = served.path();
    let leaves = 120;
    let dependencies: String = (0..leaves)
        .map(|i| dependency(&format!("leaf-{i}"), "<version>1</version>"))
        .collect();
    write_pom(
        root,
        "app",
        &format!("<dependencies>{dependencies}</dependencies>"),
    );
    for i in 0..leaves {
        write_pom(root, &format!("leaf-{i}"), "");
    }
    let Overlap {
        chosen,
        bound,
        within,
        ..
    } = resolve_overlap(root, |_| {});
    assert_eq!(chosen.len(), leaves + 1);
    assert_eq!(REQUESTS_PER_HOST, 50);
    // app in round 1; the leaves, all named by app, from round 2 on, 50 a round: rounds 2-4.
    assert_eq!((bound, within), (2, 4));
}
