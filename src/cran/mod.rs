//! R packages from CRAN and Bioconductor: one closure walk over every R repository.
//!
//! CRAN and Bioconductor share R's formats and version rules, and Bioconductor packages depend on
//! CRAN ones, so they are one [`LayerResolver`]: the indexes of all their repositories are fetched
//! at once (CRAN's first, so the first listed wins), and a layer's `cran` and `bioconductor` lists
//! are walked together. The lock records each package's ecosystem as the kind of repository it came
//! from.

mod archive;
pub mod binary_cache;
pub(crate) mod bioc;
mod cache_key;
pub(crate) mod dcf;
pub(crate) mod details;
mod emit;
mod error;
pub(crate) mod github;
mod index;
pub(crate) mod inventory;
pub(crate) mod renv;
mod requirement;
mod resolve;
pub(crate) mod spec;
pub(crate) mod support;
mod version;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use rayon::prelude::*;

pub(crate) use archive::read_description;
pub(crate) use cache_key::binary_cache_key;
pub(crate) use details::RDetails;
pub(crate) use error::CranError;
pub use error::ResolveError;
pub use index::{PackageEntry, RepoIndex, RepoKind};
pub use requirement::Requirement;
pub(crate) use resolve::FixedPin;
pub use resolve::{
    BASE_PACKAGES, LayerInput, LayerOutcome, NoArchive, RECOMMENDED_PACKAGES, Selected,
    resolve_layer,
};
pub use version::RVersion;

/// The fields of the first record of a DCF text (a DESCRIPTION file), or none if it is unreadable.
pub(crate) fn dcf_fields(text: &str) -> std::collections::BTreeMap<String, String> {
    let Ok(records) = dcf::parse(text) else {
        return std::collections::BTreeMap::new();
    };
    records.first().map(dcf::Record::to_map).unwrap_or_default()
}

/// How a version change of an R package reads in a review: its direction and level, or `None`
/// when either version is not an R version.
pub(crate) fn version_change(old: &str, new: &str) -> Option<(std::cmp::Ordering, ChangeLevel)> {
    let (old, new): (RVersion, RVersion) = (old.parse().ok()?, new.parse().ok()?);
    Some((new.cmp(&old), old.change_level(&new)))
}

use self::spec::{BIOCONDUCTOR_URL, BioconductorSource};
use crate::ecosystem::{
    EcosystemError, LayerRequest, LayerResolution, LayerResolver, PinSource, ResolvedPackage,
};
use crate::exclude_newer::ExcludeNewer;
use crate::fetch::{ArtifactRequest, Checksum, FetchErrors, Fetcher, gunzip};
use crate::lock::LockedPackage;
use crate::package::{ChangeLevel, Ecosystem, PackageDetails, SettingValue};
use crate::repository::Repository;
use crate::spec::Spec;

/// The most bytes a `PACKAGES.gz` may expand to: twenty times CRAN's own (~12 MB for 22,000
/// packages); one that expands past it is refused as it decompresses.
const MAX_PACKAGES: u64 = 256 << 20;

/// The R ecosystem of one spec: its repositories' indexes and the image's R version.
pub struct RPackages<'a> {
    fetcher: &'a Fetcher,
    indexes: Vec<RepoIndex>,
    r_version: RVersion,
    bioconductor_release: Option<String>,
    /// Each layer's requirements, parsed before anything is fetched.
    roots: HashMap<String, Vec<(RepoKind, Requirement)>>,
    explicit: HashSet<String>,
    /// The base image's R library packages, when it was read: fixed pins below the first layer
    /// (in place of the built-in list of recommended packages).
    base: Option<HashMap<String, RVersion>>,
    /// The GitHub packages of the layers' `github` lists and their `Remotes`, when there are.
    github: Option<github::GithubPackages>,
    /// CRAN as of this instant: the earlier of `cran-snapshot` and `--exclude-newer`.
    limit: Option<ExcludeNewer>,
}

impl<'a> RPackages<'a> {
    /// Fetches and parses every R repository the spec needs, all at once.
    /// Returns `None` when no layer asks for R packages.
    pub fn load(
        spec: &'a Spec,
        lock_dir: &Path,
        fetcher: &'a Fetcher,
        base: Option<&crate::base::BaseContents>,
        exclude_newer: Option<ExcludeNewer>,
    ) -> Result<Option<Self>, CranError> {
        let wants = |kind| {
            spec.layers
                .iter()
                .flat_map(|l| &l.requirements)
                .any(|r| r.kind == kind)
        };
        let (wants_cran, wants_bioc) = (wants(Ecosystem::Cran), wants(Ecosystem::Bioconductor));
        if !wants_cran && !wants_bioc && !wants(Ecosystem::Github) {
            return Ok(None);
        }
        let (mut roots, github_roots, named) = parse_requirements(spec)?;
        let github = match github_roots.is_empty() {
            true => None,
            false => Some(github::GithubPackages::resolve(
                spec,
                fetcher,
                github_roots,
                &mut roots,
            )?),
        };
        // As remotes and pak: a GitHub package with `biocViews` brings Bioconductor's repositories.
        let wants_bioc = wants_bioc
            || github
                .as_ref()
                .is_some_and(github::GithubPackages::wants_bioconductor);
        let r_text = spec.image.r.version.as_deref().unwrap_or_default();
        let r_version: RVersion = r_text.parse().map_err(CranError::ImageR)?;
        let (mut repositories, bioconductor_release) =
            repositories(spec, lock_dir, &r_version, wants_bioc)?;
        add_named(spec, lock_dir, &named, &mut repositories)?;
        let mut indexes = fetch_indexes(fetcher, repositories)?;
        if let Some(github) = &github {
            // First: a GitHub package wins over a repository's of the same name.
            indexes.splice(0..0, github.indexes()?);
        }
        let explicit = roots
            .values()
            .flatten()
            .map(|(_, requirement)| requirement.name.clone())
            .collect();
        let limit = as_of(spec, exclude_newer);
        Ok(Some(Self {
            limit,
            fetcher,
            indexes,
            r_version,
            bioconductor_release,
            roots,
            explicit,
            base: base.map(base_packages),
            github,
        }))
    }
}

/// The repositories to read, in order: the spec's CRAN ones, then, when `wants_bioc`,
/// Bioconductor's of the release for `r_version` (which is returned too).
fn repositories(
    spec: &Spec,
    lock_dir: &Path,
    r_version: &RVersion,
    wants_bioc: bool,
) -> Result<(Vec<Planned>, Option<String>), CranError> {
    let spec_dir = spec.dir();
    let repository = |text: &str| {
        Repository::parse(text, &spec_dir, lock_dir).map_err(|e| crate::spec::SpecError {
            path: spec.path.clone(),
            location: None,
            message: format!("[repositories]: {e}"),
        })
    };
    let mut repositories = Vec::new();
    for text in &spec.repositories.r.cran {
        repositories.push(Planned::general(repository(text)?, RepoKind::Cran));
    }
    if !wants_bioc {
        return Ok((repositories, None));
    }
    let (site, release) = match &spec.repositories.r.bioconductor {
        BioconductorSource::Auto => (BIOCONDUCTOR_URL, bioc::release_for(r_version)?),
        BioconductorSource::Mirror(url) => (url.as_str(), bioc::release_for(r_version)?),
        BioconductorSource::Release(release) => {
            bioc::check_release(release, r_version)?;
            (BIOCONDUCTOR_URL, release.as_str())
        }
    };
    let site = repository(site)?;
    for repo in bioc::repositories(&site, release) {
        repositories.push(Planned::general(repo, RepoKind::Bioconductor));
    }
    Ok((repositories, Some(release.to_string())))
}

/// CRAN as of the earlier of the spec's `cran-snapshot` and `--exclude-newer`, when either is
/// given.
fn as_of(spec: &Spec, exclude_newer: Option<ExcludeNewer>) -> Option<ExcludeNewer> {
    let snapshot = spec.repositories.r.snapshot.as_deref();
    // Checked when the spec was read.
    let snapshot = snapshot.and_then(|text| text.parse::<ExcludeNewer>().ok());
    match (snapshot, exclude_newer) {
        (Some(a), Some(b)) => Some(if a.timestamp() <= b.timestamp() { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// The R library packages of the base image (none when it has no R), by name.
fn base_packages(base: &crate::base::BaseContents) -> HashMap<String, RVersion> {
    let packages = base.r.iter().flat_map(|r| &r.packages);
    packages
        .filter_map(|(name, package)| Some((name.clone(), package.version.parse().ok()?)))
        .collect()
}

impl RPackages<'_> {
    /// `fixed` (the lower layers' pins) and the base image's R packages below them, except those
    /// the spec lists (those are resolved).
    fn with_base(&self, mut fixed: HashMap<String, FixedPin>) -> HashMap<String, FixedPin> {
        for (name, version) in self.base.iter().flatten() {
            if !self.explicit.contains(name) && !fixed.contains_key(name) {
                fixed.insert(
                    name.clone(),
                    FixedPin {
                        version: version.clone(),
                        layer: BASE_LAYER.into(),
                    },
                );
            }
        }
        fixed
    }
}

impl RPackages<'_> {
    /// The package the walk `selected`, to lock: from a GitHub archive, or from its repository's
    /// tarball (checked against the index's MD5).
    fn locked(&self, selected: Selected, requested: bool) -> ResolvedPackage {
        let index = &self.indexes[selected.repository];
        if index.kind == RepoKind::Github
            && let Some(resolved) = self
                .github
                .as_ref()
                .and_then(|github| github.resolved(&selected, requested))
        {
            return resolved;
        }
        let linking_to = linked_dependencies(&selected);
        let (url, label) = index.repository.file(&selected.entry.path);
        ResolvedPackage {
            license: selected.entry.license.clone(),
            requested,
            ecosystem: index.kind.ecosystem(),
            name: selected.entry.name,
            version: selected.entry.version.to_string(),
            repository: index.repository.label.clone(),
            url: label,
            artifact: PinSource::Download(ArtifactRequest {
                url,
                published: None,
                expected: selected.entry.md5.map(Checksum::Md5),
            }),
            dependencies: selected.dependencies,
            details: PackageDetails::R(RDetails {
                binary_sha256: None,
                needs_compilation: selected.entry.needs_compilation,
                system_requirements: None,
                github: None,
                linking_to: Some(linking_to),
            }),
        }
    }
}

/// How an error names the base image where it names the lower layer a pin comes from.
const BASE_LAYER: &str = "base image";

/// A repository to fetch the index of, and what it serves.
struct Planned {
    repository: Repository,
    kind: RepoKind,
    /// Listed in `[repositories]`: any package may come from it.
    general: bool,
    /// The packages layer entries name it for.
    named: HashSet<String>,
}

impl Planned {
    /// A repository of `[repositories]`.
    fn general(repository: Repository, kind: RepoKind) -> Self {
        Self {
            repository,
            kind,
            general: true,
            named: HashSet::new(),
        }
    }
}

/// An R entry that names the repository its package comes from.
struct NamedEntry<'a> {
    name: String,
    kind: RepoKind,
    layer: &'a str,
    entry: &'a crate::spec::RequirementEntry,
}

/// Adds the repositories layer entries name, each once (one that `[repositories]` lists
/// already is that one), with the packages named for them. A package named with two
/// repositories is refused.
fn add_named(
    spec: &Spec,
    lock_dir: &Path,
    named: &[NamedEntry<'_>],
    repositories: &mut Vec<Planned>,
) -> Result<(), CranError> {
    let mut chosen = crate::repository::NamedSources::default();
    for source in named {
        let written = source.entry.repository.as_deref().unwrap_or_default();
        let repository = Repository::parse(written, &spec.dir(), lock_dir).map_err(|e| {
            let message = format!(
                "in layer `{}`: {}'s repository: {e}",
                source.layer, source.name
            );
            spec.error_at(source.entry, message)
        })?;
        chosen
            .choose(&source.name, source.layer, &repository, "repository")
            .map_err(|m| {
                spec.error_at(source.entry, format!("in layer `{}`: {m}", source.layer))
            })?;
        let at = match repositories
            .iter()
            .position(|r| r.repository.url == repository.url)
        {
            Some(at) => at,
            None => {
                repositories.push(Planned {
                    general: false,
                    ..Planned::general(repository, source.kind)
                });
                repositories.len() - 1
            }
        };
        repositories[at].named.insert(source.name.clone());
    }
    Ok(())
}

/// What [`parse_requirements`] reads: each layer's R requirements, the GitHub references and
/// the entries that name their repository.
type ParsedRequirements<'a> = (RootsByLayer, github::LayerRefs, Vec<NamedEntry<'a>>);

/// Every layer's R requirements, its GitHub references (by layer name) and the entries that
/// name their repository; or the first malformed one with its place in the spec.
fn parse_requirements(spec: &Spec) -> Result<ParsedRequirements<'_>, CranError> {
    let mut layers = HashMap::new();
    let mut github_roots = Vec::new();
    let mut named = Vec::new();
    for layer in &spec.layers {
        let mut roots = Vec::new();
        for entry in &layer.requirements {
            // Only the R lists are R's to read: every other list has its own grammar.
            let kind = match entry.kind {
                Ecosystem::Cran => RepoKind::Cran,
                Ecosystem::Bioconductor => RepoKind::Bioconductor,
                Ecosystem::Github => {
                    let reference: github::GithubRef = entry.text.parse().map_err(|e| {
                        spec.error_at(entry, format!("in layer `{}`: {e}", layer.name))
                    })?;
                    github_roots.push((layer.name.clone(), reference));
                    continue;
                }
                _ => continue,
            };
            let requirement: Requirement = entry
                .text
                .parse()
                .map_err(|e| spec.error_at(entry, format!("in layer `{}`: {e}", layer.name)))?;
            if entry.repository.is_some() {
                named.push(NamedEntry {
                    name: requirement.name.clone(),
                    kind,
                    layer: &layer.name,
                    entry,
                });
            }
            roots.push((kind, requirement));
        }
        layers.insert(layer.name.clone(), roots);
    }
    Ok((layers, github_roots, named))
}

/// Each layer's R requirements, with the list they were written in, by layer name.
type RootsByLayer = HashMap<String, Vec<(RepoKind, Requirement)>>;

/// Fetches `PACKAGES.gz` of every repository at once, then `PACKAGES` where that is missing, and
/// parses them in parallel.
fn fetch_indexes(
    fetcher: &Fetcher,
    repositories: Vec<Planned>,
) -> Result<Vec<RepoIndex>, CranError> {
    let index_urls = |name: &str| -> Vec<url::Url> {
        repositories
            .iter()
            .map(|planned| planned.repository.file(&format!("src/contrib/{name}")).0)
            .collect()
    };
    let mut urls = index_urls("PACKAGES.gz");
    let plain_urls = index_urls("PACKAGES");
    let mut bodies = fetcher.get_all(&urls, "Fetching R indexes");
    let missing: Vec<usize> = (0..bodies.len())
        .filter(|&i| bodies[i].as_ref().is_err_and(|e| e.is_not_found()))
        .collect();
    if !missing.is_empty() {
        let fallback_urls: Vec<url::Url> = missing.iter().map(|&i| plain_urls[i].clone()).collect();
        let fallbacks = fetcher.get_all(&fallback_urls, "Fetching R indexes");
        for (i, body) in missing.into_iter().zip(fallbacks) {
            bodies[i] = body;
            urls[i] = plain_urls[i].clone();
        }
    }
    let mut fetched = Vec::new();
    let mut failures = Vec::new();
    for ((planned, url), body) in repositories.into_iter().zip(urls).zip(bodies) {
        match body {
            Ok(body) => fetched.push((planned, url, body)),
            Err(error) => failures.push(error),
        }
    }
    if !failures.is_empty() {
        return Err(FetchErrors {
            what: "R index(es)",
            errors: failures,
        }
        .into());
    }
    let limit = fetcher.index_limit(MAX_PACKAGES);
    fetched
        .into_par_iter()
        .map(|(planned, url, body)| {
            let mut index = fetcher.parse_or_refetch(&url, body, None, |body| {
                parse_index(planned.repository.clone(), planned.kind, &url, &body, limit)
            })?;
            index.general = planned.general;
            index.named = planned.named;
            Ok(index)
        })
        .collect()
}

/// Parses the body of `PACKAGES.gz` or `PACKAGES` fetched from `url`, refusing a `PACKAGES.gz`
/// that expands past `limit` bytes.
fn parse_index(
    repository: Repository,
    kind: RepoKind,
    url: &url::Url,
    body: &[u8],
    limit: u64,
) -> Result<RepoIndex, CranError> {
    let text = if url.path().ends_with(".gz") {
        let gunzipped = gunzip(body, limit, "the decompressed index").map_err(|source| {
            let url = url.to_string();
            if crate::fetch::is_too_large(&source) {
                CranError::IndexTooLarge { url, source }
            } else {
                CranError::CorruptIndex { url, source }
            }
        })?;
        // Kept as it came out when it is UTF-8 (as CRAN's is), not copied again.
        String::from_utf8(gunzipped)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    RepoIndex::parse_owned(repository, kind, text).map_err(|source| CranError::NotAnIndex {
        url: url.to_string(),
        source,
    })
}

impl LayerResolver for RPackages<'_> {
    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Cran
    }

    fn settings(&self) -> BTreeMap<String, SettingValue> {
        let labels = |kind: RepoKind| {
            self.indexes
                .iter()
                .filter(|i| i.kind == kind && i.general)
                .map(|i| i.repository.label.clone())
                .collect::<Vec<_>>()
        };
        let mut settings = BTreeMap::new();
        settings.insert(
            "r-version".into(),
            SettingValue::Text(self.r_version.to_string()),
        );
        settings.insert(
            "cran-repositories".into(),
            SettingValue::List(labels(RepoKind::Cran)),
        );
        if let Some(limit) = self.limit {
            settings.insert("cran-as-of".into(), SettingValue::Text(limit.to_string()));
        }
        if let Some(release) = &self.bioconductor_release {
            settings.insert(
                "bioconductor-release".into(),
                SettingValue::Text(release.clone()),
            );
            settings.insert(
                "bioconductor-repositories".into(),
                SettingValue::List(labels(RepoKind::Bioconductor)),
            );
        }
        if let Some(github) = &self.github {
            settings.insert(
                "github-api".into(),
                SettingValue::Text(github.api.label.clone()),
            );
        }
        settings
    }

    fn resolve_layer(&self, request: &LayerRequest<'_>) -> Result<LayerResolution, EcosystemError> {
        let roots = self
            .roots
            .get(&request.layer.name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let version = |text: &str| text.parse::<RVersion>().ok();
        let fixed: HashMap<String, FixedPin> = request
            .below
            .iter()
            .filter(|pin| pin.ecosystem.is_r())
            .filter_map(|pin| {
                Some((
                    pin.name.clone(),
                    FixedPin {
                        version: version(&pin.version)?,
                        layer: pin.layer.clone(),
                    },
                ))
            })
            .collect();
        let fixed = self.with_base(fixed);
        let preferred: HashMap<String, RVersion> = request
            .preferred
            .iter()
            .filter(|pin| pin.ecosystem.is_r())
            .filter_map(|pin| Some((pin.name.clone(), version(&pin.version)?)))
            .collect();
        let input = LayerInput {
            layer: &request.layer.name,
            roots,
            fixed: &fixed,
            preferred: &preferred,
            explicit: &self.explicit,
            r_version: &self.r_version,
            base_known: self.base.is_some(),
        };
        let archive = archive::FetchedArchive {
            fetcher: self.fetcher,
            limit: self.limit,
        };
        let outcome = resolve_layer(&self.indexes, &archive, &input).map_err(CranError::Resolve)?;
        let mut notes = self
            .github
            .as_ref()
            .map(github::GithubPackages::take_notes)
            .unwrap_or_default();
        notes.extend(outcome.notes);
        let packages = outcome
            .packages
            .into_iter()
            .map(|selected| {
                let requested = roots.iter().any(|(_, r)| r.name == selected.entry.name);
                self.locked(selected, requested)
            })
            .collect();
        Ok(LayerResolution {
            packages,
            notes,
            ..LayerResolution::default()
        })
    }

    fn inspect_artifact(
        &self,
        package: &mut LockedPackage,
        artifact: &Path,
    ) -> Result<(), EcosystemError> {
        let url = || package.url.clone();
        // Streamed from the file: a Bioconductor data package can be gigabytes.
        let file = std::fs::File::open(artifact)
            .map_err(|source| CranError::UnreadableArtifact { url: url(), source })?;
        let limit = self.fetcher.index_limit(archive::MAX_TARBALL);
        let reader = std::io::BufReader::new(file);
        let description = match package.details.r().and_then(|r| r.github.as_ref()) {
            Some(github) => {
                github::archive::read_description(reader, github.subdir.as_deref(), limit)
            }
            None => read_description(reader, &package.name, limit),
        }
        .map_err(|source| CranError::NoDescription { url: url(), source })?;
        let records = dcf::parse(&description)
            .map_err(|source| CranError::BadDescription { url: url(), source })?;
        let system_requirements = records
            .first()
            .and_then(|record| record.get("SystemRequirements"))
            .map(str::to_string);
        if let PackageDetails::R(details) = &mut package.details {
            details.system_requirements = system_requirements;
        }
        Ok(())
    }
}

#[cfg(test)]
mod fuzz;

/// The locked packages among `selected`'s `LinkingTo`, sorted: its dependencies (the locked
/// names of its Depends, Imports and LinkingTo) that its `LinkingTo` names.
fn linked_dependencies(selected: &Selected) -> Vec<String> {
    selected
        .dependencies
        .iter()
        .filter(|name| selected.entry.linking_to.contains(name))
        .cloned()
        .collect()
}

/// The sha256 of the binary the image's installer recorded for each R package of `lock` it
/// installed (by name), from the image's files `files`; records of other builds are left out.
pub(crate) fn installed_binaries(
    files: &crate::image::Files,
    lock: &crate::lock::Lock,
) -> std::collections::BTreeMap<String, String> {
    emit::BUILT.binaries(files, lock)
}
