//! A parent's lock as its child's lock holds it: every path a lock names relative to its own
//! folder (a `file:` repository, a `file:` artifact URL, a `copy` step's file, a local base
//! image) re-expressed from the child lock's folder, so the child's lock alone emits the whole
//! image; anything else is kept exactly. Also the merge of the two locks' image settings.

use std::path::Path;

use crate::custom_steps::{CopyStep, CustomStep};
use crate::lock::{Lock, LockedImage, LockedLayer, LockedPackage};
use crate::package::SettingValue;
use crate::repository::relative_to;

/// Paths relative to the folder `from` (the parent lock's), re-expressed relative to `to` (the
/// child lock's).
pub(super) struct Rebase<'a> {
    pub from: &'a Path,
    pub to: &'a Path,
}

impl Rebase<'_> {
    /// A relative path of the parent lock, from the child's lock.
    fn path(&self, relative: &str) -> String {
        if Path::new(relative).is_absolute() {
            return relative.to_string();
        }
        relative_to(&self.from.join(relative), self.to)
    }

    /// A URL or label: a relative `file:` path re-expressed, anything else as it is.
    fn url(&self, text: &str) -> String {
        match text.strip_prefix("file:") {
            Some(path) if !path.starts_with('/') => format!("file:{}", self.path(path)),
            _ => text.to_string(),
        }
    }

    /// `lock` with every relative path re-expressed.
    pub(super) fn lock(&self, lock: &Lock) -> Lock {
        let mut lock = lock.clone();
        lock.image.base = crate::spec::rebase_local(&lock.image.base, self.from, self.to);
        for value in lock.resolution.values_mut() {
            match value {
                SettingValue::Text(text) => *text = self.url(text),
                SettingValue::List(items) => items.iter_mut().for_each(|i| *i = self.url(i)),
            }
        }
        lock.layers.iter_mut().for_each(|layer| self.layer(layer));
        lock
    }

    fn layer(&self, layer: &mut LockedLayer) {
        for package in layer.packages.iter_mut().chain(&mut layer.build_packages) {
            self.package(package);
        }
        for step in &mut layer.steps {
            if let CustomStep::Copy(CopyStep { source, .. }) = step {
                *source = self.path(source);
            }
        }
    }

    fn package(&self, package: &mut LockedPackage) {
        package.repository = self.url(&package.repository);
        package.url = self.url(&package.url);
    }
}

/// The child's image settings with the parent's where the child has none; a setting both have
/// and differ on is `(key, child's, parent's)`.
pub(super) fn merge_image(
    child: &mut LockedImage,
    parent: &LockedImage,
) -> Result<(), (&'static str, String, String)> {
    fn merge<T: Clone + PartialEq + std::fmt::Debug>(
        key: &'static str,
        child: &mut Option<T>,
        parent: &Option<T>,
    ) -> Result<(), (&'static str, String, String)> {
        match (child.as_ref(), parent) {
            (_, None) => Ok(()),
            (None, Some(parent)) => {
                *child = Some(parent.clone());
                Ok(())
            }
            (Some(own), Some(parent)) if own == parent => Ok(()),
            (Some(own), Some(parent)) => Err((key, format!("{own:?}"), format!("{parent:?}"))),
        }
    }
    merge("image.r-library", &mut child.r_library, &parent.r_library)?;
    merge(
        "image.conda-prefix",
        &mut child.conda_prefix,
        &parent.conda_prefix,
    )?;
    merge(
        "image.conda-installer",
        &mut child.conda_installer,
        &parent.conda_installer,
    )?;
    merge(
        "image.python-prefix",
        &mut child.python_prefix,
        &parent.python_prefix,
    )?;
    merge(
        "image.python-venv",
        &mut child.python_venv,
        &parent.python_venv,
    )?;
    if child.platform != parent.platform {
        return Err((
            "image.platform",
            format!("{:?}", child.platform),
            format!("{:?}", parent.platform),
        ));
    }
    Ok(())
}
