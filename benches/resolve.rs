//! Parse + resolve over the full CRAN index (22,362 packages, `../shared/corpora`), against an
//! anchor measured in the same run: R itself reading the same index with `read.dcf()` and walking
//! the same closure with `tools::package_dependencies(recursive = TRUE)`.
//!
//! Skipped, with a message, when `../shared` (or, for the anchor, `Rscript`) is absent.
//!
//! Also: reading a spec of 100,000 requirements, against the process start-up.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};
use imglock::cran::{
    LayerInput, NoArchive, RVersion, RepoIndex, RepoKind, Requirement, resolve_layer,
};
use imglock::repository::Repository;

const INDEX: &str = "../shared/corpora/cran-2025-01-macos-binary.PACKAGES";

fn parse(text: &str) -> RepoIndex {
    let repository = Repository::parse(
        "https://cran.example.invalid",
        Path::new("/"),
        Path::new("/"),
    )
    .unwrap();
    RepoIndex::parse(repository, RepoKind::Cran, text).unwrap()
}

fn resolve(index: RepoIndex, roots: &[(RepoKind, Requirement)]) -> (RepoIndex, usize) {
    let indexes = [index];
    let input = LayerInput {
        layer: "bench",
        roots,
        fixed: &HashMap::new(),
        preferred: &HashMap::new(),
        explicit: &HashSet::new(),
        r_version: &"4.4.2".parse::<RVersion>().unwrap(),
        base_known: false,
    };
    let count = resolve_layer(&indexes, &NoArchive, &input)
        .unwrap()
        .packages
        .len();
    let [index] = indexes;
    (index, count)
}

fn benches(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(INDEX);
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "skipped: {} is absent (the shared corpora live beside the repository)",
            path.display()
        );
        return;
    };
    let roots = vec![(RepoKind::Cran, "tidyverse".parse::<Requirement>().unwrap())];
    let (index, count) = resolve(parse(&text), &roots);
    eprintln!("tidyverse closure: {count} packages");

    let mut group = c.benchmark_group("cran");
    group.sample_size(20);
    group.bench_function("parse full index", |b| b.iter(|| parse(&text)));
    let mut index = Some(index);
    group.bench_function("resolve tidyverse (index parsed)", |b| {
        b.iter(|| {
            let (back, count) = resolve(index.take().unwrap(), &roots);
            index = Some(back);
            count
        });
    });
    group.bench_function("read + parse + resolve tidyverse", |b| {
        b.iter(|| {
            let text = std::fs::read_to_string(&path).unwrap();
            resolve(parse(&text), &roots).1
        });
    });
    let script = format!(
        "db <- read.dcf('{}', fields = c('Package', 'Version', 'Depends', 'Imports', 'LinkingTo')); \
         invisible(tools::package_dependencies('tidyverse', db = db, recursive = TRUE))",
        path.display()
    );
    if Command::new("Rscript").arg("--version").output().is_ok() {
        group.sample_size(10);
        group.bench_function("anchor: R read.dcf + package_dependencies", |b| {
            b.iter(|| {
                let status = Command::new("Rscript")
                    .args(["-e", &script])
                    .status()
                    .unwrap();
                assert!(status.success());
            });
        });
    } else {
        eprintln!("skipped the anchor: Rscript is not installed");
    }
    group.finish();
}

/// A spec of 100,000 requirements read by `imglock check` (which reads the spec, then reports the
/// missing lock), against `imglock --version` (the process start-up) as the anchor: reading a spec
/// grows with its size, not with its size squared (issue 13: it took 10 s, 2 minutes unoptimised).
fn big_spec(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!(
        "[image]\nname = \"big\"\nbase = \"docker.io/library/debian@sha256:{}\"\n\n[[layer]]\nname = \"python\"\npypi = [\n",
        "0".repeat(64)
    );
    for i in 0..100_000 {
        text.push_str(&format!("  \"package-{i}==1.0\",\n"));
    }
    text.push_str("]\n");
    let spec = dir.path().join("imglock.toml");
    std::fs::write(&spec, text).unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        Command::new(env!("CARGO_BIN_EXE_imglock"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let mut group = c.benchmark_group("spec");
    group.sample_size(10);
    group.bench_function("anchor: imglock --version", |b| {
        b.iter(|| run(&["--version".as_ref()]))
    });
    group.bench_function("imglock check, 100,000 requirements", |b| {
        b.iter(|| {
            let output = run(&["check".as_ref(), "--spec".as_ref(), spec.as_os_str()]);
            // The whole spec is read and checked; there is no lock to compare it with.
            let said = String::from_utf8_lossy(&output.stdout);
            assert!(said.contains("there is no lock yet"), "{said}");
        })
    });
    group.finish();
}

criterion_group!(resolve_benches, benches, big_spec);
criterion_main!(resolve_benches);
