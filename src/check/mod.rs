//! `imglock check`: whether the lock still matches the spec, without the network, and why not.
//!
//! The lock stores a hash of the normalised spec, and a hash of each of its parts; a different
//! hash means the spec changed since the lock was written (formatting and comments do not
//! count; the bytes of `copy` files do), and the parts that differ are named, one reason each
//! ([`reasons`]). A child image's lock is also stale when its parent's lock moved since it was
//! resolved, or is stale itself (`crate::family`). The one question asked over the network is
//! where the branches and tags git packages were locked from are now (`git ls-remote`): a moved
//! branch makes the lock stale. Without a lock, the spec is still read (and its errors shown),
//! and the report says there is no lock yet.

pub mod github;
pub mod reasons;

use std::path::{Path, PathBuf};

use serde::Serialize;

use self::reasons::{Change, ReasonKind, StaleReason, spec_reasons};
use crate::error::Error;
use crate::lock::{Lock, LockError};
use crate::spec::Spec;

/// The verdict of `imglock check`.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub fresh: bool,
    pub spec: PathBuf,
    pub lock: PathBuf,
    pub spec_hash: String,
    /// Absent when there is no lock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_spec_hash: Option<String>,
    /// Every reason the lock is stale, one per changed part (empty when it is fresh).
    pub reasons: Vec<StaleReason>,
    /// The spec's `copy` files whose bytes changed since the lock recorded them (absent when
    /// none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed_files: Vec<String>,
    /// For a child image whose spec is unchanged: why its parent makes it stale (its parent's
    /// lock moved since it was resolved, or is stale itself), absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The git packages whose branch or tag names another commit now (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub moved_refs: Vec<String>,
    /// The git packages whose repository could not be asked where their ref is (absent when
    /// none): the lock may be stale.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unchecked_refs: Vec<String>,
}

/// Compares the spec with the lock, part by part; a missing lock is a stale report saying so.
pub fn check(spec_path: &Path, lock_path: &Path) -> Result<CheckReport, Error> {
    let spec = Spec::read(spec_path)?;
    let spec_hash = spec.hash();
    let mut report = CheckReport {
        fresh: false,
        spec: spec_path.to_path_buf(),
        lock: lock_path.to_path_buf(),
        spec_hash,
        lock_spec_hash: None,
        reasons: Vec::new(),
        changed_files: Vec::new(),
        parent: None,
        moved_refs: Vec::new(),
        unchecked_refs: Vec::new(),
    };
    let lock = match Lock::read(lock_path) {
        Ok(lock) => lock,
        Err(LockError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            report.reasons.push(StaleReason::new(
                ReasonKind::NoLock,
                Change::Missing,
                format!(
                    "there is no lock yet: {} does not exist ({} reads without errors)",
                    lock_path.display(),
                    spec_path.display()
                ),
            ));
            return Ok(report);
        }
        Err(error) => return Err(error.into()),
    };
    let lock_dir = crate::files::parent_dir(lock_path);
    report.changed_files = crate::custom_steps::changed_copies(&spec, &lock_dir, &lock);
    let stale = crate::family::staleness(&spec, &lock);
    let spec_changed = report.spec_hash != lock.spec_hash;
    report.parent = stale.clone().filter(|_| !spec_changed);
    let refs = crate::pypi::moved_git_refs(&lock, &lock_dir);
    report.reasons = reasons_of(&report, &spec, &lock, spec_changed);
    report.reasons.extend(
        refs.moved
            .iter()
            .map(|moved| StaleReason::new(ReasonKind::GitRef, Change::Moved, moved.clone())),
    );
    report.fresh = stale.is_none() && refs.moved.is_empty();
    report.moved_refs = refs.moved;
    report.unchecked_refs = refs.unchecked;
    report.lock_spec_hash = Some(lock.spec_hash);
    Ok(report)
}

/// The reasons the spec and the parent give (the git refs' are added after).
fn reasons_of(report: &CheckReport, spec: &Spec, lock: &Lock, changed: bool) -> Vec<StaleReason> {
    let mut reasons = Vec::new();
    if changed {
        // An older lock records no parts: compared with none, every part would look added.
        if !lock.spec_parts.is_empty() {
            reasons = spec_reasons(&spec.parts(), &lock.spec_parts, &spec.part_lines());
        }
        reasons.extend(report.changed_files.iter().map(|file| {
            StaleReason::new(
                ReasonKind::CopyFile,
                Change::Changed,
                format!("{file} changed since it was resolved"),
            )
        }));
        if reasons.is_empty() {
            reasons.push(StaleReason::new(
                ReasonKind::Spec,
                Change::Changed,
                format!(
                    "{} changed since it was resolved (the lock records no parts to say which)",
                    spec.path.display()
                ),
            ));
        }
    }
    if let Some(parent) = &report.parent {
        reasons.push(StaleReason::new(
            ReasonKind::Parent,
            Change::Changed,
            parent.clone(),
        ));
    }
    reasons
}
