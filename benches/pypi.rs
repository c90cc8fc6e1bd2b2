//! Python resolution against the recorded PyPI index (fixtures/pypi) served on 127.0.0.1 with
//! 30 ms of latency per request: imglock against `uv pip compile` in the same run, cold (empty
//! caches) and warm. Skipped, with a message, when `uv` is not installed.

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

/// The recorded sets compared, each as of its own `--exclude-newer`. dask-worker has two sdists
/// without static metadata (PyYAML 5.3.1, locket 0.2.0): imglock builds their metadata in a
/// container of the test base image (scripts/base-image.sh), cold runs included, as uv builds
/// them on the host; it is left out, with a message, without that image.
const SETS: &[&str] = &["dask", "science", "databricks-10.4", "dask-worker"];

/// The sets whose sdists need a metadata build.
const NEEDS_BUILDS: &[&str] = &["dask-worker"];

fn uv_compile(index: &str, set: &str, cache: Option<&Path>) {
    let input = support::pypi_sets::path(set);
    let mut command = Command::new("uv");
    command
        .env("UV_PYTHON_DOWNLOADS", "never")
        .args([
            "pip",
            "compile",
            "--quiet",
            "--python",
            "python3",
            "--python-version",
            "3.8",
        ])
        .args([
            "--python-platform",
            "x86_64-manylinux_2_17",
            "--exclude-newer",
            &support::pypi_sets::exclude_newer(set),
        ])
        .args(["--index-url", index, "-o", "/dev/null"])
        .arg(input);
    match cache {
        Some(dir) => command.arg("--cache-dir").arg(dir),
        None => command.arg("--no-cache"),
    };
    assert!(command.status().unwrap().success());
}

fn benches(c: &mut Criterion) {
    if Command::new("uv").arg("--version").output().is_err() {
        eprintln!("skipped: uv is not installed (scripts/test.sh installs it)");
        return;
    }
    let server =
        support::Server::start(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pypi"));
    server.set_latency(Duration::from_millis(30));
    let index = format!("{}/simple", server.url());
    let mut group = c.benchmark_group("pypi, 30 ms latency");
    group.sample_size(10);
    let built_base =
        support::test_base_digest().map(|digest| format!("localhost/imglock-test-base@{digest}"));
    for set in SETS {
        let base = match (NEEDS_BUILDS.contains(set), &built_base) {
            (false, _) => format!("python@sha256:{}", "0".repeat(64)),
            (true, Some(base)) => base.clone(),
            (true, None) => {
                eprintln!(
                    "skipped {set}: its metadata builds need buildah and the test base image"
                );
                continue;
            }
        };
        let work = tempfile::tempdir().unwrap();
        let exclude_newer = support::pypi_sets::exclude_newer(set);
        let quoted: Vec<String> = support::pypi_sets::requirements(set)
            .iter()
            .map(|r| format!("{r:?}"))
            .collect();
        let spec = work.path().join("imglock.toml");
        std::fs::write(
            &spec,
            format!(
                "[image]\nname = \"bench\"\nbase = \"{base}\"\npython = \"3.8\"\n\n[repositories]\npypi = \"{index}\"\n\n[[layer]]\nname = \"py\"\npypi = [{}]\n",
                quoted.join(", ")
            ),
        )
        .unwrap();
        group.bench_function(format!("{set}: imglock cold"), |b| {
            b.iter(|| {
                let cache = tempfile::tempdir().unwrap();
                support::first_resolve(&spec, cache.path(), Some(&exclude_newer));
            });
        });
        group.bench_function(format!("{set}: uv cold (--no-cache)"), |b| {
            b.iter(|| uv_compile(&index, set, None))
        });
        let imglock_cache = work.path().join("imglock-cache");
        support::first_resolve(&spec, &imglock_cache, Some(&exclude_newer));
        group.bench_function(format!("{set}: imglock warm"), |b| {
            b.iter(|| support::first_resolve(&spec, &imglock_cache, Some(&exclude_newer)))
        });
        let uv_cache = work.path().join("uv-cache");
        uv_compile(&index, set, Some(&uv_cache));
        group.bench_function(format!("{set}: uv warm"), |b| {
            b.iter(|| uv_compile(&index, set, Some(&uv_cache)))
        });
    }
    group.finish();
}

criterion_group!(pypi_benches, benches);
criterion_main!(pypi_benches);
