//! Maven versions and version ranges, ordered as Maven 3's `ComparableVersion` orders them.
//!
//! A version is cut into numbers and words at `.`, `-` and at every switch between digits and
//! letters. Words are qualifiers: `alpha` < `beta` < `milestone` < `rc` (= `cr`) < `snapshot` <
//! the release (`""`, `ga`, `final`, `release`) < `sp` < any other word (alphabetically); a number
//! is greater than any word; missing parts count as `0` or the release. So `1.0-alpha-1` <
//! `1.0-rc1` < `1.0` = `1.0.0` = `1.0-ga` < `1.0-sp` < `1.0.1`.

use std::cmp::Ordering;
use std::fmt;

use super::error::RangeError;
use crate::package::ChangeLevel;

/// A Maven version with its ordering.
#[derive(Debug, Clone)]
pub struct MavenVersion {
    text: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Number(Vec<u8>),
    Word(String),
}

impl MavenVersion {
    pub fn parse(text: &str) -> Self {
        let lower = text.trim().to_lowercase();
        let mut parts = Vec::new();
        let mut current = String::new();
        let flush = |current: &mut String, parts: &mut Vec<Part>| {
            if current.is_empty() {
                return;
            }
            let part = if current.bytes().all(|b| b.is_ascii_digit()) {
                let digits = current.trim_start_matches('0');
                Part::Number(digits.as_bytes().to_vec())
            } else {
                Part::Word(current.clone())
            };
            parts.push(part);
            current.clear();
        };
        let chars: Vec<char> = lower.chars().collect();
        for c in &chars {
            if *c == '.' || *c == '-' || *c == '_' {
                flush(&mut current, &mut parts);
                continue;
            }
            if let Some(last) = current.chars().last()
                && last.is_ascii_digit() != c.is_ascii_digit()
            {
                // `a1`, `b2`, `m3` right before a digit are alpha, beta and milestone.
                let word = match current.as_str() {
                    "a" if c.is_ascii_digit() => Some("alpha"),
                    "b" if c.is_ascii_digit() => Some("beta"),
                    "m" if c.is_ascii_digit() => Some("milestone"),
                    _ => None,
                };
                if let Some(word) = word {
                    current = word.to_string();
                }
                flush(&mut current, &mut parts);
            }
            current.push(*c);
        }
        flush(&mut current, &mut parts);
        let parts = parts
            .into_iter()
            .map(|part| match part {
                Part::Word(word) => Part::Word(
                    match word.as_str() {
                        "cr" => "rc",
                        "ga" | "final" | "release" => "",
                        other => other,
                    }
                    .to_string(),
                ),
                number => number,
            })
            .collect();
        Self {
            text: text.trim().to_string(),
            parts,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The level of the change from `self` to `other`: the first part that differs decides when
    /// it is one of the leading numbers on both sides (first major, second minor, third patch,
    /// later other); a difference in or after a qualifier (`1.0-beta` → `1.0`, `1.0-rc1` →
    /// `1.0-rc2`) is other.
    pub fn change_level(&self, other: &Self) -> ChangeLevel {
        let length = self.parts.len().max(other.parts.len());
        let first =
            (0..length).find(|&i| compare_parts(self.parts.get(i), other.parts.get(i)).is_ne());
        match first {
            Some(i) if self.is_release_number(i) && other.is_release_number(i) => {
                ChangeLevel::at(Some(i))
            }
            _ => ChangeLevel::Other,
        }
    }

    /// Whether part `i` is one of the leading numbers, or past the end of a version that is only
    /// numbers (a missing number counts as `0`).
    fn is_release_number(&self, i: usize) -> bool {
        let numbers = self
            .parts
            .iter()
            .take_while(|part| matches!(part, Part::Number(_)))
            .count();
        i < numbers || numbers == self.parts.len()
    }
}

/// The direction and level of a version change. Every string is a Maven version.
pub fn version_change(old: &str, new: &str) -> Option<(Ordering, ChangeLevel)> {
    let (old, new) = (MavenVersion::parse(old), MavenVersion::parse(new));
    Some((new.cmp(&old), old.change_level(&new)))
}

/// Where a part sits in Maven's order: the qualifiers below a release (`alpha`, `beta`,
/// `milestone`, `rc`, `snapshot`), then the release itself, then `sp`, then any other word
/// (alphabetically), then the numbers above zero. A zero, a release word (`ga`, `final`,
/// `release`, read as `""`) and a missing part are all the release: one point of the order, so
/// comparing versions part by part is a total order (`1` = `1.0` = `1-ga`, and `1.0.0` <
/// `1.0-sp` as `1` < `1-sp`).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rank<'a> {
    Qualifier(usize),
    Release,
    ServicePack,
    Word(&'a str),
    /// A number above zero: its digits (no leading zeros), longer ones greater.
    Number(usize, &'a [u8]),
}

fn rank(part: Option<&Part>) -> Rank<'_> {
    match part {
        None => Rank::Release,
        Some(Part::Number(digits)) if digits.is_empty() => Rank::Release,
        Some(Part::Number(digits)) => Rank::Number(digits.len(), digits),
        Some(Part::Word(word)) => match word.as_str() {
            "alpha" => Rank::Qualifier(0),
            "beta" => Rank::Qualifier(1),
            "milestone" => Rank::Qualifier(2),
            "rc" => Rank::Qualifier(3),
            "snapshot" => Rank::Qualifier(4),
            "" => Rank::Release,
            "sp" => Rank::ServicePack,
            other => Rank::Word(other),
        },
    }
}

fn compare_parts(a: Option<&Part>, b: Option<&Part>) -> Ordering {
    rank(a).cmp(&rank(b))
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let length = self.parts.len().max(other.parts.len());
        (0..length)
            .map(|i| compare_parts(self.parts.get(i), other.parts.get(i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for MavenVersion {}

impl fmt::Display for MavenVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// One bound of a range.
#[derive(Debug, Clone)]
pub struct Bound {
    pub version: MavenVersion,
    pub inclusive: bool,
}

/// A version requirement: a soft one (`1.0`, the version wanted unless mediation picks another)
/// or ranges (`[1.0,2.0)`, `(,1.0],[1.2,)`, `[1.5]`).
#[derive(Debug, Clone)]
pub enum VersionRequirement {
    Soft,
    Ranges(Vec<(Option<Bound>, Option<Bound>)>),
}

impl VersionRequirement {
    pub fn parse(text: &str) -> Result<Self, RangeError> {
        let text = text.trim();
        if !text.starts_with('[') && !text.starts_with('(') {
            return Ok(Self::Soft);
        }
        let mut ranges = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let open = rest.chars().next().unwrap_or(' ');
            let close_at = rest
                .find([']', ')'])
                .ok_or_else(|| RangeError::NotClosed(text.to_string()))?;
            let inner = &rest[1..close_at];
            let close = &rest[close_at..=close_at];
            let bound = |value: &str, inclusive: bool| {
                let value = value.trim();
                (!value.is_empty()).then(|| Bound {
                    version: MavenVersion::parse(value),
                    inclusive,
                })
            };
            match inner.split_once(',') {
                Some((low, high)) => {
                    ranges.push((bound(low, open == '['), bound(high, close == "]")))
                }
                None => {
                    if open != '[' || close != "]" {
                        return Err(RangeError::OpenPin {
                            text: text.to_string(),
                            inner: inner.to_string(),
                        });
                    }
                    ranges.push((bound(inner, true), bound(inner, true)));
                }
            }
            rest = rest[close_at + 1..].trim_start_matches([',', ' ']);
            if !rest.is_empty() && !rest.starts_with(['[', '(']) {
                return Err(RangeError::Malformed(text.to_string()));
            }
        }
        Ok(Self::Ranges(ranges))
    }

    pub fn contains(&self, version: &MavenVersion) -> bool {
        match self {
            Self::Soft => true,
            Self::Ranges(ranges) => ranges.iter().any(|(low, high)| {
                let above = low.as_ref().is_none_or(|b| match version.cmp(&b.version) {
                    Ordering::Greater => true,
                    Ordering::Equal => b.inclusive,
                    Ordering::Less => false,
                });
                let below = high.as_ref().is_none_or(|b| match version.cmp(&b.version) {
                    Ordering::Less => true,
                    Ordering::Equal => b.inclusive,
                    Ordering::Greater => false,
                });
                above && below
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> MavenVersion {
        MavenVersion::parse(text)
    }

    #[test]
    fn orders_like_maven() {
        let ordered = [
            "1.0-alpha-1",
            "1.0-alpha2",
            "1.0-beta-1",
            "1.0-M1",
            "1.0-rc1",
            "1.0-SNAPSHOT",
            "1.0",
            "1.0-sp",
            "1.0-xyz",
            "1.0.1",
            "1.1",
            "1.10",
            "2.0",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("1.0"), v("1.0.0"));
        assert_eq!(v("1.0"), v("1.0-ga"));
        assert_eq!(v("1.0-CR1"), v("1.0-rc-1"));
        assert_eq!(v("2.12.15"), v("2.12.15"));
    }

    /// Found by the fuzz target (`fuzz/regressions/maven-version/`): `0` ranked above every word
    /// while a missing part ranked as the release, so `sp` < `0` = `` < `sp`, and `1.0.0` <
    /// `1.0-sp` failed. A zero, a release word and a missing part are one point of the order.
    #[test]
    fn the_order_is_total_and_a_zero_is_the_release() {
        assert!(v("sp") > v("0") && v("0") == v("") && v("sp") > v(""));
        assert!(v("1.0.0") < v("1.0-sp") && v("1.0.0") < v("1.0-xyz"));
        assert!(v("1.0.0") > v("1.0-rc1") && v("1.0.0") < v("1.0.1"));
        assert_eq!(v("1-ga-1"), v("1.0.1"));
        let mut sorted: Vec<MavenVersion> = [
            "1.0-sp",
            "1.0.0",
            "1",
            "1.0-alpha",
            "1-ga-5",
            "0",
            "sp",
            "",
            "1.0-foo",
        ]
        .map(v)
        .to_vec();
        sorted.sort();
        let texts: Vec<&str> = sorted.iter().map(MavenVersion::as_str).collect();
        assert_eq!(
            texts,
            [
                "0",
                "",
                "sp",
                "1.0-alpha",
                "1.0.0",
                "1",
                "1.0-sp",
                "1.0-foo",
                "1-ga-5"
            ]
        );
    }

    #[test]
    fn classifies_changes_by_the_leading_numbers() {
        use ChangeLevel::*;
        use Ordering::*;
        let change = |old, new| version_change(old, new).unwrap();
        assert_eq!(change("2.12.7", "2.13.0"), (Greater, Minor));
        assert_eq!(change("2.13.0", "2.12.7.1"), (Less, Minor));
        assert_eq!(change("4.1.94.Final", "5.0.0.Alpha2"), (Greater, Major));
        assert_eq!(change("1.7.36", "1.7.36.1"), (Greater, Other));
        assert_eq!(change("1.0", "1.0.1"), (Greater, Patch));
        assert_eq!(change("1.0", "1.0.0"), (Equal, Other));
        // Qualifiers: a release is newer than its beta, in the qualifier, not a number.
        assert_eq!(change("1.0-beta", "1.0"), (Greater, Other));
        assert_eq!(change("1.0-rc1", "1.0-rc2"), (Greater, Other));
        assert_eq!(change("3.0-SNAPSHOT", "3.0-alpha-1"), (Less, Other));
        assert_eq!(change("1.0-beta", "1.1"), (Greater, Minor));
        // Maven's order, not the strings': 1.10 is newer than 1.9, 1.0-sp newer than 1.0.
        assert_eq!(change("1.9", "1.10"), (Greater, Minor));
        assert_eq!(change("1.0", "1.0-sp"), (Greater, Other));
    }

    #[test]
    fn ranges_contain_their_versions() {
        let range = VersionRequirement::parse("[1.0,2.0)").unwrap();
        assert!(range.contains(&v("1.0")) && range.contains(&v("1.9.9")));
        assert!(!range.contains(&v("2.0")) && !range.contains(&v("0.9")));
        let union = VersionRequirement::parse("(,1.0],[1.2,)").unwrap();
        assert!(union.contains(&v("0.5")) && union.contains(&v("1.3")));
        assert!(!union.contains(&v("1.1")));
        let exact = VersionRequirement::parse("[1.5]").unwrap();
        assert!(exact.contains(&v("1.5")) && !exact.contains(&v("1.6")));
        assert!(VersionRequirement::parse("[1.0,2.0").is_err());
        assert!(matches!(
            VersionRequirement::parse("1.0").unwrap(),
            VersionRequirement::Soft
        ));
    }
}
