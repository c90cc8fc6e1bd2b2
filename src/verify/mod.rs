//! `imglock verify`: does a built image contain exactly what the lock says?
//!
//! The image is read without a daemon and without extracting anything ([`image`]); each
//! ecosystem's inventory names the files it needs, and whether it needs their bytes or only a
//! sha256 taken while they stream past ([`image::Want`]), and compares them with the lock. R's is
//! [`r::RInventory`], Python's `python::PythonInventory` (`*.dist-info/METADATA`), conda's
//! `conda::CondaInventory` (`<prefix>/conda-meta/*.json`) and Maven's `maven::MavenInventory`
//! (the jars of each layer's `maven-target` by sha256, strangers named by `pom.properties`).

mod conda;
mod content;
pub mod image;
mod maven;
mod python;
mod r;
mod report;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use image::{ImageError, Limits};
pub use r::RInventory;
pub use report::{junit, text};

use crate::ecosystem::Ecosystem;
use crate::error::Error;
use crate::lock::Lock;

/// What is wrong with one package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// Locked but not in the image.
    Missing,
    /// In the image at another version.
    WrongVersion,
    /// In the image, but built from another source.
    WrongSource,
    /// In the image where imglock installs, but not locked.
    Unexpected,
}

/// One difference between the image and the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// The lock layer of the package (empty for unexpected packages).
    pub layer: String,
    pub ecosystem: Ecosystem,
    pub name: String,
    pub expected: Option<String>,
    pub found: Option<String>,
    pub message: String,
}

/// The result of verifying an image.
#[derive(Debug, Serialize)]
pub struct VerifyReport {
    pub image: PathBuf,
    pub lock: PathBuf,
    /// The locked packages that were checked.
    pub checked: Vec<CheckedPackage>,
    pub findings: Vec<Finding>,
    /// Entries of the image that were skipped (hostile paths, links, sizes).
    pub warnings: Vec<String>,
}

/// A locked package that was checked.
#[derive(Debug, Serialize)]
pub struct CheckedPackage {
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
    let r = RInventory::new(library.or(lock.image.r_library.as_deref()));
    let python = python::PythonInventory;
    let conda = conda::CondaInventory::new(
        lock.image
            .conda_prefix
            .as_deref()
            .unwrap_or(crate::spec::CONDA_PREFIX),
    );
    let maven = maven::MavenInventory::new(&lock);
    let read = image::read_image(image, &image::AnyOf(&[&r, &python, &conda, &maven]), limits)?;
    let mut findings = Vec::new();
    r.check(&read.files, &lock, &mut findings);
    python.check(&read.files, &lock, &mut findings);
    conda.check(&read.files, &lock, &mut findings);
    maven.check(&read.files, &lock, &mut findings);
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
