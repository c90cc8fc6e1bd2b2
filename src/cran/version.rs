//! R's package version numbers and the constraints DESCRIPTION files put on them.
//!
//! R compares versions as `package_version()` does: a version is a list of non-negative integers
//! separated by `.` or `-` (the two separators are equivalent), compared component by component as
//! numbers, and a version that runs out of components first is the older one
//! (`1.0` < `1.0.0` < `1.0-1` < `1.0.10`).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::package::ChangeLevel;

/// A version as R's `package_version()` understands it. Keeps its original spelling for display.
#[derive(Debug, Clone)]
pub struct RVersion {
    parts: Vec<u64>,
    text: String,
}

/// Why a string is not an R version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an R version: use numbers separated by `.` or `-`, like `1.0-2`")]
pub struct InvalidVersion(pub String);

impl RVersion {
    /// The numeric components, in order.
    pub fn parts(&self) -> &[u64] {
        &self.parts
    }

    /// The version as it was written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The level of the change from `self` to `other`: the first differing component decides
    /// (first: major, second: minor, third: patch, later or only in length: other).
    pub fn change_level(&self, other: &Self) -> ChangeLevel {
        ChangeLevel::at(
            self.parts
                .iter()
                .zip(&other.parts)
                .position(|(a, b)| a != b),
        )
    }
}

impl FromStr for RVersion {
    type Err = InvalidVersion;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let parts = text
            .split(['.', '-'])
            .map(|part| {
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                part.parse::<u64>().ok()
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| InvalidVersion(text.to_string()))?;
        Ok(Self {
            parts,
            text: text.to_string(),
        })
    }
}

impl Ord for RVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        // Slices compare element-wise and a proper prefix is smaller: exactly R's rule.
        self.parts.cmp(&other.parts)
    }
}

impl PartialOrd for RVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for RVersion {
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
}

impl Eq for RVersion {}

impl fmt::Display for RVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A comparison operator of a DESCRIPTION dependency, like the `>=` in `rlang (>= 1.0.0)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Less,
    LessEqual,
    Equal,
    NotEqual,
    GreaterEqual,
    Greater,
}

impl Operator {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "<" => Self::Less,
            "<=" => Self::LessEqual,
            "==" | "=" => Self::Equal,
            "!=" => Self::NotEqual,
            ">=" => Self::GreaterEqual,
            ">" => Self::Greater,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Less => "<",
            Self::LessEqual => "<=",
            Self::Equal => "==",
            Self::NotEqual => "!=",
            Self::GreaterEqual => ">=",
            Self::Greater => ">",
        }
    }
}

/// One version constraint: an operator and a version, like `>= 1.0.0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub operator: Operator,
    pub version: RVersion,
}

impl Constraint {
    /// Whether `version` satisfies this constraint.
    pub fn matches(&self, version: &RVersion) -> bool {
        let ordering = version.cmp(&self.version);
        match self.operator {
            Operator::Less => ordering == Ordering::Less,
            Operator::LessEqual => ordering != Ordering::Greater,
            Operator::Equal => ordering == Ordering::Equal,
            Operator::NotEqual => ordering != Ordering::Equal,
            Operator::GreaterEqual => ordering != Ordering::Less,
            Operator::Greater => ordering == Ordering::Greater,
        }
    }

    /// The exact version this constraint asks for, if it is an `==` pin.
    pub fn exact(&self) -> Option<&RVersion> {
        (self.operator == Operator::Equal).then_some(&self.version)
    }
}

/// Why a constraint could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidConstraint {
    #[error(
        "`{0}` is not a version constraint: write an operator (>=, >, ==, !=, <=, <) and a version, like `>= 1.0.0`"
    )]
    Operator(String),
    #[error(transparent)]
    Version(#[from] InvalidVersion),
}

impl FromStr for Constraint {
    type Err = InvalidConstraint;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let split = text
            .find(|c: char| !matches!(c, '<' | '>' | '=' | '!'))
            .unwrap_or(text.len());
        let (operator, version) = text.split_at(split);
        let operator = Operator::parse(operator.trim())
            .ok_or_else(|| InvalidConstraint::Operator(text.to_string()))?;
        let version = version.trim().parse()?;
        Ok(Self { operator, version })
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.operator.as_str(), self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> RVersion {
        text.parse().unwrap()
    }

    #[test]
    fn orders_like_package_version() {
        assert!(v("1.0-2") < v("1.0.10"));
        assert!(v("1.0") < v("1.0.0"));
        assert!(v("1.0.0") < v("1.0-1"));
        assert_eq!(v("1.0-1"), v("1.0.1"));
        assert!(v("0.9.9") < v("0.10"));
        assert!(v("2.0") > v("1.99.99"));
    }

    #[test]
    fn classifies_changes_by_the_first_differing_component() {
        assert_eq!(v("1.1-2").change_level(&v("2.0.0")), ChangeLevel::Major);
        assert_eq!(v("1.1-2").change_level(&v("1.2.0")), ChangeLevel::Minor);
        assert_eq!(v("3.4.1").change_level(&v("3.4.2")), ChangeLevel::Patch);
        assert_eq!(v("1.0.0.1").change_level(&v("1.0.0.2")), ChangeLevel::Other);
        assert_eq!(v("1.0").change_level(&v("1.0.1")), ChangeLevel::Other);
    }

    #[test]
    fn rejects_non_versions() {
        assert!("1.0a".parse::<RVersion>().is_err());
        assert!("".parse::<RVersion>().is_err());
        assert!("1..0".parse::<RVersion>().is_err());
    }

    #[test]
    fn constraints_match() {
        let at_least: Constraint = ">= 1.0.0".parse().unwrap();
        assert!(at_least.matches(&v("1.0-0")));
        assert!(!at_least.matches(&v("0.99")));
        let below: Constraint = "<1.1".parse().unwrap();
        assert!(below.matches(&v("1.0.99")));
        assert!(!below.matches(&v("1.1")));
        let not: Constraint = "!= 2.0".parse().unwrap();
        assert!(!not.matches(&v("2-0")));
        assert!(
            not.matches(&v("2.0.0")),
            "2.0.0 is a different version from 2.0 in R"
        );
        assert_eq!(
            "== 1.0.10".parse::<Constraint>().unwrap().exact(),
            Some(&v("1.0.10"))
        );
        assert!("~> 1.0".parse::<Constraint>().is_err());
    }
}
