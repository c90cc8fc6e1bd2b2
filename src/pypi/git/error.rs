//! Why a git direct reference cannot be locked or emitted.

/// Why a git reference cannot be locked, fetched or packed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(
        "`{requirement}`: {problem}; write `name @ git+https://host/repo.git@REF`, with `#subdirectory=path` for a project below the top"
    )]
    Malformed {
        requirement: String,
        problem: String,
    },

    #[error(
        "the `git` program is not on PATH: imglock runs it to resolve and fetch git references. Install git (like `apt-get install git`), or name a wheel or sdist URL instead"
    )]
    NoGit,

    #[error("cannot run `git {command}`")]
    Run {
        command: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "the git repository `{url}` cannot be reached: git said: {said}; check the URL and that this machine can reach it"
    )]
    Unreachable { url: String, said: String },

    #[error("no branch or tag `{git_ref}` in `{url}`; refs it has: {refs}")]
    UnknownRef {
        url: String,
        git_ref: String,
        refs: String,
    },

    #[error(
        "`{url}` has no commit `{commit}` (asked for every branch and tag): check the SHA, or name a branch or tag"
    )]
    NoCommit { url: String, commit: String },

    #[error("cannot use the git cache folder `{path}`")]
    Cache {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "cannot export commit {commit}{}: git said: {said}",
        subdirectory.as_ref().map(|s| format!(" below `{s}`")).unwrap_or_default()
    )]
    Archive {
        commit: String,
        subdirectory: Option<String>,
        said: String,
    },

    #[error("cannot pack the tree of commit {commit}")]
    Pack {
        commit: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "`{requirement}`: the project at commit {commit} is named `{found}`, not `{name}`: write `{found} @ …`, or point the URL at {name}'s repository (or `#subdirectory=`)"
    )]
    NameMismatch {
        requirement: String,
        commit: String,
        found: String,
        name: String,
    },

    #[error(
        "`{requirement}`: the project at commit {commit} gives no static version (no `[project] version` in pyproject.toml, no PKG-INFO): imglock cannot yet lock a git project whose version is computed when it is built (setuptools-scm and the like); name a release's sdist or wheel instead"
    )]
    NoVersion {
        requirement: String,
        commit: String,
        #[source]
        source: Box<crate::pypi::index_error::IndexError>,
    },

    #[error(
        "the source archive of {name} at commit {commit} has sha256 {actual}, but the lock says {locked}: the tree at that commit must have been rewritten; re-run `imglock resolve` to lock it again"
    )]
    Mismatch {
        name: String,
        commit: String,
        actual: String,
        locked: String,
    },
}
