//! How a change of a Python package's version reads in a review, by PEP 440's order.
//!
//! The release components (`1.19.5` has three) decide the level, padded with zeros as PEP 440
//! compares them (`1.0` = `1.0.0`): the first that differs is major, minor or patch, a later one
//! other. An epoch change is major (the project restarted its numbering); a change only in the
//! pre-, post- or dev-release or the local label (`1.0rc1` → `1.0`, `1.0+cpu` → `1.0+cu118`) is
//! other.

use std::cmp::Ordering;
use std::str::FromStr;

use pep440_rs::Version;

use crate::package::ChangeLevel;

/// The direction and level of a version change, or `None` when either is not a PEP 440 version.
pub fn version_change(old: &str, new: &str) -> Option<(Ordering, ChangeLevel)> {
    let (old, new) = (Version::from_str(old).ok()?, Version::from_str(new).ok()?);
    Some((new.cmp(&old), change_level(&old, &new)))
}

fn change_level(old: &Version, new: &Version) -> ChangeLevel {
    if old.epoch() != new.epoch() {
        return ChangeLevel::Major;
    }
    let component = |version: &Version, i: usize| version.release().get(i).copied().unwrap_or(0);
    let length = old.release().len().max(new.release().len());
    ChangeLevel::at((0..length).position(|i| component(old, i) != component(new, i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(old: &str, new: &str) -> Option<(Ordering, ChangeLevel)> {
        version_change(old, new)
    }

    #[test]
    fn orders_and_classifies_by_the_release_segment() {
        use ChangeLevel::*;
        use Ordering::*;
        assert_eq!(change("1.19.5", "1.18.5"), Some((Less, Minor)));
        assert_eq!(change("1.26.4", "2.0.0"), Some((Greater, Major)));
        assert_eq!(change("2.28.1", "2.28.2"), Some((Greater, Patch)));
        assert_eq!(change("1.2.3.4", "1.2.3.5"), Some((Greater, Other)));
        // Zero padding: `1.0` is `1.0.0`, so `1.0` → `1.0.1` changes the third component.
        assert_eq!(change("1.0", "1.0.1"), Some((Greater, Patch)));
        assert_eq!(change("1.0", "1.0.0"), Some((Equal, Other)));
        // PEP 440's order, not the strings': 1.10 is newer than 1.9.
        assert_eq!(change("1.9", "1.10"), Some((Greater, Minor)));
    }

    #[test]
    fn labels_are_other_and_an_epoch_is_major() {
        use ChangeLevel::*;
        use Ordering::*;
        assert_eq!(change("2.0rc1", "2.0"), Some((Greater, Other)));
        assert_eq!(change("2.0", "2.0.post1"), Some((Greater, Other)));
        assert_eq!(change("2.0.dev3", "2.0a1"), Some((Greater, Other)));
        assert_eq!(change("2.0+cu118", "2.0+cpu"), Some((Less, Other)));
        assert_eq!(change("1.0", "1!1.0"), Some((Greater, Major)));
    }

    #[test]
    fn other_spellings_are_not_ordered() {
        assert_eq!(change("not a version", "1.0"), None);
        assert_eq!(change("1.0", "1.0-+-"), None);
    }
}
