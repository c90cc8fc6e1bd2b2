//! A locked git package after its resolve: its source archive for `emit` (kept in the cache,
//! else packed again from the commit and checked against the lock) and, for `imglock check`,
//! whether the branch or tag it was locked from moved.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::PackageName;

use super::cli::Database;
use super::{
    GitError, GitReference, GitSource, archive_path, database_path, is_commit, keep_archive, pack,
};
use crate::emit::step::{CONTEXT_ARTIFACTS, Source, StepContext, StepError};
use crate::fetch::Cache;
use crate::lock::{Lock, LockedPackage};

/// The source archive of the locked git package `name` from `source`, in the cache: kept from
/// its resolve, else made again from the cache's repository (the commit fetched when it is not
/// there) and checked against `sha256`. Relative `file:` URLs are relative to `lock_dir`.
pub fn locked_archive(
    name: &str,
    source: &GitSource,
    sha256: &str,
    lock_dir: &Path,
) -> Result<PathBuf, GitError> {
    let cache = Cache::from_env();
    let kept = archive_path(&cache, sha256);
    if kept.exists() {
        return Ok(kept);
    }
    let reference = GitReference::read(
        &PackageName::from_str(name).map_err(|e| GitError::Malformed {
            requirement: name.to_string(),
            problem: e.to_string(),
        })?,
        name,
        &source.url,
        lock_dir,
        lock_dir,
    )?;
    let database = Database::open(&database_path(&cache, &reference.key))?;
    database.fetch_commit(&reference.remote, &source.commit)?;
    let packed = pack(
        &database,
        &reference.name,
        &source.commit,
        source.subdirectory.as_deref(),
    )?;
    if packed.sha256 != sha256 {
        return Err(GitError::Mismatch {
            name: name.to_string(),
            commit: source.commit.clone(),
            actual: packed.sha256,
            locked: sha256.to_string(),
        });
    }
    keep_archive(&cache, &packed)
}

/// Where the locked git `package` (whose source is `source`) comes from in the build: its
/// source archive, put into the build context (which checks it against the lock's sha256).
pub fn context_source(
    package: &LockedPackage,
    source: &GitSource,
    context: &mut StepContext,
) -> Result<Source, StepError> {
    let path = locked_archive(&package.name, source, &package.sha256, context.lock_dir()).map_err(
        |error| StepError::Made {
            package: format!(
                "{} {} (commit {})",
                package.name, package.version, source.commit
            ),
            source: Box::new(error),
        },
    )?;
    let name = format!("{}-{}.tar.gz", package.name, package.version);
    context.add_file(
        &path.to_string_lossy(),
        name.clone(),
        package.sha256.clone(),
    );
    Ok(Source::Context(format!("{CONTEXT_ARTIFACTS}/{name}")))
}

/// What `imglock check` learns of the lock's git packages whose ref is a branch or tag: the ones
/// whose ref names another commit now (`moved`), and the ones whose repository could not be
/// asked (`unchecked`), each as a sentence.
#[derive(Debug, Default)]
pub struct MovedRefs {
    pub moved: Vec<String>,
    pub unchecked: Vec<String>,
}

/// Asks the repository of each git package of `lock` (in `lock_dir`) locked from a branch or
/// tag where that ref is now.
pub fn moved_refs(lock: &Lock, lock_dir: &Path) -> MovedRefs {
    let mut found = MovedRefs::default();
    let packages = lock.layers.iter().flat_map(|layer| &layer.packages);
    for package in packages {
        let Some(source) = package.details.pypi().and_then(|p| p.git.as_ref()) else {
            continue;
        };
        if is_commit(&source.git_ref) {
            continue;
        }
        let asked = PackageName::from_str(&package.name)
            .map_err(|e| GitError::Malformed {
                requirement: package.name.clone(),
                problem: e.to_string(),
            })
            .and_then(|name| {
                let reference =
                    GitReference::read(&name, &package.name, &source.url, lock_dir, lock_dir)?;
                let reference = GitReference {
                    git_ref: Some(source.git_ref.clone()).filter(|r| r != "HEAD"),
                    ..reference
                };
                reference.advertised().map(|(found, _)| found)
            });
        match asked {
            Ok(Some(commit)) if commit == source.commit => {}
            Ok(Some(commit)) => found.moved.push(format!(
                "{} `{}` of {} moved: {} -> {}",
                package.name,
                source.git_ref,
                source.url,
                source.short(),
                &commit[..7]
            )),
            Ok(None) => found.moved.push(format!(
                "{}: {} has no `{}` any more",
                package.name, source.url, source.git_ref
            )),
            Err(error) => found.unchecked.push(format!(
                "{}: {}",
                package.name,
                crate::causes::chain(&error)
            )),
        }
    }
    found
}
