//! What a resolution starts from besides the index: the packages the base image already has
//! (as its dpkg status lists them), and the options (target architecture, whether Recommends
//! are installed, each source's pin priority).

use crate::apt::index::{AptIndex, Origin};
use crate::apt::relation::Provided;
use crate::apt::version::Version;

/// apt's default pin priority of a source (`APT::Default-Release` unset).
pub const DEFAULT_PRIORITY: i32 = 500;

/// The pin priority of a suite apt marks `NotAutomatic: yes, ButAutomaticUpgrades: yes`
/// (Debian's `-backports`): installed only when asked for or already installed.
pub const BACKPORTS_PRIORITY: i32 = 100;

/// A package the base image has installed, as its dpkg status gives it.
#[derive(Debug, Clone)]
pub struct Installed {
    /// `Package`.
    pub name: String,
    /// `Version`.
    pub version: Version,
    /// `Architecture`.
    pub architecture: String,
    /// `Provides`.
    pub provides: Vec<Provided>,
}

/// How to resolve.
#[derive(Debug, Clone)]
pub struct SolveOptions {
    /// The native Debian architecture (`amd64`); `all` packages are taken too.
    pub architecture: String,
    /// Whether `Recommends` are installed when they can be (apt's default; imglock's is off,
    /// as `--no-install-recommends`).
    pub recommends: bool,
    /// The pin priority of each of the index's origins, by position; origins past its end get
    /// [`default_priority`].
    pub priorities: Vec<i32>,
}

impl SolveOptions {
    /// Options for `architecture`, without Recommends, every origin at its default priority.
    pub fn new(architecture: &str) -> Self {
        Self {
            architecture: architecture.to_string(),
            recommends: false,
            priorities: Vec::new(),
        }
    }

    /// The pin priority of `index`'s origin number `origin`.
    pub fn priority(&self, index: &AptIndex, origin: usize) -> i32 {
        self.priorities
            .get(origin)
            .copied()
            .unwrap_or_else(|| default_priority(&index.origins()[origin]))
    }
}

/// The priority apt gives a source without pins: 100 for a `-backports` suite, else 500.
pub fn default_priority(origin: &Origin) -> i32 {
    if origin.suite.ends_with("-backports") {
        BACKPORTS_PRIORITY
    } else {
        DEFAULT_PRIORITY
    }
}
