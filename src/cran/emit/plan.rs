//! How a layer's R packages are split into install steps so the Docker layer cache survives change.
//!
//! The layer's final step holds the packages the spec asked for by name (`requested`), unless a
//! package outside that set depends on them; it installs them in dependency order. Every other
//! package goes into a step per dependency level: level 0 needs nothing else from this layer,
//! level k needs something of level k - 1. So the packages many others depend on, which change
//! least, come first, and:
//! - adding a requested package whose dependencies are already locked changes only the final step;
//! - upgrading a package changes no step before the first one that holds it or a dependent of it.
//!
//! Ties are broken by name, so the same lock always gives the same steps.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::lock::LockedPackage;

/// The packages of one layer's install steps, in install order.
pub fn plan<'a>(packages: &[&'a LockedPackage]) -> Vec<Vec<&'a LockedPackage>> {
    let by_name: BTreeMap<&str, &LockedPackage> =
        packages.iter().map(|p| (p.name.as_str(), *p)).collect();
    let mut levels = BTreeMap::new();
    for name in by_name.keys() {
        level(name, &by_name, &mut levels, &mut HashSet::new());
    }
    // Requested packages wait for the final step unless a package outside it depends on them.
    let mut final_set: BTreeSet<&str> = packages
        .iter()
        .filter(|p| p.requested)
        .map(|p| p.name.as_str())
        .collect();
    loop {
        let needed_early: Vec<&str> = by_name
            .values()
            .filter(|p| !final_set.contains(p.name.as_str()))
            .flat_map(|p| p.dependencies.iter().map(String::as_str))
            .filter(|dep| final_set.contains(dep))
            .collect();
        if needed_early.is_empty() {
            break;
        }
        for name in needed_early {
            final_set.remove(name);
        }
    }
    let mut steps: BTreeMap<usize, Vec<&LockedPackage>> = BTreeMap::new();
    let mut last = Vec::new();
    for (name, package) in &by_name {
        if final_set.contains(name) {
            last.push(*package);
        } else {
            steps.entry(levels[name]).or_default().push(*package);
        }
    }
    let mut planned: Vec<Vec<&LockedPackage>> = steps.into_values().collect();
    if !last.is_empty() {
        // Requested packages may depend on each other: dependencies first.
        last.sort_by_key(|p| (levels[p.name.as_str()], p.name.as_str()));
        planned.push(last);
    }
    planned
}

/// A package's dependency level within the layer (dependencies outside it do not count).
fn level<'a>(
    name: &'a str,
    by_name: &BTreeMap<&'a str, &'a LockedPackage>,
    levels: &mut BTreeMap<&'a str, usize>,
    visiting: &mut HashSet<&'a str>,
) -> usize {
    if let Some(known) = levels.get(name) {
        return *known;
    }
    // A cycle cannot happen in R, but the lock is data from outside: count it as level 0.
    if !visiting.insert(name) {
        return 0;
    }
    let value = by_name[name]
        .dependencies
        .iter()
        .filter(|dep| by_name.contains_key(dep.as_str()))
        .map(|dep| level(dep.as_str(), by_name, levels, visiting) + 1)
        .max()
        .unwrap_or(0);
    visiting.remove(name);
    levels.insert(name, value);
    value
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::package::Ecosystem;

    /// A CRAN package of the fixture repository `cran.example`.
    pub(in crate::cran::emit) fn package(
        name: &str,
        version: &str,
        dependencies: &[&str],
    ) -> LockedPackage {
        let requested = ["ggplot2", "leafy", "app"].contains(&name);
        LockedPackage {
            ecosystem: Ecosystem::Cran,
            name: name.into(),
            version: version.into(),
            repository: "https://cran.example".into(),
            url: format!("https://cran.example/src/contrib/{name}_{version}.tar.gz"),
            sha256: "0".repeat(64),
            size: 1,
            requested,
            dependencies: dependencies.iter().map(|d| d.to_string()).collect(),
            details: crate::package::PackageDetails::R(Default::default()),
        }
    }

    fn names(steps: &[Vec<&LockedPackage>]) -> Vec<Vec<String>> {
        steps
            .iter()
            .map(|step| step.iter().map(|p| p.name.clone()).collect())
            .collect()
    }

    #[test]
    fn dependencies_first_by_level_requested_last() {
        let packages = [
            package("rlang", "1.0", &[]),
            package("cli", "3.0", &[]),
            package("vctrs", "0.6", &["rlang", "cli"]),
            package("tibble", "3.2", &["vctrs", "rlang"]),
            package("ggplot2", "3.4", &["tibble", "rlang", "base-layer-pkg"]),
            package("leafy", "0.2", &["ggplot2"]),
        ];
        let refs: Vec<&LockedPackage> = packages.iter().collect();
        assert_eq!(
            names(&plan(&refs)),
            [
                vec!["cli", "rlang"],
                vec!["vctrs"],
                vec!["tibble"],
                vec!["ggplot2", "leafy"]
            ]
        );
    }

    #[test]
    fn a_requested_package_others_need_moves_to_its_level() {
        let mut packages = [
            package("rlang", "1.0", &[]),
            package("vctrs", "0.6", &["rlang"]),
            package("app", "1.0", &["vctrs"]),
        ];
        packages[0].requested = true;
        let refs: Vec<&LockedPackage> = packages.iter().collect();
        assert_eq!(
            names(&plan(&refs)),
            [vec!["rlang"], vec!["vctrs"], vec!["app"]]
        );
    }
}
