//! PEP 440 specifiers as PubGrub version ranges.

use pep440_rs::{Operator, Version, VersionSpecifier, VersionSpecifiers};
use pubgrub::Ranges;

/// The versions all of `specifiers` allow.
pub fn ranges_of(specifiers: &VersionSpecifiers) -> Ranges<Version> {
    specifiers.iter().fold(Ranges::full(), |all, specifier| {
        all.intersection(&range_of(specifier))
    })
}

fn range_of(specifier: &VersionSpecifier) -> Ranges<Version> {
    let version = specifier.version().clone();
    match specifier.operator() {
        Operator::Equal | Operator::ExactEqual => Ranges::singleton(version),
        Operator::NotEqual => Ranges::singleton(version).complement(),
        Operator::EqualStar => prefix(&version),
        Operator::NotEqualStar => prefix(&version).complement(),
        Operator::TildeEqual => {
            let release = version.release();
            let kept = &release[..release.len().saturating_sub(1).max(1)];
            Ranges::higher_than(version.clone())
                .intersection(&prefix(&Version::new(kept.iter().copied())))
        }
        Operator::LessThan => {
            // `<V` excludes V's own pre-releases unless V is one.
            if version.any_prerelease() {
                Ranges::strictly_lower_than(version)
            } else {
                Ranges::strictly_lower_than(version.with_dev(Some(0)))
            }
        }
        Operator::LessThanEqual => Ranges::lower_than(version),
        Operator::GreaterThan => Ranges::strictly_higher_than(version),
        Operator::GreaterThanEqual => Ranges::higher_than(version),
    }
}

/// The versions that start with `version`'s release: `== 1.2.*` is `>= 1.2.dev0, < 1.3.dev0`.
fn prefix(version: &Version) -> Ranges<Version> {
    let release = version.release();
    let low = Version::new(release.iter().copied()).with_dev(Some(0));
    let mut upper: Vec<u64> = release.to_vec();
    if let Some(last) = upper.last_mut() {
        *last += 1;
    }
    let high = Version::new(upper).with_dev(Some(0));
    Ranges::between(low, high)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn allows(specifiers: &str, version: &str) -> bool {
        ranges_of(&VersionSpecifiers::from_str(specifiers).unwrap())
            .contains(&Version::from_str(version).unwrap())
    }

    #[test]
    fn matches_pep_440() {
        assert!(allows(">=1.0,<2", "1.5"));
        assert!(!allows(">=1.0,<2", "2.0"));
        assert!(
            !allows("<2", "2.0rc1"),
            "< excludes the bound's pre-releases"
        );
        assert!(allows("==1.2.*", "1.2.9"));
        assert!(!allows("==1.2.*", "1.3"));
        assert!(allows("~=1.4.5", "1.4.9"));
        assert!(!allows("~=1.4.5", "1.5.0"));
        assert!(allows("~=2.2", "2.9"));
        assert!(!allows("~=2.2", "3.0"));
        assert!(!allows("!=1.5", "1.5"));
        assert!(allows("!=1.5.*", "1.6"));
        assert!(allows("==1.18.5", "1.18.5"));
    }
}
