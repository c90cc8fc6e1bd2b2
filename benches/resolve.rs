//! Parse + resolve over the full CRAN index (22,362 packages, `../shared/corpora`), against an
//! anchor measured in the same run: R itself reading the same index with `read.dcf()` and walking
//! the same closure with `tools::package_dependencies(recursive = TRUE)`.
//!
//! Skipped, with a message, when `../shared` (or, for the anchor, `Rscript`) is absent.

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

criterion_group!(resolve_benches, benches);
criterion_main!(resolve_benches);
