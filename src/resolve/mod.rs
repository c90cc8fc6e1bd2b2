//! `imglock resolve`: spec → every ecosystem, layer by layer → pinned artifacts → the lock.
//!
//! Every ecosystem runs its part at once, on a thread of its own, through the one fetcher
//! ([`pipeline`]): its layers are resolved in order, a package locked once, in the lowest layer
//! that needs it, higher layers seeing lower layers' packages as fixed pins; then its artifacts
//! are downloaded, verified and hashed. The previous lock's pins are preferred unless
//! `--upgrade` (all) or `--upgrade-package` (some) says otherwise. The parts are then put
//! together layer by layer and the lock is written atomically.

mod authenticated;
mod base;
mod pipeline;
mod republished;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, UnknownUpgrade};
use crate::family::ParentLock;
use crate::fetch::{Cache, FetchError, FetchOptions, Fetcher, HttpLimits};
use crate::lock::{Lock, LockedImage, LockedLayer};
use crate::package::{Pin, PreferredBuilds};
use crate::progress::Progress;
use crate::spec::Spec;
use crate::support::{NoBuild, ResolverInputs};
use crate::url_files::upgrade_names;
use pipeline::{EcosystemLock, PipelineError};
use republished::refuse_republished;

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
    /// What becomes of a lock whose bytes change.
    pub write: LockWrite,
}

/// What a resolve does with a lock whose bytes change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockWrite {
    /// Writes it.
    Write,
    /// Writes nothing; the report says what would change (`--dry-run`).
    DryRun,
    /// Refuses the change: the lock must already be what the spec resolves to (`--locked`).
    Locked,
}

/// What a resolve did.
#[derive(Debug)]
pub struct ResolveReport {
    pub(crate) lock_path: PathBuf,
    /// The lock resolved; it was written to the lock path only if its bytes changed.
    pub lock: Lock,
    /// Whether the lock file's bytes changed (or would, with [`LockWrite::DryRun`]).
    pub changed: bool,
    /// What changed against the lock there was, a line each in `imglock diff`'s words.
    pub changes: Vec<String>,
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
    let written = Spec::read(&options.spec)?;
    let parent = ParentLock::load(&written)?;
    let lock_path = lock_path_for(&options.spec, options.lock.as_deref());
    let lock_dir = crate::files::parent_dir(&lock_path);
    let earlier = EarlierLock::read(&lock_path, options.upgrade)?;
    let previous = earlier.lock.as_ref().filter(|_| !options.upgrade);
    let base = base::pin_base(
        &on_parent_base(&written, parent.as_ref()),
        previous,
        options,
    )?;
    // The resolvers see the base pinned and its R and Python; the hash is of the spec as written.
    let spec = base::with_base(&written, &base)?;
    let spec_hash = written.hash();
    let likely = earlier.likely(&written);
    let parent_pins = parent.as_ref().map(ParentLock::pins).unwrap_or_default();
    let preferred = match previous {
        Some(_) => kept_pins(&likely, &options.upgrade_packages),
        None => Vec::new(),
    };
    let preferred_builds = previous
        .map(|lock| lock.build_pins(&options.upgrade_packages))
        .unwrap_or_default();

    let fetcher = Fetcher::new(FetchOptions {
        cache: options.cache.clone(),
        offline: options.offline,
        refresh: options.refresh,
        progress: options.progress,
        limits: HttpLimits::from_env().map_err(FetchError::from)?,
    })?;
    for (repository, credentials) in written.credentials.iter() {
        fetcher.add_credentials(repository.clone(), credentials.clone());
    }
    let inputs = ResolverInputs {
        spec: &spec,
        likely: &likely,
        lock_dir: &lock_dir,
        fetcher: &fetcher,
        exclude_newer: options.exclude_newer,
        no_build: NoBuild {
            all: options.no_build,
            packages: &options.no_build_packages,
        },
        base: base.contents.as_ref(),
        parent: &parent_pins,
    };
    let preferred = Preferred {
        pins: &preferred,
        builds: &preferred_builds,
    };
    let parts = run_pipelines(inputs, preferred)?;
    fetcher.stored()?;
    let (mut lock, notes) = assemble(&spec, spec_hash, parts);
    lock.spec_parts = written.parts();
    authenticated::record(&mut lock, &fetcher);
    crate::custom_steps::record(&written, &lock_dir, &mut lock);
    if let Some(parent) = &parent {
        parent.inherit(&written, &mut lock, &lock_dir)?;
    }
    refuse_unknown_upgrades(&options.upgrade_packages, &lock)?;
    if let Some(previous) = previous {
        refuse_republished(previous, &lock, &options.upgrade_packages)?;
    }
    if let Some(earlier) = &earlier.lock {
        for support in crate::registry::ALL {
            support.keep_recorded(earlier, &mut lock);
        }
    }
    let (changed, changes) = settle(&lock, &earlier, &lock_path, options.write)?;
    Ok(ResolveReport {
        lock_path,
        lock,
        changed,
        changes,
        notes,
    })
}

/// Writes `lock` to `path` when its bytes differ from those of the lock that was there
/// (`earlier`), as `write` says; whether they differ, and what changed in `imglock diff`'s
/// words.
fn settle(
    lock: &Lock,
    earlier: &EarlierLock,
    path: &Path,
    write: LockWrite,
) -> Result<(bool, Vec<String>), Error> {
    let rendered = crate::lock::render(lock);
    let changed = earlier.text.as_deref() != Some(rendered.as_str());
    let changes = match &earlier.lock {
        Some(old) if changed => crate::diff::change_lines_between(old, lock),
        _ => Vec::new(),
    };
    match write {
        LockWrite::Write if changed => crate::lock::write_rendered(path, &rendered)?,
        LockWrite::Locked if changed => {
            return Err(Error::LockWouldChange {
                lock: path.to_path_buf(),
                changes,
            });
        }
        _ => {}
    }
    Ok((changed, changes))
}

/// `spec` as its base is pinned: a child's base is its parent's, as the parent's lock pins it
/// (never pinned again).
fn on_parent_base(spec: &Spec, parent: Option<&ParentLock>) -> Spec {
    let mut spec = spec.clone();
    if let Some(parent) = parent {
        spec.image.base = parent.base_from(&spec.dir());
    }
    spec
}

/// The lock a resolve replaces, as it was before the resolve began.
struct EarlierLock {
    /// Its text, to tell whether the new lock's bytes differ.
    text: Option<String>,
    /// It read, whatever `--upgrade` says: what built images recorded in it is kept where it
    /// still holds ([`crate::support::EcosystemSupport::keep_recorded`]), and what it pins is
    /// what this resolve likely asks about again. Under `--upgrade` a lock that does not read
    /// is no error.
    lock: Option<Lock>,
}

impl EarlierLock {
    /// The lock at `path`, if there is one. One that does not read is an error, unless it is
    /// to be replaced whole (`upgrade`).
    fn read(path: &Path, upgrade: bool) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).ok();
        let lock = match (&text, upgrade) {
            (Some(text), false) => Some(Lock::parse(path, text)?),
            (Some(text), true) => Lock::parse(path, text).ok(),
            (None, _) => None,
        };
        Ok(Self { text, lock })
    }

    /// What it pins outside the layers of `spec`'s parent (whose pins are fixed): likely
    /// asked about again, and kept unless `--upgrade` says otherwise.
    fn likely(&self, spec: &Spec) -> Vec<Pin> {
        let inherited = (spec.extends.as_ref())
            .map(|extends| extends.parent.family_layer_names())
            .unwrap_or_default();
        let own = |pin: &Pin| !inherited.contains(&pin.layer);
        self.lock.iter().flat_map(Lock::pins).filter(own).collect()
    }
}

/// The pins of `likely` that `--upgrade-package` leaves in place.
fn kept_pins(likely: &[Pin], upgrade_packages: &[String]) -> Vec<Pin> {
    likely
        .iter()
        .filter(|pin| {
            !upgrade_packages
                .iter()
                .any(|asked| upgrade_names(asked, pin.ecosystem, &pin.name))
        })
        .cloned()
        .collect()
}

/// What the previous lock pinned, kept while it still fits: packages, and build environments.
#[derive(Clone, Copy)]
struct Preferred<'a> {
    pins: &'a [Pin],
    builds: &'a PreferredBuilds,
}

/// Runs every ecosystem's part of the resolve at once, each on a thread of its own (see
/// [`pipeline`]), and returns the parts of the ecosystems the spec uses, in [`crate::registry::ALL`]'s
/// order. When any fails, the error is the one of the earliest stage (loading, then the lowest
/// layer, then inspection), or every download failure of every ecosystem together.
fn run_pipelines(
    inputs: ResolverInputs<'_>,
    preferred: Preferred<'_>,
) -> Result<Vec<EcosystemLock>, Error> {
    let results: Vec<_> = std::thread::scope(|scope| {
        let threads: Vec<_> = crate::registry::ALL
            .iter()
            .map(|support| scope.spawn(move || pipeline::run(*support, inputs, &preferred)))
            .collect();
        crate::threads::join_all(threads)
    });
    let mut parts = Vec::new();
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(part) => parts.extend(part),
            Err(error) => errors.push(error),
        }
    }
    let Some(first) = errors.iter().map(PipelineError::rank).min() else {
        return Ok(parts);
    };
    let mut downloads = Vec::new();
    for error in errors {
        match error {
            PipelineError::Downloads(failures) => downloads.extend(failures),
            error if error.rank() == first => return Err(error.into_error()),
            _ => {}
        }
    }
    Err(PipelineError::Downloads(downloads).into_error())
}

/// The lock of `spec` from every ecosystem's part: each layer holds every ecosystem's packages
/// of it, in [`crate::registry::ALL`]'s order. Also the resolvers' notes, layer by layer, each
/// naming its layer.
fn assemble(spec: &Spec, spec_hash: String, parts: Vec<EcosystemLock>) -> (Lock, Vec<String>) {
    let mut layers: Vec<LockedLayer> = spec
        .layers
        .iter()
        .map(|layer| LockedLayer {
            name: layer.name.clone(),
            maven_target: None,
            packages: Vec::new(),
            build_packages: Vec::new(),
            steps: Vec::new(),
        })
        .collect();
    let mut notes = vec![Vec::new(); layers.len()];
    let mut resolution = BTreeMap::new();
    for part in parts {
        resolution.extend(part.settings);
        for ((layer, notes), part) in layers.iter_mut().zip(&mut notes).zip(part.layers) {
            layer.packages.extend(part.packages);
            layer.build_packages.extend(part.build_packages);
            notes.extend(
                part.notes
                    .into_iter()
                    .map(|note| format!("layer `{}`: {note}", layer.name)),
            );
        }
    }
    let mut lock = Lock {
        spec_hash,
        spec_parts: crate::spec::SpecParts::new(),
        parent: None,
        image: LockedImage {
            name: spec.image.name.clone(),
            base: spec.image.base.clone(),
            platform: spec.image.platform.to_string(),
            r_library: None,
            conda_prefix: None,
            conda_installer: None,
            python_prefix: None,
            python_venv: None,
            entrypoint: None,
            cmd: None,
        },
        resolution,
        layers,
    };
    for support in crate::registry::ALL {
        support.record_settings(spec, &mut lock);
    }
    (lock, notes.concat())
}

/// Refuses names in `--upgrade-package` that no package (or build dependency) of the new lock
/// has, since a typo would otherwise upgrade nothing, silently: each is named with the closest
/// locked name, and the lock is not written.
fn refuse_unknown_upgrades(upgrade_packages: &[String], lock: &Lock) -> Result<(), Error> {
    let locked = || lock.layers.iter().flat_map(|layer| &layer.packages);
    let build_pins = lock.build_pin_names();
    let unknown: Vec<UnknownUpgrade> = upgrade_packages
        .iter()
        .filter(|name| name.as_str() != base::BASE_NAME && !build_pins.contains(name.as_str()))
        .filter(|name| {
            !locked().any(|package| upgrade_names(name, package.ecosystem, &package.name))
        })
        .map(|name| UnknownUpgrade {
            name: name.clone(),
            suggestion: crate::suggest::closest(
                name,
                locked()
                    .map(|package| package.name.as_str())
                    .chain(build_pins.iter().copied()),
            ),
        })
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Error::UnknownUpgrades(unknown))
    }
}
