//! A GitHub-style REST API on loopback, for the GitHub R package tests: the repositories of
//! fixtures/github published at commits the test names, each ref answered by the commits
//! endpoint as the bare SHA (`application/vnd.github.sha`), and each archive made as GitHub makes
//! it (entries below `owner-repo-<sha7>/` after a pax global header naming the commit) and served
//! at `/api/repos/{owner}/{repo}/tarball/{sha}` and at a codeload-like path a redirect can lead to.

use std::io::Write;
use std::path::Path;

use super::{Fault, Server, fixtures};

/// The API's files (under `api/`) and archives (under `codeload/`), and their server.
pub struct GithubServer {
    pub dir: tempfile::TempDir,
    pub server: Server,
}

impl GithubServer {
    /// An API that knows no repository yet.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(dir.path());
        Self { dir, server }
    }

    /// The API's base URL, for `[repositories] github`.
    pub fn api(&self) -> String {
        format!("{}/api", self.server.url())
    }

    /// The path of the commits endpoint of `owner/repo` at `git_ref`.
    pub fn commits_path(owner: &str, repo: &str, git_ref: &str) -> String {
        format!("/api/repos/{owner}/{repo}/commits/{git_ref}")
    }

    /// The path of the archive of `owner/repo` at `sha`.
    pub fn tarball_path(owner: &str, repo: &str, sha: &str) -> String {
        format!("/api/repos/{owner}/{repo}/tarball/{sha}")
    }

    /// The codeload-like path the archive is also served at.
    pub fn codeload_path(owner: &str, repo: &str, sha: &str) -> String {
        format!("/codeload/{owner}/{repo}/legacy.tar.gz/{sha}")
    }

    /// Publishes fixtures/github/`owner`/`repo` (with `extra` files added, relative to its top)
    /// at commit `sha`, and points each of `refs` at it; returns the archive's bytes.
    pub fn publish(
        &self,
        owner: &str,
        repo: &str,
        sha: &str,
        refs: &[&str],
        extra: &[(&str, &str)],
    ) -> Vec<u8> {
        let source = fixtures().join("github").join(owner).join(repo);
        let top = format!("{owner}-{repo}-{}", &sha[..7]);
        let archive = github_archive(&source, &top, sha, extra);
        for path in [
            Self::tarball_path(owner, repo, sha),
            Self::codeload_path(owner, repo, sha),
        ] {
            self.write(&path, &archive);
        }
        for git_ref in refs {
            self.point(owner, repo, git_ref, sha);
        }
        archive
    }

    /// Points `git_ref` of `owner/repo` at `sha` (a branch moving).
    pub fn point(&self, owner: &str, repo: &str, git_ref: &str, sha: &str) {
        self.write(&Self::commits_path(owner, repo, git_ref), sha.as_bytes());
    }

    /// Makes the next request of the archive of `owner/repo` at `sha` a 302 to its codeload path,
    /// as api.github.com answers.
    pub fn redirect_next(&self, owner: &str, repo: &str, sha: &str) {
        let location = format!(
            "{}{}",
            self.server.url(),
            Self::codeload_path(owner, repo, sha)
        );
        self.server.inject(
            &Self::tarball_path(owner, repo, sha),
            vec![Fault::Redirect {
                status: 302,
                location,
            }],
        );
    }

    fn write(&self, path: &str, bytes: &[u8]) {
        let file = self.dir.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }
}

/// A tar.gz of `source` as GitHub's archive of it at `commit`: a pax global header with the
/// commit, then every folder and file (sorted) below `top/`, with `extra` files added; fixed
/// times and modes, so the same inputs always make the same bytes.
pub fn github_archive(source: &Path, top: &str, commit: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let comment = format!("52 comment={commit}\n");
    let mut global = tar::Header::new_ustar();
    global.set_entry_type(tar::EntryType::XGlobalHeader);
    global.set_size(comment.len() as u64);
    global.set_mode(0o644);
    global.set_mtime(1_700_000_000);
    builder
        .append_data(&mut global, "pax_global_header", comment.as_bytes())
        .unwrap();
    let mut entries: Vec<(String, Option<Vec<u8>>)> = vec![(format!("{top}/"), None)];
    collect(source, source, top, &mut entries);
    for (path, contents) in extra {
        entries.push((format!("{top}/{path}"), Some(contents.as_bytes().to_vec())));
    }
    entries.sort();
    for (path, contents) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_mtime(1_700_000_000);
        match contents {
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder
                    .append_data(&mut header, &path, std::io::empty())
                    .unwrap();
            }
            Some(bytes) => {
                header.set_mode(0o644);
                header.set_size(bytes.len() as u64);
                builder
                    .append_data(&mut header, &path, bytes.as_slice())
                    .unwrap();
            }
        }
    }
    let tar = builder.into_inner().unwrap();
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

/// Every folder (with a trailing `/`) and file below `dir`, named below `top/`.
fn collect(root: &Path, dir: &Path, top: &str, out: &mut Vec<(String, Option<Vec<u8>>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let relative = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if path.is_dir() {
            out.push((format!("{top}/{relative}/"), None));
            collect(root, &path, top, out);
        } else {
            out.push((
                format!("{top}/{relative}"),
                Some(std::fs::read(&path).unwrap()),
            ));
        }
    }
}
