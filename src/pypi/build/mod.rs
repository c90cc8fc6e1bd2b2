//! Isolated metadata builds: the dependencies of a source distribution that no static file gives
//! (no PKG-INFO 2.2+, `pyproject.toml` `[project]`, egg-info or static `setup.cfg`; see
//! [`super::sdist`]) are learned by running its PEP 517 hook `prepare_metadata_for_build_wheel`
//! (or `build_wheel`) — the only place imglock runs package code — and only in a throwaway
//! container of the spec's own base image, so the image's Python computes them for the image's
//! platform: no network inside, the sdist and the locked wheels of its build dependencies
//! mounted read-only, nothing kept but the METADATA. The result is cached by the sdist's sha256,
//! so it is computed once per machine.

mod engine;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use pep508_rs::PackageName;

pub use engine::{ContainerEngine, EngineError, Mount, Until};

use sha2::{Digest, Sha256};

use crate::fetch::Cache;
use crate::support::NoBuild;

/// The hook run inside the container.
const HOOK: &str = include_str!("hook.py");

/// The longest one metadata build may take.
const TIME_LIMIT: Duration = Duration::from_secs(600);

/// The backend of sdists that name none (PEP 517: setuptools' legacy `setup.py` backend).
pub const LEGACY_BACKEND: &str = "setuptools.build_meta:__legacy__";

/// An sdist's build backend, from its `pyproject.toml` `[build-system]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildBackend {
    /// `build-backend`, like `flit_core.buildapi` or `setuptools.build_meta:__legacy__`.
    pub object: String,
    /// `backend-path`: folders of the sdist put on `sys.path` for an in-tree backend.
    pub path: Vec<String>,
}

impl BuildBackend {
    /// The backend `pyproject` (the text of the sdist's `pyproject.toml`, if it has one) names,
    /// or the legacy setuptools backend.
    pub fn of(pyproject: Option<&str>) -> Self {
        let table = pyproject
            .and_then(|text| text.parse::<toml::Table>().ok())
            .and_then(|table| table.get("build-system")?.as_table().cloned());
        let object = table
            .as_ref()
            .and_then(|t| t.get("build-backend")?.as_str().map(str::to_string))
            .unwrap_or_else(|| LEGACY_BACKEND.to_string());
        let path = table
            .as_ref()
            .and_then(|t| t.get("backend-path")?.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect();
        Self { object, path }
    }
}

/// One sdist whose metadata is to be built.
#[derive(Debug, Clone)]
pub struct SdistBuild<'a> {
    /// Its file name, like `PyYAML-5.3.1.tar.gz`.
    pub filename: &'a str,
    /// Where its (verified) bytes are.
    pub path: &'a Path,
    /// Their sha256: the cache key.
    pub sha256: &'a str,
    pub backend: &'a BuildBackend,
    /// The wheels of its locked build dependencies.
    pub wheels: &'a [PathBuf],
}

/// Where builds run: a container engine and the image whose Python builds.
#[derive(Debug, Clone)]
pub struct Isolation {
    pub engine: ContainerEngine,
    /// The spec's base image.
    pub image: String,
}

/// Why an sdist's metadata could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(
        "{filename} holds no static metadata, and `{flag}` forbids building it: pin a version of {name} that has a wheel or static metadata, or allow the build"
    )]
    Refused {
        name: String,
        filename: String,
        /// The option that forbids it, as the user wrote it.
        flag: String,
    },
    #[error(
        "{filename} holds no static metadata, and learning its dependencies means running its build backend, which imglock does only in a container of the base image ({image}) with no network: none of buildah, podman or docker is on PATH. Install one, or pin a version of {name} that has a wheel or static metadata"
    )]
    NoEngine {
        name: String,
        filename: String,
        image: String,
    },
    #[error("cannot prepare the build of {filename}: {source}")]
    Prepare {
        filename: String,
        source: std::io::Error,
    },
    #[error("cannot build the metadata of {filename} in a {} container of {image}: {source}", engine.program())]
    Engine {
        filename: String,
        engine: ContainerEngine,
        image: String,
        source: EngineError,
    },
    #[error(
        "building the metadata of {filename} in a container of {image} failed ({status}); its last output:\n{output}"
    )]
    Failed {
        filename: String,
        image: String,
        status: String,
        output: String,
    },
}

/// How resolution builds the metadata of sdists that hold none statically: where (the spec's
/// base image, in the first container engine on `PATH`), what it may not build, the cache of
/// results, and what stops a build no longer needed.
#[derive(Debug, Clone)]
pub struct MetadataBuilder {
    image: String,
    engine: Option<ContainerEngine>,
    no_build: bool,
    no_build_packages: BTreeSet<PackageName>,
    cache: Cache,
    /// Set when the builds are no longer needed: a running container is killed.
    stop: Arc<AtomicBool>,
}

impl MetadataBuilder {
    /// A builder in containers of `image` with the engine found on `PATH`; `no_build` says what
    /// must not be built (names that are not valid package names forbid nothing).
    pub fn new(image: &str, no_build: NoBuild<'_>, cache: Cache) -> Self {
        Self {
            image: image.to_string(),
            engine: ContainerEngine::find(),
            no_build: no_build.all,
            no_build_packages: no_build
                .packages
                .iter()
                .filter_map(|name| PackageName::from_str(name).ok())
                .collect(),
            cache,
            stop: Arc::default(),
        }
    }

    /// This builder, its builds stopped once `stop` is set.
    pub fn stopped_by(self, stop: Arc<AtomicBool>) -> Self {
        Self { stop, ..self }
    }

    /// The core metadata (`METADATA` text) of `build`, the sdist of `name`, when the options
    /// allow building it: cached by the sdist's sha256, or built in a container.
    pub fn metadata(
        &self,
        name: &PackageName,
        build: &SdistBuild<'_>,
    ) -> Result<String, BuildError> {
        let refused = |flag: String| BuildError::Refused {
            name: name.to_string(),
            filename: build.filename.to_string(),
            flag,
        };
        if self.no_build {
            return Err(refused("--no-build".into()));
        }
        if self.no_build_packages.contains(name) {
            return Err(refused(format!("--no-build-package {name}")));
        }
        if let Some(text) = self.cached(build.sha256) {
            return Ok(text);
        }
        let engine = self.engine.ok_or_else(|| BuildError::NoEngine {
            name: name.to_string(),
            filename: build.filename.to_string(),
            image: self.image.clone(),
        })?;
        let isolation = Isolation {
            engine,
            image: self.image.clone(),
        };
        let text = run(build, &isolation, &self.stop)?;
        self.cache_result(build.sha256, &text);
        Ok(text)
    }

    /// Where the result for the sdist with `sha256` is cached.
    fn cache_path(&self, sha256: &str) -> PathBuf {
        self.cache
            .root()
            .join("pypi-built-metadata")
            .join(format!("{sha256}.json"))
    }

    /// The METADATA built before for the sdist with `sha256`, if its cache entry is intact.
    fn cached(&self, sha256: &str) -> Option<String> {
        let bytes = std::fs::read(self.cache_path(sha256)).ok()?;
        let entry: CachedMetadata = serde_json::from_slice(&bytes).ok()?;
        (hex::encode(Sha256::digest(entry.metadata.as_bytes())) == entry.sha256)
            .then_some(entry.metadata)
    }

    /// Caches `text`, the METADATA built for the sdist with `sha256` (a cache that cannot be
    /// written only costs a build next time).
    fn cache_result(&self, sha256: &str, text: &str) {
        let path = self.cache_path(sha256);
        let entry = CachedMetadata {
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
            metadata: text.to_string(),
        };
        if let (Some(folder), Ok(json)) = (path.parent(), serde_json::to_vec(&entry)) {
            let _ = std::fs::create_dir_all(folder)
                .and_then(|()| crate::files::write_atomic(&path, &json));
        }
    }
}

/// A cached build result, with the sha256 of its METADATA so a damaged entry is never used.
#[derive(serde::Serialize, serde::Deserialize)]
struct CachedMetadata {
    metadata: String,
    sha256: String,
}

/// Builds the metadata of `build` in a container, unless `stop` is set first.
fn run(
    build: &SdistBuild<'_>,
    isolation: &Isolation,
    stop: &AtomicBool,
) -> Result<String, BuildError> {
    let prepare = |source| BuildError::Prepare {
        filename: build.filename.to_string(),
        source,
    };
    let work = tempfile::tempdir().map_err(prepare)?;
    let input = work.path().join("in");
    let output = work.path().join("out");
    let wheels = input.join("wheels");
    std::fs::create_dir_all(&wheels).map_err(prepare)?;
    std::fs::create_dir_all(&output).map_err(prepare)?;
    std::fs::write(input.join("hook.py"), HOOK).map_err(prepare)?;
    std::fs::copy(build.path, input.join(build.filename)).map_err(prepare)?;
    for wheel in build.wheels {
        let name = wheel.file_name().unwrap_or_default();
        std::fs::copy(wheel, wheels.join(name)).map_err(prepare)?;
    }
    let backend_path = serde_json::to_string(&build.backend.path).unwrap_or_default();
    let mounts = [
        Mount {
            host: input,
            container: "/imglock",
            writable: false,
        },
        Mount {
            host: output.clone(),
            container: "/imglock-out",
            writable: true,
        },
    ];
    let command = [
        "python3",
        "/imglock/hook.py",
        &build.backend.object,
        &backend_path,
        build.filename,
    ];
    let ran = isolation
        .engine
        .run(
            &isolation.image,
            &mounts,
            &command,
            Until {
                limit: TIME_LIMIT,
                stop,
            },
        )
        .map_err(|source| BuildError::Engine {
            filename: build.filename.to_string(),
            engine: isolation.engine,
            image: isolation.image.clone(),
            source,
        })?;
    let text = std::fs::read_to_string(output.join("METADATA"));
    match text {
        Ok(text) if ran.status.success() => Ok(text),
        _ => Err(BuildError::Failed {
            filename: build.filename.to_string(),
            image: isolation.image.clone(),
            status: ran.status.to_string(),
            output: last_lines(&ran.stderr, 20),
        }),
    }
}

/// The last `count` lines of `bytes`, for an error.
fn last_lines(bytes: &[u8], count: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

#[cfg(test)]
mod tests;
