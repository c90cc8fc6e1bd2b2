//! Where an sdist's dependencies come from, and why a source does not give them: the types the
//! metadata and the errors keep, apart from the readers so that neither imports them.

use std::fmt;

/// Where an sdist's dependencies were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdistSource {
    /// `PKG-INFO`, Metadata 2.2 or later with `Requires-Dist` not dynamic.
    PkgInfo,
    /// `pyproject.toml`'s `[project]` table.
    Pyproject,
    /// setuptools' `*.egg-info/requires.txt` (none: no dependencies).
    EggInfo,
    /// `setup.cfg`'s `[options]` and `[options.extras_require]`.
    SetupCfg,
    /// None of those: the sdist's PEP 517 metadata hook, run in a container of the base image
    /// (see [`crate::pypi::build`]).
    Build,
}

impl fmt::Display for SdistSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PkgInfo => "PKG-INFO",
            Self::Pyproject => "pyproject.toml [project]",
            Self::EggInfo => "*.egg-info/requires.txt",
            Self::SetupCfg => "setup.cfg [options]",
            Self::Build => "its PEP 517 metadata hook, run in a container of the base image",
        })
    }
}

/// Why a source does not give an sdist's dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotStatic {
    /// The sdist does not hold it.
    Absent,
    /// `PKG-INFO` older than Metadata 2.2, which may not say its dependencies are dynamic.
    MetadataVersion(String),
    /// The field is declared computed at build time.
    Dynamic(String),
    /// A `pyproject.toml` without a `[project]` table.
    NoProjectTable,
    /// A `setup.cfg` without `[options] install_requires` (setup.py may give it).
    NoInstallRequires,
    /// A `setup.cfg` value read from code or a file.
    Directive {
        key: String,
        directive: &'static str,
    },
    /// A file that cannot be read as what it should be.
    Unreadable(String),
}

impl fmt::Display for NotStatic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Absent => f.write_str("absent"),
            Self::MetadataVersion(version) => write!(
                f,
                "Metadata-Version {version}; dependencies are static only from 2.2"
            ),
            Self::Dynamic(field) => write!(f, "declares `{field}` dynamic"),
            Self::NoProjectTable => f.write_str("no [project] table"),
            Self::NoInstallRequires => f.write_str("no install_requires"),
            Self::Directive { key, directive } => write!(f, "`{key}` uses `{directive}`"),
            Self::Unreadable(error) => write!(f, "unreadable: {error}"),
        }
    }
}

/// The sources looked at in an sdist that gave no static dependencies, each with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookedAt(pub Vec<(SdistSource, NotStatic)>);

impl fmt::Display for LookedAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, (source, why)) in self.0.iter().enumerate() {
            if position > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{source} ({why})")?;
        }
        Ok(())
    }
}

/// What a static source says of an sdist.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct StaticMetadata {
    /// The project's name, when the source gives it (only `pyproject.toml` may).
    pub name: Option<String>,
    /// Its version, when the source gives it statically.
    pub version: Option<String>,
    pub requires_dist: Vec<String>,
    pub requires_python: Option<String>,
}
