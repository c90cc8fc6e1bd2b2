//! Bioconductor: which release goes with which R, and the four repositories of a release.
//!
//! Bioconductor makes two releases per R minor version; `auto` takes the later one, the release
//! the R version is used with for most of its life. A release's packages live in four
//! repositories under `<site>/packages/<release>/`. Their CRAN dependencies resolve from CRAN.

use super::RVersion;
use crate::repository::Repository;

/// Each Bioconductor release and the R minor version it is built for.
const RELEASES: &[(&str, &str)] = &[
    ("3.9", "3.6"),
    ("3.10", "3.6"),
    ("3.11", "4.0"),
    ("3.12", "4.0"),
    ("3.13", "4.1"),
    ("3.14", "4.1"),
    ("3.15", "4.2"),
    ("3.16", "4.2"),
    ("3.17", "4.3"),
    ("3.18", "4.3"),
    ("3.19", "4.4"),
    ("3.20", "4.4"),
    ("3.21", "4.5"),
    ("3.22", "4.5"),
];

/// The repositories of a release, relative to `<site>/packages/<release>/`.
pub const REPOSITORIES: &[&str] = &["bioc", "data/annotation", "data/experiment", "workflows"];

/// Why no Bioconductor release could be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseError {
    #[error(
        "no Bioconductor release is known for R {0}: set `[repositories] bioconductor` to a release, like \"3.16\""
    )]
    UnknownR(String),
    #[error(
        "Bioconductor {release} is built for R {built_for}, but the image has R {image_r}: use `auto` or the release for R {image_r}"
    )]
    Mismatch {
        release: String,
        built_for: String,
        image_r: String,
    },
    #[error("`{0}` is not a Bioconductor release imglock knows (3.9 to 3.22)")]
    UnknownRelease(String),
}

fn minor(r: &RVersion) -> String {
    let parts = r.parts();
    format!(
        "{}.{}",
        parts.first().unwrap_or(&0),
        parts.get(1).unwrap_or(&0)
    )
}

/// The release `auto` picks for R `r`.
pub fn release_for(r: &RVersion) -> Result<&'static str, ReleaseError> {
    let wanted = minor(r);
    RELEASES
        .iter()
        .rev()
        .find(|(_, built_for)| *built_for == wanted)
        .map(|(release, _)| *release)
        .ok_or(ReleaseError::UnknownR(r.to_string()))
}

/// Checks an explicit release against the image's R.
pub fn check_release(release: &str, r: &RVersion) -> Result<(), ReleaseError> {
    let (_, built_for) = RELEASES
        .iter()
        .find(|(known, _)| *known == release)
        .ok_or_else(|| ReleaseError::UnknownRelease(release.to_string()))?;
    if *built_for == minor(r) {
        Ok(())
    } else {
        Err(ReleaseError::Mismatch {
            release: release.to_string(),
            built_for: (*built_for).to_string(),
            image_r: r.to_string(),
        })
    }
}

/// The four repositories of `release` under `site`.
pub fn repositories(site: &Repository, release: &str) -> Vec<Repository> {
    REPOSITORIES
        .iter()
        .map(|repo| site.child(&format!("packages/{release}/{repo}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_r_to_release() {
        let r = |v: &str| v.parse::<RVersion>().unwrap();
        assert_eq!(release_for(&r("4.2.2")).unwrap(), "3.16");
        assert_eq!(release_for(&r("4.1")).unwrap(), "3.14");
        assert_eq!(release_for(&r("4.5.0")).unwrap(), "3.22");
        assert!(release_for(&r("2.15")).is_err());
        assert!(check_release("3.15", &r("4.2.2")).is_ok());
        assert!(matches!(
            check_release("3.18", &r("4.2.2")),
            Err(ReleaseError::Mismatch { .. })
        ));
    }
}
