//! How a change of a conda package's version reads in a review, by conda's version order
//! (`rattler_conda_types::Version`).
//!
//! The release segments (`.`-separated: `1.2.13` has three, `1.2.0rc1` too) decide the level,
//! compared as conda compares versions, so a missing segment counts as `0` (`1.2` = `1.2.0`): the
//! first that differs is major, minor or patch, a later one other. An epoch change (`1!2.0`) is
//! major; a change only in the local part (after `+`) is other. A change of the build alone is
//! not a version change: `crate::diff` reports it as a rebuild.

use std::cmp::Ordering;
use std::str::FromStr;

use rattler_conda_types::Version;

use crate::package::ChangeLevel;

/// The direction and level of a version change, or `None` when either is not a conda version.
pub fn version_change(old: &str, new: &str) -> Option<(Ordering, ChangeLevel)> {
    let (old, new) = (Version::from_str(old).ok()?, Version::from_str(new).ok()?);
    Some((new.cmp(&old), change_level(&old, &new)))
}

fn change_level(old: &Version, new: &Version) -> ChangeLevel {
    let (old, new) = (old.strip_local(), new.strip_local());
    let length = old.segment_count().max(new.segment_count());
    // The first segment that differs is the first whose prefixes differ; prefixes keep the epoch
    // and compare by conda's own rules (padding included), so an epoch change differs at once.
    let prefix = |version: &Version, i: usize| {
        version.with_segments(..=i.min(version.segment_count().saturating_sub(1)))
    };
    ChangeLevel::at((0..length).position(|i| prefix(&old, i) != prefix(&new, i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(old: &str, new: &str) -> Option<(Ordering, ChangeLevel)> {
        version_change(old, new)
    }

    #[test]
    fn orders_and_classifies_by_release_segment() {
        use ChangeLevel::*;
        use Ordering::*;
        assert_eq!(change("1.2.13", "1.3"), Some((Greater, Minor)));
        assert_eq!(change("1.1.1t", "3.0.8"), Some((Greater, Major)));
        assert_eq!(change("3.4.2", "3.4.4"), Some((Greater, Patch)));
        assert_eq!(change("3.11.0", "3.9.18"), Some((Less, Minor)));
        assert_eq!(change("2022.12.7.1", "2022.12.7.2"), Some((Greater, Other)));
        // A missing segment is 0: `1.2` → `1.2.0.1` first differs in the fourth.
        assert_eq!(change("1.2", "1.2.0.1"), Some((Greater, Other)));
        assert_eq!(change("1.2", "1.2.0"), Some((Equal, Other)));
    }

    #[test]
    fn conda_orders_letters_its_own_way() {
        use ChangeLevel::*;
        use Ordering::*;
        // conda: `1.1.1t` > `1.1.1s`; `rc` < `post`-less release; `dev` before everything.
        assert_eq!(change("1.1.1s", "1.1.1t"), Some((Greater, Patch)));
        assert_eq!(change("1.2.0rc1", "1.2.0"), Some((Greater, Patch)));
        assert_eq!(change("1.2.0", "1.2.0dev"), Some((Less, Patch)));
        assert_eq!(change("1.0+1", "1.0+2"), Some((Greater, Other)));
        assert_eq!(change("1.0", "1!1.0"), Some((Greater, Major)));
    }

    #[test]
    fn other_spellings_are_not_ordered() {
        assert_eq!(change("1..2", "1.3"), None);
    }
}
