//! R package requirements: the `name (>= 1.0)` entries of DESCRIPTION fields and of imglock.toml.

use std::fmt;
use std::str::FromStr;

use super::version::{Constraint, InvalidConstraint};

/// A package name and the constraints on its version (all must hold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The package required, like `Rcpp`; never `R` itself.
    pub name: String,
    pub(crate) constraints: Vec<Constraint>,
}

/// Why a requirement could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRequirement {
    #[error(
        "`{0}` is not an R package name: names start with a letter and hold letters, digits and dots"
    )]
    Name(String),
    #[error("`{0}` has an unclosed `(`")]
    Unclosed(String),
    #[error(transparent)]
    Constraint(#[from] InvalidConstraint),
}

impl Requirement {
    /// A requirement of any version of `name`.
    pub fn named(name: String) -> Self {
        Self {
            name,
            constraints: Vec::new(),
        }
    }

    /// Whether `version` satisfies every constraint.
    pub fn matches(&self, version: &super::version::RVersion) -> bool {
        self.constraints.iter().all(|c| c.matches(version))
    }
}

/// Whether `name` is a valid R package name (R's `.standard_regexps()$valid_package_name`).
pub fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'.')
        && !name.ends_with('.')
}

impl FromStr for Requirement {
    type Err = InvalidRequirement;

    /// Accepts R's own syntax, `pkg (>= 1.0)` (several constraints separated by commas inside the
    /// parentheses), and the bare form `pkg >= 1.0`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let name_end = text
            .find(|c: char| c.is_whitespace() || matches!(c, '(' | '<' | '>' | '=' | '!'))
            .unwrap_or(text.len());
        let (name, rest) = text.split_at(name_end);
        if !is_valid_name(name) {
            return Err(InvalidRequirement::Name(text.to_string()));
        }
        let rest = rest.trim();
        let inner = if let Some(open) = rest.strip_prefix('(') {
            open.strip_suffix(')')
                .ok_or_else(|| InvalidRequirement::Unclosed(text.to_string()))?
        } else {
            rest
        };
        let constraints = inner
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Constraint>, _>>()?;
        Ok(Self {
            name: name.to_string(),
            constraints,
        })
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if !self.constraints.is_empty() {
            let joined: Vec<String> = self.constraints.iter().map(ToString::to_string).collect();
            write!(f, " ({})", joined.join(", "))?;
        }
        Ok(())
    }
}

/// Parses a DESCRIPTION dependency field (`Depends`, `Imports`, `LinkingTo`): comma-separated
/// requirements, possibly spread over continuation lines.
pub fn parse_field(field: &str) -> Result<Vec<Requirement>, InvalidRequirement> {
    field
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            // A constraint's own commas never occur in DESCRIPTION fields, so splitting on commas
            // first is safe there; strip R's occasional trailing newline artefacts too.
            entry.parse()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_spellings() {
        let r: Requirement = "ggplot2 (>= 3.4.0)".parse().unwrap();
        assert_eq!(r.name, "ggplot2");
        assert_eq!(r.constraints[0].to_string(), ">= 3.4.0");
        let bare: Requirement = "Rcpp == 1.0.10".parse().unwrap();
        assert_eq!(bare.to_string(), "Rcpp (== 1.0.10)");
        let plain: Requirement = "data.table".parse().unwrap();
        assert!(plain.constraints.is_empty());
        let range: Requirement = "x (>= 1.0, < 2.0)".parse().unwrap();
        assert_eq!(range.constraints.len(), 2);
    }

    #[test]
    fn rejects_bad_requirements() {
        assert!(matches!(
            "1abc".parse::<Requirement>(),
            Err(InvalidRequirement::Name(_))
        ));
        assert!(matches!(
            "abc (>= 1.0".parse::<Requirement>(),
            Err(InvalidRequirement::Unclosed(_))
        ));
        assert!("abc (~ 1)".parse::<Requirement>().is_err());
    }

    #[test]
    fn parses_description_fields() {
        let reqs = parse_field("R (>= 3.5.0), methods,\n rlang (>= 1.0.0)").unwrap();
        let names: Vec<_> = reqs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["R", "methods", "rlang"]);
    }
}
