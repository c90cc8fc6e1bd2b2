//! conda resolution over real channel metadata (../shared/corpora/conda: a defaults-style
//! channel, the pytorch channel and Anaconda's `r` channel) served on 127.0.0.1: imglock's
//! resolve, cold (empty cache) and warm, against py-rattler's solver (scripts/conda-oracle.py,
//! which fetches the same repodata over HTTP each run) in the same run. The oracle also pays
//! Python's start-up and py-rattler's import, measured alone as `python3 -c "import rattler"` so
//! it can be subtracted. Skipped, with a message, without ../shared or py-rattler; under `CI=true`
//! their absence fails.

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

/// The virtual packages imglock uses for a linux/amd64 image with the default glibc.
const VIRTUAL: [&str; 4] = [
    "__unix=0=0",
    "__linux=4.18=0",
    "__glibc=2.17=0",
    "__archspec=1=x86_64",
];

/// (name, channels in priority order, specs).
const SETS: &[(&str, &[&str], &[&str])] = &[
    (
        "defaults: python 3.6 numpy pandas scipy requests",
        &["index4"],
        &["python 3.6.*", "numpy", "pandas", "scipy", "requests"],
    ),
    (
        "pytorch+defaults: python 3.6 pytorch-cpu faiss-cpu",
        &["pytorch", "index4"],
        &["python 3.6.*", "pytorch-cpu", "faiss-cpu"],
    ),
    (
        "r+defaults: r-essentials",
        &["r", "index4"],
        &["r-essentials"],
    ),
];

/// imglock's resolve of `spec`: how many packages it locked.
fn imglock_resolve(spec: &Path, cache: &Path) -> usize {
    let report = support::first_resolve(spec, cache, None);
    report.lock.layers.iter().map(|l| l.packages.len()).sum()
}

fn oracle(channels: &[String], specs: &[&str]) -> usize {
    let virtual_packages: Vec<String> = VIRTUAL.iter().map(|s| s.to_string()).collect();
    let output = support::conda::conda_oracle_command(channels, &virtual_packages, &[], specs)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    records.len()
}

fn benches(c: &mut Criterion) {
    let Some(corpus) = support::conda::conda_corpus() else {
        eprintln!("skipped: ../shared/corpora/conda is absent");
        return;
    };
    if !support::available(
        support::conda::py_rattler_available(),
        "py-rattler is not installed (pip install py-rattler zstandard)",
    ) {
        return;
    }
    let root = support::conda::conda_corpus_channels(&corpus);
    let server = support::Server::start(root.path());
    let mut group = c.benchmark_group("conda, loopback");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("python3 -c \"import rattler\" (oracle start-up)", |b| {
        b.iter(|| {
            assert!(
                Command::new("python3")
                    .args(["-c", "import rattler"])
                    .status()
                    .unwrap()
                    .success()
            )
        })
    });
    for (name, channel_names, specs) in SETS {
        let channels: Vec<String> = channel_names
            .iter()
            .map(|c| format!("{}/{c}", server.url()))
            .collect();
        let work = tempfile::tempdir().unwrap();
        let spec = work.path().join("imglock.toml");
        std::fs::write(
            &spec,
            support::conda::conda_spec(&channels, "", &[("env", specs)]),
        )
        .unwrap();
        // Both solve, to the same number of records (tests/conda.rs compares them record by
        // record).
        let warm_cache = work.path().join("imglock-cache");
        let ours = imglock_resolve(&spec, &warm_cache);
        let theirs = oracle(&channels, specs);
        assert_eq!(ours, theirs, "{name}: imglock and py-rattler disagree");
        eprintln!("{name}: {ours} packages");
        group.bench_function(format!("{name}: imglock cold"), |b| {
            b.iter(|| {
                let cache = tempfile::tempdir().unwrap();
                imglock_resolve(&spec, cache.path())
            })
        });
        group.bench_function(format!("{name}: imglock warm"), |b| {
            b.iter(|| imglock_resolve(&spec, &warm_cache))
        });
        group.bench_function(format!("{name}: py-rattler (conda-oracle.py)"), |b| {
            b.iter(|| oracle(&channels, specs))
        });
    }
    group.finish();
}

criterion_group!(conda_benches, benches);
criterion_main!(conda_benches);
