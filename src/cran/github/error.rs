//! Why a GitHub package could not be resolved, naming the spec entry (or `Remotes` entry) and
//! what to do.

use super::reference::{GithubRef, InvalidGithubRef, Wanted};
use crate::fetch::FetchError;

/// A failed GitHub resolution.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// The API answered 404: no such repository (or a private one without a token), or no
    /// such ref in it.
    #[error(
        "{wanted} `{entry}`: GitHub has no repository `{slug}` with a ref `{git_ref}` (`{url}` answered 404); check the owner, repository and branch, tag or commit, or for a private repository set GITHUB_TOKEN or GITHUB_PAT"
    )]
    NotFound {
        entry: String,
        wanted: Wanted,
        slug: String,
        git_ref: String,
        url: String,
    },

    /// The API answered 401 or 403: it wants a token (or the anonymous rate limit is spent).
    #[error(
        "{wanted} `{entry}`: GitHub refused `{url}` (HTTP {status}): it wants a token; set GITHUB_TOKEN or GITHUB_PAT to a token that can read `{slug}` (anonymous requests are also limited to 60 an hour)"
    )]
    Unauthorized {
        entry: String,
        wanted: Wanted,
        slug: String,
        url: String,
        status: u16,
    },

    /// Any other failed request.
    #[error("{wanted} `{entry}`: cannot reach GitHub")]
    Fetch {
        entry: String,
        wanted: Wanted,
        #[source]
        source: FetchError,
    },

    #[error(
        "{wanted} `{entry}`: `{url}` answered neither a commit SHA nor JSON with a `sha`: is `[repositories] github` a GitHub API?"
    )]
    NotACommit {
        entry: String,
        wanted: Wanted,
        url: String,
    },

    #[error("{wanted} `{entry}`: the archive `{url}` is unusable")]
    Archive {
        entry: String,
        wanted: Wanted,
        url: String,
        /// Why its DESCRIPTION could not be read (a `cran::error::DescriptionError`).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error(
        "{wanted} `{entry}`: its DESCRIPTION has no `Package` name R allows; is the package in a subdirectory (`owner/repo/subdir@ref`)?"
    )]
    NoPackage { entry: String, wanted: Wanted },

    #[error(
        "two `github` entries give R package `{name}`: `{first}` and `{second}`; keep one of them"
    )]
    SamePackage {
        name: String,
        first: String,
        second: String,
    },

    #[error("GitHub package {package} has a `Remotes` entry imglock cannot read")]
    BadRemote {
        package: String,
        #[source]
        source: InvalidGithubRef,
    },
}

impl GithubError {
    /// The error of a failed request about `reference`: a 404 and a 401/403 are told apart.
    pub fn fetch(reference: &GithubRef, wanted: &Wanted, source: FetchError) -> Self {
        let (entry, wanted) = (reference.to_string(), wanted.clone());
        let slug = reference.slug();
        match &source {
            FetchError::NotFound { url } | FetchError::NotFoundRemembered { url, .. } => {
                Self::NotFound {
                    entry,
                    wanted,
                    slug,
                    git_ref: reference.ref_or_head().to_string(),
                    url: url.clone(),
                }
            }
            FetchError::Unauthorized { url, status, .. } => Self::Unauthorized {
                entry,
                wanted,
                slug,
                url: url.clone(),
                status: *status,
            },
            _ => Self::Fetch {
                entry,
                wanted,
                source,
            },
        }
    }
}
