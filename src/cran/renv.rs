//! `imglock export --format renv`: the R packages as an `renv.lock` (renv's lockfile, read by
//! `renv::restore()`): R's version and the repositories, by name, then each package with its
//! `Version`, `Source` and `Repository` (CRAN-like and Bioconductor repositories) or, for a GitHub
//! package, renv's `Remote*` fields at the locked commit, its `Requirements` (the locked
//! dependencies) and its `License` when the lock records one.
//!
//! renv's `Hash` is an md5 of fields of the package's installed `DESCRIPTION`, which the lock
//! does not hold: it is left out (renv computes it on restore and does not need it); so are
//! the Bioconductor git fields renv records for a package installed from Bioconductor's git.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::lock::LockedPackage;
use crate::package::{Ecosystem, SettingValue};

/// The lock's `[resolution]` table.
type Resolution = BTreeMap<String, SettingValue>;

/// The values of the `[resolution]` setting `key` (none when absent).
fn setting(resolution: &Resolution, key: &str) -> Vec<String> {
    resolution
        .get(key)
        .map(SettingValue::items)
        .unwrap_or_default()
}

/// The `renv.lock` of `packages` (R packages of a lock whose `[resolution]` is `resolution`).
pub(crate) fn render(resolution: &Resolution, packages: &[&LockedPackage]) -> String {
    let repositories = Repositories::of(resolution, packages);
    let mut entries = Map::new();
    let mut sorted = packages.to_vec();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for package in sorted {
        entries.insert(package.name.clone(), entry(package, &repositories));
    }
    let mut lock = json!({
        "R": {
            "Version": setting(resolution, "r-version").join(""),
            "Repositories": repositories.named.iter().map(|(name, url)| json!({ "Name": name, "URL": url })).collect::<Vec<_>>(),
        },
        "Packages": entries,
    });
    let release = setting(resolution, "bioconductor-release");
    if !release.is_empty() {
        lock["Bioconductor"] = json!({ "Version": release.join("") });
    }
    serde_json::to_string_pretty(&lock).unwrap_or_default() + "\n"
}

/// The repositories the packages come from, each with renv's name for it: CRAN's first
/// (`CRAN`, then `CRAN2`, …, in the lock's order), then Bioconductor's by BiocManager's
/// names (`BioCsoft`, `BioCann`, …).
struct Repositories {
    named: Vec<(String, String)>,
}

impl Repositories {
    fn of(resolution: &Resolution, packages: &[&LockedPackage]) -> Self {
        let mut cran = setting(resolution, "cran-repositories");
        let mut bioc = setting(resolution, "bioconductor-repositories");
        for package in packages {
            let list = match package.ecosystem {
                Ecosystem::Cran => &mut cran,
                Ecosystem::Bioconductor => &mut bioc,
                _ => continue,
            };
            if !list.contains(&package.repository) {
                list.push(package.repository.clone());
            }
        }
        let mut named: Vec<(String, String)> = cran
            .into_iter()
            .enumerate()
            .map(|(index, url)| match index {
                0 => ("CRAN".to_string(), url),
                _ => (format!("CRAN{}", index + 1), url),
            })
            .collect();
        for (index, url) in bioc.into_iter().enumerate() {
            named.push((bioc_name(&url, index), url));
        }
        Self { named }
    }

    fn name_of<'a>(&'a self, url: &'a str) -> &'a str {
        self.named
            .iter()
            .find(|(_, u)| u == url)
            .map_or(url, |(name, _)| name)
    }
}

/// BiocManager's name for a Bioconductor repository, by how its URL ends.
fn bioc_name(url: &str, index: usize) -> String {
    let url = url.trim_end_matches('/');
    let known = [
        ("/bioc", "BioCsoft"),
        ("/data/annotation", "BioCann"),
        ("/data/experiment", "BioCexp"),
        ("/workflows", "BioCworkflows"),
        ("/books", "BioCbooks"),
    ];
    known
        .iter()
        .find(|(suffix, _)| url.ends_with(suffix))
        .map_or_else(
            || format!("BioC{}", index + 1),
            |(_, name)| name.to_string(),
        )
}

/// One package's entry.
fn entry(package: &LockedPackage, repositories: &Repositories) -> Value {
    let mut entry = json!({ "Package": package.name, "Version": package.version });
    let github = package.details.r().and_then(|r| r.github.as_ref());
    match (package.ecosystem, github) {
        (_, Some(github)) => {
            let (owner, repo) = github.repo.split_once('/').unwrap_or(("", &github.repo));
            entry["Source"] = json!("GitHub");
            entry["RemoteType"] = json!("github");
            entry["RemoteHost"] = json!("api.github.com");
            entry["RemoteUsername"] = json!(owner);
            entry["RemoteRepo"] = json!(repo);
            entry["RemoteRef"] = json!(github.git_ref);
            entry["RemoteSha"] = json!(github.commit);
            if let Some(subdir) = &github.subdir {
                entry["RemoteSubdir"] = json!(subdir);
            }
        }
        (Ecosystem::Bioconductor, None) => {
            entry["Source"] = json!("Bioconductor");
            entry["Repository"] = json!(repositories.name_of(&package.repository));
        }
        _ => {
            entry["Source"] = json!("Repository");
            entry["Repository"] = json!(repositories.name_of(&package.repository));
        }
    }
    if let Some(license) = &package.license {
        entry["License"] = json!(license);
    }
    let mut requirements = package.dependencies.clone();
    requirements.sort();
    entry["Requirements"] = json!(requirements);
    entry
}
