//! The metadata of an sdist that holds none statically, built: its build dependencies
//! (`[build-system] requires`, or PEP 517's default for a `setup.py` project) are resolved for
//! the image as an environment of their own — wheels only, none of them built in turn — and
//! downloaded, verified, then the sdist's metadata hook runs with them in a container of the
//! base image ([`super::build`]). The result describes that sdist, or is refused.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::PackageName;

use super::build::{BuildBackend, SdistBuild};
use super::index::Indexes;
use super::index_error::IndexError;
use super::metadata::CoreMetadata;
use super::sdist::source::{LookedAt, SdistSource};
use super::simple::DistFile;
use super::solver::Provider;

/// PEP 517's build requirements of a project without `[build-system] requires`.
const LEGACY_REQUIRES: &[&str] = &["setuptools>=40.8.0", "wheel"];

impl Indexes<'_> {
    /// The metadata of `name` at `version`, whose sdist holds none statically (`looked_at`
    /// says why), built in a container.
    pub(super) fn built_metadata(
        &self,
        name: &PackageName,
        version: &Version,
        looked_at: LookedAt,
    ) -> Result<Rc<CoreMetadata>, IndexError> {
        let builds = self.builds.as_ref().expect("only called with builds");
        let sdist = self.file_of(name, version)?;
        let path = self.download(&[&sdist], "Downloading an sdist to build its metadata");
        let path = path.into_iter().next().expect("one file, one result")?;
        let bytes = std::fs::read(&path).map_err(|source| IndexError::Read {
            filename: sdist.filename.clone(),
            source: Arc::new(source),
        })?;
        let pyproject = super::sdist::pyproject(&sdist.filename, &bytes)?;
        let backend = BuildBackend::of(pyproject.as_deref());
        let wheels =
            self.build_environment(name, version, &build_requires(pyproject.as_deref()))?;
        let sha256 = sdist.sha256.clone().unwrap_or_default();
        let build = SdistBuild {
            filename: &sdist.filename,
            path: &path,
            sha256: &sha256,
            backend: &backend,
            wheels: &wheels,
        };
        let text =
            builds
                .builder
                .metadata(name, &build)
                .map_err(|source| IndexError::MetadataBuild {
                    name: name.to_string(),
                    version: version.to_string(),
                    looked_at,
                    source: Arc::new(source),
                })?;
        let metadata = CoreMetadata {
            sdist_source: Some(SdistSource::Build),
            ..CoreMetadata::parse(&text)
        };
        metadata
            .describing(name, version)
            .map(Rc::new)
            .map_err(|error| IndexError::WrongMetadata {
                name: name.to_string(),
                version: version.to_string(),
                source_url: sdist.url.to_string(),
                source: error,
            })
    }

    /// The file chosen for `name` at `version`.
    fn file_of(&self, name: &PackageName, version: &Version) -> Result<DistFile, IndexError> {
        self.project(name)?
            .and_then(|project| Some(project.versions.get(version)?.file.clone()))
            .ok_or_else(|| IndexError::NotInIndex {
                name: name.to_string(),
                version: version.to_string(),
            })
    }

    /// The wheels of the build environment `requires` of `name` at `version`: resolved for the
    /// image with nothing built, downloaded and verified.
    fn build_environment(
        &self,
        name: &PackageName,
        version: &Version,
        requires: &[String],
    ) -> Result<Vec<std::path::PathBuf>, IndexError> {
        let builds = self.builds.as_ref().expect("only called with builds");
        let failed = |reason: String| IndexError::BuildEnvironment {
            name: name.to_string(),
            version: version.to_string(),
            reason,
        };
        let roots = requires
            .iter()
            .map(|text| {
                super::requirement::parse(text).map_err(|e| {
                    failed(format!("its build requirement `{text}` is unreadable: {e}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let provider = Provider::new(
            self,
            &builds.environment,
            roots,
            HashMap::new(),
            HashMap::new(),
        );
        self.resolving_build_environment.set(true);
        let chosen = super::solve(
            &provider,
            &format!("the build environment of {name} {version}"),
        );
        self.resolving_build_environment.set(false);
        let chosen = chosen.map_err(|e| failed(e.to_string()))?;
        let mut files = Vec::new();
        for (dependency, dependency_version) in &chosen {
            let file = self.file_of(dependency, dependency_version)?;
            if !file.is_wheel {
                return Err(failed(format!(
                    "its build dependency {dependency} {dependency_version} has no wheel for the image ({}); imglock builds no build dependency",
                    file.filename
                )));
            }
            files.push(file);
        }
        files.sort_by(|a, b| a.filename.cmp(&b.filename));
        let file_refs: Vec<&DistFile> = files.iter().collect();
        self.download(&file_refs, "Downloading build dependencies")
            .into_iter()
            .collect()
    }
}

/// The build requirements `pyproject` (the sdist's `pyproject.toml`, if any) gives, or PEP
/// 517's default for a project without `[build-system] requires`.
fn build_requires(pyproject: Option<&str>) -> Vec<String> {
    let requires = pyproject
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|table| {
            let requires = table
                .get("build-system")?
                .get("requires")?
                .as_array()?
                .clone();
            Some(
                requires
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_string))
                    .collect::<Vec<_>>(),
            )
        });
    requires.unwrap_or_else(|| LEGACY_REQUIRES.iter().map(|r| r.to_string()).collect())
}
