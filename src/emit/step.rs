//! The building blocks every ecosystem's install steps are made of: a [`Step`] of the
//! Dockerfile, where each artifact comes from in the build ([`Source`]), and the shell that
//! fetches artifacts and checks their sha256 ([`fetch_verified`]). Each ecosystem folder writes
//! its own steps with them (`cran::emit`, `pypi::emit`, `conda::emit`, `maven::emit`).

use std::fmt::Write;
use std::path::PathBuf;

use super::shell::{quote, words};
use crate::lock::{LockedLayer, LockedPackage};

/// The time every step writes in place of the clock where an installer writes it into a file
/// (`SOURCE_DATE_EPOCH`): 1980-01-01 00:00:00 UTC, the earliest a zip (a wheel) can hold; so a
/// layer built twice is the same bytes.
pub const SOURCE_DATE_EPOCH: u64 = 315_532_800;

/// [`SOURCE_DATE_EPOCH`] as the installers' logs write a time (UTC).
pub const SOURCE_DATE: &str = "1980-01-01 00:00:00";

/// One instruction of the Dockerfile (with its comment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The lock layer it belongs to; `None` for `FROM` and installer helpers.
    pub layer: Option<String>,
    pub text: String,
    /// How many packages it installs.
    pub packages: usize,
}

/// Where an artifact comes from inside the build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Downloaded from the URL the lock pins.
    Url(String),
    /// Downloaded from the URL the lock pins, whose origin needs credentials: read from the
    /// build's netrc secret ([`NETRC_SECRET`]).
    Authenticated(String),
    /// A file of the build context, below its root (mounted at `/imglock-context`).
    Context(String),
}

/// The id of the BuildKit secret holding the netrc file of the repositories that need
/// credentials (`docker build --secret id=imglock-netrc,src=$HOME/.netrc`).
pub const NETRC_SECRET: &str = "imglock-netrc";

/// Where a step that downloads from such a repository finds that secret.
pub const NETRC_PATH: &str = "/run/secrets/imglock-netrc";

/// The folder, below the Dockerfile's, that holds artifacts of `file:` repositories.
pub const CONTEXT_ARTIFACTS: &str = "imglock-artifacts";

/// A file of a `file:` repository the build context must hold.
#[derive(Debug, Clone)]
pub struct ContextFile {
    /// Where it is on this machine.
    pub from: PathBuf,
    /// Its name in [`CONTEXT_ARTIFACTS`].
    pub name: String,
    /// The sha256 the lock pins.
    pub sha256: String,
}

/// Options that shape the Dockerfile's text.
#[derive(Debug, Clone, Default)]
pub struct DockerfileOptions {
    /// The R library to install into; the lock's `r-library`, else R's site library, when not given.
    pub library: Option<String>,
    /// R packages built at once in each R step (`emit --jobs`); the builder's cores (`nproc`,
    /// read at build time) when not given.
    pub jobs: Option<u32>,
    /// The most make jobs one R package's compiled code gets (`emit --ncpus`); by default its
    /// share of the step's jobs.
    pub ncpus: Option<u32>,
    /// Note (for `--verbose`) the Debian build dependencies the R packages' `SystemRequirements`
    /// name that the lock does not install, as `apt` entries to add to the spec.
    pub apt: bool,
    /// The shared R binary cache the R steps pull binaries from and push them to.
    pub binary_cache: Option<crate::cran::binary_cache::CacheLocation>,
}

/// A step that cannot be written from the lock.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The lock lacks something a step needs.
    #[error("{0}")]
    InvalidLock(String),
    /// A `file:` artifact's URL names no local file.
    #[error("the artifact `{url}` is unusable: not a local path")]
    NotLocal { url: String },
    /// An artifact imglock makes itself (a git package's source archive) cannot be made.
    #[error("cannot make the source archive of {package}")]
    Made {
        package: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// What the steps of every ecosystem gather while they are written: the build context's files
/// and the notes `--verbose` reports.
#[derive(Debug)]
pub struct StepContext {
    /// The folder relative `file:` URLs are relative to (the lock's).
    lock_dir: PathBuf,
    /// The origins (`https://host:port`) whose downloads need credentials (the lock's
    /// [`crate::lock::AUTHENTICATED_ORIGINS`]).
    authenticated: Vec<String>,
    pub context_files: Vec<ContextFile>,
    pub notes: Vec<String>,
}

impl StepContext {
    /// A context for a lock in `lock_dir`.
    pub fn new(lock_dir: PathBuf) -> Self {
        Self {
            lock_dir,
            authenticated: Vec::new(),
            context_files: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Downloads from these origins (`https://host:port`) read the build's netrc secret.
    pub fn authenticate(&mut self, origins: Vec<String>) {
        self.authenticated = origins;
    }

    /// The folder relative `file:` URLs of the lock are relative to.
    pub fn lock_dir(&self) -> &std::path::Path {
        &self.lock_dir
    }

    /// Each package with where its artifact comes from in the build.
    pub fn sources_of<'a>(
        &mut self,
        packages: &[&'a LockedPackage],
    ) -> Result<Vec<(&'a LockedPackage, Source)>, StepError> {
        packages
            .iter()
            .map(|package| Ok((*package, self.source_of(package)?)))
            .collect()
    }

    /// A layer's single install step, its text written by `text` from `packages` with where
    /// each one's artifact comes from: what every ecosystem but R emits per layer.
    pub fn one_step(
        &mut self,
        layer: &LockedLayer,
        packages: &[&LockedPackage],
        text: impl FnOnce(&[(&LockedPackage, Source)]) -> String,
    ) -> Result<Vec<Step>, StepError> {
        let sources = self.sources_of(packages)?;
        Ok(vec![Step {
            layer: Some(layer.name.clone()),
            text: text(&sources),
            packages: packages.len(),
        }])
    }

    /// Queues the file `from_lock` (a path relative to the lock's folder) for the build
    /// context, as `name` in [`CONTEXT_ARTIFACTS`], checked against `sha256` when copied.
    pub fn add_file(&mut self, from_lock: &str, name: String, sha256: String) {
        self.context_files.push(ContextFile {
            from: self.lock_dir.join(from_lock),
            name,
            sha256,
        });
    }

    /// Where a package's artifact comes from in the build: its URL, or for a `file:`
    /// repository a copy in the build context (queued in `context_files`).
    fn source_of(&mut self, package: &LockedPackage) -> Result<Source, StepError> {
        let Some(path) = package.url.strip_prefix("file:") else {
            let origin = url::Url::parse(&package.url)
                .map(|url| url.origin().ascii_serialization())
                .unwrap_or_default();
            if self.authenticated.contains(&origin) {
                return Ok(Source::Authenticated(package.url.clone()));
            }
            return Ok(Source::Url(package.url.clone()));
        };
        let local = match url::Url::parse(&package.url) {
            Ok(url) if path.starts_with("//") => {
                url.to_file_path().map_err(|()| StepError::NotLocal {
                    url: package.url.clone(),
                })?
            }
            _ => self.lock_dir.join(path),
        };
        let name = file_name(package);
        self.context_files.push(ContextFile {
            from: local,
            name: name.clone(),
            sha256: package.sha256.clone(),
        });
        Ok(Source::Context(format!("{CONTEXT_ARTIFACTS}/{name}")))
    }
}

/// The mounts a `RUN` fetching `packages` needs: ` --mount=type=bind,target=/imglock-context`
/// when any artifact comes from the build context (to see the context's files), and the netrc
/// secret ([`netrc_mount`]) when any comes from a repository that needs credentials.
pub fn artifact_mounts(packages: &[(&LockedPackage, Source)]) -> String {
    let mut mounts = String::new();
    if packages
        .iter()
        .any(|(_, source)| matches!(source, Source::Context(_)))
    {
        mounts.push_str(" --mount=type=bind,target=/imglock-context");
    }
    if needs_netrc(packages) {
        mounts.push_str(&netrc_mount());
    }
    mounts
}

/// Whether any of `packages` comes from a repository that needs credentials.
pub fn needs_netrc(packages: &[(&LockedPackage, Source)]) -> bool {
    packages
        .iter()
        .any(|(_, source)| matches!(source, Source::Authenticated(_)))
}

/// ` --mount=type=secret,…`: the build's netrc secret at [`NETRC_PATH`], never part of a layer.
pub fn netrc_mount() -> String {
    format!(" --mount=type=secret,id={NETRC_SECRET},target={NETRC_PATH}")
}

/// ` --mount=type=cache,target=TARGET,sharing=locked`: a cache folder kept between builds on one
/// builder (R's binaries, Python's built wheels), used by one build at a time.
pub fn cache_mount(target: &str) -> String {
    format!(" --mount=type=cache,target={target},sharing=locked")
}

/// The artifact's file name, the last part of its URL: installers read versions, tags and the
/// archive format from it.
pub fn file_name(package: &LockedPackage) -> String {
    package
        .url
        .rsplit('/')
        .next()
        .unwrap_or(&package.name)
        .to_string()
}

/// Shell commands (each starting with ` \\\n    && `) that put every package's file in the
/// current folder, fetched with curl or copied from the build context, then check every sha256
/// against `sums_file` and fail with `failure` when one differs.
pub fn fetch_verified(
    files: &[(&LockedPackage, &Source)],
    sums_file: &str,
    failure: &str,
) -> String {
    let mut out = String::new();
    let mut checks = Vec::new();
    for (package, source) in files {
        let file = file_name(package);
        match source {
            Source::Url(url) | Source::Authenticated(url) => {
                let netrc = match source {
                    Source::Authenticated(_) => format!(" --netrc-file {NETRC_PATH}"),
                    _ => String::new(),
                };
                let _ = write!(
                    out,
                    " \\\n    && curl -fsSL{netrc} -o {} {}",
                    quote(&file),
                    quote(url)
                );
            }
            Source::Context(path) => {
                let _ = write!(
                    out,
                    " \\\n    && cp {} {}",
                    quote(&format!("/imglock-context/{path}")),
                    quote(&file)
                );
            }
        }
        checks.push(format!("{}  {file}", package.sha256));
    }
    let _ = write!(
        out,
        " \\\n    && printf '%s\\n' {} > {sums_file} \\\n    && {{ sha256sum -c --quiet {sums_file} || {{ echo {} >&2; exit 1; }}; }}",
        words(&checks),
        quote(&format!("imglock: {failure}"))
    );
    out
}

/// A step writing imglock's helper `scripts` (each its text and its path in the image,
/// executable) in one `RUN`, under the comment `title`.
pub fn script_step(title: &str, scripts: &[(&str, &str)]) -> String {
    let mut out = format!("# {title} (the same for every lock)\nRUN ");
    for (index, (script, path)) in scripts.iter().enumerate() {
        if index > 0 {
            out.push_str(" && \\\n    ");
        }
        out.push_str("printf '%s\\n' \\\n");
        for line in script.lines() {
            let _ = writeln!(out, "        {} \\", quote(line));
        }
        let _ = write!(out, "        > {path} && chmod 0755 {path}");
    }
    out.push('\n');
    out
}
