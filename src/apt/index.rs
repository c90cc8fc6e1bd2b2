//! The packages of every fetched Packages index, by name: each name's candidates (every
//! version, architecture and suite that offers it, with where it came from), and the virtual
//! packages: which candidates provide a name, at which version.

use std::collections::HashMap;

use url::Url;

use super::packages::BinaryPackage;
use super::version::Version;

/// Where a candidate was listed: a suite's component and architecture of one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The archive root the .deb's `Filename` is relative to.
    pub uri: Url,
    /// The suite.
    pub suite: String,
    /// The component.
    pub component: String,
    /// The Packages index's architecture (`amd64`, `all`).
    pub architecture: String,
    /// The position of the source in the list given.
    pub source: usize,
}

/// One package version offered by one index.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The package as the index gives it.
    pub package: BinaryPackage,
    /// Which of [`AptIndex::origins`] listed it.
    pub origin: usize,
}

/// A candidate that provides a (virtual) name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// The providing package's name.
    pub package: String,
    /// Its position among that name's candidates.
    pub candidate: usize,
    /// The version it provides the name at, when versioned.
    pub version: Option<Version>,
}

/// Every package of the fetched indexes.
#[derive(Debug, Default)]
pub struct AptIndex {
    origins: Vec<Origin>,
    packages: HashMap<String, Vec<Candidate>>,
    provides: HashMap<String, Vec<Provider>>,
}

impl AptIndex {
    /// Adds the packages of one index, listed at `origin`.
    pub fn add(&mut self, origin: Origin, packages: Vec<BinaryPackage>) {
        let origin_id = self.origins.len();
        self.origins.push(origin);
        for package in packages {
            let candidates = self.packages.entry(package.name.clone()).or_default();
            let position = candidates.len();
            for provided in &package.provides {
                self.provides
                    .entry(provided.name.clone())
                    .or_default()
                    .push(Provider {
                        package: package.name.clone(),
                        candidate: position,
                        version: provided.version.clone(),
                    });
            }
            candidates.push(Candidate {
                package,
                origin: origin_id,
            });
        }
    }

    /// The candidates of the real package `name`, in the order the indexes listed them.
    pub fn candidates(&self, name: &str) -> &[Candidate] {
        self.packages.get(name).map_or(&[], Vec::as_slice)
    }

    /// The candidates that provide `name`.
    pub fn providers(&self, name: &str) -> &[Provider] {
        self.provides.get(name).map_or(&[], Vec::as_slice)
    }

    /// The indexes the packages came from.
    pub fn origins(&self) -> &[Origin] {
        &self.origins
    }

    /// Where `candidate`'s .deb is downloaded from: its `Filename` (a plain relative path,
    /// checked when read) below its archive root.
    pub fn deb_url(&self, candidate: &Candidate) -> Result<Url, url::ParseError> {
        self.origins[candidate.origin]
            .uri
            .join(&candidate.package.filename)
    }

    /// Every package name (not virtual ones) the indexes hold, in no particular order.
    pub fn package_names(&self) -> impl Iterator<Item = &str> {
        self.packages.keys().map(String::as_str)
    }

    /// How many package names (not virtual ones) the indexes hold.
    pub fn names(&self) -> usize {
        self.packages.len()
    }

    /// How many candidates the indexes hold.
    pub fn len(&self) -> usize {
        self.packages.values().map(Vec::len).sum()
    }

    /// Whether no index held a package.
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }
}
