//! Every ecosystem this build supports, in the order the stages run them, and which folder
//! serves a package of a given [`Ecosystem`]. The one place that lists the folders: adding an
//! ecosystem adds a line to [`ALL`], and the compiler points at [`support`].

use crate::package::Ecosystem;
use crate::support::EcosystemSupport;

/// Every ecosystem folder, in the order their steps appear in a layer of the Dockerfile:
/// Debian packages (the system libraries the others need), R, Python, conda, Maven, then the
/// files downloaded from URLs.
pub static ALL: [&dyn EcosystemSupport; 6] = [
    &crate::apt::support::Apt,
    &crate::cran::support::R,
    &crate::pypi::support::Python,
    &crate::conda::support::Conda,
    &crate::maven::support::Maven,
    &crate::url_files::support::UrlFiles,
];

/// The folder that serves `ecosystem`'s packages.
pub fn support(ecosystem: Ecosystem) -> &'static dyn EcosystemSupport {
    match ecosystem {
        Ecosystem::Apt => &crate::apt::support::Apt,
        Ecosystem::Cran | Ecosystem::Bioconductor | Ecosystem::Github => &crate::cran::support::R,
        Ecosystem::Pypi => &crate::pypi::support::Python,
        Ecosystem::Conda => &crate::conda::support::Conda,
        Ecosystem::Maven => &crate::maven::support::Maven,
        Ecosystem::File => &crate::url_files::support::UrlFiles,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ecosystem_is_served_by_exactly_one_listed_folder() {
        for support in ALL {
            for ecosystem in support.ecosystems() {
                assert!(std::ptr::addr_eq(support, super::support(*ecosystem)));
                let serving = ALL
                    .iter()
                    .filter(|s| s.ecosystems().contains(ecosystem))
                    .count();
                assert_eq!(serving, 1, "{ecosystem}");
            }
        }
    }
}
