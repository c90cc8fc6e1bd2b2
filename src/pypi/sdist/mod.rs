//! The dependencies of a source distribution, read without running any of its code: the archive
//! (`.tar.gz` or `.zip`) is read once in memory, and its static sources are tried in this order
//! of trust: `PKG-INFO` with Metadata 2.2+ and `Requires-Dist` not dynamic; `pyproject.toml`'s
//! `[project]` table with static `dependencies` and `optional-dependencies`; setuptools'
//! `*.egg-info/requires.txt` with the `Requires-Python` of `PKG-INFO`; a static `setup.cfg`.
//! When none applies, the error lists what was looked at and why each was not static.

mod archive;
mod egg_info;
mod pyproject;
mod setup_cfg;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::PackageName;

use super::index_error::IndexError;
use super::metadata::CoreMetadata;
use archive::Members;

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
}

impl fmt::Display for SdistSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PkgInfo => "PKG-INFO",
            Self::Pyproject => "pyproject.toml [project]",
            Self::EggInfo => "*.egg-info/requires.txt",
            Self::SetupCfg => "setup.cfg [options]",
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

/// The core metadata of the sdist `filename` of `name` at `version`, whose bytes are `bytes`,
/// from its most trusted static source.
pub fn metadata(
    filename: &str,
    bytes: &[u8],
    name: &PackageName,
    version: &Version,
) -> Result<CoreMetadata, IndexError> {
    let members = Members::read(filename, bytes).map_err(|source| IndexError::SdistArchive {
        filename: filename.to_string(),
        source: Arc::new(source),
    })?;
    let mut looked_at = Vec::new();
    let pkg_info = members.pkg_info.as_deref().map(CoreMetadata::parse);
    match &pkg_info {
        Some(metadata) if metadata.has_static_dependencies() => {
            return Ok(CoreMetadata {
                sdist_source: Some(SdistSource::PkgInfo),
                ..metadata.clone()
            });
        }
        Some(metadata) if metadata.dynamic.iter().any(|f| f == "requires-dist") => looked_at
            .push((
                SdistSource::PkgInfo,
                NotStatic::Dynamic("Requires-Dist".into()),
            )),
        Some(metadata) => looked_at.push((
            SdistSource::PkgInfo,
            NotStatic::MetadataVersion(metadata.metadata_version.clone()),
        )),
        None => looked_at.push((SdistSource::PkgInfo, NotStatic::Absent)),
    }
    let base = pkg_info.unwrap_or_default();
    let found = |base: &CoreMetadata, source, requires_dist, requires_python: Option<String>| {
        let metadata = CoreMetadata {
            requires_dist,
            requires_python: requires_python.or_else(|| base.requires_python.clone()),
            dynamic: Vec::new(),
            sdist_source: Some(source),
            ..base.clone()
        };
        if metadata.name.is_empty() || metadata.version.is_empty() {
            return Err(IndexError::NoPkgInfo {
                filename: filename.to_string(),
            });
        }
        Ok(metadata)
    };
    match members.pyproject.as_deref().map(pyproject::read) {
        Some(Ok(project)) => {
            // Without a PKG-INFO, the project's own static name and version.
            let or = |own: &str, static_value: Option<String>| match own {
                "" => static_value.unwrap_or_default(),
                own => own.to_string(),
            };
            let base = CoreMetadata {
                name: or(&base.name, project.name),
                version: or(&base.version, project.version),
                ..base.clone()
            };
            return found(
                &base,
                SdistSource::Pyproject,
                project.requires_dist,
                project.requires_python,
            );
        }
        Some(Err(why)) => looked_at.push((SdistSource::Pyproject, why)),
        None => looked_at.push((SdistSource::Pyproject, NotStatic::Absent)),
    }
    match egg_info_requires(&members.egg_infos, name) {
        Some(requires) => {
            let requires_dist = requires.map(egg_info::requires_dist).unwrap_or_default();
            return found(&base, SdistSource::EggInfo, requires_dist, None);
        }
        None => looked_at.push((SdistSource::EggInfo, NotStatic::Absent)),
    }
    match members.setup_cfg.as_deref().map(setup_cfg::read) {
        Some(Ok(read)) => {
            return found(
                &base,
                SdistSource::SetupCfg,
                read.requires_dist,
                read.requires_python,
            );
        }
        Some(Err(why)) => looked_at.push((SdistSource::SetupCfg, why)),
        None => looked_at.push((SdistSource::SetupCfg, NotStatic::Absent)),
    }
    Err(IndexError::NoStaticMetadata {
        name: name.to_string(),
        version: version.to_string(),
        filename: filename.to_string(),
        looked_at: LookedAt(looked_at),
    })
}

/// The `requires.txt` of the sdist's egg-info directory (`Some(None)` for one without it): the
/// one named after the project when there are several.
fn egg_info_requires<'a>(
    egg_infos: &'a BTreeMap<String, Option<String>>,
    name: &PackageName,
) -> Option<Option<&'a str>> {
    let named = |dir: &&String| {
        let stem = dir.trim_start_matches("src/").trim_end_matches(".egg-info");
        PackageName::from_str(stem).is_ok_and(|stem| &stem == name)
    };
    let dir = egg_infos
        .keys()
        .find(named)
        .or_else(|| egg_infos.keys().next())?;
    Some(egg_infos[dir].as_deref())
}

/// `requirement` (a PEP 508 line, perhaps with its own marker) also conditioned on `marker`
/// and on the extra `extra`.
fn requirement_with(requirement: &str, marker: Option<&str>, extra: Option<&str>) -> String {
    let (body, own) = match requirement.split_once(';') {
        Some((body, own)) => (body.trim(), Some(own.trim()).filter(|m| !m.is_empty())),
        None => (requirement.trim(), None),
    };
    let mut conditions: Vec<String> = own.into_iter().chain(marker).map(String::from).collect();
    if conditions.is_empty() && extra.is_none() {
        return body.to_string();
    }
    let several = conditions.len() + usize::from(extra.is_some()) > 1;
    if several {
        conditions = conditions.iter().map(|c| format!("({c})")).collect();
    }
    conditions.extend(extra.map(|extra| format!("extra == \"{extra}\"")));
    format!("{body} ; {}", conditions.join(" and "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_are_combined_with_and() {
        assert_eq!(requirement_with("a>=1", None, None), "a>=1");
        assert_eq!(
            requirement_with("a>=1; python_version<'3.8'", None, None),
            "a>=1 ; python_version<'3.8'"
        );
        assert_eq!(
            requirement_with("a", Some("os_name == \"nt\" or x"), Some("e")),
            "a ; (os_name == \"nt\" or x) and extra == \"e\""
        );
        assert_eq!(
            requirement_with("a ; b", Some("c"), None),
            "a ; (b) and (c)"
        );
    }
}
