//! `imglock export --format conda-explicit`: the conda packages as an explicit environment file
//! (`@EXPLICIT`), as `conda list --explicit --md5` and conda-lock write it: one artifact URL a line
//! with its checksum after `#`, which conda, mamba and micromamba check (`conda create --file`,
//! `micromamba create -f`): the md5 when the lock has it (every client reads that), else
//! `sha256:…` (which recent conda and rattler-based clients read). No solver runs, so the lines
//! are in install order: each after its dependencies.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::lock::LockedPackage;
use crate::package::SettingValue;

/// The explicit file of `packages` (conda packages of a lock whose `[resolution]` is
/// `resolution`), after the comment lines `heading`.
pub(crate) fn render(
    heading: &str,
    resolution: &BTreeMap<String, SettingValue>,
    packages: &[&LockedPackage],
) -> String {
    let subdir = resolution
        .get("conda-subdir")
        .map(SettingValue::items)
        .unwrap_or_default()
        .join(",");
    let mut out = format!("{heading}# platform: {subdir}\n@EXPLICIT\n");
    for package in install_order(packages) {
        let checksum = match package.details.conda().and_then(|c| c.md5.as_ref()) {
            Some(md5) => md5.clone(),
            None => format!("sha256:{}", package.sha256),
        };
        let _ = writeln!(out, "{}#{checksum}", package.url);
    }
    out
}

/// `packages` with each after those of its dependencies among them; by name where the order
/// is free.
fn install_order<'a>(packages: &[&'a LockedPackage]) -> Vec<&'a LockedPackage> {
    let mut sorted = packages.to_vec();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut placed = BTreeSet::new();
    let mut order = Vec::new();
    for package in &sorted {
        place(package, &sorted, &mut placed, &mut order);
    }
    order
}

fn place<'a>(
    package: &'a LockedPackage,
    all: &[&'a LockedPackage],
    placed: &mut BTreeSet<&'a str>,
    order: &mut Vec<&'a LockedPackage>,
) {
    if !placed.insert(package.name.as_str()) {
        return;
    }
    let mut dependencies: Vec<&str> = package.dependencies.iter().map(String::as_str).collect();
    dependencies.sort_unstable();
    for name in dependencies {
        if let Some(dependency) = all.iter().find(|p| p.name == name) {
            place(dependency, all, placed, order);
        }
    }
    order.push(package);
}
