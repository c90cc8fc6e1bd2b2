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
//!
//! What this guarantees for build time, with the step's scheduler (`imglock-r-jobs`, which builds
//! a package as soon as the packages of its step it needs are in): every step but the final one
//! holds one dependency level, so none of its packages waits for another and, given as many jobs
//! as packages, the step lasts as long as its slowest package; the final step lasts as long as its
//! longest dependency chain. A layer thus takes the sum over its levels of the slowest package of
//! each (its critical path when the slow packages lie on one chain; the level boundaries are the
//! price of keeping the steps below an upgrade cached), however many packages it holds. With fewer
//! jobs than ready packages, each step lists its packages critical path first: dependencies before
//! dependents, and among the packages ready together the one with the longest chain of dependents
//! in the step first, then those with code to compile (the slow builds) — the scheduler starts
//! them in that order.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::lock::LockedPackage;

/// The packages of one layer's install steps, in install order.
pub fn plan<'a>(packages: &[&'a LockedPackage]) -> Vec<Vec<&'a LockedPackage>> {
    let by_name: BTreeMap<&str, &LockedPackage> =
        packages.iter().map(|p| (p.name.as_str(), *p)).collect();
    let mut levels = BTreeMap::new();
    for name in by_name.keys() {
        dependency_level(name, &by_name, &mut levels);
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
        planned.push(last);
    }
    planned.into_iter().map(critical_path_first).collect()
}

/// A step's packages in the order the scheduler starts them when jobs are short: dependencies
/// first (requested packages may depend on each other); among the packages whose dependencies
/// in the step come earlier, the one with the longest chain of dependents in the step, then one
/// with code to compile, then by name.
fn critical_path_first<'a>(step: Vec<&'a LockedPackage>) -> Vec<&'a LockedPackage> {
    let in_step: BTreeMap<&'a str, &'a LockedPackage> =
        step.iter().map(|p| (p.name.as_str(), *p)).collect();
    let needs: BTreeMap<&str, BTreeSet<&str>> = in_step
        .values()
        .map(|p| {
            let found = p.dependencies.iter().map(String::as_str);
            let found = found.filter(|d| in_step.contains_key(d) && *d != p.name);
            (p.name.as_str(), found.collect())
        })
        .collect();
    let dependents = |name: &str| -> Vec<&'a str> {
        let found = needs.iter().filter(|(_, needed)| needed.contains(name));
        found.map(|(dependent, _)| *dependent).collect()
    };
    let mut chains = BTreeMap::new();
    for name in in_step.keys() {
        level(name, &mut chains, &mut HashSet::new(), &dependents);
    }
    let compiles =
        |p: &LockedPackage| p.details.r().and_then(|r| r.needs_compilation) == Some(true);
    let mut order = Vec::with_capacity(step.len());
    let mut placed = BTreeSet::new();
    while order.len() < in_step.len() {
        // Every package is placed once: one that is ready, or (a cycle, see `level`) any left.
        let left = || {
            in_step
                .values()
                .filter(|p| !placed.contains(p.name.as_str()))
        };
        let ready: Vec<&LockedPackage> = left()
            .filter(|p| needs[p.name.as_str()].iter().all(|d| placed.contains(d)))
            .copied()
            .collect();
        let candidates = if ready.is_empty() {
            left().copied().collect()
        } else {
            ready
        };
        let next = candidates
            .into_iter()
            .min_by_key(|p| {
                (
                    std::cmp::Reverse(chains[p.name.as_str()]),
                    !compiles(p),
                    p.name.as_str(),
                )
            })
            .expect("a package is left");
        placed.insert(next.name.as_str());
        order.push(next);
    }
    order
}

/// A package's dependency level within the layer (dependencies outside it do not count): the
/// longest chain of dependencies below it.
fn dependency_level<'a>(
    name: &'a str,
    by_name: &BTreeMap<&'a str, &'a LockedPackage>,
    levels: &mut BTreeMap<&'a str, usize>,
) -> usize {
    let below = |name: &str| -> Vec<&'a str> {
        let dependencies = by_name[name].dependencies.iter().map(String::as_str);
        dependencies.filter(|d| by_name.contains_key(d)).collect()
    };
    level(name, levels, &mut HashSet::new(), &below)
}

/// The longest chain from `name` along `next` (its dependencies, or its dependents in a set of
/// packages).
fn level<'a>(
    name: &'a str,
    levels: &mut BTreeMap<&'a str, usize>,
    visiting: &mut HashSet<&'a str>,
    next: &dyn Fn(&str) -> Vec<&'a str>,
) -> usize {
    if let Some(known) = levels.get(name) {
        return *known;
    }
    // A cycle cannot happen in R, but the lock is data from outside: count it as level 0.
    if !visiting.insert(name) {
        return 0;
    }
    let value = next(name)
        .into_iter()
        .map(|other| level(other, levels, visiting, next) + 1)
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
            license: None,
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

    #[test]
    fn a_step_lists_its_longest_chain_and_its_compiled_packages_first() {
        // Requested together: a chain m1 <- m2 <- m3, and independent a (pure R) and z (compiled).
        let mut packages = [
            package("a", "1.0", &[]),
            package("m1", "1.0", &[]),
            package("m2", "1.0", &["m1"]),
            package("m3", "1.0", &["m2"]),
            package("z", "1.0", &[]),
        ];
        for package in &mut packages {
            package.requested = true;
        }
        if let crate::package::PackageDetails::R(r) = &mut packages[4].details {
            r.needs_compilation = Some(true);
        }
        let refs: Vec<&LockedPackage> = packages.iter().collect();
        assert_eq!(names(&plan(&refs)), [vec!["m1", "m2", "z", "a", "m3"]]);
    }
}
