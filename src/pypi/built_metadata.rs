//! The metadata of an sdist that holds none statically, built: its build dependencies
//! (`[build-system] requires`, or PEP 517's default for a `setup.py` project) are resolved for
//! the image as an environment of their own — wheels only, none of them built in turn — and
//! downloaded, verified, then the sdist's metadata hook runs with them in a container of the
//! base image ([`super::build`]), in the background ([`super::pending_builds`]). The result
//! describes that sdist, or is refused.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, PackageName, Requirement};
use sha2::Digest;

use super::build::{BuildBackend, BuildError, MetadataBuilder, SdistBuild};
use super::error::PypiError;
use super::index::{Indexes, MetadataResult};
use super::index_error::IndexError;
use super::metadata::CoreMetadata;
use super::sdist::source::{LookedAt, SdistSource};
use super::simple::DistFile;
use super::solver::Provider;

/// The metadata build of one sdist, prepared on the resolving thread (its sdist downloaded, its
/// build environment solved and downloaded): what the container needs, owned, so the build can
/// run on another thread.
pub(super) struct PreparedBuild {
    pub name: PackageName,
    pub version: Version,
    /// Why its sdist holds no static metadata.
    looked_at: LookedAt,
    sdist: DistFile,
    path: PathBuf,
    /// The digest of the sdist's own bytes (an index need not give one): the cache key.
    sha256: String,
    backend: BuildBackend,
    /// Its build requirements, kept in its metadata.
    requires: Vec<String>,
    /// The wheels of its build environment.
    wheels: Vec<PathBuf>,
}

impl PreparedBuild {
    /// Runs the build with `builder` (on any thread): the METADATA text it gave.
    pub fn run(&self, builder: &MetadataBuilder) -> Result<String, BuildError> {
        let build = SdistBuild {
            filename: &self.sdist.filename,
            path: &self.path,
            sha256: &self.sha256,
            backend: &self.backend,
            wheels: &self.wheels,
        };
        builder.metadata(&self.name, &build)
    }

    /// The metadata of the sdist from what its build gave, once checked to describe it.
    pub fn finish(self, built: Result<String, BuildError>) -> MetadataResult {
        let (name, version) = (self.name.to_string(), self.version.to_string());
        let text = built.map_err(|source| IndexError::MetadataBuild {
            name: name.clone(),
            version: version.clone(),
            looked_at: self.looked_at,
            source: Arc::new(source),
        })?;
        let metadata = CoreMetadata {
            sdist_source: Some(SdistSource::Build),
            build_requires: self.requires,
            ..CoreMetadata::parse(&text)
        };
        metadata
            .describing(&self.name, &self.version)
            .map(Rc::new)
            .map_err(|error| IndexError::WrongMetadata {
                name,
                version,
                source_url: self.sdist.url.to_string(),
                source: error,
            })
    }
}

impl Indexes<'_> {
    /// Starts the metadata builds of those `wanted` versions whose sdist holds no static
    /// metadata, when builds are allowed and this is not a build environment's resolve: their
    /// sdists downloaded at once, their build environments solved and downloaded here, the
    /// containers run in the background. Why one cannot start is kept as its metadata.
    pub(super) fn start_builds(&self, wanted: &[(PackageName, Version)]) {
        let Some(builds) = &self.builds else { return };
        if self.resolving_build_environment.get() {
            return;
        }
        let mut due: Vec<((PackageName, Version), LookedAt)> = Vec::new();
        for key in wanted {
            let queued = due.iter().any(|(k, _)| k == key) || self.pending.contains(key);
            if let Some(looked_at) = self.lacks_static_metadata(key).filter(|_| !queued) {
                due.push((key.clone(), looked_at));
            }
        }
        if due.is_empty() {
            return;
        }
        let mut sdists = Vec::new();
        for (key, looked_at) in due {
            match self.file_of(&key.0, &key.1) {
                Ok(sdist) => sdists.push((key, looked_at, sdist)),
                Err(error) => self.keep_result(key, Err(error)),
            }
        }
        let files: Vec<&DistFile> = sdists.iter().map(|(_, _, sdist)| sdist).collect();
        let paths = self.download(&files, "Downloading sdists to build their metadata");
        for ((key, looked_at, sdist), path) in sdists.into_iter().zip(paths) {
            let prepared = path.and_then(|path| self.prepare(&key, looked_at, sdist, path));
            match prepared {
                Ok(prepared) => self.pending.start(prepared, &builds.builder),
                Err(error) => self.keep_result(key, Err(error)),
            }
        }
    }

    /// The metadata build of the sdist of `key`, downloaded at `path`: its build backend and
    /// requirements read, its build environment solved and downloaded.
    fn prepare(
        &self,
        key: &(PackageName, Version),
        looked_at: LookedAt,
        sdist: DistFile,
        path: PathBuf,
    ) -> Result<PreparedBuild, IndexError> {
        let bytes = std::fs::read(&path).map_err(|source| IndexError::Read {
            filename: sdist.filename.clone(),
            source: Arc::new(source),
        })?;
        let pyproject = super::sdist::pyproject(&sdist.filename, &bytes)?;
        let backend = BuildBackend::of(pyproject.as_deref());
        let requires = super::sdist::build_requires(&sdist.filename, pyproject.as_deref())?;
        let wheels = self.build_environment(&key.0, &key.1, &requires)?;
        Ok(PreparedBuild {
            name: key.0.clone(),
            version: key.1.clone(),
            looked_at,
            sdist,
            path,
            sha256: hex::encode(sha2::Sha256::digest(&bytes)),
            backend,
            requires,
            wheels,
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
