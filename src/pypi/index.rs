//! The Python package indexes of a spec: project pages and core metadata, fetched in batches
//! (every name the resolver may need next at once) and kept for the whole resolve.
//!
//! For each version the best file for the target is chosen: the most specific compatible wheel,
//! else the sdist. Metadata comes from the PEP 658 `.metadata` file when the index serves one,
//! else from the wheel itself (downloaded, verified against the index's sha256), or from an
//! sdist's `PKG-INFO` when that is Metadata 2.2+ with static dependencies. No build backend or
//! `setup.py` is ever run.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::rc::Rc;
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::PackageName;

use super::metadata::CoreMetadata;
use super::simple::{DistFile, MetadataFile, parse_page};
use super::tags::Target;

use crate::fetch::{ArtifactRequest, Checksum, Fetcher};
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

/// A project as one index lists it.
#[derive(Debug)]
pub struct Project {
    /// Which index (position in the spec's list) serves it.
    pub index: usize,
    pub versions: BTreeMap<Version, Candidate>,
}

/// A fetched project page: the project, `None` when no index has it, or why it failed.
type ProjectResult = Result<Option<Rc<Project>>, IndexError>;

/// Fetched metadata, or why it cannot be had.
type MetadataResult = Result<Rc<CoreMetadata>, IndexError>;

/// Pages and metadata of every index, fetched on demand and cached for the resolve.
pub struct Indexes<'a> {
    fetcher: &'a Fetcher,
    pub repositories: Vec<Repository>,
    target: Target,
    python: Version,
    exclude_newer: Option<crate::exclude_newer::ExcludeNewer>,
    projects: RefCell<HashMap<PackageName, ProjectResult>>,
    metadata: RefCell<HashMap<(PackageName, Version), MetadataResult>>,
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
            repositories,
            python: Version::new([target.python.0, target.python.1, 0]),
            target,
            exclude_newer,
            projects: RefCell::new(HashMap::new()),
            metadata: RefCell::new(HashMap::new()),
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
    /// project serves it.
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
            let urls: Vec<url::Url> = missing
                .iter()
                .map(|name| page_url(repository, name))
                .collect();
            let bodies = self
                .fetcher
                .get_all_accepting(&urls, "Fetching PyPI pages", PAGE_ACCEPT);
            let mut still_missing = Vec::new();
            for ((name, url), body) in missing.into_iter().zip(urls).zip(bodies) {
                let result = match body {
                    Ok(body) => self
                        .fetcher
                        .parse_or_refetch(&url, &body, Some(PAGE_ACCEPT), |body| {
                            parse_page(body, &url, name.as_ref())
                        })
                        .map_err(|source| IndexError::Page {
                            url: url.to_string(),
                            project: name.to_string(),
                            source: Arc::new(source),
                        })
                        .and_then(|files| {
                            check_urls(repository, &name, &files)?;
                            Ok(Some(Rc::new(self.project_of(position, files))))
                        }),
                    Err(error) if error.is_not_found() => {
                        still_missing.push(name);
                        continue;
                    }
                    Err(error) => Err(IndexError::PageFetch {
                        project: name.to_string(),
                        source: Arc::new(error),
                    }),
                };
                self.projects.borrow_mut().insert(name, result);
            }
            missing = still_missing;
        }
        for name in missing {
            self.projects.borrow_mut().insert(name, Ok(None));
        }
    }

    fn project_of(&self, index: usize, files: Vec<DistFile>) -> Project {
        let mut by_version: BTreeMap<Version, Vec<DistFile>> = BTreeMap::new();
        for file in files {
            let too_new = match (self.exclude_newer, file.upload_time) {
                (Some(limit), Some(uploaded)) => limit.excludes(uploaded),
                _ => false,
            };
            let python_ok = file
                .requires_python
                .as_ref()
                .is_none_or(|specifiers| specifiers.contains(&self.python));
            if !too_new && python_ok {
                by_version
                    .entry(file.version.clone())
                    .or_default()
                    .push(file);
            }
        }
        let versions = by_version
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
        Project { index, versions }
    }

    /// Whether the metadata of `name` at `version` was fetched already.
    pub fn has_metadata(&self, name: &PackageName, version: &Version) -> bool {
        self.metadata
            .borrow()
            .contains_key(&(name.clone(), version.clone()))
    }

    /// The metadata of `name` at `version`, fetching it if not prefetched.
    pub fn metadata(&self, name: &PackageName, version: &Version) -> MetadataResult {
        self.prefetch_metadata(&[(name.clone(), version.clone())]);
        self.metadata
            .borrow()
            .get(&(name.clone(), version.clone()))
            .cloned()
            .unwrap_or_else(|| {
                Err(IndexError::NotInIndex {
                    name: name.to_string(),
                    version: version.to_string(),
                })
            })
    }

    /// Fetches the metadata of all `(name, version)` pairs not fetched yet, at once.
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
                        self.metadata
                            .borrow_mut()
                            .insert(key.clone(), Ok(Rc::new(CoreMetadata::parse(&text))));
                        false
                    }
                    None => true,
                }
            });
        }
        self.download_for_metadata(downloads);
    }

    /// Downloads the files of versions whose metadata only the file itself holds (verified
    /// against the index's sha256) and reads it from them.
    fn download_for_metadata(&self, downloads: Vec<((PackageName, Version), DistFile)>) {
        if downloads.is_empty() {
            return;
        }
        let requests: Vec<ArtifactRequest> = downloads
            .iter()
            .map(|(_, file)| ArtifactRequest {
                url: file.url.clone(),
                expected: file.sha256.clone().map(Checksum::Sha256),
            })
            .collect();
        let artifacts = self
            .fetcher
            .download_all(&requests, "Downloading sdists and wheels for metadata");
        for ((key, file), artifact) in downloads.into_iter().zip(artifacts) {
            let filename = || file.filename.clone();
            let result = artifact
                .map_err(|source| IndexError::Download {
                    filename: filename(),
                    source: Arc::new(source),
                })
                .and_then(|artifact| {
                    std::fs::read(&artifact.path).map_err(|source| IndexError::Read {
                        filename: filename(),
                        source: Arc::new(source),
                    })
                })
                .and_then(|bytes| metadata_from_file(&file, &bytes, &key.0))
                .map(Rc::new);
            self.metadata.borrow_mut().insert(key, result);
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
                expected: sha256.clone().map(Checksum::Sha256),
            })
            .collect();
        let urls: Vec<url::Url> = unhashed.iter().map(|(_, url, _)| url.clone()).collect();
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
                        std::fs::read(&artifact.path).map_err(|source| {
                            crate::fetch::FetchError::File {
                                path: artifact.path.display().to_string(),
                                source,
                            }
                        })
                    })
                    .collect::<Vec<_>>()
            });
            let bodies = self.fetcher.get_all(&urls, "Fetching PyPI metadata");
            let artifacts = artifacts
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (artifacts, bodies)
        });
        let fetched = hashed.into_iter().zip(artifacts);
        for ((key, url, _), body) in fetched.chain(unhashed.into_iter().zip(bodies)) {
            let result = body
                .map(|bytes| Rc::new(CoreMetadata::parse(&String::from_utf8_lossy(&bytes))))
                .map_err(|source| IndexError::MetadataFetch {
                    url: url.to_string(),
                    source: Arc::new(source),
                });
            self.metadata.borrow_mut().insert(key, result);
        }
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

/// Core metadata read from a downloaded wheel (`*.dist-info/METADATA`) or sdist (`PKG-INFO`).
fn metadata_from_file(
    file: &DistFile,
    bytes: &[u8],
    name: &PackageName,
) -> Result<CoreMetadata, IndexError> {
    let filename = || file.filename.clone();
    if file.is_wheel {
        return metadata_in_wheel(bytes, &file.filename);
    }
    let pkg_info = sdist_pkg_info(&file.filename, bytes).ok_or_else(|| IndexError::NoPkgInfo {
        filename: filename(),
    })?;
    let metadata = CoreMetadata::parse(&pkg_info);
    if metadata.has_static_dependencies() {
        Ok(metadata)
    } else {
        Err(IndexError::DynamicSdist {
            name: name.to_string(),
            version: file.version.to_string(),
            metadata_version: metadata.metadata_version.to_string(),
        })
    }
}

/// Core metadata read from the wheel `filename` (`*.dist-info/METADATA`), whose bytes are
/// `bytes`.
pub(super) fn metadata_in_wheel(bytes: &[u8], filename: &str) -> Result<CoreMetadata, IndexError> {
    let filename = || filename.to_string();
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|source| IndexError::Wheel {
            filename: filename(),
            source: Arc::new(source),
        })?;
    let entry = (0..archive.len())
        .filter_map(|i| archive.name_for_index(i)?.ok().map(|n| n.into_owned()))
        .find(|n| n.matches('/').count() == 1 && n.ends_with(".dist-info/METADATA"))
        .ok_or_else(|| IndexError::NoWheelMetadata {
            filename: filename(),
        })?;
    let mut text = String::new();
    archive
        .by_name(&entry)
        .map_err(|source| IndexError::Wheel {
            filename: filename(),
            source: Arc::new(source),
        })?
        .take(4 << 20)
        .read_to_string(&mut text)
        .map_err(|source| IndexError::WheelMetadata {
            filename: filename(),
            source: Arc::new(source),
        })?;
    Ok(CoreMetadata::parse(&text))
}

/// The top-level `PKG-INFO` of an sdist (`.tar.gz` or `.zip`), read without extracting.
fn sdist_pkg_info(filename: &str, bytes: &[u8]) -> Option<String> {
    let is_pkg_info = |path: &str| path.matches('/').count() == 1 && path.ends_with("/PKG-INFO");
    if filename.ends_with(".zip") {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
        let name = (0..archive.len())
            .filter_map(|i| archive.name_for_index(i)?.ok().map(|n| n.into_owned()))
            .find(|n| is_pkg_info(n))?;
        let mut text = String::new();
        archive
            .by_name(&name)
            .ok()?
            .take(4 << 20)
            .read_to_string(&mut text)
            .ok()?;
        return Some(text);
    }
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    for entry in archive.entries().ok()? {
        let entry = entry.ok()?;
        let path = entry.path().ok()?.to_string_lossy().into_owned();
        if is_pkg_info(&path) {
            let mut text = String::new();
            entry.take(4 << 20).read_to_string(&mut text).ok()?;
            return Some(text);
        }
    }
    None
}

/// Why a project page or a version's metadata cannot be had. Kept in the index's cache and
/// cloned to every question about the same page or version, so its sources are shared.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IndexError {
    #[error("the page of {project} could not be fetched")]
    PageFetch {
        project: String,
        #[source]
        source: Arc<crate::fetch::FetchError>,
    },

    /// A page that is not PEP 691's, or gives a malformed digest.
    #[error("the index page `{url}` of {project} is unusable")]
    Page {
        url: String,
        project: String,
        #[source]
        source: Arc<super::simple::PageError>,
    },

    /// A page of a remote index that names a file by a local URL.
    #[error(transparent)]
    ForeignUrl(#[from] crate::repository::ForeignUrl),

    #[error("its metadata `{url}` could not be fetched")]
    MetadataFetch {
        url: String,
        #[source]
        source: Arc<crate::fetch::FetchError>,
    },

    #[error("{filename} could not be downloaded to read its metadata")]
    Download {
        filename: String,
        #[source]
        source: Arc<crate::fetch::FetchError>,
    },

    #[error("the downloaded {filename} could not be read")]
    Read {
        filename: String,
        #[source]
        source: Arc<std::io::Error>,
    },

    #[error("{filename} is not a valid wheel")]
    Wheel {
        filename: String,
        #[source]
        source: Arc<zip::result::ZipError>,
    },

    #[error("{filename} has no .dist-info/METADATA")]
    NoWheelMetadata { filename: String },

    #[error("the METADATA of {filename} could not be read")]
    WheelMetadata {
        filename: String,
        #[source]
        source: Arc<std::io::Error>,
    },

    #[error("the sdist {filename} has no PKG-INFO")]
    NoPkgInfo { filename: String },

    #[error(
        "{name} {version} has only a source distribution, whose dependencies are not static metadata (Metadata-Version {metadata_version}); imglock never runs setup.py or a build backend, so pin a version of {name} that has a wheel"
    )]
    DynamicSdist {
        name: String,
        version: String,
        metadata_version: String,
    },

    #[error("{name} {version} is not in the index")]
    NotInIndex { name: String, version: String },
}
