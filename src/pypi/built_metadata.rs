//! The metadata of an sdist that holds none statically, built: its build dependencies
//! (`[build-system] requires`, or PEP 517's default for a `setup.py` project) are resolved for
//! the image as an environment of their own — wheels only, none of them built in turn — and
//! downloaded, verified, then the sdist's metadata hook runs with them in a container of the
//! base image ([`super::build`]). The result describes that sdist, or is refused.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, PackageName, Requirement};
use sha2::Digest;

use super::build::{BuildBackend, SdistBuild};
use super::error::PypiError;
use super::index::Indexes;
use super::index_error::IndexError;
use super::metadata::CoreMetadata;
use super::sdist::source::{LookedAt, SdistSource};
use super::simple::DistFile;
use super::solver::Provider;

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
        let requires = super::sdist::build_requires(&sdist.filename, pyproject.as_deref())?;
        let wheels = self.build_environment(name, version, &requires)?;
        // The cache key: the bytes' own digest (an index need not give one).
        let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
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
            build_requires: requires,
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

    /// The versions and files of the build environment `roots`, solved for the image's
    /// `environment` as an environment of its own (the previous lock's `preferred` pins kept
    /// where they fit), with nothing built: every one must be a wheel. `label` names the
    /// environment in an explanation of why none fits. Shared by metadata builds and the lock's
    /// build packages, so both get the same build environment.
    pub(super) fn solve_build_environment(
        &self,
        environment: &MarkerEnvironment,
        roots: Vec<Requirement>,
        preferred: HashMap<PackageName, Version>,
        label: &str,
    ) -> Result<BTreeMap<PackageName, (Version, DistFile)>, PypiError> {
        let provider = Provider::new(self, environment, roots, HashMap::new(), preferred);
        let resolving = self.resolving_build_environment.replace(true);
        let chosen = super::solve(&provider, label);
        self.resolving_build_environment.set(resolving);
        let mut files = BTreeMap::new();
        for (dependency, version) in chosen? {
            let file = self.file_of(&dependency, &version)?;
            if !file.is_wheel {
                return Err(PypiError::SdistBuildDependency {
                    name: dependency.to_string(),
                    version: version.to_string(),
                    filename: file.filename,
                });
            }
            files.insert(dependency, (version, file));
        }
        Ok(files)
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
        let chosen = self
            .solve_build_environment(
                &builds.environment,
                roots,
                HashMap::new(),
                &format!("the build environment of {name} {version}"),
            )
            .map_err(|e| failed(e.to_string()))?;
        let mut files: Vec<DistFile> = chosen.into_values().map(|(_, file)| file).collect();
        files.sort_by(|a, b| a.filename.cmp(&b.filename));
        let file_refs: Vec<&DistFile> = files.iter().collect();
        self.download(&file_refs, "Downloading build dependencies")
            .into_iter()
            .collect()
    }
}
