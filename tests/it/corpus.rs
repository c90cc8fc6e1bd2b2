//! Resolution over real upstream indexes from `../shared/corpora`: the full CRAN index (22,362
//! packages) and a Bioconductor 3.21 index. Skipped, with a message, when `../shared` is absent (a failure under `CI=true`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use imglock::cran::{
    LayerInput, NoArchive, RVersion, RepoIndex, RepoKind, Requirement, ResolveError, resolve_layer,
};
use imglock::repository::Repository;

fn corpus(name: &str) -> Option<PathBuf> {
    crate::support::shared_corpus(name)
}

fn index(path: &Path, kind: RepoKind) -> RepoIndex {
    let repository = Repository::parse(
        "https://cran.example.invalid",
        Path::new("/"),
        Path::new("/"),
    )
    .unwrap();
    RepoIndex::parse(repository, kind, &std::fs::read_to_string(path).unwrap()).unwrap()
}

fn resolve(
    indexes: &[RepoIndex],
    kind: RepoKind,
    roots: &[&str],
    r: &str,
) -> Result<Vec<(String, String)>, Box<ResolveError>> {
    let roots: Vec<(RepoKind, Requirement)> = roots
        .iter()
        .map(|root| (kind, root.parse().unwrap()))
        .collect();
    let input = LayerInput {
        layer: "corpus",
        roots: &roots,
        fixed: &HashMap::new(),
        preferred: &HashMap::new(),
        explicit: &HashSet::new(),
        r_version: &r.parse::<RVersion>().unwrap(),
        base_known: false,
    };
    let outcome = resolve_layer(indexes, &NoArchive, &input)?;
    Ok(outcome
        .packages
        .into_iter()
        .map(|p| (p.entry.name, p.entry.version.to_string()))
        .collect())
}

fn closure(
    indexes: &[RepoIndex],
    kind: RepoKind,
    roots: &[&str],
    r: &str,
) -> Vec<(String, String)> {
    resolve(indexes, kind, roots, r).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_full_cran_index_parses_and_resolves_tidyverse_and_seurat() {
    let Some(path) = corpus("cran-2025-01-macos-binary.PACKAGES") else {
        return;
    };
    let cran = index(&path, RepoKind::Cran);
    assert_eq!(cran.len(), 22_362);
    let broken: Vec<_> = cran
        .names()
        .filter(|n| cran.entry(n).unwrap().is_err())
        .collect();
    assert!(broken.is_empty(), "unreadable entries: {broken:?}");

    let indexes = [cran];
    let tidyverse = closure(&indexes, RepoKind::Cran, &["tidyverse"], "4.4.2");
    let names: HashSet<&str> = tidyverse.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "tidyverse",
        "ggplot2",
        "dplyr",
        "rlang",
        "vctrs",
        "cli",
        "tibble",
        "readr",
        "cpp11",
    ] {
        assert!(
            names.contains(expected),
            "{expected} missing from the tidyverse closure"
        );
    }
    for provided in ["Matrix", "MASS", "stats", "methods", "utils", "grid"] {
        assert!(
            !names.contains(provided),
            "{provided} is provided by R, not locked"
        );
    }
    assert!(tidyverse.contains(&("tidyverse".into(), "2.0.0".into())));
    assert!(
        (80..=140).contains(&tidyverse.len()),
        "tidyverse closure has {} packages",
        tidyverse.len()
    );
    // Every dependency of every chosen package is chosen or provided: the closure is closed.
    let [cran] = &indexes;
    for (name, _) in &tidyverse {
        let entry = cran.entry(name).unwrap().unwrap();
        for dependency in &entry.dependencies {
            let provided = imglock::cran::BASE_PACKAGES.contains(&dependency.name.as_str())
                || imglock::cran::RECOMMENDED_PACKAGES.contains(&dependency.name.as_str());
            assert!(
                provided || names.contains(dependency.name.as_str()),
                "{name} needs {}",
                dependency.name
            );
        }
    }

    let seurat = closure(&indexes, RepoKind::Cran, &["Seurat"], "4.4.2");
    let names: HashSet<&str> = seurat.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "Seurat",
        "SeuratObject",
        "Rcpp",
        "RcppEigen",
        "uwot",
        "sctransform",
    ] {
        assert!(
            names.contains(expected),
            "{expected} missing from the Seurat closure"
        );
    }
}

#[test]
fn the_full_cran_index_refuses_an_old_r_with_the_chain() {
    let Some(path) = corpus("cran-2025-01-macos-binary.PACKAGES") else {
        return;
    };
    let indexes = [index(&path, RepoKind::Cran)];
    let error = resolve(&indexes, RepoKind::Cran, &["tidyverse"], "3.6.3")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("layer `corpus` asks for tidyverse →"),
        "{error}"
    );
    assert!(error.contains("but the image has R 3.6.3"), "{error}");
}

#[test]
fn the_bioconductor_index_resolves_deseq2_with_cran_dependencies_from_cran() {
    let Some(path) = corpus("bioc-3.21-container-binaries.PACKAGES") else {
        return;
    };
    let Some(cran) = corpus("cran-2025-01-macos-binary.PACKAGES") else {
        return;
    };
    let bioc = index(&path, RepoKind::Bioconductor);
    assert_eq!(bioc.len(), 4_431);
    let deseq2 = closure(
        &[index(&cran, RepoKind::Cran), bioc],
        RepoKind::Bioconductor,
        &["DESeq2"],
        "4.5.0",
    );
    let names: HashSet<&str> = deseq2.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "DESeq2",
        "S4Vectors",
        "SummarizedExperiment",
        "RcppArmadillo",
        "ggplot2",
        "BiocParallel",
    ] {
        assert!(
            names.contains(expected),
            "{expected} missing from the DESeq2 closure"
        );
    }
}
