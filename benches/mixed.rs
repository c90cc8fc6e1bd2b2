//! One spec with a layer of every ecosystem (CRAN, Bioconductor, PyPI, conda, Maven), each
//! repository on a loopback server of its own answering after 30 ms, cold: the whole resolve
//! against each layer resolved alone, in the same run. The target is a wall time within 1.1× of
//! the slowest layer alone (every ecosystem's fetches in flight at once), where resolving them
//! one after another would cost their sum.
//!
//! The repositories: the corpus's full CRAN index (tidyverse's closure, each package served as a
//! small source tarball written for it, since the corpus has no tarballs), the Bioconductor
//! fixture (built with real R), the recorded PyPI Dask set, the conda corpus's `defaults`-style
//! channel and the Maven Central POMs of the corpus (spark-core_2.12 3.5.3), served beside a jar
//! and its `.sha1` written for each artifact that resolution takes (the corpus has POMs only).
//! Skipped, with a message, without ../shared.
//!
//! The conda layer is also resolved alone over a link of [`BANDWIDTH`] (the same 30 ms), against
//! its bound: one round, then its largest repodata at that rate. A real link is slower than the
//! reading of a repodata, which is then indexed while it arrives.

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use support::cold_caches::ColdCaches;

const LATENCY: Duration = Duration::from_millis(30);
/// The PyPI set of the Python layer; its `--exclude-newer` holds for the whole resolve.
const PYPI_SET: &str = "dask";
/// The CRAN layer's request, resolved over the corpus's full index.
const R_ROOT: &str = "tidyverse";
const SPARK: &str = "org.apache.spark_spark-core_2.12_3.5.3";
/// Cold resolves measured for the summary's medians: eleven, since a conda layer alone (44 ms)
/// varies by a millisecond or two from run to run on a shared machine.
const RUNS: usize = 11;

/// The bandwidth of the link the conda layer is also resolved over, alone.
const BANDWIDTH: u64 = 100_000_000;

/// A layer of the spec: its name and its `key = [values]` line.
struct Layer {
    name: &'static str,
    line: String,
}

fn quoted(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

fn layers() -> Vec<Layer> {
    let strings = |values: &[&str]| values.iter().map(|v| v.to_string()).collect::<Vec<_>>();
    vec![
        Layer {
            name: "r",
            line: format!("cran = {}", quoted(&strings(&[R_ROOT]))),
        },
        Layer {
            name: "bioc",
            line: format!("bioconductor = {}", quoted(&strings(&["SeqTools"]))),
        },
        Layer {
            name: "pypi",
            line: format!(
                "pypi = {}",
                quoted(&support::pypi_sets::requirements(PYPI_SET))
            ),
        },
        Layer {
            name: "conda",
            line: format!(
                "conda = {}",
                quoted(&strings(&[
                    "python 3.6.*",
                    "numpy",
                    "pandas",
                    "scipy",
                    "requests"
                ]))
            ),
        },
        Layer {
            name: "maven",
            line:
                "maven = [\"org.apache.spark:spark-core_2.12:3.5.3\"]\nmaven-target = \"/opt/jars\""
                    .to_string(),
        },
    ]
}

/// A spec over the served repositories with `layers`.
fn spec(repositories: &str, layers: &[&Layer]) -> String {
    let mut text = format!(
        "[image]\nname = \"bench\"\nbase = \"python@sha256:{}\"\nplatform = \"linux/amd64\"\nr = \"4.2.2\"\npython = \"3.8\"\nconda-prefix = \"/opt/conda\"\n\n{repositories}",
        "0".repeat(64)
    );
    for layer in layers {
        text.push_str(&format!(
            "\n[[layer]]\nname = \"{}\"\n{}\n",
            layer.name, layer.line
        ));
    }
    text
}

/// A CRAN repository: the corpus's full index as `src/contrib/PACKAGES.gz` (as CRAN serves it) and, for each package of
/// [`R_ROOT`]'s closure, a source tarball holding its DESCRIPTION.
fn cran_repository(index: &Path) -> tempfile::TempDir {
    use imglock::cran::{LayerInput, NoArchive, RVersion, RepoIndex, RepoKind, Requirement};
    let dir = tempfile::tempdir().unwrap();
    let contrib = dir.path().join("src/contrib");
    std::fs::create_dir_all(&contrib).unwrap();
    let text = std::fs::read_to_string(index).unwrap();
    let mut gzipped = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gzipped, text.as_bytes()).unwrap();
    std::fs::write(contrib.join("PACKAGES.gz"), gzipped.finish().unwrap()).unwrap();
    let repository = imglock::repository::Repository::parse(
        "https://cran.invalid",
        Path::new("/"),
        Path::new("/"),
    )
    .unwrap();
    let indexes = [RepoIndex::parse(repository, RepoKind::Cran, &text).unwrap()];
    let roots = [(RepoKind::Cran, R_ROOT.parse::<Requirement>().unwrap())];
    let input = LayerInput {
        layer: "bench",
        roots: &roots,
        fixed: &Default::default(),
        preferred: &Default::default(),
        explicit: &Default::default(),
        r_version: &"4.2.2".parse::<RVersion>().unwrap(),
        base_known: false,
    };
    let outcome = imglock::cran::resolve_layer(&indexes, &NoArchive, &input).unwrap();
    for selected in outcome.packages {
        let entry = selected.entry;
        let description = format!(
            "Package: {}\nVersion: {}\nLicense: MIT\n",
            entry.name, entry.version
        );
        let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        let mut header = tar::Header::new_gnu();
        header.set_size(description.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive
            .append_data(
                &mut header,
                format!("{}/DESCRIPTION", entry.name),
                description.as_bytes(),
            )
            .unwrap();
        let bytes = archive.into_inner().unwrap().finish().unwrap();
        std::fs::write(dir.path().join(&entry.path), bytes).unwrap();
    }
    dir
}

/// Resolves `spec` (in a folder of its own) with a new cache from `caches`; the time it took.
/// The cache is then retired, untimed (see [`support::cold_caches`]).
fn cold_resolve(caches: &ColdCaches, spec: &Path) -> Duration {
    let exclude_newer = support::pypi_sets::exclude_newer(PYPI_SET);
    caches.with_fresh(|cache| {
        let started = Instant::now();
        support::first_resolve(spec, cache, Some(&exclude_newer));
        started.elapsed()
    })
}

/// How many rounds of requests `arrivals` (each server's, as it logged them) fall into: a round
/// starts with the first request that arrives a whole latency after the current round began.
fn rounds(mut arrivals: Vec<Instant>) -> usize {
    arrivals.sort();
    let mut rounds = 0;
    let mut began: Option<Instant> = None;
    for at in arrivals {
        if began.is_none_or(|began| at.duration_since(began) >= LATENCY * 9 / 10) {
            rounds += 1;
            began = Some(at);
        }
    }
    rounds
}

/// One first resolve of `spec`, cold: the requests it made and the rounds they fell into.
fn requests_and_rounds(
    caches: &ColdCaches,
    spec: &Path,
    servers: &[support::Server],
) -> (usize, usize) {
    let _ = std::fs::remove_file(spec.with_file_name("imglock.lock"));
    caches.with_fresh(|cache| requests_and_rounds_with(spec, servers, cache))
}

/// One resolve of `spec` with the cache `cache` (and the lock beside the spec, if any): the
/// requests it made and their rounds.
fn requests_and_rounds_with(
    spec: &Path,
    servers: &[support::Server],
    cache: &Path,
) -> (usize, usize) {
    let before: Vec<usize> = servers.iter().map(|s| s.arrivals().len()).collect();
    let exclude_newer = support::pypi_sets::exclude_newer(PYPI_SET);
    support::library_resolve(spec, cache, Some(&exclude_newer));
    let arrivals: Vec<Instant> = servers
        .iter()
        .zip(before)
        .flat_map(|(server, before)| server.arrivals().split_off(before))
        .map(|(_, at)| at)
        .collect();
    (arrivals.len(), rounds(arrivals))
}

fn median(caches: &ColdCaches, spec: &Path) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS).map(|_| cold_resolve(caches, spec)).collect();
    times.sort();
    times[RUNS / 2]
}

/// Writes `text` as `imglock.toml` in a new folder under `work`, named `name`.
fn write_spec(work: &Path, name: &str, text: &str) -> PathBuf {
    let folder = work.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join("imglock.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn benches(c: &mut Criterion) {
    let (Some(cran), Some(maven), Some(conda)) = (
        support::shared_corpus("cran-2025-01-macos-binary.PACKAGES"),
        support::shared_corpus("maven/central"),
        support::conda::conda_corpus(),
    ) else {
        eprintln!("skipped: ../shared/corpora is absent");
        return;
    };
    let fixtures = support::fixtures();
    let cran = cran_repository(&cran);
    let maven = support::maven_central::with_artifacts(&maven, &[SPARK]);
    let conda = support::conda::conda_corpus_channels(&conda);
    let servers: Vec<support::Server> = [
        cran.path().to_path_buf(),
        fixtures.join("bioc"),
        fixtures.join("pypi"),
        conda.path().to_path_buf(),
        maven.path().join("repo"),
        // What the Bioconductor fixture's packages need from CRAN.
        fixtures.join("cran"),
    ]
    .iter()
    .map(|root| support::Server::start(root))
    .collect();
    for server in &servers {
        server.set_latency(LATENCY);
    }
    let url = |i: usize| servers[i].url();
    let repositories = format!(
        "[repositories]\ncran = [\"{}\", \"{}\"]\nbioconductor = \"{}\"\npypi = \"{}/simple\"\nconda = [\"{}/index4\"]\nmaven = [\"{}\"]\n",
        url(0),
        url(5),
        url(1),
        url(2),
        url(3),
        url(4)
    );
    let layers = layers();
    let caches = ColdCaches::new();
    let work = tempfile::tempdir().unwrap();
    let mixed = write_spec(
        work.path(),
        "mixed",
        &spec(&repositories, &layers.iter().collect::<Vec<_>>()),
    );
    let alone: Vec<(&str, PathBuf)> = layers
        .iter()
        .map(|layer| {
            let text = spec(&repositories, &[layer]);
            (layer.name, write_spec(work.path(), layer.name, &text))
        })
        .collect();

    let mut summary = Vec::new();
    for (name, spec) in &alone {
        let (requests, rounds) = requests_and_rounds(&caches, spec, &servers);
        let time = median(&caches, spec);
        eprintln!(
            "mixed bench: {name} alone: {time:.2?}, {requests} requests in {rounds} rounds of {LATENCY:?} ({:.1} rounds of wall)",
            time.as_secs_f64() / LATENCY.as_secs_f64()
        );
        summary.push((*name, time));
    }
    let conda_layer = layers.iter().find(|layer| layer.name == "conda").unwrap();
    let over_link = conda_over_a_link(
        &caches,
        work.path(),
        conda.path(),
        &repositories,
        &url(3),
        conda_layer,
    );
    let wall = median(&caches, &mixed);
    // A re-resolve: the cache and the lock of the resolve before.
    let _ = std::fs::remove_file(mixed.with_file_name("imglock.lock"));
    let (cold, (requests, rounds)) = caches.with_fresh(|warm| {
        let cold = requests_and_rounds_with(&mixed, &servers, warm);
        (cold, requests_and_rounds_with(&mixed, &servers, warm))
    });
    eprintln!(
        "mixed bench: the whole spec, cold: {} requests in {} rounds; warm (cache and lock in place): {requests} requests in {rounds} rounds",
        cold.0, cold.1
    );
    let (slowest, max) = summary.iter().max_by_key(|(_, time)| *time).unwrap();
    let sum: Duration = summary.iter().map(|(_, time)| *time).sum();
    let each: Vec<String> = summary
        .iter()
        .map(|(name, time)| format!("{name} {time:.2?}"))
        .collect();
    eprintln!(
        "mixed bench (median of {RUNS} cold resolves, {LATENCY:?} per request): wall {wall:.2?}; alone: {}; slowest {slowest} {max:.2?}, sum {sum:.2?}; wall = {:.2}× the slowest, {:.2}× the sum",
        each.join(", "),
        wall.as_secs_f64() / max.as_secs_f64(),
        wall.as_secs_f64() / sum.as_secs_f64()
    );

    // Each resolve is timed alone, as by `median`: not the retiring of its cache after it.
    let timed =
        |spec: &Path, iterations: u64| (0..iterations).map(|_| cold_resolve(&caches, spec)).sum();
    let mut group = c.benchmark_group("mixed spec, 30 ms latency, cold");
    group.sample_size(10);
    group.bench_function("every ecosystem, one layer each", |b| {
        b.iter_custom(|iterations| timed(&mixed, iterations))
    });
    for (name, spec) in &alone {
        group.bench_function(format!("{name} layer alone"), |b| {
            b.iter_custom(|iterations| timed(spec, iterations))
        });
    }
    group.bench_function("conda layer alone, 100 MB/s link", |b| {
        b.iter_custom(|iterations| timed(&over_link.1, iterations))
    });
    group.finish();
}

/// The conda layer `conda` alone, served from `channels` (`repositories` names it at `conda_url`)
/// over a link of [`BANDWIDTH`]: its median cold resolve against its bound, printed. The link's
/// server and the spec, for criterion.
fn conda_over_a_link(
    caches: &ColdCaches,
    work: &Path,
    channels: &Path,
    repositories: &str,
    conda_url: &str,
    conda: &Layer,
) -> (support::Server, PathBuf) {
    let link = support::Server::start(channels);
    link.set_latency(LATENCY);
    link.set_bandwidth(BANDWIDTH);
    let repositories = repositories.replace(conda_url, &link.url());
    let spec = write_spec(work, "conda-link", &spec(&repositories, &[conda]));
    let time = median(caches, &spec);
    let largest = std::fs::metadata(channels.join("index4/linux-64/repodata.json"))
        .unwrap()
        .len();
    let bound = LATENCY + Duration::from_secs_f64(largest as f64 / BANDWIDTH as f64);
    eprintln!(
        "mixed bench: conda alone over a {} MB/s link: {time:.2?}; bound (one round, then the {largest}-byte repodata) {bound:.2?}; {:.2}× the bound",
        BANDWIDTH / 1_000_000,
        time.as_secs_f64() / bound.as_secs_f64()
    );
    (link, spec)
}

criterion_group!(mixed_benches, benches);
criterion_main!(mixed_benches);
