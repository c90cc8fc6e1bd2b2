//! URL artifacts: files a layer downloads from `http(s)://` or `file:` URLs into the image
//! (`files = [{ url, sha256?, target, mode?, extract? }]`), like the jars the Databricks images
//! `curl` into `/databricks/jars` or the release tarballs they unpack.
//!
//! Each is an [`Ecosystem::File`] package named by its URL (as the lock writes it: a relative
//! `file:` path is relative to the lock) whose version is its sha256. The first resolve
//! downloads it through the crate's [`Fetcher`] (hashed while it streams into the cache) and
//! pins it; a sha256 the spec gives is checked, and a mismatch fails naming the URL and both
//! hashes. A later resolve expects the pinned sha256, so the cached blob is used (`--offline`
//! works) and upstream bytes that changed fail rather than move the pin; `--upgrade-package
//! <url>` (or its file name) forgets the pin and downloads the file again.

mod archive;
pub(crate) mod details;
mod emit;
mod inventory;
pub(crate) use inventory::installed_paths;
pub(crate) mod spec;
pub(crate) mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use self::details::FileDetails;
use self::spec::FileRequest;
use crate::ecosystem::{
    EcosystemError, LayerRequest, LayerResolution, LayerResolver, PinSource, ResolvedPackage,
};
use crate::fetch::{ArtifactRequest, Checksum, Fetcher};
use crate::lock::LockedPackage;
use crate::package::{Ecosystem, PackageDetails, SettingValue};
use crate::repository::Repository;
use crate::spec::Spec;

/// Whether `--upgrade-package asked` names the locked package `name` of `ecosystem`: by its
/// name, or for a URL artifact also by its URL's file name (`glow.jar`).
pub fn upgrade_names(asked: &str, ecosystem: Ecosystem, name: &str) -> bool {
    asked == name || (ecosystem == Ecosystem::File && spec::url_file_name(name) == asked)
}

/// A URL in the spec that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{spec}: layer `{layer}`: files: `{url}` is not a usable URL: {reason}")]
pub struct FileUrlError {
    spec: PathBuf,
    layer: String,
    url: String,
    reason: String,
}

/// The URL artifacts of one spec.
pub struct UrlFiles<'a> {
    fetcher: &'a Fetcher,
    spec_dir: PathBuf,
    lock_dir: PathBuf,
}

impl<'a> UrlFiles<'a> {
    /// The resolver, or `None` when no layer has `files`.
    pub fn load(spec: &Spec, lock_dir: &Path, fetcher: &'a Fetcher) -> Option<Self> {
        spec.layers
            .iter()
            .any(|l| !l.files.is_empty())
            .then(|| Self {
                fetcher,
                spec_dir: spec.dir(),
                lock_dir: lock_dir.to_path_buf(),
            })
    }

    /// The URL to fetch and the one the lock records for `file`.
    fn urls(&self, layer: &str, file: &FileRequest) -> Result<(url::Url, String), FileUrlError> {
        let error = |reason: String| FileUrlError {
            spec: self.spec_dir.clone(),
            layer: layer.to_string(),
            url: file.url.clone(),
            reason,
        };
        let repository = Repository::parse(&file.url, &self.spec_dir, &self.lock_dir)
            .map_err(|e| error(e.to_string()))?;
        if repository.url.scheme() == "file" && repository.url.to_file_path().is_err() {
            return Err(error("not a local path".into()));
        }
        Ok((repository.url, repository.label))
    }

    /// The package of one of `request`'s files: expecting the sha256 the spec gives, else the
    /// one the previous lock pinned, else whatever the URL serves now (downloaded afresh).
    fn package(
        &self,
        request: &LayerRequest<'_>,
        file: &FileRequest,
    ) -> Result<ResolvedPackage, FileUrlError> {
        let (url, label) = self.urls(&request.layer.name, file)?;
        let pinned = request
            .preferred
            .iter()
            .find(|pin| pin.ecosystem == Ecosystem::File && pin.name == label)
            .map(|pin| pin.version.clone());
        let expected = file.sha256.clone().or(pinned);
        if expected.is_none() && url.scheme() != "file" && !self.fetcher.is_offline() {
            // A first pin, or `--upgrade-package`: what the URL serves now, not an old copy.
            self.fetcher.forget_artifact(&url);
        }
        let repository = label
            .rsplit_once('/')
            .map_or(label.as_str(), |(folder, _)| folder)
            .to_string();
        Ok(ResolvedPackage {
            ecosystem: Ecosystem::File,
            name: label.clone(),
            version: expected.clone().unwrap_or_default(),
            repository,
            url: label,
            artifact: PinSource::Download(ArtifactRequest {
                url,
                expected: expected.map(Checksum::Sha256),
                published: None,
            }),
            license: None,
            requested: true,
            dependencies: Vec::new(),
            details: PackageDetails::File(FileDetails {
                target: file.target.clone(),
                mode: (!file.extract)
                    .then(|| file.mode.as_deref().unwrap_or(details::DEFAULT_MODE).into()),
                extract: file.extract,
                member: None,
            }),
        })
    }
}

/// A file to unpack that is not a readable tar archive.
#[derive(Debug, thiserror::Error)]
#[error("`{url}` has `extract = true` but is not a readable tar archive of the kind its name says")]
pub struct NotAnArchive {
    url: String,
    #[source]
    source: std::io::Error,
}

/// Two files that cannot both be locked.
#[derive(Debug, thiserror::Error)]
pub enum SameFile {
    /// Two files of a layer would be downloaded under one name.
    #[error(
        "layer `{layer}` lists two files named `{name}`: each file of a layer needs its own URL file name, since the step downloads them side by side"
    )]
    Name { layer: String, name: String },
    /// One URL listed by two layers: the lock names a file by its URL.
    #[error(
        "`{url}` is listed by layer `{below}` and again by layer `{layer}`: list a URL once (a lower layer's file is in every layer above it)"
    )]
    Url {
        layer: String,
        below: String,
        url: String,
    },
}

impl LayerResolver for UrlFiles<'_> {
    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::File
    }

    fn settings(&self) -> BTreeMap<String, SettingValue> {
        BTreeMap::new()
    }

    fn resolve_layer(&self, request: &LayerRequest<'_>) -> Result<LayerResolution, EcosystemError> {
        let mut packages = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        for file in &request.layer.files {
            let name = spec::url_file_name(&file.url).to_string();
            let layer = request.layer.name.clone();
            if !names.insert(name.clone()) {
                return Err(Box::new(SameFile::Name { layer, name }));
            }
            let package = self.package(request, file)?;
            let below = request
                .below
                .iter()
                .find(|pin| pin.ecosystem == Ecosystem::File && pin.name == package.name);
            if let Some(below) = below {
                let (below, url) = (below.layer.clone(), package.url);
                return Err(Box::new(SameFile::Url { layer, below, url }));
            }
            packages.push(package);
        }
        Ok(LayerResolution {
            packages,
            ..LayerResolution::default()
        })
    }

    /// The version of a URL artifact is its sha256, known once it is downloaded; an archive
    /// to unpack is read for its first regular file, which `verify` looks for.
    fn inspect_artifact(
        &self,
        package: &mut LockedPackage,
        artifact: &Path,
    ) -> Result<(), EcosystemError> {
        package.version = package.sha256.clone();
        let url = package.url.clone();
        if let PackageDetails::File(details) = &mut package.details
            && details.extract
        {
            let name = spec::url_file_name(&url);
            let read = archive::first_member(artifact, name).map_err(|source| NotAnArchive {
                url: url.clone(),
                source,
            })?;
            details.member = read;
        }
        Ok(())
    }
}
