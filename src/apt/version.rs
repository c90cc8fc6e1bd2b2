//! Debian version numbers (`[epoch:]upstream[-revision]`, Debian Policy 5.6.12) and their
//! order, exactly as dpkg's `verrevcmp` gives it: epochs compared as numbers, then the upstream
//! version, then the revision (an absent one is `0`), each compared in alternating runs of
//! non-digits (letters before other characters, `~` before everything, even the end) and
//! numbers (leading zeros ignored, an empty run being 0).
//!
//! The `debversion` crate was tried first and dropped: it orders an empty digit run before `0`
//! (`1.16.2+ds-1+b3` before `1.16.2+ds0-1`, which dpkg orders the other way), a disagreement
//! the dpkg oracle test found on bookworm's real versions.

use std::cmp::Ordering;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// A Debian version, ordered as dpkg orders it.
#[derive(Debug, Clone)]
pub struct Version {
    text: String,
    epoch: u64,
    upstream: Range<usize>,
    revision: Option<Range<usize>>,
}

/// Why a text is not a Debian version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a Debian version: {reason}")]
pub struct VersionError {
    /// The text as it was given.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Version {
    /// Reads `text` as dpkg's `parseversion` does: an optional numeric epoch before the first
    /// `:`, a revision after the last `-`, and an upstream version that starts with a digit and
    /// holds only alphanumerics and `.+~-:`; a revision holds only alphanumerics and `.+~`.
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        let error = |reason| VersionError {
            text: text.to_string(),
            reason,
        };
        let (epoch, upstream_start) = match text.split_once(':') {
            Some((epoch, _)) => {
                if epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(error("its epoch is not a number"));
                }
                let epoch = epoch.parse().map_err(|_| error("its epoch is too large"))?;
                (epoch, text.find(':').map_or(0, |colon| colon + 1))
            }
            None => (0, 0),
        };
        let (upstream, revision) = match text[upstream_start..].rfind('-') {
            Some(hyphen) => {
                let hyphen = upstream_start + hyphen;
                (upstream_start..hyphen, Some(hyphen + 1..text.len()))
            }
            None => (upstream_start..text.len(), None),
        };
        let upstream_text = &text[upstream.clone()];
        if upstream_text.is_empty() {
            return Err(error("its upstream version is empty"));
        }
        if !upstream_text.as_bytes()[0].is_ascii_digit() {
            return Err(error("its upstream version does not start with a digit"));
        }
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"+.~".contains(&b);
        if !upstream_text
            .bytes()
            .all(|b| allowed(b) || b == b'-' || b == b':')
        {
            return Err(error("it holds a character Debian versions may not"));
        }
        if let Some(revision) = &revision {
            let revision = &text[revision.clone()];
            if revision.is_empty() || !revision.bytes().all(allowed) {
                return Err(error(
                    "its revision is empty or holds a character it may not",
                ));
            }
        }
        Ok(Self {
            text: text.to_string(),
            epoch,
            upstream,
            revision,
        })
    }

    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The epoch, 0 when none is written.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The upstream part.
    pub fn upstream(&self) -> &str {
        &self.text[self.upstream.clone()]
    }

    /// The Debian revision, when one is written.
    pub fn revision(&self) -> Option<&str> {
        self.revision.clone().map(|range| &self.text[range])
    }
}

/// A character's weight in a non-digit run: `~` first, then the end (and digits, which end the
/// run), then letters, then everything else.
fn weight(c: Option<&u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(*c),
        Some(b'~') => -1,
        Some(c) => i32::from(*c) + 256,
    }
}

/// The leading digit run of `s` without its leading zeros, and what follows it.
fn digit_run(s: &[u8]) -> (&[u8], &[u8]) {
    let zeros = s.iter().take_while(|c| **c == b'0').count();
    let s = &s[zeros..];
    let length = s.iter().take_while(|c| c.is_ascii_digit()).count();
    s.split_at(length)
}

/// dpkg's `verrevcmp`: compares two upstream versions or two revisions.
fn compare_part(a: &[u8], b: &[u8]) -> Ordering {
    let (mut a, mut b) = (a, b);
    let non_digit = |s: &[u8]| s.first().is_some_and(|c| !c.is_ascii_digit());
    while !a.is_empty() || !b.is_empty() {
        while non_digit(a) || non_digit(b) {
            let (wa, wb) = (weight(a.first()), weight(b.first()));
            if wa != wb {
                return wa.cmp(&wb);
            }
            a = a.get(1..).unwrap_or_default();
            b = b.get(1..).unwrap_or_default();
        }
        let ((da, rest_a), (db, rest_b)) = (digit_run(a), digit_run(b));
        // Without leading zeros, a longer run is a larger number; of equal length, the first
        // differing digit decides.
        let order = da.len().cmp(&db.len()).then_with(|| da.cmp(db));
        if order.is_ne() {
            return order;
        }
        (a, b) = (rest_a, rest_b);
    }
    Ordering::Equal
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| compare_part(self.upstream().as_bytes(), other.upstream().as_bytes()))
            .then_with(|| {
                let (a, b) = (
                    self.revision().unwrap_or(""),
                    other.revision().unwrap_or(""),
                );
                compare_part(a.as_bytes(), b.as_bytes())
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal as dpkg compares them: `1.0` and `0:1.0` and `1.0-0` are one version.
impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn policy_examples_order_as_dpkg_does() {
        let ordered = [
            "1.0~rc1", "1.0", "1.0-0.1", "1.0-1", "1.0-1+b1", "1.0a", "1.0+dfsg", "1.1~~", "1.1~",
            "1.1", "1:0.1", "2:0~",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("0:1.0"), v("1.0"));
        assert_eq!(v("1.0-0"), v("1.0"));
        assert_eq!(v("1.001"), v("1.1"));
        // An empty digit run is 0 (the case `debversion` got wrong).
        assert_eq!(v("1.16.2+ds"), v("1.16.2+ds0"));
        assert!(v("1.16.2+ds0-1") < v("1.16.2+ds-1+b3"));
        assert!(v("1.2a") < v("1.2+"));
        assert!(v("10") > v("9"));
        assert!(v("1.0~") > v("1.0~~"));
    }

    #[test]
    fn parts_are_read() {
        let version = v("1:2.3-4-5+deb12u1");
        assert_eq!(version.epoch(), 1);
        assert_eq!(version.upstream(), "2.3-4");
        assert_eq!(version.revision(), Some("5+deb12u1"));
        assert_eq!(version.to_string(), "1:2.3-4-5+deb12u1");
    }

    #[test]
    fn what_dpkg_refuses_is_refused() {
        for bad in [
            "", "a1.0", "x:1.0", ":1.0", "1.0-", "1.0 2", "1.0_1", "1:2:3-", "-1",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
