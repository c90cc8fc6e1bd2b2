//! What a locked package is, below every stage: its [`Ecosystem`] (a closed set), the
//! [`PackageDetails`] its ecosystem adds (each variant defined in its ecosystem's folder), a
//! [`Pin`] of a version already locked, and the words diffs and settings are told in.

use crate::apt::details::AptDetails;
use crate::conda::build::CondaBuild;
use crate::cran::details::RDetails;
use crate::lock::fields::{FieldWriter, PackageFields, Slot};
use crate::maven::details::MavenDetails;
use crate::pypi::details::PypiDetails;
use crate::url_files::details::FileDetails;

/// The package ecosystems a lock holds. A closed set: an exhaustive `match` on it names every
/// place a new ecosystem must fill. Spelled in the lock and in reports as [`Ecosystem::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Apt,
    Cran,
    Bioconductor,
    /// R packages from GitHub repositories (a layer's `github` list and their `Remotes`).
    Github,
    Pypi,
    Conda,
    Maven,
    /// Files downloaded from URLs into the image (a layer's `files`).
    File,
}

impl Ecosystem {
    /// Its spelling in the lock, in reports and in the spec's keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Apt => "apt",
            Self::Cran => "cran",
            Self::Bioconductor => "bioconductor",
            Self::Github => "github",
            Self::Pypi => "pypi",
            Self::Conda => "conda",
            Self::Maven => "maven",
            Self::File => "file",
        }
    }

    /// How messages name its packages: "Debian", "R", "Python", "conda", "Maven".
    pub fn packages_name(self) -> &'static str {
        match self {
            Self::Apt => "Debian",
            Self::Cran | Self::Bioconductor | Self::Github => "R",
            Self::Pypi => "Python",
            Self::Conda => "conda",
            Self::Maven => "Maven",
            Self::File => "URL",
        }
    }

    /// Whether its packages are R packages (CRAN, Bioconductor and GitHub share R's library and
    /// rules).
    pub fn is_r(self) -> bool {
        matches!(self, Self::Cran | Self::Bioconductor | Self::Github)
    }
}

/// Ordered by spelling, so a lock's packages sort the same as they always have.
impl Ord for Ecosystem {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Ecosystem {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A package version already locked: by a lower layer, or by the previous lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    /// The layer that locks it.
    pub layer: String,
    /// The conda build string, for conda packages (a version has many builds).
    pub build: Option<String>,
}

/// The build pins (`name==version`) the previous lock recorded for each package built from
/// source, by that package's ecosystem, name and version: kept while they still satisfy its
/// build requirements, as packages' pins are.
pub type PreferredBuilds = std::collections::BTreeMap<(Ecosystem, String, String), Vec<String>>;

/// What a package's ecosystem adds to its identity and artifact pin: one variant per kind of
/// package, each with only its own facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageDetails {
    /// Debian packages (.deb files from apt repositories).
    Apt(AptDetails),
    /// CRAN and Bioconductor packages.
    R(RDetails),
    Pypi(PypiDetails),
    Conda(CondaBuild),
    Maven(MavenDetails),
    /// Files downloaded from URLs.
    File(FileDetails),
}

impl PackageDetails {
    /// Takes the fields of `ecosystem`'s packages from a package table of the lock (whose `url`
    /// a URL artifact's fields are checked with).
    pub fn read(
        ecosystem: Ecosystem,
        url: &str,
        fields: &mut PackageFields,
    ) -> Result<Self, String> {
        Ok(match ecosystem {
            Ecosystem::Apt => Self::Apt(AptDetails::read(fields)?),
            Ecosystem::Cran | Ecosystem::Bioconductor => Self::R(RDetails::read(fields)?),
            Ecosystem::Github => Self::R(RDetails::read_github(fields)?),
            Ecosystem::Pypi => Self::Pypi(PypiDetails::read(fields)?),
            Ecosystem::Conda => Self::Conda(CondaBuild::read(fields)?),
            Ecosystem::Maven => Self::Maven(MavenDetails::read(fields)?),
            Ecosystem::File => Self::File(FileDetails::read(fields, url)?),
        })
    }

    /// Writes the fields that go in `slot` of the package's lock table.
    pub fn write(&self, slot: Slot, out: &mut FieldWriter<'_>) {
        match self {
            Self::Apt(details) => details.write(slot, out),
            Self::R(details) => details.write(slot, out),
            Self::Pypi(details) => details.write(slot, out),
            Self::Conda(build) => build.write(slot, out),
            Self::Maven(details) => details.write(slot, out),
            Self::File(details) => details.write(slot, out),
        }
    }

    /// The package's purl, as its ecosystem spells it (`ecosystem` tells CRAN from
    /// Bioconductor).
    pub fn purl(&self, ecosystem: Ecosystem, id: &crate::purl::Identity<'_>) -> String {
        match self {
            Self::Apt(details) => details.purl(id),
            Self::R(details) => details.purl(ecosystem == Ecosystem::Bioconductor, id),
            Self::Pypi(details) => details.purl(id),
            Self::Conda(build) => build.purl(id),
            Self::Maven(details) => details.purl(id),
            Self::File(details) => details.purl(id),
        }
    }

    /// An R package's details.
    pub fn r(&self) -> Option<&RDetails> {
        match self {
            Self::R(details) => Some(details),
            _ => None,
        }
    }

    /// The exact pins of the environment it is built in, when it is built from source (a PyPI
    /// sdist's `build-requires`); empty otherwise.
    pub fn build_requires(&self) -> &[String] {
        match self {
            Self::Pypi(details) => &details.build_requires,
            _ => &[],
        }
    }

    /// The sha256 of the binary recorded as built from this source in an image
    /// (`binary-sha256`: an R package's binary, a Python sdist's wheel), if any.
    pub fn binary_sha256(&self) -> Option<&str> {
        match self {
            Self::R(details) => details.binary_sha256.as_deref(),
            Self::Pypi(details) => details.binary_sha256.as_deref(),
            _ => None,
        }
    }

    /// Records the sha256 of the binary built from this source; nothing for an ecosystem whose
    /// packages are not built in the image.
    pub fn set_binary_sha256(&mut self, binary: String) {
        match self {
            Self::R(details) => details.binary_sha256 = Some(binary),
            Self::Pypi(details) => details.binary_sha256 = Some(binary),
            _ => {}
        }
    }

    /// A Python package's details.
    pub fn pypi(&self) -> Option<&PypiDetails> {
        match self {
            Self::Pypi(details) => Some(details),
            _ => None,
        }
    }

    /// A Debian package's details.
    pub fn apt(&self) -> Option<&AptDetails> {
        match self {
            Self::Apt(details) => Some(details),
            _ => None,
        }
    }

    /// A URL artifact's details.
    pub fn file(&self) -> Option<&FileDetails> {
        match self {
            Self::File(details) => Some(details),
            _ => None,
        }
    }

    /// A conda package's build.
    pub fn conda(&self) -> Option<&CondaBuild> {
        match self {
            Self::Conda(build) => Some(build),
            _ => None,
        }
    }
}

/// How far apart two versions of a package are, for a review: the first release component that
/// differs decides. Each ecosystem says what its release components are (`version_change` in its
/// module); [`crate::diff`] reports the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeLevel {
    Major,
    Minor,
    Patch,
    Other,
}

impl ChangeLevel {
    /// The level of a change whose first differing release component is at `position` (0-based):
    /// first major, second minor, third patch; a later one, or none (the change is elsewhere, in
    /// a qualifier or label), other.
    pub fn at(position: Option<usize>) -> Self {
        match position {
            Some(0) => Self::Major,
            Some(1) => Self::Minor,
            Some(2) => Self::Patch,
            _ => Self::Other,
        }
    }
}

/// A value of the lock's `[resolution]` table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(untagged)]
pub enum SettingValue {
    Text(String),
    List(Vec<String>),
}

impl SettingValue {
    /// Its values: a text is a list of one.
    pub fn items(&self) -> Vec<String> {
        match self {
            Self::Text(text) => vec![text.clone()],
            Self::List(list) => list.clone(),
        }
    }
}
