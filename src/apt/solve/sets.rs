//! The solver's vocabulary for Debian relations: the names it knows (a real package, or a
//! virtual one that `Provides` offer), what a solvable is (an index candidate, an installed
//! package no source lists, or a provider offering a virtual name), and the version sets
//! relations become (what a dependency admits, what a `Conflicts`/`Breaks` leaves allowed).

use std::fmt;
use std::hash::{Hash, Hasher};

use resolvo::SolvableId;
use resolvo::utils::VersionSet;

use crate::apt::packages::MultiArch;
use crate::apt::relation::{ArchQualifier, Constraint, Dependency, Operator};
use crate::apt::version::Version;

/// A name the solver chooses among: a real package's, or a virtual one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AptName {
    /// A package name: at most one of its versions is installed.
    Package(String),
    /// A virtual package name: any number of its providers may be installed.
    Virtual(String),
}

impl AptName {
    /// The name as Debian writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Package(name) | Self::Virtual(name) => name,
        }
    }
}

impl fmt::Display for AptName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Package(name) => f.write_str(name),
            Self::Virtual(name) => write!(f, "{name} (virtual)"),
        }
    }
}

/// What one solvable is.
#[derive(Debug, Clone)]
pub enum Record {
    /// A candidate of the index: its position among its name's candidates.
    Candidate {
        /// The position in `AptIndex::candidates(name)`.
        position: usize,
        /// Its version.
        version: Version,
    },
    /// An installed package no source lists at its version.
    Installed {
        /// Its position in the installed list.
        entry: usize,
        /// Its version.
        version: Version,
    },
    /// A package providing a virtual name (a solvable of that virtual name).
    Provided {
        /// The providing package's solvable.
        provider: SolvableId,
        /// The version provided, when versioned.
        version: Option<Version>,
    },
}

impl Record {
    /// The version of a package's solvable (none for a provider).
    pub fn version(&self) -> Option<&Version> {
        match self {
            Self::Candidate { version, .. } | Self::Installed { version, .. } => Some(version),
            Self::Provided { .. } => None,
        }
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Candidate { version, .. } | Self::Installed { version, .. } => {
                write!(f, "{version}")
            }
            Self::Provided {
                version: Some(version),
                ..
            } => write!(f, "(= {version})"),
            Self::Provided { version: None, .. } => Ok(()),
        }
    }
}

/// A version relation, hashable (by the version as written) to key interned sets.
#[derive(Debug, Clone)]
pub struct Rel(pub Constraint);

impl PartialEq for Rel {
    fn eq(&self, other: &Self) -> bool {
        self.0.operator == other.0.operator && self.0.version.as_str() == other.0.version.as_str()
    }
}

impl Eq for Rel {}

impl Hash for Rel {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.operator.hash(state);
        self.0.version.as_str().hash(state);
    }
}

impl fmt::Display for Rel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({} {})", self.0.operator.as_str(), self.0.version)
    }
}

/// Which architectures' packages a relation accepts (with one native architecture and `all`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Qualifier {
    /// No qualifier, `:native` or the native architecture: any candidate (all are native or
    /// `all`).
    Native,
    /// `:any`: a package that is `Multi-Arch: allowed` (or `foreign`, which satisfies any
    /// architecture's dependencies).
    Any,
    /// Another architecture: no candidate of a single-architecture index has it.
    Foreign(String),
}

impl Qualifier {
    /// The qualifier of `dependency` for the native architecture `native`.
    pub fn of(dependency: &Dependency, native: &str) -> Self {
        match &dependency.arch {
            None | Some(ArchQualifier::Native) => Self::Native,
            Some(ArchQualifier::Any) => Self::Any,
            Some(ArchQualifier::Arch(arch)) if arch == native || arch == "all" => Self::Native,
            Some(ArchQualifier::Arch(arch)) => Self::Foreign(arch.clone()),
        }
    }

    /// Whether a package of `architecture` and `multi_arch` satisfies it.
    pub fn admits(&self, architecture: &str, multi_arch: MultiArch) -> bool {
        match self {
            Self::Native => true,
            Self::Any => matches!(multi_arch, MultiArch::Allowed | MultiArch::Foreign),
            Self::Foreign(arch) => arch == architecture,
        }
    }
}

/// What a dependency asks of a name: a version relation and an architecture qualifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Wanted {
    /// The version relation, if any.
    pub constraint: Option<Rel>,
    /// The architecture qualifier.
    pub qualifier: Qualifier,
}

impl Wanted {
    /// What `dependency` asks, on `native`.
    pub fn of(dependency: &Dependency, native: &str) -> Self {
        Self {
            constraint: dependency.constraint.clone().map(Rel),
            qualifier: Qualifier::of(dependency, native),
        }
    }

    /// Whether a real package at `version` satisfies the relation.
    pub fn admits_version(&self, version: &Version) -> bool {
        self.constraint
            .as_ref()
            .is_none_or(|rel| rel.0.admits(version))
    }

    /// Whether a provided version satisfies it (Debian Policy 7.5: an unversioned `Provides`
    /// never satisfies a versioned dependency).
    pub fn admits_provided(&self, provided: Option<&Version>) -> bool {
        match (&self.constraint, provided) {
            (None, _) => true,
            (Some(rel), Some(version)) => rel.0.admits(version),
            (Some(_), None) => false,
        }
    }
}

impl fmt::Display for Wanted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let qualifier = match &self.qualifier {
            Qualifier::Native => None,
            Qualifier::Any => Some(":any".to_string()),
            Qualifier::Foreign(arch) => Some(format!(":{arch}")),
        };
        let constraint = self.constraint.as_ref().map(ToString::to_string);
        let parts: Vec<String> = qualifier.into_iter().chain(constraint).collect();
        f.write_str(&parts.join(" "))
    }
}

/// A version set: what a relation admits of one name's solvables.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AptSet {
    /// A dependency on a real package: the versions it admits.
    Satisfies(Wanted),
    /// A dependency on a virtual name: the providers whose provided version it admits.
    Provides(Wanted),
    /// A provider's requirement of its own package: exactly that solvable.
    Is(SolvableId),
    /// `Conflicts`/`Breaks` on a real package: the versions the relation does not hit, and
    /// the declaring package itself (a package never conflicts with itself).
    NotHit {
        /// The field it comes from.
        field: Clash,
        /// The relation's version constraint (none hits every version).
        conflict: Option<Rel>,
        /// The declaring solvable, when it has this name.
        keep: Option<SolvableId>,
    },
    /// `Conflicts`/`Breaks` on a virtual name, for one provider: every solvable of the
    /// provider's name but that one.
    Not(Clash, SolvableId),
}

/// The field a conflict comes from: both exclude the versions they hit (they differ only in
/// when dpkg unpacks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Clash {
    /// `Conflicts`.
    Conflicts,
    /// `Breaks`.
    Breaks,
}

impl fmt::Display for Clash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Conflicts => "Conflicts",
            Self::Breaks => "Breaks",
        })
    }
}

impl VersionSet for AptSet {
    type V = Record;
}

/// Whether `conflict` hits `version` (no constraint hits every version).
pub fn hits(conflict: Option<&Rel>, version: &Version) -> bool {
    conflict.is_none_or(|rel| rel.0.admits(version))
}

/// The relation `(= version)`, for messages.
pub fn equal(version: &Version) -> Rel {
    Rel(Constraint {
        operator: Operator::Equal,
        version: version.clone(),
    })
}
