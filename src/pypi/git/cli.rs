//! The `git` program, run as uv runs it for git sources: with a clean environment (no user or
//! system configuration, no hooks, no terminal prompt), on values checked before they reach its
//! command line. What imglock asks of it: the refs a repository advertises (`ls-remote`), one
//! commit fetched into a bare repository of the cache, and the tree at that commit (`archive`,
//! exactly as committed: no `export-subst`, no `export-ignore`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::error::GitError;

/// The environment variables kept from imglock's own: where programs are, the home folder and
/// agent ssh reads its keys from, and the proxies.
const KEPT: [&str; 9] = [
    "PATH",
    "HOME",
    "SSH_AUTH_SOCK",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
];

/// One repository as `git` is told to reach it: a URL (credentials kept, they are only passed
/// to `git`) or, for `file:`, a path.
#[derive(Debug, Clone)]
pub struct Remote {
    /// What `git` is given; checked not to start with `-`.
    pub location: String,
    /// What messages name it by (no credentials).
    pub label: String,
}

/// A ref as a repository advertises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvertisedRef {
    /// Like `HEAD`, `refs/heads/main`, `refs/tags/v1.0`.
    pub name: String,
    /// The commit it points to (for an annotated tag, the commit it tags).
    pub commit: String,
}

/// Runs `git` in the clean environment.
fn git(args: &[&str]) -> Result<Output, GitError> {
    let mut command = Command::new("git");
    command
        .env_clear()
        .envs(KEPT.iter().filter_map(|k| Some((k, std::env::var_os(k)?))))
        .env("GIT_TERMINAL_PROMPT", "0")
        // No transport but these (no `ext::` helper), whatever a redirect or a config says.
        .env("GIT_ALLOW_PROTOCOL", "file:http:https:ssh")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_ASKPASS", "true")
        .env(
            "GIT_SSH_COMMAND",
            "ssh -o BatchMode=yes -o ConnectTimeout=30",
        )
        // A stalled server fails the command instead of hanging it.
        .env("GIT_HTTP_LOW_SPEED_LIMIT", "1")
        .env("GIT_HTTP_LOW_SPEED_TIME", "60")
        .env("LC_ALL", "C")
        .args([
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "advice.defaultBranchName=false",
        ])
        .args(args)
        .stdin(Stdio::null());
    command.output().map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => GitError::NoGit,
        _ => GitError::Run {
            command: args.join(" "),
            source,
        },
    })
}

/// Runs `git ARGS`, its standard output when it succeeds, else `failed` with what it said.
fn git_ok(args: &[&str], failed: impl FnOnce(String) -> GitError) -> Result<Vec<u8>, GitError> {
    let output = git(args)?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(failed(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        ))
    }
}

/// The refs `remote` advertises: HEAD, branches and tags.
pub fn ls_remote(remote: &Remote) -> Result<Vec<AdvertisedRef>, GitError> {
    let unreachable = |said| GitError::Unreachable {
        url: remote.label.clone(),
        said,
    };
    let out = git_ok(&["ls-remote", "--", &remote.location], unreachable)?;
    let mut refs: Vec<AdvertisedRef> = Vec::new();
    for line in String::from_utf8_lossy(&out).lines() {
        let Some((commit, name)) = line.split_once('\t') else {
            continue;
        };
        if !super::is_commit(commit) {
            continue;
        }
        let commit = commit.to_ascii_lowercase();
        match name.strip_suffix("^{}") {
            // An annotated tag: the commit it tags replaces the tag object.
            Some(tag) => match refs.iter_mut().find(|r| r.name == tag) {
                Some(known) => known.commit = commit,
                None => refs.push(AdvertisedRef {
                    name: tag.to_string(),
                    commit,
                }),
            },
            None => refs.push(AdvertisedRef {
                name: name.to_string(),
                commit,
            }),
        }
    }
    Ok(refs)
}

/// The bare repository of the cache that holds the commits fetched from one repository.
#[derive(Debug, Clone)]
pub struct Database {
    path: PathBuf,
}

impl Database {
    /// The database at `path`, created when it is not there yet.
    pub fn open(path: &Path) -> Result<Self, GitError> {
        let text = path.to_string_lossy().to_string();
        if !path.join("HEAD").exists() {
            std::fs::create_dir_all(path).map_err(|source| GitError::Cache {
                path: text.clone(),
                source,
            })?;
            git_ok(&["init", "--quiet", "--bare", "--", &text], |said| {
                GitError::Cache {
                    path: text.clone(),
                    source: std::io::Error::other(said),
                }
            })?;
        }
        // `git archive` would obey the tree's `export-subst` (writing the refs and dates of the
        // moment into files, as setuptools-scm's `.git_archival.txt` asks) and `export-ignore`:
        // the repository's own attributes, which take precedence, turn both off.
        let attributes = path.join("info").join("attributes");
        std::fs::create_dir_all(path.join("info"))
            .and_then(|()| std::fs::write(&attributes, "* -export-subst -export-ignore\n"))
            .map_err(|source| GitError::Cache {
                path: attributes.display().to_string(),
                source,
            })?;
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    fn dir(&self) -> String {
        self.path.to_string_lossy().to_string()
    }

    /// Whether it holds `commit` (a full SHA).
    pub fn has_commit(&self, commit: &str) -> bool {
        let object = format!("{commit}^{{commit}}");
        git(&["-C", &self.dir(), "cat-file", "-e", &object]).is_ok_and(|o| o.status.success())
    }

    /// The full SHA of the commit `short` (a hexadecimal prefix) names, if it holds one.
    pub fn expand(&self, short: &str) -> Option<String> {
        let object = format!("{short}^{{commit}}");
        let out = git(&[
            "-C",
            &self.dir(),
            "rev-parse",
            "--verify",
            "--quiet",
            &object,
        ])
        .ok()?;
        let sha = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && super::is_commit(&sha)).then_some(sha)
    }

    /// Fetches `commit` from `remote`: that commit alone, else (a server that does not serve a
    /// commit by its SHA) every branch and tag.
    pub fn fetch_commit(&self, remote: &Remote, commit: &str) -> Result<(), GitError> {
        if self.has_commit(commit) {
            return Ok(());
        }
        let one = git(&[
            "-C",
            &self.dir(),
            "fetch",
            "--quiet",
            "--no-tags",
            "--",
            &remote.location,
            commit,
        ])?;
        if one.status.success() && self.has_commit(commit) {
            return Ok(());
        }
        self.fetch_all(remote)?;
        if self.has_commit(commit) {
            Ok(())
        } else {
            Err(GitError::NoCommit {
                url: remote.label.clone(),
                commit: commit.to_string(),
            })
        }
    }

    /// Fetches every branch and tag of `remote`.
    pub fn fetch_all(&self, remote: &Remote) -> Result<(), GitError> {
        git_ok(
            &[
                "-C",
                &self.dir(),
                "fetch",
                "--quiet",
                "--force",
                "--",
                &remote.location,
                "+refs/heads/*:refs/remotes/origin/*",
                "+refs/tags/*:refs/tags/*",
            ],
            |said| GitError::Unreachable {
                url: remote.label.clone(),
                said,
            },
        )
        .map(drop)
    }

    /// The tree of `commit` below `subdirectory` (the whole tree when `None`), as the tar
    /// stream `git archive` writes.
    pub fn archive(&self, commit: &str, subdirectory: Option<&str>) -> Result<Vec<u8>, GitError> {
        let tree = match subdirectory {
            Some(sub) => format!("{commit}:{sub}"),
            None => commit.to_string(),
        };
        git_ok(
            &["-C", &self.dir(), "archive", "--format=tar", &tree],
            |said| GitError::Archive {
                commit: commit.to_string(),
                subdirectory: subdirectory.map(str::to_string),
                said,
            },
        )
    }
}
