//! The Python package indexes of a spec: project pages and core metadata, fetched in batches
//! (every name the resolver may need next at once) and kept for the whole resolve.
//!
//! For each version the best file for the target is chosen: the most specific compatible wheel,
//! else the sdist. Metadata comes from the PEP 658 `.metadata` file when the index serves one,
//! else from the wheel itself (downloaded, verified against the index's sha256), or from an
//! sdist's static metadata (`PKG-INFO` 2.2+, `pyproject.toml`, egg-info, `setup.cfg`: see
//! [`super::sdist`]); for an sdist with none of them, from its metadata hook run in a container
//! of the base image ([`super::built_metadata`]), the only place package code runs: started in
//! the background when the version is fetched ahead as likely to be chosen, or when resolution
//! asks for it, and waited for when resolution needs it.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::PackageName;

use super::dist_metadata::metadata_from_file;
use super::index_error::IndexError;
pub use super::left_out::LeftOut;
use super::metadata::CoreMetadata;
use super::pending_builds::PendingBuilds;
use super::sdist::source::LookedAt;
use super::simple::{DistFile, MetadataFile, ProjectPage, parse_page};
use super::tags::Target;

use crate::fetch::{ArtifactRequest, Body, Checksum, Fetcher, Mutability};
use crate::repository::Repository;

/// What project pages are asked for: PEP 691 JSON, else the PEP 503 HTML page.
const PAGE_ACCEPT: &str = "application/vnd.pypi.simple.v1+json, text/html;q=0.1";

/// The chosen file of one version of a project.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub file: DistFile,
    /// Whether every usable file of the version is yanked.
    pub yanked: bool,
}

/// Where a project's files come from.
#[derive(Debug)]
pub enum ProjectSource {
    /// The index at this position in the spec's list.
    Index(usize),
    /// A direct reference's URL (see [`super::direct`]).
    Direct(Repository),
    /// A git direct reference (see [`super::git`]): the repository as the lock names it
    /// (`git+URL`) with the source archive's `file:` URL in the cache, and its source.
    Git(Repository, super::git_source::GitSource),
}

/// A project as one index lists it, or as a direct reference names its one file.
#[derive(Debug)]
pub struct Project {
    pub source: ProjectSource,
    pub versions: BTreeMap<Version, Candidate>,
    /// What the page listed that gave no version, to explain a project without versions.
    pub left_out: LeftOut,
}

/// A fetched project page: the project, `None` when no index has it, or why it failed.
type ProjectResult = Result<Option<Rc<Project>>, IndexError>;

/// Fetched metadata, or why it cannot be had.
pub(super) type MetadataResult = Result<Rc<CoreMetadata>, IndexError>;

/// Pages and metadata of every index, fetched on demand and cached for the resolve.
pub struct Indexes<'a> {
    fetcher: &'a Fetcher,
    pub repositories: Vec<Repository>,
    /// How many of `repositories` `[repositories] pypi` lists: any project may come from them.
    pub general: usize,
    /// The projects layer entries name an index for, and its position: each comes from that
    /// index alone, as from uv's explicit indexes.
    explicit: HashMap<PackageName, usize>,
    target: Target,
    python: Version,
    exclude_newer: Option<crate::exclude_newer::ExcludeNewer>,
    projects: RefCell<HashMap<PackageName, ProjectResult>>,
    metadata: RefCell<HashMap<(PackageName, Version), MetadataResult>>,
    /// How sdists without static metadata are built; `None`: they are not.
    pub(super) builds: Option<Builds>,
    /// Whether a build environment is being resolved: its packages are never built.
    pub(super) resolving_build_environment: std::cell::Cell<bool>,
    /// The metadata builds started and not yet taken.
    pub(super) pending: PendingBuilds,
}

/// What building an sdist's metadata needs: the builder, and the image's marker environment,
/// for which the sdist's build dependencies are resolved.
pub struct Builds {
    pub builder: super::build::MetadataBuilder,
    pub environment: pep508_rs::MarkerEnvironment,
}

impl<'a> Indexes<'a> {
    pub fn new(
        fetcher: &'a Fetcher,
        repositories: Vec<Repository>,
        target: Target,
        exclude_newer: Option<crate::exclude_newer::ExcludeNewer>,
    ) -> Self {
        Self {
            fetcher,
            general: repositories.len(),
            repositories,
            explicit: HashMap::new(),
            python: Version::new([target.python.0, target.python.1, 0]),
            target,
            exclude_newer,
            projects: RefCell::new(HashMap::new()),
            metadata: RefCell::new(HashMap::new()),
            builds: None,
            resolving_build_environment: std::cell::Cell::new(false),
            pending: PendingBuilds::new(),
        }
    }

    /// These indexes, building the metadata of sdists that hold none statically with `builds`.
    pub fn with_builds(self, builds: Builds) -> Self {
        Self {
            builds: Some(builds),
            ..self
        }
    }

    /// The fetcher its pages and files come through.
    pub(super) fn fetcher(&self) -> &'a Fetcher {
        self.fetcher
    }

    /// Makes `project` the only source of `name`: no index is asked for it.
    pub(super) fn add_direct(&self, name: PackageName, project: Project) {
        self.projects
            .borrow_mut()
            .insert(name, Ok(Some(Rc::new(project))));
    }

    /// The URL of the direct reference that is the only source of `name`, if one is.
    pub(super) fn direct_url(&self, name: &PackageName) -> Option<url::Url> {
        match self.projects.borrow().get(name)? {
            Ok(Some(project)) => match &project.source {
                ProjectSource::Direct(repository) | ProjectSource::Git(repository, _) => {
                    Some(repository.url.clone())
                }
                ProjectSource::Index(_) => None,
            },
            _ => None,
        }
    }

    /// These indexes, the first `general` of them serving any project, and each project of
    /// `explicit` coming from the index at its position alone.
    pub fn with_explicit(self, general: usize, explicit: HashMap<PackageName, usize>) -> Self {
        Self {
            general,
            explicit,
            ..self
        }
    }

    /// Whether the index at `position` is asked for the project `name`.
    fn serves(&self, position: usize, name: &PackageName) -> bool {
        match self.explicit.get(name) {
            Some(&named) => named == position,
            None => position < self.general,
        }
    }

    /// The project `name`, or `None` when no index has it. Fetches it if not prefetched.
    pub fn project(&self, name: &PackageName) -> ProjectResult {
        self.prefetch_projects(std::slice::from_ref(name));
        self.projects
            .borrow()
            .get(name)
            .cloned()
            .unwrap_or(Ok(None))
    }

    /// Fetches the pages of all `names` not fetched yet, at once; the first index that has a
    /// project serves it (its named index, for a project a layer entry names one for).
    pub fn prefetch_projects(&self, names: &[PackageName]) {
        let mut missing: Vec<PackageName> = names
            .iter()
            .filter(|name| !self.projects.borrow().contains_key(*name))
            .cloned()
            .collect();
        missing.sort();
        missing.dedup();
        for (position, repository) in self.repositories.iter().enumerate() {
            if missing.is_empty() {
                break;
            }
            let (asked, rest): (Vec<PackageName>, Vec<PackageName>) = missing
                .into_iter()
                .partition(|name| self.serves(position, name));
            missing = rest;
            if asked.is_empty() {
                continue;
            }
            let urls: Vec<url::Url> = asked
                .iter()
                .map(|name| page_url(repository, name))
                .collect();
            let bodies = self
                .fetcher
                .get_all_accepting(&urls, "Fetching PyPI pages", PAGE_ACCEPT);
            for ((name, url), body) in asked.into_iter().zip(urls).zip(bodies) {
                let result = match body {
                    Ok(body) => self
                        .fetcher
                        .parse_or_refetch(&url, body, Some(PAGE_ACCEPT), |body| {
                            parse_page(&body, &url, name.as_ref())
                        })
                        .map_err(|source| IndexError::Page {
                            url: url.to_string(),
                            project: name.to_string(),
                            source: Arc::new(source),
                        })
                        .and_then(|page| {
                            check_urls(repository, &name, &page.files)?;
                            Ok(Some(Rc::new(self.project_of(position, &url, page))))
                        }),
                    Err(error) if error.is_not_found() => {
                        missing.push(name);
                        continue;
                    }
                    Err(error) => Err(IndexError::PageFetch {
                        project: name.to_string(),
                        source: Arc::new(error),
                    }),
                };
                self.projects.borrow_mut().insert(name, result);
            }
        }
        for name in missing {
            self.projects.borrow_mut().insert(name, Ok(None));
        }
    }

    fn project_of(&self, index: usize, url: &url::Url, page: ProjectPage) -> Project {
        let mut left_out = LeftOut {
            page: url.to_string(),
            unusable: page.unusable,
            ..LeftOut::default()
        };
        let mut by_version: BTreeMap<Version, Vec<DistFile>> = BTreeMap::new();
        for file in page.files {
            let too_new = match (self.exclude_newer, file.upload_time) {
                (Some(limit), Some(uploaded)) => limit.excludes(uploaded),
                _ => false,
            };
            let python_ok = file
                .requires_python
                .as_ref()
                .is_none_or(|specifiers| specifiers.contains(&self.python));
            if too_new {
                left_out.too_new += 1;
            } else if !python_ok {
                left_out.other_python += 1;
            } else {
                by_version
                    .entry(file.version.clone())
                    .or_default()
                    .push(file);
            }
        }
        let listed = by_version.len();
        let versions: BTreeMap<Version, Candidate> = by_version
            .into_iter()
            .filter_map(|(version, files)| {
                let yanked = files.iter().all(|f| f.yanked);
                let usable: Vec<&DistFile> = files.iter().filter(|f| yanked || !f.yanked).collect();
                let wheel = usable
                    .iter()
                    .filter(|f| f.is_wheel)
                    .filter_map(|f| Some((self.target.wheel_priority(&f.filename)?, *f)))
                    .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.filename.cmp(&b.1.filename)));
                let file = match wheel {
                    Some((_, wheel)) => wheel.clone(),
                    None => (*usable
                        .iter()
                        .filter(|f| !f.is_wheel)
                        .min_by_key(|f| (!f.filename.ends_with(".tar.gz"), f.filename.clone()))?)
                    .clone(),
                };
                Some((version, Candidate { file, yanked }))
            })
            .collect();
        left_out.incompatible = listed - versions.len();
        Project {
            source: ProjectSource::Index(index),
            versions,
            left_out,
        }
    }

    /// Why `name` offers no version at all, when it offers none: the index its entry names
    /// has no page for it, or its page lists nothing usable. `None` for a project with
    /// versions, one not asked for, or one no index of `[repositories]` has (see
    /// [`Indexes::missing_pages`]).
    pub fn why_unavailable(&self, name: &PackageName) -> Option<String> {
        match self.projects.borrow().get(name)? {
            Ok(None) => {
                let &named = self.explicit.get(name)?;
                let repository = &self.repositories[named];
                Some(format!(
                    "{name} is not on {}, the index its entry names: `{}` answered \"not found\"; name the index that has it, or remove `index`",
                    repository.label,
                    page_url(repository, name)
                ))
            }
            Ok(Some(project)) if project.versions.is_empty() => {
                Some(project.left_out.explain(name.as_ref()))
            }
            _ => None,
        }
    }

    /// The pages, quoted, that answered "not found" for `name` when no index of
    /// `[repositories]` has it; `None` when one has, or its entry names an index.
    pub fn missing_pages(&self, name: &PackageName) -> Option<Vec<String>> {
        let missing = matches!(self.projects.borrow().get(name)?, Ok(None));
        (missing && !self.explicit.contains_key(name)).then(|| {
            self.repositories[..self.general]
                .iter()
                .map(|repository| format!("`{}`", page_url(repository, name)))
                .collect()
        })
    }

    /// The projects whose pages were found so far: the names a misspelled one is compared with.
    pub fn known_projects(&self) -> Vec<String> {
        let mut known: Vec<String> = self
            .projects
            .borrow()
            .iter()
            .filter(|(_, project)| matches!(project, Ok(Some(_))))
            .map(|(name, _)| name.to_string())
            .collect();
        known.sort();
        known
    }

    /// Whether the metadata of `name` at `version` was fetched already.
    pub fn has_metadata(&self, name: &PackageName, version: &Version) -> bool {
        self.metadata
            .borrow()
            .contains_key(&(name.clone(), version.clone()))
    }

    /// The metadata of `name` at `version`, fetching it if not prefetched, and building it (or
    /// waiting for its build) if its sdist holds none statically.
    pub fn metadata(&self, name: &PackageName, version: &Version) -> MetadataResult {
        let key = (name.clone(), version.clone());
        self.prefetch_likely_metadata(std::slice::from_ref(&key));
        self.take_build(&key, Some(self.fetcher.progress()));
        let found = self.metadata.borrow().get(&key).cloned();
        found.unwrap_or_else(|| {
            Err(IndexError::NotInIndex {
                name: name.to_string(),
                version: version.to_string(),
            })
        })
    }

    /// The metadata of `name` at `version` if it is had already: `None` while its build runs,
    /// or when it was never fetched.
    pub fn ready_metadata(&self, name: &PackageName, version: &Version) -> Option<MetadataResult> {
        let key = (name.clone(), version.clone());
        self.take_build(&key, None);
        if self.pending.contains(&key) {
            return None;
        }
        self.metadata.borrow().get(&key).cloned()
    }

    /// Keeps the result of the build of `key` when it was started and is done: waited for when
    /// `wait` gives the progress to show meanwhile.
    fn take_build(&self, key: &(PackageName, Version), wait: Option<crate::progress::Progress>) {
        if let Some((build, built)) = self.pending.take(key, wait) {
            self.keep_result(key.clone(), build.finish(built));
        }
    }

    /// Fetches the metadata of the `wanted` versions, those resolution will likely choose, and
    /// starts the builds of those whose sdist holds none statically.
    pub fn prefetch_likely_metadata(&self, wanted: &[(PackageName, Version)]) {
        self.prefetch_metadata(wanted);
        self.start_builds(wanted);
    }

    /// Why the sdist of `key` holds no static metadata, when it was fetched and holds none.
    pub(super) fn lacks_static_metadata(&self, key: &(PackageName, Version)) -> Option<LookedAt> {
        match self.metadata.borrow().get(key)? {
            Err(IndexError::NoStaticMetadata { looked_at, .. }) => Some(looked_at.clone()),
            _ => None,
        }
    }

    /// Keeps `result` as the metadata of `key`.
    pub(super) fn keep_result(&self, key: (PackageName, Version), result: MetadataResult) {
        self.metadata.borrow_mut().insert(key, result);
    }

    /// Fetches the metadata of all `(name, version)` pairs not fetched yet, at once; builds
    /// none.
    pub fn prefetch_metadata(&self, wanted: &[(PackageName, Version)]) {
        let mut sidecars = Vec::new();
        let mut downloads = Vec::new();
        let mut queued = std::collections::HashSet::new();
        for (name, version) in wanted {
            let fetched = self
                .metadata
                .borrow()
                .contains_key(&(name.clone(), version.clone()));
            if fetched || !queued.insert((name, version)) {
                continue;
            }
            let Ok(Some(project)) = self
                .projects
                .borrow()
                .get(name)
                .cloned()
                .unwrap_or(Ok(None))
            else {
                continue;
            };
            let Some(candidate) = project.versions.get(version) else {
                continue;
            };
            let key = (name.clone(), version.clone());
            match (&candidate.file.core_metadata, candidate.file.is_wheel) {
                (MetadataFile::Offered { sha256 }, true) => {
                    let mut url = candidate.file.url.clone();
                    url.set_path(&format!("{}.metadata", url.path()));
                    sidecars.push((key, url, sha256.clone()));
                }
                _ => downloads.push((key, candidate.file.clone())),
            }
        }
        self.fetch_sidecars(sidecars);
        // Wheels without a `.metadata` file: read METADATA with range requests first.
        if !downloads.is_empty() {
            let wheel_urls: Vec<url::Url> = downloads
                .iter()
                .filter(|(_, file)| file.is_wheel)
                .map(|(_, file)| file.url.clone())
                .collect();
            let mut texts =
                super::wheel_range::read_metadata(self.fetcher, &wheel_urls).into_iter();
            downloads.retain(|(key, file)| {
                if !file.is_wheel {
                    return true;
                }
                match texts.next().flatten() {
                    Some(text) => {
                        let metadata = Ok(CoreMetadata::parse(&text));
                        self.keep_metadata(key.clone(), file.url.as_str(), metadata);
                        false
                    }
                    None => true,
                }
            });
        }
        self.download_for_metadata(downloads);
    }

    /// Downloads `files` (each verified against the index's sha256, from the cache when it has
    /// them), saying `what` they are for on the progress line; the path of each, or why not.
    pub(super) fn download(
        &self,
        files: &[&DistFile],
        what: &str,
    ) -> Vec<Result<std::path::PathBuf, IndexError>> {
        let requests: Vec<ArtifactRequest> = files
            .iter()
            .map(|file| ArtifactRequest {
                url: file.url.clone(),
                published: None,
                expected: file.sha256.clone().map(Checksum::Sha256),
            })
            .collect();
        let artifacts = self.fetcher.download_all(&requests, what);
        files
            .iter()
            .zip(artifacts)
            .map(|(file, artifact)| {
                artifact
                    .map(|artifact| artifact.path)
                    .map_err(|source| IndexError::Download {
                        filename: file.filename.clone(),
                        source: Arc::new(source),
                    })
            })
            .collect()
    }

    /// Downloads the files of versions whose metadata only the file itself holds (verified
    /// against the index's sha256) and reads it from them.
    fn download_for_metadata(&self, downloads: Vec<((PackageName, Version), DistFile)>) {
        if downloads.is_empty() {
            return;
        }
        let files: Vec<&DistFile> = downloads.iter().map(|(_, file)| file).collect();
        let paths = self.download(&files, "Downloading sdists and wheels for metadata");
        for ((key, file), path) in downloads.iter().zip(paths) {
            let result = path
                .and_then(|path| {
                    std::fs::read(path).map_err(|source| IndexError::Read {
                        filename: file.filename.clone(),
                        source: Arc::new(source),
                    })
                })
                .and_then(|bytes| metadata_from_file(file, &bytes, &key.0));
            self.keep_metadata(key.clone(), file.url.as_str(), result);
        }
    }

    /// Fetches `.metadata` files. Those whose sha256 the index gives are immutable: they are
    /// downloaded as verified artifacts (kept by URL in the cache, so a later resolve asks for
    /// them no more); the others are fetched as pages, revalidated each time.
    fn fetch_sidecars(&self, sidecars: Vec<((PackageName, Version), url::Url, Option<String>)>) {
        if sidecars.is_empty() {
            return;
        }
        let (hashed, unhashed): (Vec<_>, Vec<_>) = sidecars
            .into_iter()
            .partition(|(_, _, sha256)| sha256.is_some());
        let requests: Vec<ArtifactRequest> = hashed
            .iter()
            .map(|(_, url, sha256)| ArtifactRequest {
                url: url.clone(),
                published: None,
                expected: sha256.clone().map(Checksum::Sha256),
            })
            .collect();
        // A wheel's metadata never changes: once cached, it is not asked for again.
        let unhashed_requests: Vec<(url::Url, Mutability)> = unhashed
            .iter()
            .map(|(_, url, _)| (url.clone(), Mutability::Immutable))
            .collect();
        // Both kinds at once: a mixed index must not pay two round trips per batch.
        let (artifacts, bodies) = std::thread::scope(|scope| {
            let artifacts = scope.spawn(|| {
                let artifacts = self
                    .fetcher
                    .download_all(&requests, "Fetching PyPI metadata");
                artifacts
                    .into_iter()
                    .map(|artifact| {
                        let artifact = artifact?;
                        std::fs::read(&artifact.path)
                            .map(Body::from)
                            .map_err(|source| crate::fetch::FetchError::File {
                                path: artifact.path.display().to_string(),
                                source,
                            })
                    })
                    .collect::<Vec<_>>()
            });
            let bodies = self
                .fetcher
                .get_each(&unhashed_requests, "Fetching PyPI metadata");
            let artifacts = artifacts
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (artifacts, bodies)
        });
        let fetched = hashed.into_iter().zip(artifacts);
        for ((key, url, _), body) in fetched.chain(unhashed.into_iter().zip(bodies)) {
            let result = body
                .map(|bytes| CoreMetadata::parse(&String::from_utf8_lossy(&bytes)))
                .map_err(|source| IndexError::MetadataFetch {
                    url: url.to_string(),
                    source: Arc::new(source),
                });
            self.keep_metadata(key, url.as_str(), result);
        }
    }

    /// Keeps the metadata read for `key` from `source` (a URL), once it is checked to describe
    /// that project and version.
    fn keep_metadata(
        &self,
        key: (PackageName, Version),
        source: &str,
        metadata: Result<CoreMetadata, IndexError>,
    ) {
        let checked = metadata.and_then(|metadata| {
            metadata
                .describing(&key.0, &key.1)
                .map(Rc::new)
                .map_err(|error| IndexError::WrongMetadata {
                    name: key.0.to_string(),
                    version: key.1.to_string(),
                    source_url: source.to_string(),
                    source: error,
                })
        });
        self.keep_result(key, checked);
    }
}

/// Refuses a page of a remote index that names a file of `project` by a local URL.
fn check_urls(
    repository: &Repository,
    project: &PackageName,
    files: &[DistFile],
) -> Result<(), IndexError> {
    for file in files {
        repository.check_named(&file.url, &format!("{} of {project}", file.filename))?;
    }
    Ok(())
}

/// The URL of a project's page on an index: `<index>/<name>/`, or for a `file:` index the
/// `index.json` (PEP 691) in that folder.
fn page_url(repository: &Repository, name: &PackageName) -> url::Url {
    if repository.url.scheme() == "file" {
        repository.file(&format!("{name}/index.json")).0
    } else {
        repository.file(&format!("{name}/")).0
    }
}
