//! Debian version numbers (`[epoch:]upstream[-revision]`, Debian Policy 5.6.12) and their
//! order, as `dpkg --compare-versions` gives it: epochs first, then the upstream version and the
//! revision, each compared in alternating runs of non-digits (letters before other characters,
//! `~` before everything, even the end) and numbers. The order is `debversion`'s, a crate kept by
//! a Debian developer; this type adds the checks dpkg makes when it reads a version.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A Debian version, ordered as dpkg orders it.
#[derive(Debug, Clone)]
pub struct Version {
    text: String,
    parsed: debversion::Version,
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
    /// Reads `text` as dpkg does: an optional numeric epoch before the first `:`, a revision
    /// after the last `-`, and an upstream version that starts with a digit and holds only
    /// alphanumerics and `.+~-:` (the `-` only with a revision, the `:` only with an epoch).
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        let error = |reason| VersionError {
            text: text.to_string(),
            reason,
        };
        let (epoch, rest) = match text.split_once(':') {
            Some((epoch, rest)) => (Some(epoch), rest),
            None => (None, text),
        };
        if let Some(epoch) = epoch
            && (epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(error("its epoch is not a number"));
        }
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((upstream, revision)) => (upstream, Some(revision)),
            None => (rest, None),
        };
        if upstream.is_empty() {
            return Err(error("its upstream version is empty"));
        }
        if !upstream.as_bytes()[0].is_ascii_digit() {
            return Err(error("its upstream version does not start with a digit"));
        }
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"+.~".contains(&b);
        if !upstream
            .bytes()
            .all(|b| allowed(b) || b == b'-' || (b == b':' && epoch.is_some()))
        {
            return Err(error("it holds a character Debian versions may not"));
        }
        if revision.is_some_and(|revision| revision.is_empty() || !revision.bytes().all(allowed)) {
            return Err(error(
                "its revision is empty or holds a character it may not",
            ));
        }
        let parsed = debversion::Version::from_str(text)
            .map_err(|_| error("it does not parse as a Debian version"))?;
        Ok(Self {
            text: text.to_string(),
            parsed,
        })
    }

    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The epoch, 0 when none is written.
    pub fn epoch(&self) -> u32 {
        self.parsed.epoch.unwrap_or(0)
    }

    /// The upstream part.
    pub fn upstream(&self) -> &str {
        &self.parsed.upstream_version
    }

    /// The Debian revision, when one is written.
    pub fn revision(&self) -> Option<&str> {
        self.parsed.debian_revision.as_deref()
    }
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
        self.parsed.cmp(&other.parsed)
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
