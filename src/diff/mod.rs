//! `imglock diff`: what changed between two locks, for code review.
//!
//! Per layer and ecosystem: packages added, removed, upgraded or downgraded (classified by that
//! ecosystem's version order, `EcosystemSupport::version_change`; Debian binaries grouped by their
//! source package and security updates called out, [`apt`]), rebuilt (a conda build change), moved
//! between layers, or fetched from another repository; a loud warning for the same version and
//! build with a different sha256 (a re-published or tampered artifact) and for every downgrade; the
//! build packages of each layer (marked `build_only`) and each sdist's build pins likewise; custom
//! steps added, removed or changed and the image's `entrypoint` and `cmd`; and the Docker cache
//! impact, found by rendering both locks' Dockerfiles and finding the first step whose text changes
//! (a lock whose Dockerfile cannot be rendered still diffs: the impact is then unknown, and a
//! warning says why).

mod apt;
mod render;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

pub use render::{github, markdown, text};

use crate::custom_steps;
pub use crate::custom_steps::diff::StepChange;
use crate::emit::{DockerfileOptions, render as render_dockerfile};
use crate::error::Error;
use crate::lock::{Lock, LockedPackage};
use crate::package::{ChangeLevel, Ecosystem};

/// What happened to a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Added,
    Removed,
    Upgraded,
    Downgraded,
    /// The version changed in a way the ecosystem cannot order.
    Changed,
    /// Same version, another build (conda: a new build string or number, so new bytes too).
    Rebuilt,
    Moved,
    SourceChanged,
    /// Same version and build, different bytes.
    ArtifactChanged,
    /// Same version, other pins of its build environment (a PyPI sdist's `build-requires`).
    BuildRequiresChanged,
}

/// One change of one package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    /// The layer the package is in now (the old one, for a removal).
    pub layer: String,
    pub ecosystem: Ecosystem,
    pub name: String,
    pub old_version: Option<String>,
    pub new_version: Option<String>,
    /// For upgrades and downgrades: major, minor, patch or other.
    pub level: Option<ChangeLevel>,
    /// For moves: the layer it was in.
    pub old_layer: Option<String>,
    /// For source and artifact changes and rebuilds: where it came from and what it hashed to.
    pub old_url: Option<String>,
    pub new_url: Option<String>,
    pub old_sha256: Option<String>,
    pub new_sha256: Option<String>,
    /// For rebuilds only (absent otherwise): the old and new build.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_build: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_build: Option<String>,
    /// For build requirement changes only (absent otherwise): the old and new pins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_build_requires: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_build_requires: Option<Vec<String>>,
    /// Whether it is a build package (what builds the layer's sdists, never installed); absent
    /// when not.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub build_only: bool,
    /// For Debian binaries grouped by their source package (absent otherwise): the binaries the
    /// change moves; `name` is then the source package, and the versions the source's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub binaries: Vec<String>,
    /// The security suite (`bookworm-security`) a Debian package's new version comes from: a
    /// security update. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_suite: Option<String>,
}

impl Change {
    /// A change of `kind` to `package` in `layer`, with no details yet.
    fn of(kind: ChangeKind, layer: &str, package: &LockedPackage) -> Self {
        Self {
            kind,
            layer: layer.to_string(),
            ecosystem: package.ecosystem,
            name: package.name.clone(),
            old_version: None,
            new_version: None,
            level: None,
            old_layer: None,
            old_url: None,
            new_url: None,
            old_sha256: None,
            new_sha256: None,
            old_build: None,
            new_build: None,
            old_build_requires: None,
            new_build_requires: None,
            build_only: false,
            binaries: Vec::new(),
            security_suite: None,
        }
    }

    /// What it is about, as a sentence names it: the package, or a source package and its
    /// binaries.
    pub(crate) fn subject(&self) -> String {
        if self.binaries.is_empty() {
            self.name.clone()
        } else {
            format!(
                "source package {} ({})",
                self.name,
                self.binaries.join(", ")
            )
        }
    }

    /// A change of `kind` from `old` to `new` in `layer`, with both versions.
    fn between(kind: ChangeKind, layer: &str, old: &LockedPackage, new: &LockedPackage) -> Self {
        Self {
            old_version: Some(old.version.clone()),
            new_version: Some(new.version.clone()),
            ..Self::of(kind, layer, new)
        }
    }

    /// With where both artifacts come from and what they hash to.
    fn with_artifacts(self, old: &LockedPackage, new: &LockedPackage) -> Self {
        Self {
            old_url: Some(old.url.clone()),
            new_url: Some(new.url.clone()),
            old_sha256: Some(old.sha256.clone()),
            new_sha256: Some(new.sha256.clone()),
            ..self
        }
    }
}

/// How much of the image a change rebuilds, per layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheImpact {
    pub layer: String,
    /// The layer's steps in the new Dockerfile.
    pub steps: usize,
    /// The first of them that rebuilds (1-based), if any does.
    pub first_rebuilt_step: Option<usize>,
    /// How many packages the rebuilt steps install.
    pub rebuilt_packages: usize,
}

/// Everything that differs between two locks.
#[derive(Debug, Clone, Serialize)]
pub struct LockDiff {
    pub old: String,
    pub new: String,
    /// Changes of the base image, platform, parent image or command.
    pub image: Vec<String>,
    pub changes: Vec<Change>,
    /// Custom steps added, removed or changed, per layer (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepChange>,
    pub warnings: Vec<String>,
    pub cache: Vec<CacheImpact>,
}

impl LockDiff {
    /// Whether the locks differ in anything that matters.
    pub fn is_empty(&self) -> bool {
        self.image.is_empty() && self.changes.is_empty() && self.steps.is_empty()
    }
}

/// A lock and where it came from, for diffing.
pub struct LockSource<'a> {
    pub label: String,
    pub path: &'a Path,
    pub bytes: &'a [u8],
}

/// Compares two locks.
pub fn diff(old: &LockSource<'_>, new: &LockSource<'_>) -> Result<LockDiff, Error> {
    let old_lock = Lock::parse(old.path, &String::from_utf8_lossy(old.bytes))?;
    let new_lock = Lock::parse(new.path, &String::from_utf8_lossy(new.bytes))?;
    let mut diff = compare(&old_lock, &new_lock);
    diff.old = old.label.clone();
    diff.new = new.label.clone();
    match cache_impact(old, &old_lock, new, &new_lock) {
        Ok(cache) => diff.cache = cache,
        Err(error) => diff.warnings.push(format!(
            "the Docker cache impact is unknown: a Dockerfile cannot be rendered from both locks ({})",
            crate::causes::chain(&error).replace("\n  Caused by: ", ": ")
        )),
    }
    Ok(diff)
}

/// What differs between two locks already read, in [`text`]'s words a line each: what
/// `imglock resolve` says of the lock it changes (no Dockerfile is rendered for it).
pub fn change_lines_between(old_lock: &Lock, new_lock: &Lock) -> Vec<String> {
    render::change_lines(&compare(old_lock, new_lock))
}

/// The image, package and custom step changes between two locks, with the warnings they call
/// for; unlabelled, and without the cache impact.
fn compare(old_lock: &Lock, new_lock: &Lock) -> LockDiff {
    let mut image = Vec::new();
    if old_lock.image.base != new_lock.image.base {
        image.push(format!(
            "base image: {} → {}",
            old_lock.image.base, new_lock.image.base
        ));
    }
    if old_lock.image.platform != new_lock.image.platform {
        image.push(format!(
            "platform: {} → {}",
            old_lock.image.platform, new_lock.image.platform
        ));
    }
    image.extend(crate::family::parent_change(
        old_lock.parent.as_ref(),
        new_lock.parent.as_ref(),
    ));
    image.extend(custom_steps::diff::command_changes(
        &old_lock.image.command(),
        &new_lock.image.command(),
    ));
    let changes = package_changes(old_lock, new_lock);
    let steps = custom_steps::diff::step_changes(old_lock, new_lock);
    let warnings = changes.iter().filter_map(warning).collect();
    LockDiff {
        old: String::new(),
        new: String::new(),
        image,
        changes,
        steps,
        warnings,
        cache: Vec::new(),
    }
}

/// What a reviewer must be warned of in `change`, if anything.
fn warning(change: &Change) -> Option<String> {
    match change.kind {
        ChangeKind::ArtifactChanged => Some(format!(
            "{} {} in layer `{}` has a different sha256 ({} → {}) for the same version: a re-published or tampered artifact; find out why before merging",
            change.name,
            change.new_version.as_deref().unwrap_or_default(),
            change.layer,
            change.old_sha256.as_deref().unwrap_or_default(),
            change.new_sha256.as_deref().unwrap_or_default(),
        )),
        ChangeKind::Downgraded => Some(format!(
            "{} is downgraded from {} to {} in layer `{}`",
            change.subject(),
            change.old_version.as_deref().unwrap_or_default(),
            change.new_version.as_deref().unwrap_or_default(),
            change.layer
        )),
        _ => None,
    }
}

/// How much of each layer of `new_lock` rebuilds, from the first step whose text differs between
/// the Dockerfiles of both locks; an error when either cannot be rendered (a lock this imglock
/// cannot emit still diffs, without the cache impact).
fn cache_impact(
    old: &LockSource<'_>,
    old_lock: &Lock,
    new: &LockSource<'_>,
    new_lock: &Lock,
) -> Result<Vec<CacheImpact>, Error> {
    let options = DockerfileOptions::default();
    let old_steps = render_dockerfile(old_lock, old.path, old.bytes, &options)?.steps;
    let new_steps = render_dockerfile(new_lock, new.path, new.bytes, &options)?.steps;
    let first_changed = new_steps
        .iter()
        .zip(&old_steps)
        .position(|(new, old)| new.text != old.text)
        .or_else(|| {
            (new_steps.len() != old_steps.len()).then(|| old_steps.len().min(new_steps.len()))
        });
    let cache = new_lock
        .layers
        .iter()
        .map(|layer| {
            let indexed: Vec<(usize, &crate::emit::Step)> = new_steps
                .iter()
                .enumerate()
                .filter(|(_, step)| step.layer.as_deref() == Some(layer.name.as_str()))
                .collect();
            let rebuilt: Vec<(usize, &(usize, &crate::emit::Step))> = indexed
                .iter()
                .enumerate()
                .filter(|(_, (global, _))| first_changed.is_some_and(|first| *global >= first))
                .collect();
            CacheImpact {
                layer: layer.name.clone(),
                steps: indexed.len(),
                first_rebuilt_step: rebuilt.first().map(|(position, _)| position + 1),
                rebuilt_packages: rebuilt.iter().map(|(_, (_, step))| step.packages).sum(),
            }
        })
        .collect();
    Ok(cache)
}

type Key<'a> = (&'a str, &'a str);

fn by_key(lock: &Lock) -> BTreeMap<Key<'_>, (&str, &LockedPackage)> {
    lock.layers
        .iter()
        .flat_map(|layer| {
            layer.packages.iter().map(move |p| {
                (
                    (p.ecosystem.as_str(), p.name.as_str()),
                    (layer.name.as_str(), p),
                )
            })
        })
        .collect()
}

fn package_changes(old: &Lock, new: &Lock) -> Vec<Change> {
    let (old_packages, new_packages) = (by_key(old), by_key(new));
    let mut changes = Vec::new();
    for (key, (layer, package)) in &new_packages {
        let Some((old_layer, old_package)) = old_packages.get(key) else {
            changes.push(Change {
                new_version: Some(package.version.clone()),
                ..Change::of(ChangeKind::Added, layer, package)
            });
            continue;
        };
        if old_layer != layer {
            changes.push(Change {
                old_layer: Some((*old_layer).to_string()),
                ..Change::between(ChangeKind::Moved, layer, old_package, package)
            });
        }
        changes.extend(same_package_changes(layer, old_package, package));
        changes.extend(build_requires_change(layer, old_package, package));
    }
    for (key, (layer, package)) in &old_packages {
        if !new_packages.contains_key(key) {
            changes.push(Change {
                old_version: Some(package.version.clone()),
                ..Change::of(ChangeKind::Removed, layer, package)
            });
        }
    }
    changes.extend(build_package_changes(old, new));
    let mut changes = apt::by_source(changes, old, new);
    let layer_order = |name: &str| {
        new.layers
            .iter()
            .chain(&old.layers)
            .position(|l| l.name == name)
    };
    changes.sort_by(|a, b| {
        (
            layer_order(&a.layer),
            a.build_only,
            &a.ecosystem,
            &a.name,
            a.kind,
            &a.new_version,
        )
            .cmp(&(
                layer_order(&b.layer),
                b.build_only,
                &b.ecosystem,
                &b.name,
                b.kind,
                &b.new_version,
            ))
    });
    changes
}

/// What changed between two entries of one package: its content, then its source.
fn same_package_changes(layer: &str, old: &LockedPackage, new: &LockedPackage) -> Vec<Change> {
    let mut changes: Vec<Change> = content_change(layer, old, new).into_iter().collect();
    if source_changed(old, new) {
        changes.push(Change {
            old_url: Some(old.url.clone()),
            new_url: Some(new.url.clone()),
            ..Change::between(ChangeKind::SourceChanged, layer, old, new)
        });
    }
    changes
}

/// A change of the pins an sdist of the same version is built with.
fn build_requires_change(layer: &str, old: &LockedPackage, new: &LockedPackage) -> Option<Change> {
    let pins = |package: &LockedPackage| {
        package
            .details
            .pypi()
            .map(|details| details.build_requires.clone())
            .unwrap_or_default()
    };
    let (old_pins, new_pins) = (pins(old), pins(new));
    (old.version == new.version && old_pins != new_pins).then(|| Change {
        old_build_requires: Some(old_pins),
        new_build_requires: Some(new_pins),
        ..Change::between(ChangeKind::BuildRequiresChanged, layer, old, new)
    })
}

/// The changes of each layer's build packages: a name with one version on each side is compared
/// as a package is (upgraded, downgraded, other bytes or source); otherwise each version is
/// added, removed or compared with itself.
fn build_package_changes(old: &Lock, new: &Lock) -> Vec<Change> {
    let mut layers: Vec<&str> = new
        .layers
        .iter()
        .chain(&old.layers)
        .map(|l| l.name.as_str())
        .collect();
    layers.sort_unstable();
    layers.dedup();
    let mut changes = Vec::new();
    for layer in layers {
        let (old_names, new_names) = (build_packages(old, layer), build_packages(new, layer));
        let mut names: Vec<&(Ecosystem, &str)> = old_names.keys().chain(new_names.keys()).collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let none = Vec::new();
            let olds = old_names.get(name).unwrap_or(&none);
            let news = new_names.get(name).unwrap_or(&none);
            changes.extend(
                version_changes(layer, olds, news)
                    .into_iter()
                    .map(|change| Change {
                        build_only: true,
                        ..change
                    }),
            );
        }
    }
    changes
}

/// The build packages of layer `layer` of `lock`, by ecosystem and name.
fn build_packages<'a>(
    lock: &'a Lock,
    layer: &str,
) -> BTreeMap<(Ecosystem, &'a str), Vec<&'a LockedPackage>> {
    let mut names: BTreeMap<(Ecosystem, &str), Vec<&LockedPackage>> = BTreeMap::new();
    for package in lock
        .layers
        .iter()
        .filter(|l| l.name == layer)
        .flat_map(|l| &l.build_packages)
    {
        names
            .entry((package.ecosystem, package.name.as_str()))
            .or_default()
            .push(package);
    }
    names
}

/// The changes between the `olds` and `news` versions of one build package in `layer`.
fn version_changes(layer: &str, olds: &[&LockedPackage], news: &[&LockedPackage]) -> Vec<Change> {
    if let ([old], [new]) = (olds, news) {
        return same_package_changes(layer, old, new);
    }
    let mut changes = Vec::new();
    for new in news {
        match olds.iter().find(|old| old.version == new.version) {
            Some(old) => changes.extend(same_package_changes(layer, old, new)),
            None => changes.push(Change {
                new_version: Some(new.version.clone()),
                ..Change::of(ChangeKind::Added, layer, new)
            }),
        }
    }
    for old in olds
        .iter()
        .filter(|old| !news.iter().any(|new| new.version == old.version))
    {
        changes.push(Change {
            old_version: Some(old.version.clone()),
            ..Change::of(ChangeKind::Removed, layer, old)
        });
    }
    changes
}

/// What changed in what a package installs: its version (ordered by its ecosystem's rules), its
/// build, or, for the same version and build, its bytes.
fn content_change(layer: &str, old: &LockedPackage, new: &LockedPackage) -> Option<Change> {
    if old.version != new.version {
        let (kind, level) = match crate::registry::support(new.ecosystem)
            .version_change(&old.version, &new.version)
        {
            Some((Ordering::Greater, level)) => (ChangeKind::Upgraded, Some(level)),
            Some((Ordering::Less, level)) => (ChangeKind::Downgraded, Some(level)),
            _ => (ChangeKind::Changed, None),
        };
        return Some(Change {
            level,
            ..Change::between(kind, layer, old, new)
        });
    }
    if is_rebuild(old, new) {
        let (old_build, new_build) = build_labels(old, new);
        return Some(Change {
            old_build: Some(old_build),
            new_build: Some(new_build),
            ..Change::between(ChangeKind::Rebuilt, layer, old, new).with_artifacts(old, new)
        });
    }
    (old.sha256 != new.sha256).then(|| {
        Change::between(ChangeKind::ArtifactChanged, layer, old, new).with_artifacts(old, new)
    })
}

/// Whether the package comes from another repository, or from another URL for the same version
/// and build (a rebuild's new URL is part of the rebuild).
fn source_changed(old: &LockedPackage, new: &LockedPackage) -> bool {
    old.repository != new.repository
        || (old.version == new.version && !is_rebuild(old, new) && old.url != new.url)
}

/// What tells two builds of one version apart: a conda package's build string and number, a
/// GitHub R package's commit (`commit <sha>`, its number 0), a PyPI git package's
/// (`commit <7 digits>`); `None` for any other package.
fn build_of(package: &LockedPackage) -> Option<(String, u64)> {
    if let Some(conda) = package.details.conda() {
        return Some((conda.build.clone(), conda.build_number));
    }
    if let Some(git) = package.details.pypi().and_then(|p| p.git.as_ref()) {
        return Some((format!("commit {}", git.short()), 0));
    }
    let github = package.details.r()?.github.as_ref()?;
    Some((format!("commit {}", github.commit), 0))
}

/// Whether the same version was built again: another conda build string or build number, or
/// another commit of a GitHub or git package.
fn is_rebuild(old: &LockedPackage, new: &LockedPackage) -> bool {
    old.version == new.version && build_of(old) != build_of(new)
}

/// The two builds as a reviewer tells them apart: the build strings (or commits), with the
/// build numbers added when only those differ.
fn build_labels(old: &LockedPackage, new: &LockedPackage) -> (String, String) {
    let build = |package: &LockedPackage| build_of(package).map(|(build, _)| build);
    let label = |package: &LockedPackage, with_number: bool| match build_of(package) {
        Some((build, number)) if with_number => format!("{build} (number {number})"),
        Some((build, _)) => build,
        None => String::new(),
    };
    let with_number = build(old) == build(new);
    (label(old, with_number), label(new, with_number))
}
