//! Debian relation fields (Depends, Pre-Depends, Recommends, Suggests, Conflicts, Breaks,
//! Provides; Debian Policy 7.1): a comma-separated list of groups of alternatives joined by `|`,
//! each a package name with an optional architecture qualifier (`:any`, `:native`, `:amd64`), an
//! optional version relation (`(<< 1.0)`, `<<`, `<=`, `=`, `>=`, `>>`, and the obsolete `<` and
//! `>`, which dpkg reads as `<=` and `>=`), an optional architecture restriction (`[amd64 !i386]`)
//! and build-profile restrictions (`<!nocheck>`).
//!
//! Architecture restrictions and profiles belong to source packages' Build-Depends: dpkg drops
//! them when it writes a binary package's fields, so a Packages index does not hold them. They
//! are still read (a request may be copied from a control file); [`Relations::for_architecture`]
//! keeps the alternatives whose restriction admits an architecture, and profiles are kept as
//! written but never evaluated (no build profile is active when binary packages are installed).

use std::fmt;

use super::version::{Version, VersionError};

/// A version relation operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `<<`: strictly earlier.
    Earlier,
    /// `<=` (or the obsolete `<`): earlier or equal.
    EarlierOrEqual,
    /// `=`: exactly equal.
    Equal,
    /// `>=` (or the obsolete `>`): later or equal.
    LaterOrEqual,
    /// `>>`: strictly later.
    Later,
}

impl Operator {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "<<" => Self::Earlier,
            "<=" | "<" => Self::EarlierOrEqual,
            "=" => Self::Equal,
            ">=" | ">" => Self::LaterOrEqual,
            ">>" => Self::Later,
            _ => return None,
        })
    }

    /// The operator as dpkg writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Earlier => "<<",
            Self::EarlierOrEqual => "<=",
            Self::Equal => "=",
            Self::LaterOrEqual => ">=",
            Self::Later => ">>",
        }
    }
}

/// A version relation: `(>= 2.36)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// How the version compares.
    pub operator: Operator,
    /// The version compared with.
    pub version: Version,
}

impl Constraint {
    /// Whether `version` satisfies the relation.
    pub fn admits(&self, version: &Version) -> bool {
        let order = version.cmp(&self.version);
        match self.operator {
            Operator::Earlier => order.is_lt(),
            Operator::EarlierOrEqual => order.is_le(),
            Operator::Equal => order.is_eq(),
            Operator::LaterOrEqual => order.is_ge(),
            Operator::Later => order.is_gt(),
        }
    }
}

/// The architecture qualifier after a package name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchQualifier {
    /// `:any`: any architecture's package satisfies it, if that package is `Multi-Arch: allowed`.
    Any,
    /// `:native`: the native architecture's package.
    Native,
    /// `:amd64` and the like: that architecture's package.
    Arch(String),
}

/// An architecture restriction: `[amd64 arm64]` or `[!i386]` (never both kinds at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchRestriction {
    /// Whether the list is of excluded architectures (`!`).
    pub negated: bool,
    /// The architectures or wildcards (`linux-any`, `any-amd64`) listed.
    pub architectures: Vec<String>,
}

impl ArchRestriction {
    /// Whether the restriction admits the Debian architecture `arch`.
    pub fn admits(&self, arch: &str) -> bool {
        let listed = self
            .architectures
            .iter()
            .any(|pattern| matches_arch(pattern, arch));
        listed != self.negated
    }
}

/// Whether the architecture wildcard or name `pattern` matches `arch` (Debian's linux
/// architectures are `linux-<cpu>`; `kfreebsd-`/`hurd-` name other kernels).
fn matches_arch(pattern: &str, arch: &str) -> bool {
    let (os, cpu) = match arch.split_once('-') {
        Some((os, cpu)) if ["kfreebsd", "hurd", "musl-linux"].contains(&os) => (os, cpu),
        _ => ("linux", arch),
    };
    match pattern.split_once('-') {
        _ if pattern == "any" || pattern == arch => true,
        Some(("any", pattern_cpu)) => pattern_cpu == cpu,
        Some((pattern_os, "any")) => pattern_os == os,
        Some((pattern_os, pattern_cpu)) => pattern_os == os && pattern_cpu == cpu,
        None => false,
    }
}

/// One alternative: a package name and what it says about the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The package (or virtual package) name.
    pub name: String,
    /// The architecture qualifier, if any.
    pub arch: Option<ArchQualifier>,
    /// The version relation, if any.
    pub constraint: Option<Constraint>,
    /// The architecture restriction, if any.
    pub restriction: Option<ArchRestriction>,
    /// Build-profile formulas (`!nocheck`), kept as written.
    pub profiles: Vec<String>,
}

/// Alternatives joined by `|`: any one satisfies the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternatives(pub Vec<Dependency>);

/// A whole relation field: every group must be satisfied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relations(pub Vec<Alternatives>);

/// What a package provides: a name, and the version it provides it at (`Provides: foo (= 1.2)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provided {
    /// The provided name.
    pub name: String,
    /// The version provided, when given.
    pub version: Option<Version>,
}

/// Why a relation field does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelationError {
    /// A piece of the field is not a relation.
    #[error("`{item}` is not a relation: {reason}")]
    Syntax {
        /// The alternative as written.
        item: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A version in the field is not a Debian version.
    #[error(transparent)]
    Version(#[from] VersionError),
}

impl Relations {
    /// Parses a relation field's value (empty for no relations).
    pub fn parse(text: &str) -> Result<Self, RelationError> {
        let mut groups = Vec::new();
        for group in text.split(',') {
            if group.trim().is_empty() {
                // dpkg writes none, but tolerates a trailing comma; so does apt.
                continue;
            }
            let alternatives = group
                .split('|')
                .map(Dependency::parse)
                .collect::<Result<Vec<_>, _>>()?;
            groups.push(Alternatives(alternatives));
        }
        Ok(Self(groups))
    }

    /// The groups as they apply on `arch`: alternatives whose architecture restriction excludes
    /// it are dropped, and a group left empty with them.
    pub fn for_architecture(&self, arch: &str) -> Self {
        let groups = self.0.iter().filter_map(|group| {
            let kept: Vec<Dependency> = group
                .0
                .iter()
                .filter(|dependency| {
                    dependency
                        .restriction
                        .as_ref()
                        .is_none_or(|r| r.admits(arch))
                })
                .cloned()
                .collect();
            (!kept.is_empty()).then_some(Alternatives(kept))
        });
        Self(groups.collect())
    }

    /// Whether the field holds no relation.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Parses a `Provides` field: names with at most an `=` version each, no alternatives.
pub fn parse_provides(text: &str) -> Result<Vec<Provided>, RelationError> {
    let relations = Relations::parse(text)?;
    relations
        .0
        .into_iter()
        .map(|group| {
            let syntax = |reason| RelationError::Syntax {
                item: text.trim().to_string(),
                reason,
            };
            let [dependency] = <[Dependency; 1]>::try_from(group.0)
                .map_err(|_| syntax("a Provides field has no alternatives"))?;
            let version = match dependency.constraint {
                None => None,
                Some(Constraint {
                    operator: Operator::Equal,
                    version,
                }) => Some(version),
                Some(_) => return Err(syntax("a provided version must be given with `=`")),
            };
            Ok(Provided {
                name: dependency.name,
                version,
            })
        })
        .collect()
}

impl Dependency {
    /// Parses one alternative: `name[:qualifier] [(op version)] [[arches]] [<profiles>...]`.
    pub fn parse(item: &str) -> Result<Self, RelationError> {
        let syntax = |reason| RelationError::Syntax {
            item: item.trim().to_string(),
            reason,
        };
        let text = item.trim();
        let name_end = text
            .find(|c: char| c.is_ascii_whitespace() || "([<:".contains(c))
            .unwrap_or(text.len());
        let name = &text[..name_end];
        check_name(name).map_err(syntax)?;
        let mut rest = &text[name_end..];
        let mut arch = None;
        if let Some(after) = rest.strip_prefix(':') {
            let end = after
                .find(|c: char| c.is_ascii_whitespace() || "([<".contains(c))
                .unwrap_or(after.len());
            arch = Some(match &after[..end] {
                "any" => ArchQualifier::Any,
                "native" => ArchQualifier::Native,
                "" => return Err(syntax("an architecture qualifier is empty")),
                other => ArchQualifier::Arch(other.to_string()),
            });
            rest = &after[end..];
        }
        let mut constraint = None;
        if let Some((inside, after)) = enclosed(rest.trim_start(), '(', ')').map_err(syntax)? {
            constraint = Some(parse_constraint(inside).map_err(|e| e.within(item))?);
            rest = after;
        }
        let mut restriction = None;
        if let Some((inside, after)) = enclosed(rest.trim_start(), '[', ']').map_err(syntax)? {
            restriction = Some(parse_restriction(inside).map_err(syntax)?);
            rest = after;
        }
        let mut profiles = Vec::new();
        while let Some((inside, after)) = enclosed(rest.trim_start(), '<', '>').map_err(syntax)? {
            profiles.push(inside.trim().to_string());
            rest = after;
        }
        if !rest.trim().is_empty() {
            return Err(syntax("something follows the relation"));
        }
        Ok(Self {
            name: name.to_string(),
            arch,
            constraint,
            restriction,
            profiles,
        })
    }
}

/// Whether `name` is a Debian package name: lowercase letters, digits and `+-.`, starting with
/// a letter or digit.
fn check_name(name: &str) -> Result<(), &'static str> {
    let first_ok = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let rest_ok = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(
            "a package name holds characters Debian names may not (lowercase letters, digits, `+-.`)",
        )
    }
}

/// When `text` starts with `open`: what is inside up to `close`, and what follows it.
fn enclosed(text: &str, open: char, close: char) -> Result<Option<(&str, &str)>, &'static str> {
    let Some(after) = text.strip_prefix(open) else {
        return Ok(None);
    };
    let end = after.find(close).ok_or("a bracket is not closed")?;
    Ok(Some((&after[..end], &after[end + 1..])))
}

/// A version relation's error, before the alternative it is in is known.
enum ConstraintError {
    Syntax(&'static str),
    Version(VersionError),
}

impl ConstraintError {
    fn within(self, item: &str) -> RelationError {
        match self {
            Self::Syntax(reason) => RelationError::Syntax {
                item: item.trim().to_string(),
                reason,
            },
            Self::Version(error) => RelationError::Version(error),
        }
    }
}

/// Parses what is inside a version relation's parentheses: `>= 1.0`, `>=1.0`.
fn parse_constraint(inside: &str) -> Result<Constraint, ConstraintError> {
    let inside = inside.trim();
    let op_end = inside
        .find(|c: char| !"<>=".contains(c))
        .unwrap_or(inside.len());
    let operator = Operator::parse(&inside[..op_end]).ok_or(ConstraintError::Syntax(
        "its version relation has no valid operator",
    ))?;
    let version = inside[op_end..].trim();
    if version.is_empty() {
        return Err(ConstraintError::Syntax(
            "its version relation has no version",
        ));
    }
    let version = Version::parse(version).map_err(ConstraintError::Version)?;
    Ok(Constraint { operator, version })
}

/// Parses what is inside an architecture restriction's brackets.
fn parse_restriction(inside: &str) -> Result<ArchRestriction, &'static str> {
    let words: Vec<&str> = inside.split_ascii_whitespace().collect();
    if words.is_empty() {
        return Err("an architecture restriction is empty");
    }
    let negated = words[0].starts_with('!');
    if words.iter().any(|word| word.starts_with('!') != negated) {
        return Err("an architecture restriction mixes `!` and plain architectures");
    }
    Ok(ArchRestriction {
        negated,
        architectures: words
            .iter()
            .map(|word| word.trim_start_matches('!').to_string())
            .collect(),
    })
}

impl fmt::Display for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        match &self.arch {
            None => {}
            Some(ArchQualifier::Any) => f.write_str(":any")?,
            Some(ArchQualifier::Native) => f.write_str(":native")?,
            Some(ArchQualifier::Arch(arch)) => write!(f, ":{arch}")?,
        }
        if let Some(constraint) = &self.constraint {
            write!(
                f,
                " ({} {})",
                constraint.operator.as_str(),
                constraint.version
            )?;
        }
        if let Some(restriction) = &self.restriction {
            let bang = if restriction.negated { "!" } else { "" };
            let listed: Vec<String> = restriction
                .architectures
                .iter()
                .map(|arch| format!("{bang}{arch}"))
                .collect();
            write!(f, " [{}]", listed.join(" "))?;
        }
        for profile in &self.profiles {
            write!(f, " <{profile}>")?;
        }
        Ok(())
    }
}

impl fmt::Display for Alternatives {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, dependency) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{dependency}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "relation_tests.rs"]
mod tests;
