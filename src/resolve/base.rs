//! The base image in a resolve. A tag is pinned to a digest (the replaced lock's pin is kept
//! unless `--upgrade` or `--upgrade-package base` says otherwise), and the lock's
//! `[image] base` holds the pinned reference (`name:tag@sha256:…`), which the Dockerfile's
//! `FROM` uses. The image is read when the spec needs what it holds — R layers without
//! `[image] r`, Python layers without `[image] python` — or when it is a local file (cheap to
//! read): `image.r` and `image.python` then default to its R and Python, and a declared one
//! that disagrees is an error naming both. (A registry base with both declared is not
//! downloaded: the first read of a real one fetches hundreds of megabytes.)

use super::ResolveOptions;
use crate::base::{BaseContents, BaseOptions, BaseReference};
use crate::conda::spec::CONDA_PREFIX;
use crate::error::Error;
use crate::lock::Lock;
use crate::package::Ecosystem;
use crate::spec::{Spec, SpecError};

/// What `--upgrade-package` calls the base image.
pub(super) const BASE_NAME: &str = "base";

/// The base image of a resolve: pinned, and what it holds when it was read.
pub(super) struct PinnedBase {
    pub reference: BaseReference,
    pub contents: Option<BaseContents>,
}

/// Pins the spec's base (keeping `previous`'s pin unless `--upgrade-package base`) and reads
/// it when the spec needs what it holds.
pub(super) fn pin_base(
    spec: &Spec,
    previous: Option<&Lock>,
    options: &ResolveOptions,
) -> Result<PinnedBase, Error> {
    let upgrading = &options.upgrade_packages;
    let spec_dir = spec.dir();
    let options = BaseOptions {
        platform: &spec.image.platform,
        conda_prefix: spec.image.conda.prefix.as_deref().unwrap_or(CONDA_PREFIX),
        spec_dir: &spec_dir,
        cache: &options.cache,
        offline: options.offline,
    };
    let written =
        BaseReference::parse(&spec.image.base).map_err(|message| spec_error(spec, message))?;
    let kept = previous
        .filter(|_| written.digest().is_none() && !upgrading.iter().any(|n| n == BASE_NAME))
        .and_then(|lock| BaseReference::parse(lock.image.base.as_str()).ok())
        .filter(|locked| locked.digest().is_some() && unpinned(locked) == written);
    let reference = kept.unwrap_or(written);
    if needs_contents(spec, &reference) {
        let read = crate::base::read_base(&reference, options)?;
        return Ok(PinnedBase {
            reference: read.reference,
            contents: Some(read.contents),
        });
    }
    let reference = crate::base::pin(&reference, options)?;
    Ok(PinnedBase {
        reference,
        contents: None,
    })
}

/// `reference` without its digest.
fn unpinned(reference: &BaseReference) -> BaseReference {
    let mut unpinned = reference.clone();
    match &mut unpinned {
        BaseReference::Registry { digest, .. } | BaseReference::Local { digest, .. } => {
            *digest = None
        }
    }
    unpinned
}

/// Whether the spec needs to know what the base holds: a local base is always read, and so is
/// the base of Debian packages (its dpkg status, apt sources and keyrings).
fn needs_contents(spec: &Spec, reference: &BaseReference) -> bool {
    let installs = |wanted: fn(Ecosystem) -> bool| {
        spec.layers
            .iter()
            .any(|l| l.requirements.iter().any(|r| wanted(r.kind)))
    };
    matches!(reference, BaseReference::Local { .. })
        || installs(|kind| kind == Ecosystem::Apt)
        || (spec.image.r.version.is_none() && installs(Ecosystem::is_r))
        || (spec.image.pypi.python.is_none() && installs(|kind| kind == Ecosystem::Pypi))
}

/// The spec the resolvers see: its base pinned, and `image.r` and `image.python` taken from the
/// base where the spec leaves them out; a declared one that disagrees with the base is an error.
pub(super) fn with_base(spec: &Spec, base: &PinnedBase) -> Result<Spec, Error> {
    let mut spec = spec.clone();
    spec.image.base = base.reference.to_string();
    if let Some(contents) = &base.contents {
        let r = contents.r.as_ref().map(|r| r.version.as_str());
        spec.image.r.version = agree(&spec, "r", spec.image.r.version.as_deref(), r, "R")?;
        let python = contents.python.as_ref().map(|p| p.version.as_str());
        spec.image.pypi.python = agree(
            &spec,
            "python",
            spec.image.pypi.python.as_deref(),
            python,
            "Python",
        )?;
    }
    let installs_r = spec
        .layers
        .iter()
        .any(|l| l.requirements.iter().any(|r| r.kind.is_r()));
    spec.image
        .r
        .check_configured(installs_r)
        .map_err(|message| spec_error(&spec, message))?;
    Ok(spec)
}

/// `[image] key`: the `declared` version if it agrees with what the base holds (`found`), else
/// the base's; an error if they disagree. A declared `4.2` agrees with a found `4.2.2`.
fn agree(
    spec: &Spec,
    key: &str,
    declared: Option<&str>,
    found: Option<&str>,
    what: &str,
) -> Result<Option<String>, Error> {
    match (declared, found) {
        (Some(declared), Some(found)) if !same_release(declared, found) => Err(spec_error(
            spec,
            format!(
                "`[image] {key} = \"{declared}\"` but the base image `{}` has {what} {found}: set `{key} = \"{found}\"`, remove the key to take the base's, or pick a base with {what} {declared}",
                spec.image.base
            ),
        )
        .into()),
        (Some(declared), _) => Ok(Some(declared.to_string())),
        (None, found) => Ok(found.map(str::to_string)),
    }
}

/// Whether `declared` names `found`'s release: its dot-separated parts are a prefix of
/// `found`'s.
fn same_release(declared: &str, found: &str) -> bool {
    let found: Vec<&str> = found.split('.').collect();
    let declared: Vec<&str> = declared.split('.').collect();
    declared.len() <= found.len() && declared.iter().zip(&found).all(|(a, b)| a == b)
}

fn spec_error(spec: &Spec, message: String) -> SpecError {
    SpecError {
        path: spec.path.clone(),
        location: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_version_agrees_with_the_release_it_names() {
        assert!(same_release("4.2", "4.2.2"));
        assert!(same_release("4.2.2", "4.2.2"));
        assert!(same_release("3.11", "3.11"));
        assert!(!same_release("4.2.1", "4.2.2"));
        assert!(!same_release("4.2.2.1", "4.2.2"));
        assert!(!same_release("3.1", "3.11"));
    }
}
