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
mod source;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::PackageName;
use sha2::{Digest, Sha256};

use self::cli::{Database, Remote};
pub use self::error::GitError;
pub use self::source::GitSource;
use super::index::{Candidate, Project, ProjectSource};
use super::left_out::LeftOut;
use super::simple::{DistFile, MetadataFile};
use crate::emit::step::{CONTEXT_ARTIFACTS, Source, StepContext, StepError};
use crate::fetch::Cache;
use crate::lock::{Lock, LockedPackage};
use crate::repository::Repository;

/// Whether `text` is a full commit SHA: 40 hexadecimal digits.
pub fn is_commit(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

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

    /// How the lock names this reference at `commit` (PEP 508's form, as uv writes it).
    fn pinned_label(&self, commit: &str) -> String {
        source::pinned(&self.label, commit, self.subdirectory.as_deref())
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
            label: self.pinned_label(&packed.commit),
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

/// The source archive of the locked git package `name` from `source`, in the cache: kept from
/// its resolve, else made again from the cache's repository (the commit fetched when it is not
/// there) and checked against `sha256`. Relative `file:` URLs are relative to `lock_dir`.
pub fn locked_archive(
    name: &str,
    source: &GitSource,
    sha256: &str,
    lock_dir: &Path,
) -> Result<PathBuf, GitError> {
    let cache = Cache::from_env();
    let kept = archive_path(&cache, sha256);
    if kept.exists() {
        return Ok(kept);
    }
    let reference = GitReference::read(
        &PackageName::from_str(name).map_err(|e| GitError::Malformed {
            requirement: name.to_string(),
            problem: e.to_string(),
        })?,
        name,
        &source.url,
        lock_dir,
        lock_dir,
    )?;
    let database = Database::open(&database_path(&cache, &reference.key))?;
    database.fetch_commit(&reference.remote, &source.commit)?;
    let packed = pack(
        &database,
        &reference.name,
        &source.commit,
        source.subdirectory.as_deref(),
    )?;
    if packed.sha256 != sha256 {
        return Err(GitError::Mismatch {
            name: name.to_string(),
            commit: source.commit.clone(),
            actual: packed.sha256,
            locked: sha256.to_string(),
        });
    }
    keep_archive(&cache, &packed)
}

/// Where the locked git `package` (whose source is `source`) comes from in the build: its
/// source archive, put into the build context (which checks it against the lock's sha256).
pub fn context_source(
    package: &LockedPackage,
    source: &GitSource,
    context: &mut StepContext,
) -> Result<Source, StepError> {
    let path = locked_archive(&package.name, source, &package.sha256, context.lock_dir()).map_err(
        |error| StepError::Made {
            package: format!(
                "{} {} (commit {})",
                package.name, package.version, source.commit
            ),
            source: Box::new(error),
        },
    )?;
    let name = format!("{}-{}.tar.gz", package.name, package.version);
    context.add_file(
        &path.to_string_lossy(),
        name.clone(),
        package.sha256.clone(),
    );
    Ok(Source::Context(format!("{CONTEXT_ARTIFACTS}/{name}")))
}

/// What `imglock check` learns of the lock's git packages whose ref is a branch or tag: the ones
/// whose ref names another commit now (`moved`), and the ones whose repository could not be
/// asked (`unchecked`), each as a sentence.
#[derive(Debug, Default)]
pub struct MovedRefs {
    pub moved: Vec<String>,
    pub unchecked: Vec<String>,
}

/// Asks the repository of each git package of `lock` (in `lock_dir`) locked from a branch or
/// tag where that ref is now.
pub fn moved_refs(lock: &Lock, lock_dir: &Path) -> MovedRefs {
    let mut found = MovedRefs::default();
    let packages = lock.layers.iter().flat_map(|layer| &layer.packages);
    for package in packages {
        let Some(source) = package.details.pypi().and_then(|p| p.git.as_ref()) else {
            continue;
        };
        if is_commit(&source.git_ref) {
            continue;
        }
        let asked = PackageName::from_str(&package.name)
            .map_err(|e| GitError::Malformed {
                requirement: package.name.clone(),
                problem: e.to_string(),
            })
            .and_then(|name| {
                let reference =
                    GitReference::read(&name, &package.name, &source.url, lock_dir, lock_dir)?;
                let reference = GitReference {
                    git_ref: Some(source.git_ref.clone()).filter(|r| r != "HEAD"),
                    ..reference
                };
                reference.advertised().map(|(found, _)| found)
            });
        match asked {
            Ok(Some(commit)) if commit == source.commit => {}
            Ok(Some(commit)) => found.moved.push(format!(
                "{} `{}` of {} moved: {} -> {}",
                package.name,
                source.git_ref,
                source.url,
                source.short(),
                &commit[..7]
            )),
            Ok(None) => found.moved.push(format!(
                "{}: {} has no `{}` any more",
                package.name, source.url, source.git_ref
            )),
            Err(error) => found.unchecked.push(format!(
                "{}: {}",
                package.name,
                crate::causes::chain(&error)
            )),
        }
    }
    found
}

/// The subdirectory a fragment (`subdirectory=path`, `&`-separated keys) names, checked.
fn subdirectory_of(fragment: &str) -> Result<Option<String>, String> {
    let mut found = None;
    for part in fragment.split('&').filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some(("subdirectory", path)) => {
                let path = path.trim_matches('/');
                let fine = !path.is_empty()
                    && path
                        .split('/')
                        .all(|c| !c.is_empty() && c != "." && c != "..")
                    && path
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-/+".contains(&b));
                if !fine {
                    return Err(format!(
                        "`#subdirectory={path}` is not a folder of the repository (a relative path of letters, digits, `._-+`)"
                    ));
                }
                found = Some(path.to_string());
            }
            Some(("egg", _)) => {}
            _ => {
                return Err(format!(
                    "`#{part}` is not understood: only `#subdirectory=path` can follow a git URL"
                ));
            }
        }
    }
    Ok(found)
}

/// Checks a ref before it reaches `git`'s command line: git's ref rules, and no option.
fn check_ref(git_ref: &str) -> Result<(), String> {
    let fine = !git_ref.is_empty()
        && !git_ref.starts_with(['-', '/', '.'])
        && !git_ref.ends_with(['/', '.'])
        && !git_ref.ends_with(".lock")
        && !git_ref.contains("..")
        && !git_ref.contains("//")
        && git_ref
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/+".contains(&b));
    match fine {
        true => Ok(()),
        false => Err(format!(
            "`{git_ref}` is not a branch, tag or commit name git accepts"
        )),
    }
}

/// The parts of a `git` CLI remote: how git reaches it, the cache key, the lock's label, the ref.
type RemoteParts = (Remote, String, String, Option<String>);

/// A `file:` repository (`file:///abs/repo@ref` or `file:relative/repo@ref`).
fn file_remote(location: &str, spec_dir: &Path, lock_dir: &Path) -> Result<RemoteParts, String> {
    let (path, git_ref) = split_ref(location);
    let repository = Repository::parse(path, spec_dir, lock_dir).map_err(|e| e.to_string())?;
    let folder = repository
        .url
        .to_file_path()
        .map_err(|()| format!("`{path}` is not a local path"))?;
    let folder = folder.display().to_string();
    let remote = Remote {
        location: folder.clone(),
        label: repository.label.clone(),
    };
    Ok((
        remote,
        repository.url.to_string(),
        repository.label,
        git_ref,
    ))
}

/// An `https://`, `http://` or `ssh://` repository: the ref is after the path's last `@`.
fn url_remote(location: &str) -> Result<RemoteParts, String> {
    let mut url = url::Url::parse(location).map_err(|e| format!("`{location}`: {e}"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{location}` names no host"));
    }
    let path = url.path().to_string();
    let (path, git_ref) = split_ref(&path);
    url.set_path(path.trim_end_matches('/'));
    url.set_query(None);
    let mut bare = url.clone();
    let _ = bare.set_password(None);
    // ssh's user is whom to log in as, not a secret; http's is a credential.
    if url.scheme() != "ssh" {
        let _ = bare.set_username("");
    }
    let label = bare.to_string();
    let remote = Remote {
        location: url.to_string(),
        label: label.clone(),
    };
    Ok((remote, label.clone(), label, git_ref))
}

/// `text` without its `@ref`, and the ref (after the last `@` that follows the last `/`'s
/// folder… as uv reads it: the last `@` of the path).
fn split_ref(text: &str) -> (&str, Option<String>) {
    // A `file:` path and a URL's path alike: the host's `user@` is not part of them.
    let start = text.find("://").map_or(0, |at| {
        at + 3 + text[at + 3..].find('/').unwrap_or(text.len() - at - 3)
    });
    match text[start..].rfind('@') {
        Some(at) => (
            &text[..start + at],
            Some(text[start + at + 1..].to_string()),
        ),
        None => (text, None),
    }
}
