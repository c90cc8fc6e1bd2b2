//! One ecosystem's part of a resolve, run on a thread of its own beside the others: its resolver is
//! loaded (its indexes fetched), its layers are resolved in order, each seeing its own packages of
//! the layers below as fixed, and its artifacts are downloaded, verified and inspected. Ecosystems
//! never read each other's pins, so every ecosystem's fetches are in flight at once on the one
//! [`crate::fetch::Fetcher`] (its runtime, client and per-host limits), and each ecosystem resolves
//! the moment its own metadata is in: a resolve takes about as long as its slowest ecosystem, not
//! the sum of them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::ecosystem::{LayerRequest, LayerResolver, PinSource, ResolvedPackage};
use crate::error::Error;
use crate::fetch::{Artifact, FetchError};
use crate::lock::LockedPackage;
use crate::package::{Pin, SettingValue};
use crate::support::{EcosystemSupport, ResolverInputs};

use super::Preferred;
use crate::failed_downloads::{FailedArtifact, FailedDownloads};

/// What one ecosystem locked: its settings, and its packages of each of the spec's layers.
pub(super) struct EcosystemLock {
    pub(super) settings: BTreeMap<String, SettingValue>,
    /// One entry per layer of the spec, in its order.
    pub(super) layers: Vec<LayerPart>,
}

/// One ecosystem's packages of one layer, pinned, and what it noted while resolving them.
#[derive(Default)]
pub(super) struct LayerPart {
    pub(super) packages: Vec<LockedPackage>,
    pub(super) build_packages: Vec<LockedPackage>,
    pub(super) notes: Vec<String>,
}

/// Why an ecosystem's part failed, by the stage it failed in: the resolve reports the failure
/// of the earliest stage (see [`PipelineError::rank`]), so the error does not depend on which
/// thread finished first.
pub(super) enum PipelineError {
    /// Its resolver could not be made (the spec's part or the indexes).
    Load(Error),
    /// Layer number `layer` (from 0) could not be resolved.
    Resolve { layer: usize, error: Error },
    /// A downloaded artifact could not be read.
    Inspect(Error),
    /// Artifacts could not be downloaded or verified.
    Downloads(Vec<FailedArtifact>),
}

impl PipelineError {
    /// The order failures are reported in: loading, then the lowest layer's resolution, then
    /// inspection, then downloads (which the resolve gathers from every ecosystem).
    pub(super) fn rank(&self) -> (usize, usize) {
        match self {
            Self::Load(_) => (0, 0),
            Self::Resolve { layer, .. } => (1, *layer),
            Self::Inspect(_) => (2, 0),
            Self::Downloads(_) => (3, 0),
        }
    }

    /// The error, when the failure is one error (not downloads, which are gathered).
    pub(super) fn into_error(self) -> Error {
        match self {
            Self::Load(error) | Self::Resolve { error, .. } | Self::Inspect(error) => error,
            Self::Downloads(failures) => Error::Downloads(FailedDownloads(failures)),
        }
    }
}

/// Runs `support`'s whole part of the resolve; `None` when the spec has none of its packages.
pub(super) fn run(
    support: &dyn EcosystemSupport,
    inputs: ResolverInputs<'_>,
    preferred: &Preferred<'_>,
) -> Result<Option<EcosystemLock>, PipelineError> {
    let spec = inputs.spec;
    let loaded = support.resolver(inputs).map_err(|source| {
        PipelineError::Load(Error::Load {
            ecosystem: support.ecosystems()[0],
            spec: spec.path.clone(),
            source,
        })
    })?;
    let Some(resolver) = loaded else {
        return Ok(None);
    };
    let resolved = resolve_layers(inputs, resolver.as_ref(), preferred)?;
    let layers = pin_layers(inputs, resolver.as_ref(), resolved)?;
    Ok(Some(EcosystemLock {
        settings: resolver.settings(),
        layers,
    }))
}

/// One layer as its ecosystem resolved it, before its artifacts are pinned.
struct ResolvedLayer {
    packages: Vec<ResolvedPackage>,
    build_packages: Vec<ResolvedPackage>,
    notes: Vec<String>,
}

/// Resolves the spec's layers in order; each sees the packages of the layers below (the base
/// image's first, when it was read, then a parent image's) as fixed pins and prefers the `preferred` ones.
fn resolve_layers(
    inputs: ResolverInputs<'_>,
    resolver: &dyn LayerResolver,
    preferred: &Preferred<'_>,
) -> Result<Vec<ResolvedLayer>, PipelineError> {
    let mut below: Vec<Pin> = inputs.base.map(|b| b.pins()).unwrap_or_default();
    below.extend_from_slice(inputs.parent);
    let mut layers = Vec::new();
    for (index, layer) in inputs.spec.layers.iter().enumerate() {
        let request = LayerRequest {
            layer,
            below: &below,
            preferred: preferred.pins,
            preferred_builds: preferred.builds,
        };
        let resolution =
            resolver
                .resolve_layer(&request)
                .map_err(|source| PipelineError::Resolve {
                    layer: index,
                    error: Error::Resolve {
                        layer: layer.name.clone(),
                        ecosystem: resolver.ecosystem(),
                        source,
                    },
                })?;
        below.extend(resolution.packages.iter().map(|package| Pin {
            ecosystem: package.ecosystem,
            name: package.name.clone(),
            version: package.version.clone(),
            layer: layer.name.clone(),
            build: package.details.conda().map(|c| c.build.clone()),
        }));
        layers.push(ResolvedLayer {
            packages: resolution.packages,
            build_packages: resolution.build_packages,
            notes: resolution.notes,
        });
    }
    Ok(layers)
}

/// Downloads every artifact of every layer at once, verifies it, and pins each package to its
/// hash; the resolver then reads what it needs from each verified artifact.
fn pin_layers(
    inputs: ResolverInputs<'_>,
    resolver: &dyn LayerResolver,
    layers: Vec<ResolvedLayer>,
) -> Result<Vec<LayerPart>, PipelineError> {
    let requests: Vec<_> = layers
        .iter()
        .flat_map(|layer| layer.packages.iter().chain(&layer.build_packages))
        .filter_map(|p| match &p.artifact {
            PinSource::Download(request) => Some(request.clone()),
            PinSource::Known { .. } => None,
        })
        .collect();
    let what = format!(
        "Downloading {} artifacts",
        resolver.ecosystem().packages_name()
    );
    let mut artifacts = inputs.fetcher.download_all(&requests, &what).into_iter();
    let mut failures = Vec::new();
    let mut parts = Vec::new();
    for (layer, name) in layers
        .into_iter()
        .zip(inputs.spec.layers.iter().map(|l| &l.name))
    {
        let mut pin =
            |packages| pin_packages(resolver, packages, &mut artifacts, name, &mut failures);
        let packages = pin(layer.packages)?;
        let build_packages = pin(layer.build_packages)?;
        parts.push(LayerPart {
            packages,
            build_packages,
            notes: layer.notes,
        });
    }
    if failures.is_empty() {
        Ok(parts)
    } else {
        Err(PipelineError::Downloads(failures))
    }
}

/// `packages` with their artifacts pinned: each takes its known pin, or else the next of the
/// downloaded `artifacts`; a failed download goes to `failures`, named by its package and
/// `layer`, and its package is left out.
fn pin_packages(
    resolver: &dyn LayerResolver,
    packages: Vec<ResolvedPackage>,
    artifacts: &mut impl Iterator<Item = Result<Artifact, FetchError>>,
    layer: &str,
    failures: &mut Vec<FailedArtifact>,
) -> Result<Vec<LockedPackage>, PipelineError> {
    let mut locked = Vec::new();
    for package in packages {
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
                    resolver
                        .inspect_artifact(&mut package, &artifact.path)
                        .map_err(|source| {
                            PipelineError::Inspect(Error::Inspect {
                                ecosystem: resolver.ecosystem(),
                                name: package.name.clone(),
                                source,
                            })
                        })?;
                }
                locked.push(package);
            }
            Some(Err(error)) => failures.push(FailedArtifact {
                layer: layer.to_string(),
                ecosystem: package.ecosystem,
                name: package.name,
                version: package.version,
                error,
            }),
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
        license: package.license,
        requested: package.requested,
        dependencies: package.dependencies,
        details: package.details,
    }
}
