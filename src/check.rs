//! `imglock check`: whether the lock still matches the spec, without the network.
//!
//! The lock stores a hash of the normalised spec; a different hash means the spec changed since
//! the lock was written (formatting and comments do not count; the bytes of `copy` files do, and
//! the report names those that changed). A child image's lock is also stale when its parent's
//! lock moved since it was resolved, or is stale itself (`crate::family`). The one question
//! asked over the network is where the branches and tags git packages were locked from are now
//! (`git ls-remote`): a moved branch makes the lock stale.
//!
//! The verdict is printed as text, as JSON (the serialised [`CheckReport`]) or as GitHub
//! Actions annotations ([`github`]).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::annotations::{Annotation, Level};
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

/// Compares the spec's hash with the one the lock recorded.
pub fn check(spec_path: &Path, lock_path: &Path) -> Result<CheckReport, Error> {
    let spec = Spec::read(spec_path)?;
    let lock = Lock::read(lock_path)?;
    let spec_hash = spec.hash();
    let lock_dir = crate::files::parent_dir(lock_path);
    let changed_files = crate::custom_steps::changed_copies(&spec, &lock_dir, &lock);
    let stale = crate::family::staleness(&spec, &lock);
    let parent = stale
        .as_ref()
        .filter(|_| spec_hash == lock.spec_hash)
        .cloned();
    let refs = crate::pypi::moved_git_refs(&lock, &lock_dir);
    Ok(CheckReport {
        fresh: stale.is_none() && refs.moved.is_empty(),
        moved_refs: refs.moved,
        unchecked_refs: refs.unchecked,
        parent,
        spec: spec_path.to_path_buf(),
        lock: lock_path.to_path_buf(),
        spec_hash,
        lock_spec_hash: lock.spec_hash,
        changed_files,
    })
}

impl CheckReport {
    /// Why the lock is stale, in a few words (`None` when it is fresh): the git refs that moved
    /// when the spec did not change, the parent's lock, or the spec and `copy` files that changed.
    pub fn stale_because(&self) -> Option<String> {
        if self.fresh {
            return None;
        }
        Some(if self.spec_unchanged() && !self.moved_refs.is_empty() {
            self.moved_refs.join("; ")
        } else if let Some(parent) = &self.parent {
            parent.clone()
        } else if self.changed_files.is_empty() {
            format!("{} changed since it was resolved", self.spec.display())
        } else {
            format!(
                "{} changed since it was resolved",
                self.changed_files.join(", ")
            )
        })
    }

    /// Whether the spec is the one the lock was resolved from (the lock may be stale for another
    /// reason).
    fn spec_unchanged(&self) -> bool {
        self.spec_hash == self.lock_spec_hash && self.changed_files.is_empty()
    }
}

/// The verdict as a line of text.
pub fn text(report: &CheckReport) -> String {
    match report.stale_because() {
        None => format!(
            "{} is up to date with {}\n",
            report.lock.display(),
            report.spec.display()
        ),
        Some(why) => format!(
            "{} is stale: {why}; run `imglock resolve`\n",
            report.lock.display()
        ),
    }
}

/// The verdict as GitHub Actions workflow commands: an error on the spec when it (or a file it
/// copies) changed, else on the lock; a warning per git ref that could not be asked; then the
/// verdict's text.
pub fn github(report: &CheckReport) -> String {
    let mut out = String::new();
    if let Some(why) = report.stale_because() {
        let file = if report.spec_unchanged() {
            &report.lock
        } else {
            &report.spec
        };
        let message = format!(
            "{} is stale: {why}; run `imglock resolve`",
            report.lock.display()
        );
        let error = Annotation::new(Level::Error, "imglock check: stale lock", message);
        out.push_str(&format!("{}\n", error.at(file.display().to_string(), None)));
    }
    for unchecked in &report.unchecked_refs {
        let message = format!("cannot tell whether a git ref moved: {unchecked}");
        let warning = Annotation::new(Level::Warning, "imglock check", message);
        out.push_str(&format!(
            "{}\n",
            warning.at(report.lock.display().to_string(), None)
        ));
    }
    out + &text(report)
}
