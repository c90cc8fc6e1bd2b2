//! `imglock resolve`: spec → every ecosystem, layer by layer → pinned artifacts → the lock.
//!
//! Layers are resolved in order. A package is locked once, in the lowest layer that needs it;
//! higher layers see lower layers' packages as fixed pins. The previous lock's pins are preferred
//! unless `--upgrade` (all) or `--upgrade-package` (some) says otherwise. Every artifact of every
//! layer is then downloaded at once, verified and hashed, and the lock is written atomically.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::ecosystem::{LayerRequest, LayerResolver, PinSource, ResolvedPackage};
use crate::error::{Error, Republished};
use crate::fetch::{Artifact, Cache, FetchError, FetchErrors, FetchOptions, Fetcher, HttpLimits};
use crate::lock::{Lock, LockedImage, LockedLayer, LockedPackage};
use crate::package::{Pin, PreferredBuilds};
use crate::progress::Progress;
use crate::spec::Spec;
use crate::support::{NoBuild, ResolverInputs};

/// What `imglock resolve` was asked to do.
#[derive(Debug, Clone)]
pub struct ResolveOptions {
    /// The spec file to resolve, usually `imglock.toml`.
    pub spec: PathBuf,
    /// Where the lock goes; beside the spec when not given.
    pub lock: Option<PathBuf>,
    /// Use only the cache, never the network (`--offline`).
    pub offline: bool,
    /// Revalidate everything cached, remembered 404s included (`--refresh`).
    pub refresh: bool,
    /// Ignore the previous lock's pins and take the newest versions that fit (`--upgrade`).
    pub upgrade: bool,
    /// Package names whose previous pins are dropped while the others are kept
    /// (`--upgrade-package`); empty to keep every pin that still fits.
    pub upgrade_packages: Vec<String>,
    /// Ignore files uploaded after this instant (RFC 3339, UTC), in every ecosystem with dates.
    pub exclude_newer: Option<crate::exclude_newer::ExcludeNewer>,
    /// Build no sdist's metadata (`--no-build`): the only time imglock runs package code, in a
    /// container of the base image.
    pub no_build: bool,
    /// Build the sdist metadata of none of these packages (`--no-build-package`).
    pub no_build_packages: Vec<String>,
    /// Where indexes and artifacts are cached between runs.
    pub cache: Cache,
    /// Where progress is shown; [`Progress::hidden`] shows none.
    pub progress: Progress,
}

/// What a resolve did.
#[derive(Debug)]
pub struct ResolveReport {
    pub(crate) lock_path: PathBuf,
    /// The lock resolved; it was written to the lock path only if its bytes changed.
    pub lock: Lock,
    /// Whether the lock file's bytes changed.
    pub changed: bool,
    pub(crate) notes: Vec<String>,
}

/// The lock path for a spec: the one given, else `imglock.lock` beside the spec.
pub(crate) fn lock_path_for(spec: &Path, lock: Option<&Path>) -> PathBuf {
    match lock {
        Some(lock) => lock.to_path_buf(),
        None => spec.with_file_name(crate::lock::DEFAULT_LOCK),
    }
}

/// Runs a whole resolve and writes the lock.
pub fn resolve(options: &ResolveOptions) -> Result<ResolveReport, Error> {
    let spec = Spec::read(&options.spec)?;
    let lock_path = lock_path_for(&options.spec, options.lock.as_deref());
    let lock_dir = crate::files::parent_dir(&lock_path);
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
    let preferred_builds = previous
        .as_ref()
        .map(|lock| lock.build_pins(&options.upgrade_packages))
        .unwrap_or_default();

    let fetcher = Fetcher::new(FetchOptions {
        cache: options.cache.clone(),
        offline: options.offline,
        refresh: options.refresh,
        progress: options.progress,
        limits: HttpLimits::from_env().map_err(FetchError::from)?,
    })?;
    let inputs = ResolverInputs {
        spec: &spec,
        lock_dir: &lock_dir,
        fetcher: &fetcher,
        exclude_newer: options.exclude_newer,
        no_build: NoBuild {
            all: options.no_build,
            packages: &options.no_build_packages,
        },
    };
    let ecosystems = load_ecosystems(inputs)?;
    let mut notes = Vec::new();
    let preferred = Preferred {
        pins: &preferred,
        builds: &preferred_builds,
    };
    let layers = resolve_layers(&spec, &ecosystems, &preferred, &mut notes)?;
    notes.extend(unknown_upgrades(&options.upgrade_packages, &layers));

    let mut lock = pin_artifacts(&spec, &fetcher, &ecosystems, layers)?;
    if let Some(previous) = &previous {
        refuse_republished(previous, &lock, &options.upgrade_packages)?;
    }
    keep_recorded(
        &lock_path,
        previous.as_ref(),
        previous_text.as_deref(),
        &mut lock,
    );
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

/// Keeps in `lock` what the previous lock (`previous`, or with `--upgrade` its `text` when it
/// reads) recorded from built images, where it still holds: see
/// [`crate::support::EcosystemSupport::keep_recorded`].
fn keep_recorded(path: &Path, previous: Option<&Lock>, text: Option<&str>, lock: &mut Lock) {
    let upgraded_from = match (previous, text) {
        (None, Some(text)) => Lock::parse(path, text).ok(),
        _ => None,
    };
    if let Some(kept_from) = previous.or(upgraded_from.as_ref()) {
        for support in crate::registry::ALL {
            support.keep_recorded(kept_from, lock);
        }
    }
}

/// What the previous lock pinned, kept while it still fits: packages, and build environments.
struct Preferred<'a> {
    pins: &'a [Pin],
    builds: &'a PreferredBuilds,
}

/// A layer's resolved packages, each with the index of the ecosystem that resolved it.
struct ResolvedLayer {
    name: String,
    packages: Vec<(usize, ResolvedPackage)>,
    /// What builds its source distributions, locked but never installed.
    build_packages: Vec<(usize, ResolvedPackage)>,
}

impl ResolvedLayer {
    /// Its packages, then its build packages: the order their artifacts are pinned in.
    fn all_packages(&self) -> impl Iterator<Item = &(usize, ResolvedPackage)> {
        self.packages.iter().chain(&self.build_packages)
    }
}

/// The resolver of every ecosystem the spec uses, in a fixed order: R, PyPI, conda, Maven.
fn load_ecosystems(inputs: ResolverInputs<'_>) -> Result<Vec<Box<dyn LayerResolver + '_>>, Error> {
    let spec = inputs.spec;
    let mut resolvers = Vec::new();
    for support in crate::registry::ALL {
        let loaded = support.resolver(inputs).map_err(|source| Error::Load {
            ecosystem: support.ecosystems()[0],
            spec: spec.path.clone(),
            source,
        })?;
        resolvers.extend(loaded);
    }
    Ok(resolvers)
}

/// Resolves the spec's layers in order, every ecosystem in turn; each layer sees the packages of
/// the layers below as fixed pins and prefers the `preferred` ones. The resolvers' notes, naming
/// their layer, go to `notes`.
fn resolve_layers(
    spec: &Spec,
    ecosystems: &[Box<dyn LayerResolver + '_>],
    preferred: &Preferred<'_>,
    notes: &mut Vec<String>,
) -> Result<Vec<ResolvedLayer>, Error> {
    let mut below: Vec<Pin> = Vec::new();
    let mut layers = Vec::new();
    for layer in &spec.layers {
        let mut packages = Vec::new();
        let mut build_packages = Vec::new();
        for (ecosystem_index, ecosystem) in ecosystems.iter().enumerate() {
            let request = LayerRequest {
                layer,
                below: &below,
                preferred: preferred.pins,
                preferred_builds: preferred.builds,
            };
            let resolution =
                ecosystem
                    .resolve_layer(&request)
                    .map_err(|source| Error::Resolve {
                        layer: layer.name.clone(),
                        ecosystem: ecosystem.ecosystem(),
                        source,
                    })?;
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
            build_packages.extend(
                resolution
                    .build_packages
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
        layers.push(ResolvedLayer {
            name: layer.name.clone(),
            packages,
            build_packages,
        });
    }
    Ok(layers)
}

/// A note for each `--upgrade-package` name that no resolved layer has.
fn unknown_upgrades(upgrade_packages: &[String], layers: &[ResolvedLayer]) -> Vec<String> {
    upgrade_packages
        .iter()
        .filter(|name| {
            !layers
                .iter()
                .flat_map(|layer| &layer.packages)
                .any(|(_, package)| &package.name == *name)
        })
        .map(|name| format!("--upgrade-package {name}: no package of that name is in the lock"))
        .collect()
}

/// Downloads every artifact at once, verifies it, and builds the lock from the hashes; each
/// package's ecosystem (by index) then reads what it needs from the verified artifact.
fn pin_artifacts(
    spec: &Spec,
    fetcher: &Fetcher,
    ecosystems: &[Box<dyn LayerResolver + '_>],
    layers: Vec<ResolvedLayer>,
) -> Result<Lock, Error> {
    let requests: Vec<_> = layers
        .iter()
        .flat_map(ResolvedLayer::all_packages)
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
    for layer in layers {
        let locked = lock_layer(ecosystems, layer, &mut artifacts, &mut failures)?;
        locked_layers.push(locked);
    }
    if !failures.is_empty() {
        return Err(Error::Fetches(FetchErrors {
            what: "artifact(s)",
            errors: failures,
        }));
    }
    let resolution: BTreeMap<_, _> = ecosystems.iter().flat_map(|e| e.settings()).collect();
    let mut lock = Lock {
        spec_hash: spec.hash(),
        image: LockedImage {
            name: spec.image.name.clone(),
            base: spec.image.base.clone(),
            platform: spec.image.platform.to_string(),
            r_library: None,
            conda_prefix: None,
            conda_installer: None,
            python_prefix: None,
            python_venv: None,
        },
        resolution,
        layers: locked_layers,
    };
    for support in crate::registry::ALL {
        support.record_settings(spec, &mut lock);
    }
    Ok(lock)
}

/// A resolved layer with its artifacts pinned (its packages, then its build packages). A
/// package takes its known pin, or else the next of the downloaded `artifacts`; a failed download
/// goes to `failures` and its package is left out.
fn lock_layer(
    ecosystems: &[Box<dyn LayerResolver + '_>],
    layer: ResolvedLayer,
    artifacts: &mut impl Iterator<Item = Result<Artifact, FetchError>>,
    failures: &mut Vec<FetchError>,
) -> Result<LockedLayer, Error> {
    let packages = pin_packages(ecosystems, layer.packages, artifacts, failures)?;
    let build_packages = pin_packages(ecosystems, layer.build_packages, artifacts, failures)?;
    Ok(LockedLayer {
        name: layer.name,
        maven_target: None,
        packages,
        build_packages,
    })
}

/// `packages` with their artifacts pinned, as [`lock_layer`] does.
fn pin_packages(
    ecosystems: &[Box<dyn LayerResolver + '_>],
    packages: Vec<(usize, ResolvedPackage)>,
    artifacts: &mut impl Iterator<Item = Result<Artifact, FetchError>>,
    failures: &mut Vec<FetchError>,
) -> Result<Vec<LockedPackage>, Error> {
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
                let mut package = locked_package(package, artifact.sha256, artifact.size);
                if !artifact.path.as_os_str().is_empty() {
                    let resolver = &ecosystems[ecosystem];
                    resolver
                        .inspect_artifact(&mut package, &artifact.path)
                        .map_err(|source| Error::Inspect {
                            ecosystem: resolver.ecosystem(),
                            name: package.name.clone(),
                            source,
                        })?;
                }
                locked.push(package);
            }
            Some(Err(error)) => failures.push(error),
            None => {}
        }
    }
    Ok(locked)
}

/// The lock's entry for a resolved package whose artifact has `sha256` and `size`.
fn locked_package(package: ResolvedPackage, sha256: String, size: u64) -> LockedPackage {
    LockedPackage {
        ecosystem: package.ecosystem,
        name: package.name,
        version: package.version,
        repository: package.repository,
        url: package.url,
        sha256,
        size,
        requested: package.requested,
        dependencies: package.dependencies,
        details: package.details,
    }
}

/// Fails when an artifact the previous lock pinned now has other bytes under the same ecosystem,
/// name, version and URL: a re-published or tampered artifact, which the lock exists to catch.
/// Taking the new bytes needs `--upgrade-package NAME` (or `--upgrade`).
fn refuse_republished(previous: &Lock, lock: &Lock, upgrading: &[String]) -> Result<(), Error> {
    let pinned: std::collections::HashMap<_, &LockedPackage> = previous
        .layers
        .iter()
        .flat_map(|layer| layer.packages.iter().chain(&layer.build_packages))
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
        .flat_map(|layer| layer.packages.iter().chain(&layer.build_packages))
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
