//! What an ecosystem's inventory of an image is: the files it wants read ([`Wanted`]), the
//! differences from the lock it finds in them ([`Finding`]), and what it records from them into
//! the lock when asked ([`Recording`]). Each ecosystem folder has one (`cran::inventory`,
//! `pypi::inventory`, `conda::inventory`, `maven::inventory`).

use serde::Serialize;

use super::image::{Files, Wanted};
use crate::base::BaseContents;
use crate::lock::Lock;
use crate::package::Ecosystem;

/// What an ecosystem's inventory is made from, besides the lock.
#[derive(Debug, Clone, Copy, Default)]
pub struct InventoryContext<'a> {
    /// The R library the user named on the command line, if any.
    pub r_library: Option<&'a str>,
    /// What the lock's base image has installed, when the lock has Debian packages (whose
    /// inventory tells the base's packages from unexpected ones); else `None`.
    pub base: Option<&'a BaseContents>,
}

/// An ecosystem's view of an image: which files it needs, and how they differ from the lock.
pub trait Inventory: Wanted {
    /// Compares the files read with the lock's packages of this ecosystem, adding a finding for
    /// every difference.
    fn check(&self, files: &Files, lock: &Lock, findings: &mut Vec<Finding>);

    /// What it needs from a second read of the image, known only once `files` (the first
    /// read's) are: apt's packages' files, which their `md5sums` list. `None` (the default) when
    /// nothing. The second read's files are added to `files` before [`Inventory::check`].
    fn wanted_after(&self, files: &Files) -> Option<Box<dyn Wanted + '_>> {
        let _ = files;
        None
    }

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
    /// Installed at its version, but for another architecture (a Debian package).
    WrongArchitecture,
    /// Its binary is not the one the shared binary cache holds for it (an R package, with
    /// `--binary-cache`).
    NotCached,
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

/// The most changed files named in one finding; the rest are counted.
const SHOWN_CHANGED_FILES: usize = 5;

/// The changed files of one package as a finding names them: the first few, and how many more.
pub(crate) fn shown_files(differing: &[String]) -> String {
    let mut shown = differing[..differing.len().min(SHOWN_CHANGED_FILES)].join(", ");
    if differing.len() > SHOWN_CHANGED_FILES {
        shown.push_str(&format!(
            " and {} more",
            differing.len() - SHOWN_CHANGED_FILES
        ));
    }
    shown
}
