//! `imglock resolve`: spec → every ecosystem, layer by layer → pinned artifacts → the lock.
//!
//! Layers are resolved in order. A package is locked once, in the lowest layer that needs it;
//! higher layers see lower layers' packages as fixed pins. The previous lock's pins are preferred
//! unless `--upgrade` (all) or `--upgrade-package` (some) says otherwise. Every artifact of every
//! layer is then downloaded at once, verified and hashed, and the lock is written atomically.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::conda::CondaPackages;
use crate::cran::RPackages;
use crate::ecosystem::{Ecosystem, LayerRequest, LayerResolver, Pin, PinSource, ResolvedPackage};
use crate::error::{Error, Republished};
use crate::fetch::{Artifact, Cache, FetchOptions, Fetcher};
use crate::lock::{Lock, LockedImage, LockedLayer, LockedPackage};
use crate::maven::MavenPackages;
use crate::progress::Progress;
use crate::pypi::PypiPackages;
use crate::spec::Spec;

/// What `imglock resolve` was asked to do.
#[derive(Debug, Clone)]
pub struct ResolveOptions {
    pub spec: PathBuf,
    /// Where the lock goes; beside the spec when not given.
    pub lock: Option<PathBuf>,
    pub offline: bool,
    pub upgrade: bool,
    pub upgrade_packages: Vec<String>,
    /// Ignore files uploaded after this instant (RFC 3339, UTC), in every ecosystem with dates.
    pub exclude_newer: Option<crate::exclude_newer::ExcludeNewer>,
    pub cache: Cache,
    pub progress: Progress,
}

/// What a resolve did.
#[derive(Debug)]
pub struct ResolveReport {
    pub lock_path: PathBuf,
    pub lock: Lock,
    /// Whether the lock file's bytes changed.
    pub changed: bool,
    pub notes: Vec<String>,
}

/// The lock path for a spec: the one given, else `imglock.lock` beside the spec.
pub fn lock_path_for(spec: &Path, lock: Option<&Path>) -> PathBuf {
    match lock {
        Some(lock) => lock.to_path_buf(),
        None => spec.with_file_name(crate::lock::DEFAULT_LOCK),
    }
}

/// Runs a whole resolve and writes the lock.
pub fn resolve(options: &ResolveOptions) -> Result<ResolveReport, Error> {
    let spec = Spec::read(&options.spec)?;
    let lock_path = lock_path_for(&options.spec, options.lock.as_deref());
    let lock_dir = match lock_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let previous_text = std::fs::read_to_string(&lock_path).ok();
    let previous = match (&previous_text, options.upgrade) {
        (Some(text), false) => Some(Lock::parse(&lock_path, text)?),
        _ => None,
    };
    let preferred: Vec<Pin> = previous
        .iter()
        .flat_map(Lock::pins)
        .filter(|pin| !options.upgrade_packages.contains(&pin.name))
        .collect();

    let fetcher = Fetcher::new(FetchOptions {
        cache: options.cache.clone(),
        offline: options.offline,
        progress: options.progress,
    })?;
    let mut ecosystems: Vec<Box<dyn LayerResolver + '_>> = Vec::new();
    if let Some(r) = RPackages::load(&spec, &lock_dir, &fetcher)? {
        ecosystems.push(Box::new(r));
    }
    if let Some(python) = PypiPackages::load(&spec, &lock_dir, &fetcher, options.exclude_newer)? {
        ecosystems.push(Box::new(python));
    }
    if let Some(conda) = CondaPackages::load(&spec, &lock_dir, &fetcher, options.exclude_newer)? {
        ecosystems.push(Box::new(conda));
    }
    if let Some(maven) = MavenPackages::load(&spec, &lock_dir, &fetcher)? {
        ecosystems.push(Box::new(maven));
    }

    let mut notes = Vec::new();
    let mut below: Vec<Pin> = Vec::new();
    let mut layers: Vec<(String, Vec<(usize, ResolvedPackage)>)> = Vec::new();
    for layer in &spec.layers {
        let mut packages = Vec::new();
        for (ecosystem_index, ecosystem) in ecosystems.iter().enumerate() {
            let request = LayerRequest {
                layer,
                below: &below,
                preferred: &preferred,
            };
            let resolution = ecosystem.resolve_layer(&request)?;
            notes.extend(
                resolution
                    .notes
                    .into_iter()
                    .map(|note| format!("layer `{}`: {note}", layer.name)),
            );
            packages.extend(
                resolution
                    .packages
                    .into_iter()
                    .map(|p| (ecosystem_index, p)),
            );
        }
        below.extend(packages.iter().map(|(_, package)| Pin {
            ecosystem: package.ecosystem,
            name: package.name.clone(),
            version: package.version.clone(),
            layer: layer.name.clone(),
            build: package.details.conda().map(|c| c.build.clone()),
        }));
        layers.push((layer.name.clone(), packages));
    }
    for name in &options.upgrade_packages {
        if !below.iter().any(|pin| &pin.name == name) {
            notes.push(format!(
                "--upgrade-package {name}: no package of that name is in the lock"
            ));
        }
    }

    let lock = pin_artifacts(&spec, &fetcher, &ecosystems, layers)?;
    if let Some(previous) = &previous {
        refuse_republished(previous, &lock, &options.upgrade_packages)?;
    }
    let rendered = crate::lock::render(&lock);
    let changed = previous_text.as_deref() != Some(rendered.as_str());
    if changed {
        lock.write(&lock_path)?;
    }
    Ok(ResolveReport {
        lock_path,
        lock,
        changed,
        notes,
    })
}

/// Downloads every artifact at once, verifies it, and builds the lock from the hashes; each
/// package's ecosystem (by index) then reads what it needs from the verified artifact.
fn pin_artifacts(
    spec: &Spec,
    fetcher: &Fetcher,
    ecosystems: &[Box<dyn LayerResolver + '_>],
    layers: Vec<(String, Vec<(usize, ResolvedPackage)>)>,
) -> Result<Lock, Error> {
    let requests: Vec<_> = layers
        .iter()
        .flat_map(|(_, packages)| packages.iter())
        .filter_map(|(_, p)| match &p.artifact {
            PinSource::Download(request) => Some(request.clone()),
            PinSource::Known { .. } => None,
        })
        .collect();
    let mut artifacts = fetcher
        .download_all(&requests, "Downloading artifacts")
        .into_iter();
    let mut failures = Vec::new();
    let mut locked_layers = Vec::new();
    for (name, packages) in layers {
        let mut locked = Vec::new();
        for (ecosystem, package) in packages {
            let pinned = match &package.artifact {
                PinSource::Known { sha256, size } => Some(Ok(Artifact {
                    sha256: sha256.clone(),
                    size: *size,
                    path: PathBuf::new(),
                })),
                PinSource::Download(_) => artifacts.next(),
            };
            match pinned {
                Some(Ok(artifact)) => {
                    let mut package = LockedPackage {
                        ecosystem: package.ecosystem,
                        name: package.name,
                        version: package.version,
                        repository: package.repository,
                        url: package.url,
                        sha256: artifact.sha256,
                        size: artifact.size,
                        requested: package.requested,
                        dependencies: package.dependencies,
                        details: package.details,
                    };
                    if !artifact.path.as_os_str().is_empty() {
                        ecosystems[ecosystem].inspect_artifact(&mut package, &artifact.path)?;
                    }
                    locked.push(package);
                }
                Some(Err(error)) => failures.push(error),
                None => {}
            }
        }
        let maven_target = locked
            .iter()
            .any(|p| p.ecosystem == Ecosystem::Maven)
            .then(|| {
                spec.layers
                    .iter()
                    .find(|l| l.name == name)
                    .and_then(|l| l.maven_target.clone())
            })
            .flatten();
        locked_layers.push(LockedLayer {
            name,
            maven_target,
            packages: locked,
        });
    }
    if !failures.is_empty() {
        return Err(Error::Fetches {
            what: "artifact(s)",
            errors: failures,
        });
    }
    let resolution: BTreeMap<_, _> = ecosystems.iter().flat_map(|e| e.settings()).collect();
    let has_conda = locked_layers
        .iter()
        .flat_map(|l| &l.packages)
        .any(|p| p.ecosystem == Ecosystem::Conda);
    Ok(Lock {
        spec_hash: spec.hash(),
        image: LockedImage {
            name: spec.image.name.clone(),
            base: spec.image.base.clone(),
            platform: spec.image.platform.clone(),
            r_library: spec.image.r_library.clone(),
            conda_prefix: has_conda.then(|| {
                spec.image
                    .conda_prefix
                    .clone()
                    .unwrap_or_else(|| crate::spec::CONDA_PREFIX.to_string())
            }),
            conda_installer: has_conda.then(|| spec.image.conda_installer.unwrap_or_default()),
        },
        resolution,
        layers: locked_layers,
    })
}

/// Fails when an artifact the previous lock pinned now has other bytes under the same ecosystem,
/// name, version and URL: a re-published or tampered artifact, which the lock exists to catch.
/// Taking the new bytes needs `--upgrade-package NAME` (or `--upgrade`).
fn refuse_republished(previous: &Lock, lock: &Lock, upgrading: &[String]) -> Result<(), Error> {
    let pinned: std::collections::HashMap<_, &LockedPackage> = previous
        .layers
        .iter()
        .flat_map(|layer| &layer.packages)
        .map(|p| {
            (
                (
                    p.ecosystem.as_str(),
                    p.name.as_str(),
                    p.version.as_str(),
                    p.url.as_str(),
                ),
                p,
            )
        })
        .collect();
    let changed: Vec<Republished> = lock
        .layers
        .iter()
        .flat_map(|layer| &layer.packages)
        .filter(|p| !upgrading.contains(&p.name))
        .filter_map(|p| {
            let old = pinned.get(&(
                p.ecosystem.as_str(),
                p.name.as_str(),
                p.version.as_str(),
                p.url.as_str(),
            ))?;
            (old.sha256 != p.sha256).then(|| Republished {
                ecosystem: p.ecosystem,
                name: p.name.clone(),
                version: p.version.clone(),
                url: p.url.clone(),
                locked: old.sha256.clone(),
                served: p.sha256.clone(),
            })
        })
        .collect();
    if changed.is_empty() {
        Ok(())
    } else {
        Err(Error::Republished(changed))
    }
}
