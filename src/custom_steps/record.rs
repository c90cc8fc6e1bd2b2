//! What a resolve records of the spec's custom steps in the new lock: each layer's steps (a
//! `copy` file named relative to the lock's folder) and the image's `entrypoint` and `cmd`.
//! Nothing is resolved: the steps are the spec's, checked and hashed when it was read. Also
//! which `copy` files changed since a lock recorded them, for `imglock check` to name.

use std::path::Path;

use super::CustomStep;
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

/// The `copy` files of `spec` whose bytes differ from what `lock` (written to `lock_dir`)
/// recorded, as `imglock check` names them: `conf/a.conf (layer `app`)`.
pub fn changed_copies(spec: &Spec, lock_dir: &Path, lock: &Lock) -> Vec<String> {
    let spec_dir = spec.dir();
    let mut changed = Vec::new();
    for layer in &spec.layers {
        let Some(locked) = lock.layers.iter().find(|l| l.name == layer.name) else {
            continue;
        };
        let now = super::lock::for_lock(&layer.steps, &spec_dir, lock_dir);
        for (written, step) in layer.steps.iter().zip(&now) {
            let (CustomStep::Copy(spec_copy), CustomStep::Copy(copy)) = (written, step) else {
                continue;
            };
            let differs = locked.steps.iter().any(|old| {
                matches!(old, CustomStep::Copy(old)
                    if old.source == copy.source && old.to == copy.to && old.sha256 != copy.sha256)
            });
            if differs {
                changed.push(format!("{} (layer `{}`)", spec_copy.source, layer.name));
            }
        }
    }
    changed
}
