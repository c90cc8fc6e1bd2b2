//! Image families: a spec that `extends` a parent (`crate::spec` reads the parent spec) is
//! resolved on top of the parent's lock, never re-resolving it. This module reads that lock and
//! checks it fresh (its spec unchanged, and its own parent's lock unchanged, up the chain),
//! puts its layers first in the child's lock as it pins them (relative `file:` paths
//! re-expressed from the child's lock folder, [`rebase`]), merges its image settings and
//! resolution with the child's (an image setting they disagree on is an error), refuses a
//! package the child would lock again, records the parent in the lock (`[parent]`: its spec,
//! its lock and the sha256 of the lock's bytes), and tells `imglock check` and `imglock diff`
//! when a parent lock moved.

mod rebase;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::lock::{DEFAULT_LOCK, Lock, LockError, LockedParent};
use crate::package::Pin;
use crate::repository::relative_to;
use crate::spec::Spec;

/// A child spec's parent, as its lock pins it.
#[derive(Debug)]
pub struct ParentLock {
    /// The parent spec, as reached from the current folder.
    pub spec_path: PathBuf,
    /// The parent's lock, as reached from the current folder.
    pub lock_path: PathBuf,
    /// The parent's lock, read.
    pub lock: Lock,
    /// The sha256 (hex) of the parent lock's bytes.
    pub sha256: String,
}

/// Why a child cannot be resolved on its parent's lock.
#[derive(Debug, thiserror::Error)]
pub enum FamilyError {
    /// The parent lock is missing or does not read.
    #[error(
        "`{child}` extends `{spec}`, whose lock `{lock}` cannot be read: run `imglock resolve --spec {spec}` first",
        child = child.display(), spec = spec.display(), lock = lock.display()
    )]
    Missing {
        child: PathBuf,
        spec: PathBuf,
        lock: PathBuf,
        #[source]
        source: LockError,
    },
    /// The parent lock does not match its spec (or its own parent's lock).
    #[error(
        "`{child}` extends `{spec}`, whose lock `{lock}` is stale ({reason}): run `imglock resolve --spec {spec}` first",
        child = child.display(), spec = spec.display(), lock = lock.display()
    )]
    Stale {
        child: PathBuf,
        spec: PathBuf,
        lock: PathBuf,
        reason: String,
    },
    /// The child locked again a package its parent's lock pins: its resolver could not hold
    /// the parent's pin (its repositories have no record of that version).
    #[error(
        "`{child}` locks {ecosystem} package `{name}` {version} in its layer `{layer}`, but its parent's lock `{lock}` pins it ({parent_version}, layer `{parent_layer}`), and a parent's pins are fixed: give `{child}` repositories that offer the parent's version (its resolver found no record of it), or leave out what needs another",
        child = child.display(), lock = lock.display()
    )]
    Relocked {
        child: PathBuf,
        lock: PathBuf,
        ecosystem: crate::package::Ecosystem,
        name: String,
        version: String,
        layer: String,
        parent_version: String,
        parent_layer: String,
    },
    /// The child's lock has an image setting its parent's lock records otherwise.
    #[error(
        "`{child}` installs with {key} = {child_value}, but its parent's lock `{lock}` records {key} = {parent_value}: an image family shares its image settings; resolve the parent again, then `{child}`",
        child = child.display(), lock = lock.display()
    )]
    Setting {
        child: PathBuf,
        lock: PathBuf,
        key: String,
        child_value: String,
        parent_value: String,
    },
}

impl ParentLock {
    /// The parent lock of `spec`, checked fresh; `None` when `spec` extends nothing.
    pub fn load(spec: &Spec) -> Result<Option<Self>, Box<FamilyError>> {
        let Some(extends) = &spec.extends else {
            return Ok(None);
        };
        let dir = spec.dir();
        let spec_path = extends.spec_path(&dir);
        let lock_path = extends.lock_path(&dir, DEFAULT_LOCK);
        let missing = |source| {
            Box::new(FamilyError::Missing {
                child: spec.path.clone(),
                spec: spec_path.clone(),
                lock: lock_path.clone(),
                source,
            })
        };
        let bytes = std::fs::read(&lock_path).map_err(|source| {
            missing(LockError::Read {
                path: lock_path.clone(),
                source,
            })
        })?;
        let text = String::from_utf8_lossy(&bytes);
        let lock = Lock::parse(&lock_path, &text).map_err(missing)?;
        if let Some(reason) = staleness(&extends.parent, &lock) {
            return Err(Box::new(FamilyError::Stale {
                child: spec.path.clone(),
                spec: spec_path,
                lock: lock_path,
                reason,
            }));
        }
        Ok(Some(Self {
            spec_path,
            lock_path,
            lock,
            sha256: hex::encode(Sha256::digest(&bytes)),
        }))
    }

    /// Every package the parent's lock pins: fixed for the child's layers, as a lower layer's.
    pub fn pins(&self) -> Vec<Pin> {
        self.lock.pins()
    }

    /// The parent's base image, named from the folder `dir` (its reference as the parent's
    /// lock pins it; a local image's path re-expressed from `dir`).
    pub fn base_from(&self, dir: &Path) -> String {
        let parent_dir = crate::files::parent_dir(&self.lock_path);
        crate::spec::rebase_local(&self.lock.image.base, &parent_dir, dir)
    }

    /// Puts the parent first in `lock`, the child's lock to be written to `lock_dir`: the
    /// parent's layers before the child's, as its lock pins them; its image settings and
    /// resolution merged with the child's; and `[parent]`.
    pub fn inherit(
        &self,
        child: &Spec,
        lock: &mut Lock,
        lock_dir: &Path,
    ) -> Result<(), Box<FamilyError>> {
        let from = crate::files::parent_dir(&self.lock_path);
        let paths = rebase::Rebase {
            from: &from,
            to: lock_dir,
        };
        let parent = paths.lock(&self.lock);
        rebase::merge_image(&mut lock.image, &parent.image).map_err(
            |(key, child_value, parent_value)| {
                Box::new(FamilyError::Setting {
                    child: child.path.clone(),
                    lock: self.lock_path.clone(),
                    key: key.to_string(),
                    child_value,
                    parent_value,
                })
            },
        )?;
        // The child's own settings are what its layers were resolved with (its repositories
        // may differ from the parent's: each package names its own); the parent's fill in
        // those of ecosystems only the parent uses (an R version for its R packages' steps).
        // The image's versions and platform are the parent's, so they cannot disagree.
        // The parent's layers download from the origins it needed credentials for, too.
        let parent_origins = parent.authenticated_origins();
        for (key, value) in parent.resolution {
            lock.resolution.entry(key).or_insert(value);
        }
        lock.add_authenticated_origins(parent_origins);
        self.refuse_relocked(child, lock)?;
        let own = std::mem::take(&mut lock.layers);
        lock.layers = parent.layers.into_iter().chain(own).collect();
        lock.parent = Some(LockedParent {
            spec: relative_to(&self.spec_path, lock_dir),
            lock: relative_to(&self.lock_path, lock_dir),
            lock_sha256: self.sha256.clone(),
        });
        Ok(())
    }
}

impl ParentLock {
    /// Refuses a package of the child's own layers (`lock`'s, before the parent's are put
    /// first) that the parent's lock pins too.
    fn refuse_relocked(&self, child: &Spec, lock: &Lock) -> Result<(), Box<FamilyError>> {
        let pinned: HashMap<_, _> = self
            .lock
            .layers
            .iter()
            .flat_map(|layer| layer.packages.iter().map(move |p| (p, &layer.name)))
            .map(|(p, layer)| ((p.ecosystem, p.name.as_str()), (p.version.as_str(), layer)))
            .collect();
        for layer in &lock.layers {
            for package in &layer.packages {
                let key = (package.ecosystem, package.name.as_str());
                if let Some((parent_version, parent_layer)) = pinned.get(&key) {
                    return Err(Box::new(FamilyError::Relocked {
                        child: child.path.clone(),
                        lock: self.lock_path.clone(),
                        ecosystem: package.ecosystem,
                        name: package.name.clone(),
                        version: package.version.clone(),
                        layer: layer.name.clone(),
                        parent_version: parent_version.to_string(),
                        parent_layer: parent_layer.to_string(),
                    }));
                }
            }
        }
        Ok(())
    }
}

/// Why `lock` does not match `spec` and its family, or `None` when it does: the spec changed,
/// or (for a child) its parent's lock is missing, moved since `lock` was resolved, or is stale
/// itself, up the chain. (A `copy` file's bytes are part of the spec's hash.)
pub fn staleness(spec: &Spec, lock: &Lock) -> Option<String> {
    if spec.hash() != lock.spec_hash {
        return Some(format!(
            "`{}` changed since it was resolved",
            spec.path.display()
        ));
    }
    let extends = spec.extends.as_ref()?;
    let lock_path = extends.lock_path(&spec.dir(), DEFAULT_LOCK);
    let written = match &extends.lock {
        Some(lock) => PathBuf::from(lock),
        None => Path::new(&extends.spec).with_file_name(DEFAULT_LOCK),
    };
    let shown = written.display();
    let Ok(bytes) = std::fs::read(&lock_path) else {
        return Some(format!("parent lock {shown} is missing"));
    };
    let recorded = lock.parent.as_ref().map(|p| p.lock_sha256.as_str());
    if recorded != Some(hex::encode(Sha256::digest(&bytes)).as_str()) {
        return Some(format!("parent lock {shown} changed: re-resolve"));
    }
    let parent_lock = match Lock::parse(&lock_path, &String::from_utf8_lossy(&bytes)) {
        Ok(parent_lock) => parent_lock,
        Err(error) => return Some(format!("parent lock {shown} does not read: {error}")),
    };
    staleness(&extends.parent, &parent_lock)
        .map(|reason| format!("parent lock {shown} is stale: {reason}"))
}

/// How `imglock diff` shows a change of a lock's parent: `parent: SPEC (lock sha256 …) → …`;
/// `None` when it is the same.
pub fn parent_change(old: Option<&LockedParent>, new: Option<&LockedParent>) -> Option<String> {
    let shown = |parent: Option<&LockedParent>| match parent {
        Some(parent) => format!(
            "{} (lock sha256 {})",
            parent.spec,
            &parent.lock_sha256[..parent.lock_sha256.len().min(12)]
        ),
        None => "none".to_string(),
    };
    (old != new).then(|| format!("parent: {} → {}", shown(old), shown(new)))
}
