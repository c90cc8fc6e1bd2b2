//! Maven resolution of spark-core_2.12 3.2.4 over the real Central POMs of
//! ../shared/corpora/maven/central, served on 127.0.0.1 with 30 ms of latency per request,
//! against the critical-path bound: the depth of the resolved tree times the latency (the time
//! any resolver needs that fetches a POM only after its parent in the tree is read); and warm,
//! with the cache a cold resolve filled, counting what it still asks. Skipped, with a message,
//! when ../shared is absent.

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use imglock::fetch::{Cache, FetchOptions, Fetcher};
use imglock::maven::coordinate::Coordinate;
use imglock::maven::resolve::{Request, Resolution, resolve};
use imglock::maven::store::PomStore;
use imglock::progress::Progress;
use imglock::repository::Repository;

const ROOT: &str = "org.apache.spark:spark-core_2.12:3.2.4";
const LATENCY: Duration = Duration::from_millis(30);

fn resolve_cold(url: &str) -> Resolution {
    let cache = tempfile::tempdir().unwrap();
    resolve_with(cache.path(), url)
}

/// Resolves [`ROOT`] from `url` with the cache in `cache`.
fn resolve_with(cache: &Path, url: &str) -> Resolution {
    let fetcher = Fetcher::new(FetchOptions {
        cache: Cache::at(cache),
        offline: false,
        refresh: false,
        progress: Progress::hidden(),
        limits: Default::default(),
    })
    .unwrap();
    let repository = Repository::parse(url, Path::new("/"), Path::new("/")).unwrap();
    let store = PomStore::new(&fetcher, vec![repository]);
    let request = Request {
        coordinate: Coordinate::parse(ROOT).unwrap(),
        exclusions: Vec::new(),
        scope: imglock::maven::Scope::Compile,
    };
    resolve(&store, &[request]).unwrap()
}

fn benches(c: &mut Criterion) {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/maven/central");
    if !corpus.is_dir() {
        eprintln!("skipped: ../shared/corpora/maven/central is absent");
        return;
    }
    let server = support::Server::start(&corpus);
    server.set_latency(LATENCY);
    let url = server.url();
    // The bound: one round trip per level of the resolved tree.
    let started = Instant::now();
    let resolution = resolve_cold(&url);
    let once = started.elapsed();
    let depth = 1 + resolution
        .artifacts
        .iter()
        .map(|a| a.path.len())
        .max()
        .unwrap_or(0);
    let requests = server.total_hits();
    let bound = LATENCY * depth as u32;
    eprintln!(
        "maven bench: {} artifacts, tree depth {depth}, {requests} requests; critical-path bound {bound:?}; one cold resolve {once:?} = {:.2}× the bound",
        resolution.artifacts.len(),
        once.as_secs_f64() / bound.as_secs_f64()
    );
    let warm_cache = tempfile::tempdir().unwrap();
    resolve_with(warm_cache.path(), &url);
    let (before, started) = (server.total_hits(), Instant::now());
    resolve_with(warm_cache.path(), &url);
    eprintln!(
        "maven bench: one warm resolve {:?}, {} requests",
        started.elapsed(),
        server.total_hits() - before
    );
    let mut group = c.benchmark_group("maven, 30 ms latency");
    group.sample_size(10);
    group.bench_function(format!("{ROOT}: imglock cold"), |b| {
        b.iter(|| resolve_cold(&url))
    });
    group.bench_function(format!("{ROOT}: imglock warm"), |b| {
        b.iter(|| resolve_with(warm_cache.path(), &url))
    });
    group.finish();
}

criterion_group!(maven_benches, benches);
criterion_main!(maven_benches);
