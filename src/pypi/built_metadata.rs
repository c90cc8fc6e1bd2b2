//! The metadata of an sdist that holds none statically, built: its build dependencies
//! (`[build-system] requires`, or PEP 517's default for a `setup.py` project) are resolved for
//! the image as an environment of their own — wheels only, none of them built in turn — and
//! downloaded, verified, then the sdist's metadata hook runs with them in a container of the
//! base image ([`super::build`]), in the background ([`super::pending_builds`]). The result
//! describes that sdist, or is refused.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, PackageName, Requirement};
use sha2::Digest;

use super::build::BuildBackend;
use super::error::PypiError;
use super::index::Indexes;
use super::index_error::IndexError;
use super::pending_builds::PreparedBuild;
use super::sdist::source::LookedAt;
use super::simple::DistFile;
use super::solver::Provider;

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
        let failure = super::explain::Failure {
            layer: label,
            roots: &roots,
            below: &[],
            indexes: self,
        };
        let provider = Provider::new(self, environment, roots.clone(), HashMap::new(), preferred);
        let resolving = self.resolving_build_environment.replace(true);
        let chosen = super::solve(&provider, &failure);
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
