//! The mixed example (examples/mixed-fixture: CRAN, Bioconductor, PyPI, conda and Maven layers)
//! with each of its repositories on a loopback server of its own, and its spec rewritten to
//! read them there instead of through `file:` paths.

use std::path::{Path, PathBuf};

use super::{Server, fixtures};

/// Each repository of the example: how the example's spec names its folder (after
/// `file:../../fixtures/`), the fixture folder served, and the path the spec adds to the
/// server's URL.
const REPOSITORIES: [(&str, &str, &str); 5] = [
    ("cran", "cran", ""),
    ("bioc", "bioc", ""),
    ("pypi/simple", "pypi", "/simple"),
    ("conda/channels", "conda/channels", ""),
    ("maven/repo", "maven/repo", ""),
];

/// The example's spec file.
pub fn example_spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mixed-fixture/imglock.toml")
}

/// The mixed example's repositories, each served on 127.0.0.1 by a server of its own (so a
/// fault injected into one ecosystem's server touches no other).
pub struct MixedRepositories {
    servers: Vec<(&'static str, Server)>,
}

impl MixedRepositories {
    /// Starts one server per repository.
    pub fn start() -> Self {
        let servers = REPOSITORIES
            .iter()
            .map(|(written, served, _)| (*written, Server::start(&fixtures().join(served))))
            .collect();
        Self { servers }
    }

    /// The server of the repository the example's spec names `file:../../fixtures/WRITTEN`
    /// (`cran`, `bioc`, `pypi/simple`, `conda/channels`, `maven/repo`).
    pub fn server(&self, written: &str) -> &Server {
        &self
            .servers
            .iter()
            .find(|(name, _)| *name == written)
            .unwrap_or_else(|| panic!("no repository `{written}` in the mixed example"))
            .1
    }

    /// The fixture folder the repository `written` (as for [`MixedRepositories::server`]) serves.
    pub fn folder(written: &str) -> PathBuf {
        let (_, served, _) = REPOSITORIES
            .iter()
            .find(|(name, ..)| *name == written)
            .unwrap_or_else(|| panic!("no repository `{written}` in the mixed example"));
        fixtures().join(served)
    }

    /// The example's spec reading every repository from its server; with `base`, that image
    /// reference replaces the example's base image.
    pub fn spec(&self, base: Option<&str>) -> String {
        let example = std::fs::read_to_string(example_spec()).unwrap();
        let mut spec = String::new();
        for line in example.lines() {
            match (line.strip_prefix("base = "), base) {
                (Some(_), Some(base)) => spec.push_str(&format!("base = \"{base}\"")),
                _ => spec.push_str(line),
            }
            spec.push('\n');
        }
        self.served(&spec)
    }

    /// `spec` (any example's, naming its repositories `file:../../fixtures/…` from its folder)
    /// reading every repository from its server instead.
    pub fn served(&self, spec: &str) -> String {
        let mut spec = spec.to_string();
        for (written, server) in &self.servers {
            let (_, _, suffix) = REPOSITORIES.iter().find(|(w, ..)| w == written).unwrap();
            spec = spec.replace(
                &format!("\"file:../../fixtures/{written}"),
                &format!("\"{}{suffix}", server.url()),
            );
        }
        assert!(
            !spec.contains("\"file:"),
            "every repository is served:\n{spec}"
        );
        spec
    }

    /// `lock` with each server's address replaced by its repository's name and the spec hash
    /// and the repositories' part hashes (which hash those addresses) blanked: locks written
    /// over different servers compare equal when they lock the same.
    pub fn normalize(&self, lock: &str) -> String {
        let mut lock = lock.to_string();
        for (written, server) in &self.servers {
            lock = lock.replace(&server.url(), &format!("http://{written}"));
        }
        lock.lines()
            .map(|line| {
                if line.starts_with("spec-hash = ") {
                    "spec-hash = \"…\""
                } else if line.starts_with("\"repositories/") {
                    "\"repositories/…\""
                } else {
                    line
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}
