//! The cold build time of an R lock (issue 18, item 3): real `buildah bud --layers --no-cache
//! --timestamp 0` builds of the same lock with its packages built one at a time (`emit --jobs
//! 1`), several at once (`--jobs` = this machine's cores), and pulled from the shared binary
//! cache (an OCI registry, Debian's `docker-registry` on loopback, filled by one build before
//! the measured ones), printed with their ratios in one run.
//!
//! The lock: the bundled R fixture (the spec of examples/r-fixture, its repositories served on
//! 127.0.0.1, on the test base image), measured by criterion (10 samples of one build each);
//! and with `IMGLOCK_BENCH_R_DEBIAN=1`, a bigger real set: 20+ compiled CRAN packages taken from
//! Debian bookworm's source packages (the `*.orig.tar.gz` of `r-cran-*` in deb.debian.org's pool
//! is the CRAN tarball), downloaded into target/ at bench time and indexed by
//! `tools::write_PACKAGES` as a CRAN-like repository, one build per mode (a serial build takes
//! minutes). Skipped, with a message, without root, buildah, the base image or
//! `docker-registry`.

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use support::registry::Registry;
use support::{Project, Server, TEST_BASE_IMAGE, fixtures, output_text, stderr};

const USER: &str = "bench";
const PASSWORD: &str = "imglock-bench-password";

/// A way of building the lock: its name and its `emit` arguments.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Serial,
    Parallel,
    Pulled,
}

impl Mode {
    const ALL: [Mode; 3] = [Mode::Serial, Mode::Parallel, Mode::Pulled];

    fn name(self) -> &'static str {
        match self {
            Mode::Serial => "serial (--jobs 1)",
            Mode::Parallel => "parallel (--jobs = cores)",
            Mode::Pulled => "pulled from the shared cache",
        }
    }

    fn folder(self) -> &'static str {
        match self {
            Mode::Serial => "serial",
            Mode::Parallel => "parallel",
            Mode::Pulled => "pulled",
        }
    }
}

/// A resolved project, its Dockerfile emitted once per mode, and the registry of the pulled mode.
struct Bench {
    project: Project,
    /// Kept running while the builds pull from it.
    _registry: Registry,
    secret: tempfile::TempDir,
}

impl Bench {
    /// Emits `project`'s lock for every mode and fills the registry with one build.
    fn new(project: Project, registry: Registry) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cache = format!("oci://{}/bench/r-binaries", registry.host());
        for mode in Mode::ALL {
            let jobs = match mode {
                Mode::Serial => "1".to_string(),
                _ => cores.to_string(),
            };
            let mut args = vec!["emit", "--out", mode.folder(), "--jobs", &jobs];
            if mode == Mode::Pulled {
                args.extend(["--binary-cache", &cache]);
            }
            let output = project.run(&args);
            assert!(output.status.success(), "{}", stderr(&output));
        }
        let secret = tempfile::tempdir().unwrap();
        std::fs::write(
            secret.path().join("credentials"),
            format!("{USER}:{PASSWORD}\n"),
        )
        .unwrap();
        let bench = Self {
            project,
            _registry: registry,
            secret,
        };
        let log = bench.build(Mode::Pulled).1;
        assert!(log.contains("pushed to the shared binary cache"), "{log}");
        bench
    }

    /// One cold build of `mode`'s Dockerfile: its time and log.
    fn build(&self, mode: Mode) -> (Duration, String) {
        let tag = format!(
            "localhost/imglock-bench-r-{}:{}",
            std::process::id(),
            mode.folder()
        );
        let context = self.project.path(mode.folder());
        let secret = format!(
            "id=imglock-cache,src={}",
            self.secret.path().join("credentials").display()
        );
        let bud = || {
            let started = Instant::now();
            let output = Command::new("buildah")
                .args(["bud", "--layers", "--no-cache", "--timestamp", "0"])
                .args(["--secret", &secret, "-t", &tag])
                .arg(&context)
                .env("STORAGE_DRIVER", "vfs")
                .env("BUILDAH_ISOLATION", "chroot")
                .output()
                .expect("run buildah");
            (started.elapsed(), output)
        };
        let (mut elapsed, mut output) = bud();
        // buildah's chroot isolation re-runs itself from a sealed memfd copy; sealing fails now and
        // then with EBUSY ("Close_Fd sealing memfd copy: Device or resource busy"), before the
        // step runs. Such a run measures nothing: it is run once more.
        if !output.status.success() && output_text(&output).contains("sealing memfd copy") {
            (elapsed, output) = bud();
        }
        let log = output_text(&output);
        assert!(output.status.success(), "{log}");
        let _ = Command::new("buildah")
            .args(["rmi", "--force", &tag])
            .env("STORAGE_DRIVER", "vfs")
            .output();
        (elapsed, log)
    }
}

/// The base image's digest, or `None` (with a message) when real builds cannot run here.
fn base_digest() -> Option<String> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    let digest = support::test_base_digest().filter(|_| root);
    if digest.is_none() {
        eprintln!("r_build: skipped: real image builds need root, buildah and the base image");
    }
    digest
}

/// A project on the base image `digest` whose spec's repositories are `repositories` and whose
/// layers are `layers`, resolved.
fn resolved(digest: &str, repositories: &str, layers: &str) -> Project {
    let base = TEST_BASE_IMAGE.split(':').next().unwrap();
    let project = Project::new(&format!(
        "[image]\nname = \"bench\"\nbase = \"{base}@{digest}\"\nr = \"4.2.2\"\n\n\
         [repositories]\n{repositories}\n\n{layers}\n"
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    project
}

/// The median of `times`, in seconds.
fn median(times: &mut [Duration]) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64()
}

/// Prints the three times of `set` and their ratios.
fn summary(set: &str, times: &mut [Vec<Duration>; 3]) {
    let [serial, parallel, pulled] = times.each_mut().map(|t| median(t));
    eprintln!(
        "r_build {set}: serial {serial:.1} s, parallel {parallel:.1} s, pulled {pulled:.1} s; \
         serial/parallel {:.2}x, serial/pulled {:.2}x, parallel/pulled {:.2}x",
        serial / parallel,
        serial / pulled,
        parallel / pulled
    );
}

fn fixture_set(c: &mut Criterion, digest: &str, registry: Registry) {
    let server = Server::start(&fixtures());
    let repositories = format!(
        "cran = [\"{0}/cran\"]\nbioconductor = \"{0}/bioc\"",
        server.url()
    );
    let spec =
        std::fs::read_to_string(fixtures().join("../examples/r-fixture/imglock.toml")).unwrap();
    let layers = &spec[spec.find("[[layer]]").unwrap()..];
    let bench = Bench::new(resolved(digest, &repositories, layers), registry);
    let mut group = c.benchmark_group("r_build/fixture");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(60));
    let mut times: [Vec<Duration>; 3] = Default::default();
    for (mode, times) in Mode::ALL.into_iter().zip(times.iter_mut()) {
        group.bench_function(mode.name(), |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let (elapsed, _) = bench.build(mode);
                    times.push(elapsed);
                    total += elapsed;
                }
                total
            })
        });
    }
    group.finish();
    summary("the bundled R fixture", &mut times);
}

/// Compiled CRAN packages of Debian bookworm (`r-cran-NAME`) that need no system library beyond
/// the C and C++ runtimes, and whose upstream tarball (and their dependencies') deb.debian.org
/// serves; their dependencies come with them.
const DEBIAN_SET: &[&str] = &[
    "r-cran-base64enc",
    "r-cran-bitops",
    "r-cran-cli",
    "r-cran-colorspace",
    "r-cran-digest",
    "r-cran-fansi",
    "r-cran-farver",
    "r-cran-glue",
    "r-cran-jsonlite",
    "r-cran-lazyeval",
    "r-cran-magrittr",
    "r-cran-mime",
    "r-cran-processx",
    "r-cran-proxy",
    "r-cran-ps",
    "r-cran-rappdirs",
    "r-cran-sourcetools",
    "r-cran-utf8",
    "r-cran-yaml",
    "r-cran-zip",
];

/// Downloads the Debian set (and the `r-cran-*` packages it depends on) into `dir/src/contrib`
/// as a CRAN-like repository: every source tarball under its CRAN name, and PACKAGES. Returns
/// the CRAN names of the set.
fn debian_repository(dir: &Path) -> Vec<String> {
    let index = std::fs::read(
        fixtures().join("debian/debian/dists/bookworm/main/binary-amd64/Packages.xz"),
    )
    .expect("the recorded Debian fixtures (scripts/record-debian.sh)");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut lzma_rust2::XzReader::new(&index[..], true), &mut text)
        .unwrap();
    let packages = imglock::apt::packages::parse_packages(&text, "Packages").unwrap();
    let find = |name: &str| packages.iter().find(|p| p.name == name);
    let mut wanted: Vec<String> = DEBIAN_SET.iter().map(|s| s.to_string()).collect();
    let mut seen = std::collections::BTreeSet::new();
    let contrib = dir.join("src/contrib");
    std::fs::create_dir_all(&contrib).unwrap();
    while let Some(name) = wanted.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let package = find(&name).unwrap_or_else(|| panic!("{name} is not in bookworm"));
        for group in &package.depends.0 {
            let first = &group.0[0].name;
            if first.starts_with("r-cran-") {
                wanted.push(first.clone());
            }
        }
        let source = package.source.as_ref().map_or(&package.name, |s| &s.name);
        let version = package
            .source
            .as_ref()
            .and_then(|s| s.version.as_ref())
            .unwrap_or(&package.version);
        let file = dir.join(format!("{source}.orig.tar.gz"));
        if !file.exists() {
            download_orig(source, version.upstream(), &file);
        }
        let (cran, cran_version) = description_name(&file);
        let target = contrib.join(format!("{cran}_{cran_version}.tar.gz"));
        if !target.exists() {
            std::fs::copy(&file, &target).unwrap();
        }
    }
    support::write_packages(&contrib);
    DEBIAN_SET
        .iter()
        .map(|name| description_name(&dir.join(format!("{name}.orig.tar.gz"))).0)
        .collect()
}

/// Downloads the Debian source package `source`'s upstream tarball of `upstream` into `file`,
/// gzipped: the CRAN tarball (`.orig.tar.gz`), or a repacked one (`+dfsg`, `.orig.tar.xz`).
fn download_orig(source: &str, upstream: &str, file: &Path) {
    let pool = format!(
        "http://deb.debian.org/debian/pool/main/{}/{source}/{source}_{}.orig.tar",
        &source[..1],
        upstream.replace('+', "%2B")
    );
    let script = format!(
        "curl -fsSL --retry 3 -o '{0}' '{pool}.gz' || \
         {{ curl -fsSL --retry 3 -o '{0}.xz' '{pool}.xz' && xz -dc '{0}.xz' > '{0}.tar' && \
         gzip -n -c '{0}.tar' > '{0}.part' && mv '{0}.part' '{0}'; }}",
        file.display()
    );
    let output = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert!(output.status.success(), "{pool}: {}", stderr(&output));
}

/// The `Package` and `Version` of the DESCRIPTION at the top of the source tarball `file`.
fn description_name(file: &Path) -> (String, String) {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(file).unwrap(),
    ));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().into_owned();
        if path.components().count() == 2 && path.ends_with("DESCRIPTION") {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
            let field = |name: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                    .unwrap()
                    .trim()
                    .to_string()
            };
            return (field("Package"), field("Version"));
        }
    }
    panic!("{} has no DESCRIPTION at its top", file.display());
}

fn debian_set(digest: &str, registry: Registry) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-r-debian");
    let repository = dir.join("cran");
    let names = debian_repository(&repository);
    let server = Server::start(&dir);
    let requested: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    let project = resolved(
        digest,
        &format!("cran = [\"{}/cran\"]", server.url()),
        &format!("[[layer]]\nname = \"r\"\ncran = [{}]", requested.join(", ")),
    );
    let lock = project.lock().unwrap();
    let compiled = lock.matches("needs-compilation = true").count();
    let bench = Bench::new(project, registry);
    let mut times: [Vec<Duration>; 3] = Default::default();
    for (mode, times) in Mode::ALL.into_iter().zip(times.iter_mut()) {
        let (elapsed, _) = bench.build(mode);
        eprintln!(
            "r_build Debian set: {}: {:.1} s",
            mode.name(),
            elapsed.as_secs_f64()
        );
        times.push(elapsed);
    }
    summary(
        &format!("{compiled} compiled CRAN packages from Debian bookworm"),
        &mut times,
    );
}

fn bench(c: &mut Criterion) {
    let Some(digest) = base_digest() else { return };
    let Some(registry) = Registry::start_with_basic_auth(USER, PASSWORD) else {
        return;
    };
    if std::env::var_os("IMGLOCK_BENCH_R_DEBIAN").is_some() {
        debian_set(&digest, registry);
        return;
    }
    fixture_set(c, &digest, registry);
}

criterion_group!(benches, bench);
criterion_main!(benches);
