//! Why apt requests could not be resolved, told as apt users read it: the request that does
//! not parse, the package no source has (with the closest name), the version no source has
//! (with the versions there are), and the solver's explanation of a conflict in Debian terms
//! (which dependency, `Conflicts` or `Breaks` of which package rules out which version).

use std::fmt;

/// How a package came to be installed: the request, then each package that depended on the
/// next.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Via(pub Vec<String>);

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" → "))
    }
}

/// A failed apt resolution.
#[derive(Debug, thiserror::Error)]
pub enum SolveError {
    /// A request that is not one Debian relation (alternatives joined by `|`).
    #[error(
        "the apt request `{request}` is not a Debian relation (like `libxml2-dev`, `openjdk-17-jdk (>= 17.0.8)` or `a | b`)"
    )]
    Request {
        /// The request as written.
        request: String,
        /// Why.
        #[source]
        source: crate::apt::relation::RelationError,
    },

    /// A request that names more than one relation.
    #[error(
        "the apt request `{request}` holds several relations: write one package (or alternatives joined by `|`) per entry"
    )]
    SeveralRelations {
        /// The request as written.
        request: String,
    },

    /// No source (and not the base image) has the package, real or virtual.
    #[error("no apt source has `{name}` (requested as `{request}`){}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownPackage {
        /// The name asked for.
        name: String,
        /// The request as written.
        request: String,
        /// The closest name the sources have, when one is close enough.
        suggestion: Option<String>,
    },

    /// The package exists, but no source has a version the request admits.
    #[error(
        "no apt source has a version of `{name}` that `{request}` admits: the sources have {available}; change the version or add the source that has it"
    )]
    NoVersion {
        /// The package.
        name: String,
        /// The request as written.
        request: String,
        /// The versions there are (and what provides the name), comma-separated.
        available: String,
    },

    /// No set of packages satisfies every request with the base image's packages kept.
    #[error(
        "the apt requests {requests} cannot be installed together on the base image:\n{explanation}"
    )]
    Unsolvable {
        /// The requests, quoted and comma-separated.
        requests: String,
        /// The solver's explanation, in Debian terms.
        explanation: String,
    },
}
