//! `imglock verify`: does a built image contain exactly what the lock says?
//!
//! The image is read without a daemon and without extracting anything ([`image`]); each
//! ecosystem of [`crate::registry::ALL`] gives an [`Inventory`] that names the files it needs,
//! and whether it needs their bytes or only a sha256 taken while they stream past
//! ([`image::Want`]), and compares them with the lock: R's `DESCRIPTION` files, Python's
//! `*.dist-info/METADATA`, conda's `<prefix>/conda-meta/*.json`, and Maven's jars of each
//! layer's `maven-target` by sha256.

mod content;
pub(crate) mod image;
pub(crate) mod inventory;
mod report;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use image::Limits;
pub(crate) use inventory::Inventory;
pub use inventory::{Finding, FindingKind};
pub(crate) use report::{junit, text};

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

/// Verifies the image at `image` against the lock at `lock_path`.
pub fn verify(
    image: &Path,
    lock_path: &Path,
    library: Option<&str>,
    limits: Limits,
) -> Result<VerifyReport, Error> {
    let lock = Lock::read(lock_path)?;
    let inventories: Vec<Box<dyn Inventory>> = crate::registry::ALL
        .iter()
        .map(|support| support.inventory(&lock, library))
        .collect();
    let wanted: Vec<&dyn image::Wanted> = inventories
        .iter()
        .map(|inventory| inventory.as_ref() as &dyn image::Wanted)
        .collect();
    let read = image::read_image(image, &image::AnyOf(&wanted), limits)?;
    let mut findings = Vec::new();
    for inventory in &inventories {
        inventory.check(&read.files, &lock, &mut findings);
    }
    let checked = lock
        .layers
        .iter()
        .flat_map(|layer| {
            layer.packages.iter().map(|p| CheckedPackage {
                layer: layer.name.clone(),
                ecosystem: p.ecosystem,
                name: p.name.clone(),
                version: p.version.clone(),
            })
        })
        .collect();
    Ok(VerifyReport {
        image: image.to_path_buf(),
        lock: lock_path.to_path_buf(),
        checked,
        findings,
        warnings: read.warnings,
    })
}
