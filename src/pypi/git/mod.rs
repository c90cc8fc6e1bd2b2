//! Git direct references: a spec's `name @ git+https://host/repo.git@REF#subdirectory=sub`
//! (also `git+http://`, `git+file:` and `git+ssh://`), locked as uv locks git sources and
//! installed without git.
//!
//! The ref (a branch, a tag, a full or short commit; the default branch when none is given) is
//! resolved to a commit with `git ls-remote` ([`cli`]); that commit alone is fetched into a bare
//! repository of imglock's cache, keyed by the URL (a full SHA that it already holds asks the
//! network nothing), and its tree (below the subdirectory) packed into a deterministic source
//! archive ([`archive`]) kept in the cache by its sha256. The archive is then the project's only
//! file, an sdist like any other: its metadata read statically or built in isolation, its
//! dependencies resolved from the indexes, its lock entry recording the URL (without
//! credentials), the ref, the commit, the subdirectory and the archive's sha256
//! ([`GitSource`]). `emit` puts the same archive into the build context, re-made from the cache
//! or a fetch of the commit and checked against the lock, so the image needs neither git nor
//! the git host.

mod archive;
mod cli;
mod error;
mod location;
mod locked;

use std::path::{Path, PathBuf};

use pep508_rs::PackageName;
use sha2::{Digest, Sha256};

use self::cli::{Database, Remote};
pub use self::error::GitError;
use self::location::{file_remote, subdirectory_of, url_remote};
pub use self::locked::{context_source, moved_refs};
use super::index::{Candidate, Project, ProjectSource};
use super::left_out::LeftOut;
use super::simple::{DistFile, MetadataFile};
use crate::fetch::Cache;
use crate::pypi::git_source::check_ref;
pub use crate::pypi::git_source::{GitSource, is_commit};
use crate::repository::Repository;

/// A `git+` direct reference as the spec wrote it, checked.
#[derive(Debug)]
pub(super) struct GitReference {
    pub name: PackageName,
    /// The requirement as written, for messages.
    pub requirement: String,
    /// How `git` reaches the repository.
    remote: Remote,
    /// The repository's absolute URL without credentials: the cache key.
    key: String,
    /// The repository as the lock names it: the URL without credentials, or a `file:` path
    /// relative to the lock.
    label: String,
    /// The branch, tag or commit asked for; `None` for the default branch.
    git_ref: Option<String>,
    subdirectory: Option<String>,
}

/// The commit a reference resolved to, packed.
struct Packed {
    commit: String,
    bytes: Vec<u8>,
    sha256: String,
}

impl GitReference {
    /// Reads `given` (the URL after `name @`, starting with `git+`), relative `file:` paths from
    /// `spec_dir`, labelled for a lock in `lock_dir`.
    pub fn read(
        name: &PackageName,
        requirement: &str,
        given: &str,
        spec_dir: &Path,
        lock_dir: &Path,
    ) -> Result<Self, GitError> {
        let malformed = |problem: String| GitError::Malformed {
            requirement: requirement.to_string(),
            problem,
        };
        let rest = given.strip_prefix("git+").unwrap_or(given);
        let (location, fragment) = match rest.split_once('#') {
            Some((location, fragment)) => (location, Some(fragment)),
            None => (rest, None),
        };
        let subdirectory = fragment
            .map(|fragment| subdirectory_of(fragment).map_err(&malformed))
            .transpose()?
            .flatten();
        let scheme = location.split(':').next().unwrap_or_default();
        let (remote, key, label, git_ref) = match scheme {
            "file" => file_remote(location, spec_dir, lock_dir).map_err(&malformed)?,
            "https" | "http" | "ssh" => url_remote(location).map_err(&malformed)?,
            other => {
                return Err(malformed(format!(
                    "git over `{other}:` cannot be locked: use git+https://, git+http://, git+ssh:// or git+file:"
                )));
            }
        };
        if let Some(git_ref) = &git_ref {
            check_ref(git_ref).map_err(&malformed)?;
        }
        Ok(Self {
            name: name.clone(),
            requirement: requirement.to_string(),
            remote,
            key,
            label,
            git_ref,
            subdirectory,
        })
    }

    /// Whether `other` names the same repository, ref and subdirectory.
    pub fn same_as(&self, other: &Self) -> bool {
        (&self.key, &self.git_ref, &self.subdirectory)
            == (&other.key, &other.git_ref, &other.subdirectory)
    }

    /// The project this reference makes: the source archive of its commit, its one file.
    pub fn project(&self, cache: &Cache) -> Result<Project, GitError> {
        let database = Database::open(&database_path(cache, &self.key))?;
        let commit = self.commit(&database)?;
        let packed = pack(&database, &self.name, &commit, self.subdirectory.as_deref())?;
        let (found, version) = super::sdist::name_and_version(
            &format!("{}-git.tar.gz", self.name),
            &packed.bytes,
            &self.name,
        )
        .map_err(|source| GitError::NoVersion {
            requirement: self.requirement.clone(),
            commit: commit.clone(),
            source: Box::new(source),
        })?;
        if found != self.name {
            return Err(GitError::NameMismatch {
                requirement: self.requirement.clone(),
                commit,
                found: found.to_string(),
                name: self.name.to_string(),
            });
        }
        let path = keep_archive(cache, &packed)?;
        let url = url::Url::from_file_path(&path).map_err(|()| GitError::Cache {
            path: path.display().to_string(),
            source: std::io::Error::other("not an absolute path"),
        })?;
        let file = DistFile {
            filename: format!("{}-{version}.tar.gz", self.name),
            url: url.clone(),
            version: version.clone(),
            is_wheel: false,
            sha256: Some(packed.sha256.clone()),
            size: Some(packed.bytes.len() as u64),
            requires_python: None,
            yanked: false,
            upload_time: None,
            core_metadata: MetadataFile::NotOffered,
        };
        let source = GitSource {
            url: self.label.clone(),
            git_ref: self.git_ref.clone().unwrap_or_else(|| "HEAD".into()),
            commit: packed.commit.clone(),
            subdirectory: self.subdirectory.clone(),
        };
        let repository = Repository {
            label: format!("git+{}", self.label),
            url,
        };
        let candidate = Candidate {
            file,
            yanked: false,
        };
        Ok(Project {
            source: ProjectSource::Git(repository, source),
            versions: [(version, candidate)].into_iter().collect(),
            left_out: LeftOut::default(),
        })
    }

    /// The commit the repository advertises for the ref (a branch or tag, or HEAD), if any,
    /// and every ref it advertises.
    fn advertised(&self) -> Result<(Option<String>, Vec<cli::AdvertisedRef>), GitError> {
        let refs = cli::ls_remote(&self.remote)?;
        let wanted: Vec<String> = match &self.git_ref {
            None => vec!["HEAD".into()],
            Some(name) => vec![
                format!("refs/heads/{name}"),
                format!("refs/tags/{name}"),
                name.clone(),
            ],
        };
        let found = wanted
            .iter()
            .find_map(|w| refs.iter().find(|r| &r.name == w))
            .map(|found| found.commit.clone());
        Ok((found, refs))
    }

    /// The commit the ref names, fetched into `database`: a full SHA it holds asks nothing.
    fn commit(&self, database: &Database) -> Result<String, GitError> {
        if let Some(sha) = self.git_ref.as_deref().filter(|r| is_commit(r)) {
            let sha = sha.to_ascii_lowercase();
            database.fetch_commit(&self.remote, &sha)?;
            return Ok(sha);
        }
        let (found, refs) = self.advertised()?;
        if let Some(commit) = found {
            database.fetch_commit(&self.remote, &commit)?;
            return Ok(commit);
        }
        match self.git_ref.as_deref() {
            Some(short) if short.len() >= 4 && short.bytes().all(|b| b.is_ascii_hexdigit()) => {
                database.fetch_all(&self.remote)?;
                database.expand(short).ok_or_else(|| GitError::NoCommit {
                    url: self.remote.label.clone(),
                    commit: short.to_string(),
                })
            }
            asked => Err(GitError::UnknownRef {
                url: self.remote.label.clone(),
                git_ref: asked.unwrap_or("HEAD").to_string(),
                refs: ref_names(&refs),
            }),
        }
    }
}

/// The branches and tags of `refs`, for a message.
fn ref_names(refs: &[cli::AdvertisedRef]) -> String {
    let names: Vec<&str> = refs
        .iter()
        .filter_map(|r| {
            r.name
                .strip_prefix("refs/heads/")
                .or_else(|| r.name.strip_prefix("refs/tags/"))
        })
        .collect();
    match names.is_empty() {
        true => "none".into(),
        false => names.join(", "),
    }
}

/// The archive of `commit` of `name`'s repository, below `subdirectory`.
fn pack(
    database: &Database,
    name: &PackageName,
    commit: &str,
    subdirectory: Option<&str>,
) -> Result<Packed, GitError> {
    let tree = database.archive(commit, subdirectory)?;
    let top = format!("{name}-{}", &commit[..12]);
    let bytes = archive::repack(&tree, &top).map_err(|source| GitError::Pack {
        commit: commit.to_string(),
        source,
    })?;
    Ok(Packed {
        commit: commit.to_string(),
        sha256: hex::encode(Sha256::digest(&bytes)),
        bytes,
    })
}

/// The cache's bare repository for the repository at `key`.
fn database_path(cache: &Cache, key: &str) -> PathBuf {
    let digest = hex::encode(Sha256::digest(key.as_bytes()));
    cache.root().join("git").join("db").join(&digest[..24])
}

/// Where the cache keeps the archive whose sha256 is `sha256`.
fn archive_path(cache: &Cache, sha256: &str) -> PathBuf {
    cache
        .root()
        .join("git")
        .join("archives")
        .join(format!("{sha256}.tar.gz"))
}

/// Writes `packed` into the cache (to a temporary name, then renamed): its path.
fn keep_archive(cache: &Cache, packed: &Packed) -> Result<PathBuf, GitError> {
    let path = archive_path(cache, &packed.sha256);
    let failed = |source| GitError::Cache {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(failed)?;
    }
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&temporary, &packed.bytes).map_err(failed)?;
    std::fs::rename(&temporary, &path).map_err(failed)?;
    Ok(path)
}
