//! The dependencies of a source distribution, read without running any of its code: the archive
//! (`.tar.gz` or `.zip`) is read once in memory, and its static sources are tried in this order
//! of trust: `PKG-INFO` with Metadata 2.2+ and `Requires-Dist` not dynamic; `pyproject.toml`'s
//! `[project]` table with static `dependencies` and `optional-dependencies`; setuptools'
//! `*.egg-info/requires.txt` with the `Requires-Python` of `PKG-INFO`; a static `setup.cfg`.
//! When none applies, the error lists what was looked at and why each was not static. The same
//! pass reads what building it needs (`[build-system] requires`, else PEP 517's defaults).

mod archive;
mod egg_info;
mod pyproject;
mod setup_cfg;
pub(super) mod source;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::PackageName;

use super::index_error::IndexError;
use super::metadata::CoreMetadata;
use archive::Members;
pub use source::{LookedAt, NotStatic, SdistSource, StaticMetadata};

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
    let pkg_info = members.pkg_info.as_deref().map(CoreMetadata::parse);
    let mut looked_at = Vec::new();
    for source in [
        SdistSource::PkgInfo,
        SdistSource::Pyproject,
        SdistSource::EggInfo,
        SdistSource::SetupCfg,
    ] {
        match read_source(source, &members, pkg_info.as_ref(), name) {
            Ok(found) => {
                let mut metadata =
                    with_pkg_info(pkg_info.unwrap_or_default(), source, found, filename)?;
                metadata.build_requires = build_requires(filename, members.pyproject.as_deref())?;
                return Ok(metadata);
            }
            Err(why) => looked_at.push((source, why)),
        }
    }
    Err(IndexError::NoStaticMetadata {
        name: name.to_string(),
        version: version.to_string(),
        filename: filename.to_string(),
        looked_at: LookedAt(looked_at),
    })
}

/// The name and version the sdist `filename` of `name` (bytes `bytes`) gives statically: its
/// static metadata's, else its `pyproject.toml` `[project]` name and version when its
/// dependencies alone are dynamic (a build gives those); the error of the metadata read when
/// neither says.
pub fn name_and_version(
    filename: &str,
    bytes: &[u8],
    name: &PackageName,
) -> Result<(PackageName, Version), IndexError> {
    let unknown = Version::new([0]);
    let (found, version) = match metadata(filename, bytes, name, &unknown) {
        Ok(metadata) => (metadata.name, metadata.version),
        Err(error @ IndexError::NoStaticMetadata { .. }) => pyproject(filename, bytes)?
            .as_deref()
            .and_then(pyproject::name_and_version)
            .ok_or(error)?,
        Err(error) => return Err(error),
    };
    let unreadable = || IndexError::NoPkgInfo {
        filename: filename.to_string(),
    };
    Ok((
        PackageName::from_str(&found).map_err(|_| unreadable())?,
        Version::from_str(&version).map_err(|_| unreadable())?,
    ))
}

/// The build requirements of the sdist `filename` whose `pyproject.toml` is `pyproject` (`None`
/// when it has none): its `[build-system] requires`, else PEP 517's setuptools and wheel.
pub fn build_requires(filename: &str, pyproject: Option<&str>) -> Result<Vec<String>, IndexError> {
    pyproject::build_requires(pyproject).map_err(|problem| IndexError::BuildSystem {
        filename: filename.to_string(),
        problem,
    })
}

/// The `pyproject.toml` of the sdist `filename` (bytes `bytes`), when it has one.
pub fn pyproject(filename: &str, bytes: &[u8]) -> Result<Option<String>, IndexError> {
    Members::read(filename, bytes)
        .map(|members| members.pyproject)
        .map_err(|source| IndexError::SdistArchive {
            filename: filename.to_string(),
            source: Arc::new(source),
        })
}

/// What `source` says of the sdist's dependencies, or why it says nothing static.
fn read_source(
    source: SdistSource,
    members: &Members,
    pkg_info: Option<&CoreMetadata>,
    name: &PackageName,
) -> Result<StaticMetadata, NotStatic> {
    match source {
        SdistSource::PkgInfo => {
            let metadata = pkg_info.ok_or(NotStatic::Absent)?;
            if metadata.has_static_dependencies() {
                Ok(StaticMetadata {
                    requires_dist: metadata.requires_dist.clone(),
                    requires_python: metadata.requires_python.clone(),
                    ..StaticMetadata::default()
                })
            } else if metadata.dynamic.iter().any(|f| f == "requires-dist") {
                Err(NotStatic::Dynamic("Requires-Dist".into()))
            } else {
                Err(NotStatic::MetadataVersion(
                    metadata.metadata_version.clone(),
                ))
            }
        }
        SdistSource::Pyproject => {
            pyproject::read(members.pyproject.as_deref().ok_or(NotStatic::Absent)?)
        }
        SdistSource::EggInfo => {
            let requires = egg_info_requires(&members.egg_infos, name).ok_or(NotStatic::Absent)?;
            Ok(StaticMetadata {
                requires_dist: requires.map(egg_info::requires_dist).unwrap_or_default(),
                ..StaticMetadata::default()
            })
        }
        SdistSource::SetupCfg => {
            setup_cfg::read(members.setup_cfg.as_deref().ok_or(NotStatic::Absent)?)
        }
        // Not a file of the archive: what a build says, when no file says it.
        SdistSource::Build => Err(NotStatic::Absent),
    }
}

/// The core metadata of the sdist `filename`: its `PKG-INFO` (`pkg_info`) with the
/// dependencies `found` in `source`. The name and version are PKG-INFO's, else the source's;
/// Requires-Python is the source's, else PKG-INFO's.
fn with_pkg_info(
    pkg_info: CoreMetadata,
    source: SdistSource,
    found: StaticMetadata,
    filename: &str,
) -> Result<CoreMetadata, IndexError> {
    let or = |own: String, static_value: Option<String>| match own.as_str() {
        "" => static_value.unwrap_or_default(),
        _ => own,
    };
    let metadata = CoreMetadata {
        name: or(pkg_info.name.clone(), found.name),
        version: or(pkg_info.version.clone(), found.version),
        requires_dist: found.requires_dist,
        requires_python: found.requires_python.or(pkg_info.requires_python.clone()),
        sdist_source: Some(source),
        ..pkg_info
    };
    if metadata.name.is_empty() || metadata.version.is_empty() {
        return Err(IndexError::NoPkgInfo {
            filename: filename.to_string(),
        });
    }
    Ok(metadata)
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

    /// A recorded sdist of fixtures/pypi/files.
    fn recorded(path: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/fixtures/pypi/files/{path}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn a_real_egg_info_sdist_keeps_pkg_infos_name_version_and_requires_python() {
        let bytes = recorded(
            "e0/e9/359dbb77c35c419df0aedeb1d53e71e7e3f438ff64a8fdb048c907404de3/alembic-1.4.1.tar.gz",
        );
        let name = PackageName::from_str("alembic").unwrap();
        let version = Version::from_str("1.4.1").unwrap();
        let metadata = metadata("alembic-1.4.1.tar.gz", &bytes, &name, &version).unwrap();
        assert_eq!(metadata.sdist_source, Some(SdistSource::EggInfo));
        assert_eq!(
            (metadata.name.as_str(), metadata.version.as_str()),
            ("alembic", "1.4.1")
        );
        assert_eq!(metadata.requires_dist.len(), 4);
        assert_eq!(
            metadata.requires_python.as_deref(),
            Some(">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*")
        );
    }

    #[test]
    fn a_real_sdist_without_a_static_source_lists_each_source_looked_at() {
        let bytes = recorded(
            "64/c2/b80047c7ac2478f9501676c988a5411ed5572f35d1beff9cae07d321512c/PyYAML-5.3.1.tar.gz",
        );
        let name = PackageName::from_str("pyyaml").unwrap();
        let version = Version::from_str("5.3.1").unwrap();
        let Err(IndexError::NoStaticMetadata { looked_at, .. }) =
            metadata("PyYAML-5.3.1.tar.gz", &bytes, &name, &version)
        else {
            panic!("PyYAML 5.3.1 has no static source");
        };
        assert_eq!(
            looked_at.0,
            [
                (
                    SdistSource::PkgInfo,
                    NotStatic::MetadataVersion("1.1".into())
                ),
                (SdistSource::Pyproject, NotStatic::Absent),
                (SdistSource::EggInfo, NotStatic::Absent),
                (SdistSource::SetupCfg, NotStatic::NoInstallRequires),
            ]
        );
    }

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

#[cfg(test)]
mod fuzz;
