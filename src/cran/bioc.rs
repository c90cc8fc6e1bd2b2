//! Bioconductor: which release goes with which R, and the four repositories of a release.
//!
//! Bioconductor makes two releases per R minor version; `auto` takes the later one, the release
//! the R version is used with for most of its life. A release's packages live in repositories
//! under `<site>/packages/<release>/`, which changed over the years (see [`repositories`]).
//! Their CRAN dependencies resolve from CRAN.

use super::RVersion;
use crate::repository::Repository;

/// Each Bioconductor release and the R minor version it is built for.
const RELEASES: &[(&str, &str)] = &[
    ("3.5", "3.4"),
    ("3.6", "3.4"),
    ("3.7", "3.5"),
    ("3.8", "3.5"),
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

/// A repository of Bioconductor releases: its folder under `<site>/packages/<release>/` and the
/// releases that have it (inclusive, as `(major, minor)`).
struct Layout {
    folder: &'static str,
    first: (u32, u32),
    last: (u32, u32),
}

/// Every repository a release may have, as BiocManager and pak list them: `workflows` from 3.7,
/// `books` from 3.12, `extra` until 3.5.
const REPOSITORIES: &[Layout] = &[
    Layout::always("bioc"),
    Layout::always("data/annotation"),
    Layout::always("data/experiment"),
    Layout::from("workflows", (3, 7)),
    Layout::from("books", (3, 12)),
    Layout {
        folder: "extra",
        first: (0, 0),
        last: (3, 5),
    },
];

impl Layout {
    const fn always(folder: &'static str) -> Self {
        Self::from(folder, (0, 0))
    }

    const fn from(folder: &'static str, first: (u32, u32)) -> Self {
        Self {
            folder,
            first,
            last: (u32::MAX, 0),
        }
    }
}

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
    #[error("`{0}` is not a Bioconductor release imglock knows (3.5 to 3.22)")]
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

/// The repositories of `release` under `site`, as the release laid them out.
pub fn repositories(site: &Repository, release: &str) -> Vec<Repository> {
    let number = release_number(release);
    REPOSITORIES
        .iter()
        .filter(|layout| (layout.first..=layout.last).contains(&number))
        .map(|layout| site.child(&format!("packages/{release}/{}", layout.folder)))
        .collect()
}

/// `3.16` as `(3, 16)`; a release that does not parse sorts last (the newest layout).
fn release_number(release: &str) -> (u32, u32) {
    let mut parts = release.split('.').map(|part| part.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor),
        _ => (u32::MAX, 0),
    }
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
        assert_eq!(release_for(&r("3.4.2")).unwrap(), "3.6");
        assert_eq!(release_for(&r("3.5.1")).unwrap(), "3.8");
        assert!(check_release("3.15", &r("4.2.2")).is_ok());
        assert!(matches!(
            check_release("3.18", &r("4.2.2")),
            Err(ReleaseError::Mismatch { .. })
        ));
    }

    #[test]
    fn lays_out_each_release_as_it_was() {
        let site = Repository::parse(
            "https://bioconductor.org",
            std::path::Path::new("/"),
            std::path::Path::new("/"),
        )
        .unwrap();
        let layout = |release: &str| -> Vec<String> {
            repositories(&site, release)
                .iter()
                .map(|repo| repo.label.replace("https://bioconductor.org/packages/", ""))
                .collect()
        };
        let base = ["bioc", "data/annotation", "data/experiment"];
        let with = |release: &str, extra: &[&str]| -> Vec<String> {
            base.iter()
                .chain(extra)
                .map(|repo| format!("{release}/{repo}"))
                .collect()
        };
        assert_eq!(layout("3.5"), with("3.5", &["extra"]));
        assert_eq!(layout("3.6"), with("3.6", &[]));
        assert_eq!(layout("3.7"), with("3.7", &["workflows"]));
        assert_eq!(layout("3.11"), with("3.11", &["workflows"]));
        assert_eq!(layout("3.12"), with("3.12", &["workflows", "books"]));
        assert_eq!(layout("3.16"), with("3.16", &["workflows", "books"]));
    }
}
