//! `imglock check`: whether the lock still matches the spec, without the network.
//!
//! The lock stores a hash of the normalised spec; a different hash means the spec changed since
//! the lock was written (formatting and comments do not count).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Error;
use crate::lock::Lock;
use crate::spec::Spec;

/// The verdict of `imglock check`.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub fresh: bool,
    pub spec: PathBuf,
    pub lock: PathBuf,
    pub spec_hash: String,
    pub lock_spec_hash: String,
}

/// Compares the spec's hash with the one the lock recorded.
pub fn check(spec_path: &Path, lock_path: &Path) -> Result<CheckReport, Error> {
    let spec = Spec::read(spec_path)?;
    let lock = Lock::read(lock_path)?;
    let spec_hash = spec.hash();
    Ok(CheckReport {
        fresh: spec_hash == lock.spec_hash,
        spec: spec_path.to_path_buf(),
        lock: lock_path.to_path_buf(),
        spec_hash,
        lock_spec_hash: lock.spec_hash,
    })
}
