//! Maven resolution over the real Central POMs of ../shared/corpora/maven/central, served on
//! 127.0.0.1 with 30 ms of latency per request, with a jar and its `.sha1` beside each artifact
//! the resolutions take, as Central has them ([`support::maven_central`]): spark-core_2.12
//! 3.5.3, hadoop-client 3.2.0 and spark-core_2.12 3.2.4, each cold against its critical-path
//! bound ([`bound::rounds_within`]: the dependent rounds of requests a perfect client needs,
//! computed from the POMs themselves, holding to imglock's limit of requests in flight per host
//! for the POMs, the jars and their checksums, times the latency; the depth alone,
//! [`bound::rounds`], is printed beside it), and warm, with the cache a cold resolve filled,
//! counting what it still asks.
//! Each cold resolve has a cache folder of its own under `TMPDIR`, kept until the bench ends
//! ([`support::cold_caches`]); `TMPDIR=/dev/shm` leaves the file system's cost of creating the
//! cache's files out. Skipped, with a message, when ../shared is absent.

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use imglock::fetch::REQUESTS_PER_HOST;
use imglock::maven::bound;
use imglock::maven::coordinate::Coordinate;
use imglock::maven::resolve::{Request, resolve};
use imglock::maven::store::PomStore;
use imglock::repository::Repository;
use support::cold_caches::ColdCaches;

const ROOTS: [&str; 3] = [
    "org.apache.spark:spark-core_2.12:3.5.3",
    "org.apache.hadoop:hadoop-client:3.2.0",
    "org.apache.spark:spark-core_2.12:3.2.4",
];
/// The recorded resolutions of `ROOTS` (fixtures/maven/corpus-expected), whose jars are served.
const RESOLUTIONS: [&str; 3] = [
    "org.apache.spark_spark-core_2.12_3.5.3",
    "org.apache.hadoop_hadoop-client_3.2.0",
    "org.apache.spark_spark-core_2.12_3.2.4",
];
const LATENCY: Duration = Duration::from_millis(30);
/// The requests fetching an artifact takes: its file and its checksum file.
const REQUESTS_PER_ARTIFACT: usize = 2;

/// What one resolve found: the artifacts chosen, the critical-path bound in rounds (with the
/// per-host limit, and the depth alone), the rounds imglock's requests took, and how long the
/// resolve took (the fetcher's start left out).
struct Outcome {
    artifacts: usize,
    bound: usize,
    depth: usize,
    rounds: usize,
    took: Duration,
}

/// Resolves `root` from `url` with the cache in `cache`.
fn resolve_with(cache: &Path, url: &str, root: &str) -> Outcome {
    let fetcher = support::library_fetcher(cache);
    let repository = Repository::parse(url, Path::new("/"), Path::new("/")).unwrap();
    let store = PomStore::new(&fetcher, vec![repository]);
    let coordinate = Coordinate::parse(root).unwrap();
    let request = Request {
        coordinate: coordinate.clone(),
        exclusions: Vec::new(),
        scope: imglock::maven::Scope::Compile,
    };
    let started = Instant::now();
    let resolution = resolve(&store, &[request]).unwrap();
    let took = started.elapsed();
    let needed: Vec<_> = resolution
        .artifacts
        .iter()
        .map(|a| a.coordinate.gav())
        .collect();
    let roots = [coordinate.gav()];
    Outcome {
        artifacts: resolution.artifacts.len(),
        bound: bound::rounds_within(
            &store,
            &roots,
            &needed,
            REQUESTS_PER_HOST,
            REQUESTS_PER_ARTIFACT,
        ),
        depth: bound::rounds(&store, &roots, &needed),
        rounds: store.rounds(),
        took,
    }
}

/// Resolves `root` from `url` with a new cache from `caches`, retired after it (see
/// [`support::cold_caches`]).
fn resolve_cold(caches: &ColdCaches, url: &str, root: &str) -> Outcome {
    caches.with_fresh(|cache| resolve_with(cache, url, root))
}

/// Prints, for `root`: cold resolves against the bound (the best and the median of five, the
/// resolve alone, with the rounds imglock's requests took), and one warm.
fn measure(caches: &ColdCaches, server: &support::Server, root: &str) {
    let url = server.url();
    let mut times = Vec::new();
    let (mut outcome, mut requests) = (None, 0);
    for _ in 0..5 {
        let before = server.total_hits();
        let found = resolve_cold(caches, &url, root);
        times.push(found.took);
        requests = server.total_hits() - before;
        outcome = Some(found);
    }
    times.sort();
    let outcome = outcome.unwrap();
    let bound = LATENCY * outcome.bound as u32;
    let ratio = |took: Duration| took.as_secs_f64() / bound.as_secs_f64();
    eprintln!(
        "maven bench: {root}: {} artifacts, {requests} requests in {} dependent rounds; critical-path bound {} rounds at {REQUESTS_PER_HOST} requests per host, jars and checksums included ({} deep) = {bound:?}; cold best {:?} = {:.2}x the bound, median {:?} = {:.2}x",
        outcome.artifacts,
        outcome.rounds,
        outcome.bound,
        outcome.depth,
        times[0],
        ratio(times[0]),
        times[2],
        ratio(times[2]),
    );
    let warm_cache = tempfile::tempdir().unwrap();
    resolve_with(warm_cache.path(), &url, root);
    let before = server.total_hits();
    let warm = resolve_with(warm_cache.path(), &url, root).took;
    eprintln!(
        "maven bench: {root}: warm {warm:?} ({:.1} rounds of latency), {} requests",
        warm.as_secs_f64() / LATENCY.as_secs_f64(),
        server.total_hits() - before
    );
}

fn benches(c: &mut Criterion) {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/maven/central");
    if !corpus.is_dir() {
        eprintln!("skipped: ../shared/corpora/maven/central is absent");
        return;
    }
    let repository = support::maven_central::with_artifacts(&corpus, &RESOLUTIONS);
    let server = support::Server::start(&repository.path().join("repo"));
    server.set_latency(LATENCY);
    let url = server.url();
    let caches = ColdCaches::new();
    for root in ROOTS {
        measure(&caches, &server, root);
    }
    let mut group = c.benchmark_group("maven, 30 ms latency");
    group.sample_size(10);
    let root = ROOTS[0];
    group.bench_function(format!("{root}: imglock cold"), |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| resolve_cold(&caches, &url, root).took)
                .sum()
        })
    });
    let warm_cache = tempfile::tempdir().unwrap();
    resolve_with(warm_cache.path(), &url, root);
    group.bench_function(format!("{root}: imglock warm"), |b| {
        b.iter(|| resolve_with(warm_cache.path(), &url, root))
    });
    group.finish();
}

criterion_group!(maven_benches, benches);
criterion_main!(maven_benches);
