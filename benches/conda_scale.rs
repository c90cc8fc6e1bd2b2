//! conda at conda-forge's scale: the corpus's defaults-style channel (`index4`, 5,305 linux-64
//! records) replicated under new package names (`numpy-r7`, its dependencies renamed alike, so
//! each copy is a closed world of its own) to about conda-forge linux-64's 564,300 records, about
//! 250 MB of JSON, served on 127.0.0.1. A 40-package data-science request (161 packages solved)
//! of the original names is resolved by imglock (the release binary, as users run it) and by
//! py-rattler's sparse solve (scripts/conda-oracle.py, `SparseRepoData` + resolvo), both cold
//! (imglock with an empty cache, the oracle downloading the repodata) and warm (imglock's cache
//! revalidated, the oracle reading the same repodata from a local `file://` channel, and imglock
//! reading that channel too, like for like). The test server reads and hashes the whole file
//! for every request, a revalidation answered 304 included (about 150 ms at this size, which a
//! CDN does not pay): imglock's warm run over HTTP pays it, so the `file://` runs are the ones
//! to compare. The oracle
//! also pays Python's start-up and py-rattler's import, measured alone so it can be subtracted.
//! Peak memory (maximum resident set, by GNU time) of one run of each is printed.
//! Skipped, with a message, without ../shared, py-rattler or `/usr/bin/time`; under `CI=true`
//! their absence fails.

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

/// The records the synthetic channel has at least: conda-forge linux-64's count.
const RECORDS: usize = 564_300;

/// The request: names the corpus channel satisfies together, for Python 3.6.
const SPECS: [&str; 40] = [
    "python 3.6.*",
    "numpy",
    "pandas",
    "scipy",
    "requests",
    "matplotlib",
    "sqlalchemy",
    "bokeh",
    "dask",
    "distributed",
    "tornado",
    "jinja2",
    "pyyaml",
    "beautifulsoup4",
    "sphinx",
    "ipython",
    "jupyter",
    "notebook",
    "boto3",
    "flask",
    "cryptography",
    "psutil",
    "alabaster",
    "appdirs",
    "asn1crypto",
    "astroid",
    "attrs",
    "automat",
    "babel",
    "backcall",
    "backports",
    "backports.shutil_get_terminal_size",
    "backports_abc",
    "bitarray",
    "bkcharts",
    "bleach",
    "botocore",
    "certifi",
    "cffi",
    "chardet",
];

/// The virtual packages both solvers get (imglock's defaults for linux/amd64).
const VIRTUAL: [&str; 4] = [
    "__unix=0=0",
    "__linux=4.18=0",
    "__glibc=2.17=0",
    "__archspec=1=x86_64",
];

/// `spec` with its package name (the first word) renamed for copy `copy`.
fn renamed(spec: &str, copy: usize) -> String {
    match spec.split_once(' ') {
        Some((name, rest)) => format!("{name}-r{copy} {rest}"),
        None => format!("{spec}-r{copy}"),
    }
}

/// Writes the synthetic channel `forge` under `root` from the corpus channel; the records it has.
fn synthetic_channel(corpus: &Path, root: &Path) -> usize {
    let source = corpus.join("channels/index4");
    let text = std::fs::read_to_string(source.join("linux-64/repodata.json")).unwrap();
    let repodata: serde_json::Value = serde_json::from_str(&text).unwrap();
    let original = repodata["packages"].as_object().unwrap();
    let copies = RECORDS.div_ceil(original.len());
    let mut packages = serde_json::Map::new();
    for copy in 0..copies {
        for (file, record) in original {
            if copy == 0 {
                packages.insert(file.clone(), record.clone());
                continue;
            }
            let mut record = record.clone();
            let name = record["name"].as_str().unwrap().to_string();
            record["name"] = format!("{name}-r{copy}").into();
            for key in ["depends", "constrains"] {
                if let Some(list) = record.get_mut(key).and_then(|l| l.as_array_mut()) {
                    for spec in list.iter_mut() {
                        *spec = renamed(spec.as_str().unwrap(), copy).into();
                    }
                }
            }
            let file = file.replacen(&name, &format!("{name}-r{copy}"), 1);
            packages.insert(file, record);
        }
    }
    let count = packages.len();
    let out = serde_json::json!({
        "info": repodata["info"],
        "packages": packages,
        "packages.conda": {},
        "repodata_version": 1,
    });
    let forge = root.join("forge");
    std::fs::create_dir_all(forge.join("linux-64")).unwrap();
    std::fs::create_dir_all(forge.join("noarch")).unwrap();
    let file = std::fs::File::create(forge.join("linux-64/repodata.json")).unwrap();
    serde_json::to_writer(std::io::BufWriter::new(file), &out).unwrap();
    std::fs::copy(
        source.join("noarch/repodata.json"),
        forge.join("noarch/repodata.json"),
    )
    .unwrap();
    count
}

/// The release binary's `imglock resolve` of `spec` with the cache `cache`.
fn imglock(spec: &Path, cache: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_imglock"));
    command
        .current_dir(spec.parent().unwrap())
        .args(["resolve", "--upgrade"])
        .env("IMGLOCK_CACHE_DIR", cache)
        .env("CI", "true");
    command
}

/// py-rattler's sparse solve of the request over `channel`.
fn oracle(channel: &str) -> Command {
    let virtual_packages: Vec<String> = VIRTUAL.iter().map(|s| s.to_string()).collect();
    support::conda::conda_oracle_command(&[channel.to_string()], &virtual_packages, &[], &SPECS)
}

/// Runs `command` to success; its output.
fn run(mut command: Command) -> std::process::Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The peak resident memory of one run of `command`, in MB, by GNU time.
fn peak_mb(command: &Command) -> f64 {
    let mut timed = Command::new("/usr/bin/time");
    timed.args(["-f", "imglock-bench-peak-kb %M"]);
    timed.arg(command.get_program()).args(command.get_args());
    if let Some(dir) = command.get_current_dir() {
        timed.current_dir(dir);
    }
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            timed.env(key, value);
        }
    }
    let output = run(timed);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let kb: f64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("imglock-bench-peak-kb "))
        .and_then(|kb| kb.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak in {stderr}"));
    kb / 1024.0
}

fn benches(c: &mut Criterion) {
    let Some(corpus) = support::conda::conda_corpus() else {
        eprintln!("skipped: ../shared/corpora/conda is absent");
        return;
    };
    let tools = support::conda::py_rattler_available() && Path::new("/usr/bin/time").exists();
    if !support::available(
        tools,
        "the bench needs py-rattler (pip install py-rattler zstandard) and GNU time",
    ) {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let records = synthetic_channel(&corpus, root.path());
    let server = support::Server::start(root.path());
    let remote = format!("{}/forge", server.url());
    let local = format!("file://{}", root.path().join("forge").display());
    let work = tempfile::tempdir().unwrap();
    let spec = work.path().join("imglock.toml");
    std::fs::write(
        &spec,
        support::conda::conda_spec(std::slice::from_ref(&remote), "", &[("env", &SPECS)]),
    )
    .unwrap();
    let warm = work.path().join("warm-cache");
    run(imglock(&spec, &warm));
    // The same request over the channel's folder, as the oracle's warm run reads it.
    let local_work = tempfile::tempdir().unwrap();
    let local_spec = local_work.path().join("imglock.toml");
    std::fs::write(
        &local_spec,
        support::conda::conda_spec(std::slice::from_ref(&local), "", &[("env", &SPECS)]),
    )
    .unwrap();
    let local_cache = local_work.path().join("cache");
    let lock = std::fs::read_to_string(work.path().join("imglock.lock")).unwrap();
    let ours = lock.matches("\n[[layer.package]]").count();
    let theirs: Vec<serde_json::Value> =
        serde_json::from_slice(&run(oracle(&remote)).stdout).unwrap();
    assert_eq!(ours, theirs.len(), "imglock and py-rattler disagree");
    let cold_cache = tempfile::tempdir().unwrap();
    eprintln!(
        "synthetic channel: {records} records; {ours} packages solved; peak memory: imglock cold {:.0} MB, warm {:.0} MB; py-rattler cold {:.0} MB, warm {:.0} MB",
        peak_mb(&imglock(&spec, &cold_cache.path().join("c"))),
        peak_mb(&imglock(&spec, &warm)),
        peak_mb(&oracle(&remote)),
        peak_mb(&oracle(&local)),
    );

    let mut group = c.benchmark_group("conda at conda-forge's scale");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("python3 -c \"import rattler\" (oracle start-up)", |b| {
        b.iter(|| {
            let mut command = Command::new("python3");
            command.args(["-c", "import rattler"]);
            run(command)
        })
    });
    group.bench_function("imglock cold", |b| {
        b.iter(|| {
            let cache = tempfile::tempdir().unwrap();
            run(imglock(&spec, cache.path()))
        })
    });
    group.bench_function("imglock warm", |b| b.iter(|| run(imglock(&spec, &warm))));
    group.bench_function("imglock warm (file:// channel)", |b| {
        b.iter(|| run(imglock(&local_spec, &local_cache)))
    });
    group.bench_function("py-rattler cold (downloads)", |b| {
        b.iter(|| run(oracle(&remote)))
    });
    group.bench_function("py-rattler warm (file:// channel)", |b| {
        b.iter(|| run(oracle(&local)))
    });
    group.finish();
}

criterion_group!(conda_scale_benches, benches);
criterion_main!(conda_scale_benches);
