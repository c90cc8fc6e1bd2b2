//! What a resolve records of the spec's custom steps in the new lock: each layer's steps (a
//! `copy` file named relative to the lock's folder) and the image's `entrypoint` and `cmd`.
//! Nothing is resolved: the steps are the spec's, checked and hashed when it was read.

use std::path::Path;

use crate::lock::Lock;
use crate::spec::Spec;

/// Copies `spec`'s custom steps into `lock`, written to `lock_dir`, layer by layer (by name).
pub fn record(spec: &Spec, lock_dir: &Path, lock: &mut Lock) {
    let spec_dir = spec.dir();
    for layer in &spec.layers {
        if let Some(locked) = lock.layers.iter_mut().find(|l| l.name == layer.name) {
            locked.steps = super::lock::for_lock(&layer.steps, &spec_dir, lock_dir);
        }
    }
    lock.image.entrypoint = spec.image.command.entrypoint.clone();
    lock.image.cmd = spec.image.command.cmd.clone();
}
