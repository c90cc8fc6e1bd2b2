//! What an ecosystem's inventory of an image is: the files it wants read ([`Wanted`]), the
//! differences from the lock it finds in them ([`Finding`]), and what it records from them into
//! the lock when asked ([`Recording`]). Each ecosystem folder has one (`cran::inventory`,
//! `pypi::inventory`, `conda::inventory`, `maven::inventory`).

use serde::Serialize;

use super::image::{Files, Wanted};
use crate::lock::Lock;
use crate::package::Ecosystem;

/// An ecosystem's view of an image: which files it needs, and how they differ from the lock.
pub trait Inventory: Wanted {
    /// Compares the files read with the lock's packages of this ecosystem, adding a finding for
    /// every difference.
    fn check(&self, files: &Files, lock: &Lock, findings: &mut Vec<Finding>);

    /// Records in `lock` what the image's builds wrote down about its packages (R: each
    /// binary's sha256; Python: each sdist's wheel's, `crate::built_binaries`), for `imglock verify --record-binaries`; `None` when
    /// this ecosystem records nothing.
    fn record(&self, files: &Files, lock: &mut Lock) -> Option<Recording> {
        let _ = (files, lock);
        None
    }
}

/// What one ecosystem recorded from an image into the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recording {
    /// What was recorded, like "recorded the binary sha256 of 5 R package(s)".
    pub summary: String,
    /// Each record that was not used, and why.
    pub ignored: Vec<String>,
}

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
    /// Installed at its version, but with files changed since the install.
    ChangedFile,
}

/// One difference between the image and the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What kind of difference it is.
    pub kind: FindingKind,
    /// The lock layer of the package (empty for unexpected packages).
    pub(crate) layer: String,
    pub(crate) ecosystem: Ecosystem,
    /// The package name as its ecosystem spells it, like `ggplot2` or `numpy`.
    pub name: String,
    pub(crate) expected: Option<String>,
    pub(crate) found: Option<String>,
    pub(crate) message: String,
}
