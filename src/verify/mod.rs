//! `imglock verify`: does a built image contain exactly what the lock says?
//!
//! The image is read without a daemon and without extracting anything ([`image`]); each
//! ecosystem of [`crate::registry::ALL`] gives an [`Inventory`] that names the files it needs,
//! and whether it needs their bytes or only a sha256 taken while they stream past
//! ([`image::Want`]), and compares them with the lock: R's `DESCRIPTION` files, Python's
//! `*.dist-info/METADATA`, conda's `<prefix>/conda-meta/*.json`, Maven's jars of each
//! layer's `maven-target` by sha256, and dpkg's status and `md5sums` lists.
//!
//! An inventory may need files it can name only once it has read others (apt: the files the
//! locked packages' `md5sums` list, [`Inventory::wanted_after`]); the image is then read a
//! second time for just those. A lock with Debian packages also has its base image read
//! ([`crate::base`], by the digest the lock pins, remembered in the cache), so that the apt
//! inventory knows which installed packages the base brought.
//!
//! With `--binary-cache`, each R package must also be the binary the shared binary cache holds
//! for it ([`binary_cache`]).
//!
//! With `--record-binaries`, an image that matches its lock also gives the lock what its builds
//! wrote down (R: each binary's sha256, [`Inventory::record`]); the lock is then rewritten
//! atomically, everything else in it byte for byte the same.

mod binary_cache;
pub(crate) mod inventory;
mod report;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::image;
pub use crate::image::Limits;
pub use inventory::{Finding, FindingKind, Recording};
pub(crate) use inventory::{Inventory, InventoryContext};
pub(crate) use report::{github, junit, text};

use crate::error::Error;
use crate::lock::Lock;
use crate::package::Ecosystem;

/// The result of verifying an image.
#[derive(Debug, Serialize)]
pub struct VerifyReport {
    pub(crate) image: PathBuf,
    pub(crate) lock: PathBuf,
    /// The locked packages that were checked.
    pub(crate) checked: Vec<CheckedPackage>,
    /// Every difference between image and lock; empty when the image matches.
    pub findings: Vec<Finding>,
    /// Entries of the image that were skipped (hostile paths, links, sizes).
    pub warnings: Vec<String>,
    /// What `--record-binaries` recorded into the lock; `None` when it was not asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<Recorded>,
    /// How long it took (JUnit's `time`); left out of the JSON report, which stays a function
    /// of the image and the lock.
    #[serde(skip)]
    pub(crate) timing: Timing,
}

/// How long a verification took: the whole of it, and each ecosystem folder's comparison of
/// the files read with the lock.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timing {
    /// From reading the lock to the report: the image's reading and every comparison.
    pub total: Duration,
    /// Each folder's comparison, with the ecosystems it serves.
    pub checks: Vec<(&'static [Ecosystem], Duration)>,
}

impl Timing {
    /// How long the comparison of `ecosystem`'s packages took, and with which ecosystems it was
    /// shared (zero, and none, when no folder serves it).
    pub fn check_of(&self, ecosystem: Ecosystem) -> (Duration, &'static [Ecosystem]) {
        self.checks
            .iter()
            .find(|(served, _)| served.contains(&ecosystem))
            .map(|(served, took)| (*took, *served))
            .unwrap_or_default()
    }
}

/// What `--record-binaries` did.
#[derive(Debug, Serialize)]
pub struct Recorded {
    /// What each ecosystem recorded; empty when the image does not match the lock.
    pub recordings: Vec<Recording>,
    /// Whether the lock file was rewritten (it is not when nothing in it changed).
    pub written: bool,
}

/// A locked package that was checked.
#[derive(Debug, Serialize)]
pub(crate) struct CheckedPackage {
    pub layer: String,
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
}

impl VerifyReport {
    /// Whether the image matches the lock.
    pub fn matches(&self) -> bool {
        self.findings.is_empty()
    }
}

/// How an image is verified, beyond comparing it with its lock.
#[derive(Default)]
pub struct VerifyOptions<'a> {
    /// The R library the packages were installed into (default: the lock's).
    pub library: Option<&'a str>,
    /// How much of the image is read.
    pub limits: Limits,
    /// When the image matches, write what its builds recorded into the lock
    /// (`--record-binaries`).
    pub record: bool,
    /// Also check that each R package is the binary this shared binary cache holds for it
    /// (`--binary-cache`).
    pub binary_cache: Option<&'a crate::cran::binary_cache::registry::CacheRegistry>,
}

/// Verifies the image at `image` against the lock at `lock_path`.
pub fn verify(
    image: &Path,
    lock_path: &Path,
    library: Option<&str>,
    limits: Limits,
) -> Result<VerifyReport, Error> {
    verify_with(
        image,
        lock_path,
        &VerifyOptions {
            library,
            limits,
            ..VerifyOptions::default()
        },
    )
}

/// Verifies the image at `image` against the lock at `lock_path` as `options` say.
pub fn verify_with(
    image: &Path,
    lock_path: &Path,
    options: &VerifyOptions<'_>,
) -> Result<VerifyReport, Error> {
    let started = Instant::now();
    let (library, limits) = (options.library, options.limits);
    let mut lock = Lock::read(lock_path)?;
    let base = base_contents(&lock, lock_path)?;
    let context = InventoryContext {
        r_library: library,
        base: base.as_ref(),
    };
    let inventories: Vec<Box<dyn Inventory>> = crate::registry::ALL
        .iter()
        .map(|support| support.inventory(&lock, &context))
        .collect();
    let wanted: Vec<&dyn image::Wanted> = inventories
        .iter()
        .map(|inventory| inventory.as_ref() as &dyn image::Wanted)
        .collect();
    let mut read = image::read_image(image, &image::AnyOf(&wanted), limits)?;
    read_again(image, &inventories, &mut read, limits)?;
    let mut findings = Vec::new();
    let mut timing = Timing::default();
    for (support, inventory) in crate::registry::ALL.iter().zip(&inventories) {
        let checking = Instant::now();
        inventory.check(&read.files, &lock, &mut findings);
        timing
            .checks
            .push((support.ecosystems(), checking.elapsed()));
    }
    if let Some(registry) = options.binary_cache {
        binary_cache::check_image(&lock, &read.files, registry, &mut findings)?;
    }
    let checked = checked(&lock);
    let recorded = if options.record {
        Some(record_into(
            &inventories,
            &read.files,
            &mut lock,
            lock_path,
            findings.is_empty(),
        )?)
    } else {
        None
    };
    Ok(VerifyReport {
        image: image.to_path_buf(),
        lock: lock_path.to_path_buf(),
        checked,
        findings,
        warnings: read.warnings,
        recorded,
        timing: Timing {
            total: started.elapsed(),
            ..timing
        },
    })
}

/// What the lock's base image has installed, when the lock has Debian packages (else `None`:
/// nothing needs it, and reading a registry base costs a download). The base is read by the
/// digest the lock pins, from the cache when it was read before; a local base's path is taken
/// relative to the lock's folder, where `imglock resolve` writes the lock beside its spec.
fn base_contents(
    lock: &Lock,
    lock_path: &Path,
) -> Result<Option<crate::base::BaseContents>, Error> {
    let has_debs = lock
        .layers
        .iter()
        .any(|layer| layer.packages.iter().any(|p| p.ecosystem == Ecosystem::Apt));
    if !has_debs {
        return Ok(None);
    }
    let invalid = |message: String| crate::lock::LockError::Invalid {
        path: lock_path.to_path_buf(),
        message,
    };
    let reference = crate::base::BaseReference::parse(&lock.image.base)
        .map_err(|problem| invalid(format!("image.base {problem}")))?;
    let platform: crate::platform::Platform = lock
        .image
        .platform
        .parse()
        .map_err(|problem| invalid(format!("image.platform: {problem}")))?;
    let cache = crate::fetch::Cache::from_env();
    let spec_dir = match lock_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let options = crate::base::BaseOptions {
        platform: &platform,
        conda_prefix: lock
            .image
            .conda_prefix
            .as_deref()
            .unwrap_or(crate::conda::spec::CONDA_PREFIX),
        spec_dir,
        cache: &cache,
        offline: false,
    };
    let base = crate::base::read_base(&reference, options).map_err(|source| Error::VerifyBase {
        lock: lock_path.to_path_buf(),
        source: Box::new(source),
    })?;
    Ok(Some(base.contents))
}

/// Reads `image` again for the files the inventories can name only now that `read` holds the
/// first read's (nothing when none asks), and adds them and their new warnings to `read`.
fn read_again(
    image: &Path,
    inventories: &[Box<dyn Inventory>],
    read: &mut image::ImageFiles,
    limits: Limits,
) -> Result<(), Error> {
    let later: Vec<Box<dyn image::Wanted + '_>> = inventories
        .iter()
        .filter_map(|inventory| inventory.wanted_after(&read.files))
        .collect();
    if later.is_empty() {
        return Ok(());
    }
    let wanted: Vec<&dyn image::Wanted> = later.iter().map(|w| w.as_ref()).collect();
    let again = image::read_image(image, &image::AnyOf(&wanted), limits)?;
    for (path, content) in again.files {
        match read.files.entry(path) {
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(content);
            }
            std::collections::btree_map::Entry::Occupied(mut entry) => {
                entry.get_mut().learn(content);
            }
        }
    }
    for warning in again.warnings {
        if !read.warnings.contains(&warning) {
            read.warnings.push(warning);
        }
    }
    Ok(())
}

/// Records what the inventories find in `files` into `lock` and writes it to `lock_path` when
/// its text changes; nothing when the image does not `match` the lock.
fn record_into(
    inventories: &[Box<dyn Inventory>],
    files: &image::Files,
    lock: &mut Lock,
    lock_path: &Path,
    matches: bool,
) -> Result<Recorded, Error> {
    if !matches {
        return Ok(Recorded {
            recordings: Vec::new(),
            written: false,
        });
    }
    let before = crate::lock::render(lock);
    let recordings: Vec<Recording> = inventories
        .iter()
        .filter_map(|inventory| inventory.record(files, lock))
        .collect();
    let written = crate::lock::render(lock) != before;
    if written {
        lock.write(lock_path)?;
    }
    Ok(Recorded {
        recordings,
        written,
    })
}

/// Every locked package, as checked.
fn checked(lock: &Lock) -> Vec<CheckedPackage> {
    lock.layers
        .iter()
        .flat_map(|layer| {
            layer.packages.iter().map(|p| CheckedPackage {
                layer: layer.name.clone(),
                ecosystem: p.ecosystem,
                name: p.name.clone(),
                version: p.version.clone(),
            })
        })
        .collect()
}
