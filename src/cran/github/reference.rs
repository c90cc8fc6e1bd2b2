//! A GitHub package reference as a spec's `github` list and a DESCRIPTION's `Remotes` write it:
//! `owner/repo`, `owner/repo@ref`, `owner/repo/subdir@ref` (and in `Remotes`, `github::` first).
//!
//! Every part reaches the API's URLs, the lock and the emitted installer's command line, so each
//! is checked strictly: an owner as GitHub allows it, a repository name of letters, digits and
//! `._-`, a subdirectory of such segments, a ref of the characters git refs use (no `..`, no
//! leading `-` or `/`).

use std::fmt;

/// A repository (and folder of it) at a ref, as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GithubRef {
    /// The account, like `tidyverse`.
    pub owner: String,
    /// The repository, like `ggplot2`.
    pub repo: String,
    /// The package's folder inside the repository, when it is not the top.
    pub subdir: Option<String>,
    /// A branch, tag or commit SHA; the default branch (`HEAD`) when `None`.
    pub git_ref: Option<String>,
}

/// Where a reference was asked for, as its errors name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// A layer's `github` list.
    Layer(String),
    /// The `Remotes` of a GitHub package.
    Remotes(String),
}

impl std::fmt::Display for Wanted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Layer(layer) => write!(f, "the `github` entry of layer `{layer}`"),
            Self::Remotes(package) => write!(f, "the `Remotes` entry of GitHub package {package}"),
        }
    }
}

/// Why a reference is refused; the message says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a GitHub package reference: {reason}")]
pub struct InvalidGithubRef {
    /// The reference as written.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl GithubRef {
    /// `owner/repo`.
    pub fn slug(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// The ref asked of the API: the one written, or `HEAD` (the default branch).
    pub fn ref_or_head(&self) -> &str {
        self.git_ref.as_deref().unwrap_or("HEAD")
    }

    /// Whether the ref is a full commit SHA (40 hexadecimal digits): immutable, never asked about.
    pub fn commit(&self) -> Option<&str> {
        self.git_ref.as_deref().filter(|r| is_commit(r))
    }

    /// The same repository and folder (whatever the ref): one package.
    pub fn same_place(&self, other: &Self) -> bool {
        self.owner.eq_ignore_ascii_case(&other.owner)
            && self.repo.eq_ignore_ascii_case(&other.repo)
            && self.subdir == other.subdir
    }

    /// Reads a `Remotes:` entry: a GitHub one (`owner/repo[@ref]`, `github::owner/repo[@ref]`)
    /// is `Ok(Some)`, any other kind (`bioc::`, `url::`, `git::`, …) `Ok(None)`.
    pub fn from_remote(text: &str) -> Result<Option<Self>, InvalidGithubRef> {
        let text = text.trim();
        let plain = match text.split_once("::") {
            Some((kind, rest)) if kind.eq_ignore_ascii_case("github") => rest,
            Some(_) => return Ok(None),
            None if text.contains(':') => return Ok(None),
            None => text,
        };
        plain.parse().map(Some)
    }
}

/// Whether `text` is a full commit SHA.
pub fn is_commit(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

impl std::str::FromStr for GithubRef {
    type Err = InvalidGithubRef;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| InvalidGithubRef {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let (path, git_ref) = match text.split_once('@') {
            Some((path, git_ref)) => (path, Some(git_ref)),
            None => (text, None),
        };
        let mut parts = path.split('/');
        let (Some(owner), Some(repo)) = (parts.next(), parts.next()) else {
            return Err(invalid(
                "write `owner/repo`, `owner/repo@ref` or `owner/repo/subdir@ref`",
            ));
        };
        let subdir: Vec<&str> = parts.collect();
        if !is_owner(owner) {
            return Err(invalid(
                "the owner must be 1 to 39 letters, digits or `-`, not starting with `-`",
            ));
        }
        let repo = repo.strip_suffix(".git").unwrap_or(repo);
        if !is_segment(repo) {
            return Err(invalid(
                "the repository must be 1 to 100 letters, digits, `.`, `_` or `-` (not `.` or `..`)",
            ));
        }
        if !subdir.iter().all(|segment| is_segment(segment)) {
            return Err(invalid(
                "each folder of the subdirectory must be letters, digits, `.`, `_` or `-` (not empty, `.` or `..`)",
            ));
        }
        if let Some(git_ref) = git_ref
            && !is_git_ref(git_ref)
        {
            return Err(invalid(
                "the ref (after `@`) must be a branch, tag or commit SHA of letters, digits and `._/-`, without `..`, not starting with `-`, `/` or `.`",
            ));
        }
        Ok(Self {
            owner: owner.to_string(),
            repo: repo.to_string(),
            subdir: (!subdir.is_empty()).then(|| subdir.join("/")),
            git_ref: git_ref.map(str::to_string),
        })
    }
}

impl fmt::Display for GithubRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.repo)?;
        if let Some(subdir) = &self.subdir {
            write!(f, "/{subdir}")?;
        }
        if let Some(git_ref) = &self.git_ref {
            write!(f, "@{git_ref}")?;
        }
        Ok(())
    }
}

/// A GitHub account name: letters, digits and single `-`, not first.
fn is_owner(text: &str) -> bool {
    (1..=39).contains(&text.len())
        && !text.starts_with('-')
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A repository name or a folder: letters, digits, `._-`, not `.` or `..`.
fn is_segment(text: &str) -> bool {
    (1..=100).contains(&text.len())
        && text != "."
        && text != ".."
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A branch, tag or SHA: git's ref characters, restricted to the plain ones.
fn is_git_ref(text: &str) -> bool {
    (1..=255).contains(&text.len())
        && !text.starts_with(['-', '/', '.'])
        && !text.ends_with(['/', '.'])
        && !text.contains("..")
        && !text.contains("//")
        && !text.ends_with(".lock")
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_form_and_writes_it_back() {
        for text in [
            "tidyverse/ggplot2",
            "tidyverse/ggplot2@v3.4.0",
            "Azure/doAzureParallel@release/2.0",
            "owner/repo/pkg/r@0123456789abcdef0123456789abcdef01234567",
        ] {
            let parsed: GithubRef = text.parse().unwrap();
            assert_eq!(parsed.to_string(), text);
        }
        let parsed: GithubRef = "o/r/sub/dir@main".parse().unwrap();
        assert_eq!(parsed.subdir.as_deref(), Some("sub/dir"));
        assert_eq!(parsed.ref_or_head(), "main");
        assert_eq!(parsed.commit(), None);
        let pinned: GithubRef = format!("o/r@{}", "a".repeat(40)).parse().unwrap();
        assert!(pinned.commit().is_some());
    }

    #[test]
    fn refuses_anything_that_could_reach_a_shell_or_a_path() {
        for text in [
            "ggplot2",
            "/repo",
            "-owner/repo",
            "owner/re po",
            "owner/repo;rm",
            "owner/..",
            "owner/repo/../x",
            "owner/repo@",
            "owner/repo@-x",
            "owner/repo@a..b",
            "owner/repo@$(id)",
            "owner/repo@a b",
            "owner/repo@'x'",
            "own$er/repo",
        ] {
            assert!(text.parse::<GithubRef>().is_err(), "{text}");
        }
    }

    #[test]
    fn remotes_entries_of_other_kinds_are_not_github_ones() {
        let remote = GithubRef::from_remote("github::r-lib/rlang@main").unwrap();
        assert_eq!(remote.unwrap().to_string(), "r-lib/rlang@main");
        assert_eq!(
            GithubRef::from_remote(" r-lib/cli ")
                .unwrap()
                .unwrap()
                .slug(),
            "r-lib/cli"
        );
        assert_eq!(GithubRef::from_remote("bioc::limma").unwrap(), None);
        assert_eq!(
            GithubRef::from_remote("url::https://x/y.tar.gz").unwrap(),
            None
        );
        assert!(GithubRef::from_remote("github::bad").is_err());
    }
}
