//! R packages from GitHub: a layer's `github = ["owner/repo/subdir@ref"]` list and the GitHub
//! `Remotes:` of the packages it brings.
//!
//! Each reference's ref is resolved to a commit through the REST API
//! (`GET {api}/repos/{owner}/{repo}/commits/{ref}` asking for `application/vnd.github.sha`;
//! a JSON answer's `sha` is read too), revalidated each resolve as any mutable index is; a ref
//! that is a full SHA is immutable and not asked about. The source archive at that commit
//! (`GET {api}/repos/{owner}/{repo}/tarball/{sha}`, which GitHub redirects to codeload) is
//! downloaded into the artifact cache, and its DESCRIPTION read (never run) for the package's
//! name, version and dependencies, and for `Remotes`, which are resolved in turn. What comes out
//! is one DESCRIPTION per package, which [`super::RPackages`] walks as a one-package index before
//! CRAN's and Bioconductor's, so a GitHub package wins over a repository's of the same name, as
//! with remotes and pak. A token in `GITHUB_TOKEN` or `GITHUB_PAT` is sent to the API (and only
//! to it), never written anywhere.

pub(crate) mod archive;
pub(crate) mod error;
pub(crate) mod reference;
pub(crate) mod source;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use url::Url;

pub use error::GithubError;
pub use reference::{GithubRef, Wanted};
pub use source::GithubSource;

use super::index::{RepoIndex, RepoKind};
use super::requirement::Requirement;
use super::resolve::Selected;
use super::{CranError, RDetails, dcf};
use crate::ecosystem::{PinSource, ResolvedPackage};
use crate::fetch::{ArtifactRequest, Checksum, Fetcher};
use crate::package::{Ecosystem, PackageDetails};
use crate::repository::Repository;
use crate::spec::Spec;

/// The environment variables a GitHub token is read from, in this order (those remotes and pak
/// read).
const TOKEN_VARIABLES: [&str; 2] = ["GITHUB_TOKEN", "GITHUB_PAT"];

/// What the commits endpoint is asked for: the bare SHA.
const SHA_MEDIA_TYPE: &str = "application/vnd.github.sha";

/// The GitHub REST API packages are resolved with.
#[derive(Debug, Clone)]
pub struct GithubApi {
    /// As the lock records it (the API's URL, without a trailing `/`).
    pub label: String,
    url: Url,
}

impl GithubApi {
    /// The API at `text` (checked by the spec), sending a token from the environment if one is
    /// set.
    pub fn new(text: &str, fetcher: &Fetcher) -> Result<Self, url::ParseError> {
        let label = text.trim_end_matches('/').to_string();
        let url = Url::parse(&format!("{label}/"))?;
        if let Some(token) = TOKEN_VARIABLES
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|t| !t.trim().is_empty()))
        {
            fetcher.authorize(&url, format!("Bearer {}", token.trim()));
        }
        Ok(Self { label, url })
    }

    /// `{api}/repos/{owner}/{repo}/{rest}`.
    fn repo_url(&self, reference: &GithubRef, rest: &str) -> Url {
        let path = format!("repos/{}/{}/{rest}", reference.owner, reference.repo);
        self.url.join(&path).unwrap_or_else(|_| self.url.clone())
    }

    /// The source archive of `reference`'s repository at `commit`.
    pub fn tarball_url(&self, reference: &GithubRef, commit: &str) -> Url {
        self.repo_url(reference, &format!("tarball/{commit}"))
    }
}

/// A GitHub package, resolved: its reference, commit, archive and DESCRIPTION.
#[derive(Debug, Clone)]
pub struct GithubPackage {
    /// The reference it was resolved from.
    pub reference: GithubRef,
    /// Why it was resolved.
    pub wanted: Wanted,
    /// Its repository, ref and commit, as the lock records them.
    pub source: GithubSource,
    /// Its `Package` name.
    pub name: String,
    /// The source archive at the commit.
    pub url: Url,
    /// The archive's sha256, as downloaded.
    pub sha256: String,
    /// Its DESCRIPTION, as written.
    pub description: String,
}

/// Each layer's GitHub references, with the layer's name.
pub type LayerRefs = Vec<(String, GithubRef)>;

/// The GitHub packages of a spec, resolved, and what resolving them noted.
pub struct GithubPackages {
    /// The API they were resolved with.
    pub api: GithubApi,
    /// Every package, its layers' and their `Remotes`', by name.
    packages: BTreeMap<String, GithubPackage>,
    /// Told with the first layer's notes.
    notes: Mutex<Vec<String>>,
}

impl GithubPackages {
    /// Resolves the `github` entries of the spec's layers (`roots`) with the spec's API and adds
    /// each to its layer's `layer_roots`.
    pub fn resolve(
        spec: &Spec,
        fetcher: &Fetcher,
        roots: LayerRefs,
        layer_roots: &mut HashMap<String, Vec<(RepoKind, Requirement)>>,
    ) -> Result<Self, CranError> {
        let text = spec.repositories.r.github.as_deref();
        let api =
            GithubApi::new(text.unwrap_or(super::spec::GITHUB_API), fetcher).map_err(|e| {
                crate::spec::SpecError {
                    path: spec.path.clone(),
                    location: None,
                    message: format!("[repositories] github: {e}"),
                }
            })?;
        let wanted = roots
            .iter()
            .map(|(layer, reference)| (reference.clone(), Wanted::Layer(layer.clone())))
            .collect();
        let limit = fetcher.index_limit(super::archive::MAX_TARBALL);
        let mut notes = Vec::new();
        let packages = resolve_all(fetcher, &api, wanted, limit, &mut notes)?;
        for (layer, reference) in roots {
            if let Some(package) = packages.values().find(|p| p.reference == reference) {
                let requirement = Requirement::named(package.name.clone());
                let layer = layer_roots.entry(layer).or_default();
                layer.push((RepoKind::Github, requirement));
            }
        }
        Ok(Self {
            api,
            packages,
            notes: Mutex::new(notes),
        })
    }

    /// A one-package index of each package, for the R walk to read before the repositories'.
    pub fn indexes(&self) -> Result<Vec<RepoIndex>, Box<GithubError>> {
        self.packages
            .values()
            .map(|package| package.index(&self.api))
            .collect()
    }

    /// Whether a package has `biocViews` (it is a Bioconductor package, whose dependencies
    /// Bioconductor's repositories may hold), as remotes and pak decide.
    pub fn wants_bioconductor(&self) -> bool {
        self.packages
            .values()
            .any(|package| super::dcf_fields(&package.description).contains_key("biocViews"))
    }

    /// What resolving noted, once.
    pub fn take_notes(&self) -> Vec<String> {
        let mut notes = self
            .notes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut *notes)
    }

    /// The GitHub package the walk `selected` (from its one-package index), to lock: pinned by
    /// the archive's sha256 (downloaded again from the cache), with its GitHub source.
    pub fn resolved(&self, selected: &Selected, requested: bool) -> Option<ResolvedPackage> {
        let package = self.packages.get(&selected.entry.name)?;
        Some(ResolvedPackage {
            license: None,
            requested,
            ecosystem: Ecosystem::Github,
            name: selected.entry.name.clone(),
            version: selected.entry.version.to_string(),
            repository: self.api.label.clone(),
            url: package.url.to_string(),
            artifact: PinSource::Download(ArtifactRequest {
                url: package.url.clone(),
                published: None,
                expected: Some(Checksum::Sha256(package.sha256.clone())),
            }),
            dependencies: selected.dependencies.clone(),
            details: PackageDetails::R(RDetails {
                binary_sha256: None,
                needs_compilation: selected.entry.needs_compilation,
                system_requirements: None,
                github: Some(package.source.clone()),
                linking_to: Some(super::linked_dependencies(selected)),
            }),
        })
    }
}

impl GithubPackage {
    /// The one-package index the R walk reads it from.
    fn index(&self, api: &GithubApi) -> Result<RepoIndex, Box<GithubError>> {
        let repository = Repository {
            label: format!("GitHub {}", self.reference),
            url: api.url.clone(),
        };
        RepoIndex::parse_owned(repository, RepoKind::Github, self.description.clone()).map_err(
            |_| {
                Box::new(GithubError::NoPackage {
                    entry: self.reference.to_string(),
                    wanted: self.wanted.clone(),
                })
            },
        )
    }
}

/// Resolves `roots` and, in turn, the GitHub `Remotes` of what they bring, by package name. A
/// package two roots give is an error; a `Remotes` entry of a package a root (or an earlier
/// `Remotes` entry) already gives is left out, with a note.
pub fn resolve_all(
    fetcher: &Fetcher,
    api: &GithubApi,
    roots: Vec<(GithubRef, Wanted)>,
    limit: u64,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<String, GithubPackage>, Box<GithubError>> {
    let mut packages: BTreeMap<String, GithubPackage> = BTreeMap::new();
    let mut pending: Vec<(GithubRef, Wanted)> = Vec::new();
    for (reference, wanted) in roots {
        if !pending.iter().any(|(known, _)| *known == reference) {
            pending.push((reference, wanted));
        }
    }
    while !pending.is_empty() {
        let round: Vec<(GithubRef, Wanted)> = std::mem::take(&mut pending)
            .into_iter()
            .filter(|(reference, wanted)| {
                let known = packages
                    .values()
                    .find(|p| p.reference.same_place(reference));
                match known {
                    Some(package) if matches!(wanted, Wanted::Remotes(_)) => {
                        if package.reference != *reference {
                            notes.push(format!(
                                "{wanted} asks for {reference}; using {} (asked first)",
                                package.reference
                            ));
                        }
                        false
                    }
                    _ => true,
                }
            })
            .collect();
        let commits = commits(fetcher, api, &round)?;
        let resolved = download(fetcher, api, round, commits, limit)?;
        for package in resolved {
            let remotes = remotes(&package)?;
            if let Some(first) = packages.get(&package.name) {
                if matches!(package.wanted, Wanted::Remotes(_)) {
                    notes.push(format!(
                        "{} asks for {}; package {} comes from {} (asked first)",
                        package.wanted, package.reference, package.name, first.reference
                    ));
                    continue;
                }
                return Err(Box::new(GithubError::SamePackage {
                    name: package.name.clone(),
                    first: first.reference.to_string(),
                    second: package.reference.to_string(),
                }));
            }
            let wanted = Wanted::Remotes(package.name.clone());
            pending.extend(remotes.into_iter().map(|r| (r, wanted.clone())));
            packages.insert(package.name.clone(), package);
        }
    }
    Ok(packages)
}

/// The commit of each reference: its own SHA, or the API's answer.
fn commits(
    fetcher: &Fetcher,
    api: &GithubApi,
    round: &[(GithubRef, Wanted)],
) -> Result<Vec<String>, Box<GithubError>> {
    let asked: Vec<usize> = (0..round.len())
        .filter(|&i| round[i].0.commit().is_none())
        .collect();
    let urls: Vec<Url> = asked
        .iter()
        .map(|&i| {
            let reference = &round[i].0;
            api.repo_url(reference, &format!("commits/{}", reference.ref_or_head()))
        })
        .collect();
    let answers = fetcher.get_all_accepting(&urls, "Resolving GitHub refs", SHA_MEDIA_TYPE);
    let mut commits: Vec<String> = round
        .iter()
        .map(|(r, _)| r.commit().unwrap_or_default().to_ascii_lowercase())
        .collect();
    for ((i, url), answer) in asked.into_iter().zip(urls).zip(answers) {
        let (reference, wanted) = &round[i];
        let body = answer.map_err(|source| GithubError::fetch(reference, wanted, source))?;
        commits[i] = parse_commit(&body).ok_or_else(|| GithubError::NotACommit {
            entry: reference.to_string(),
            wanted: wanted.clone(),
            url: url.to_string(),
        })?;
    }
    Ok(commits)
}

/// The SHA of a commits answer: the bare SHA, or JSON with `sha`.
fn parse_commit(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?.trim();
    let sha = if reference::is_commit(text) {
        text.to_string()
    } else {
        let json: serde_json::Value = serde_json::from_str(text).ok()?;
        json.get("sha")?.as_str()?.to_string()
    };
    reference::is_commit(&sha).then(|| sha.to_ascii_lowercase())
}

/// Downloads each reference's archive at its commit and reads its DESCRIPTION.
fn download(
    fetcher: &Fetcher,
    api: &GithubApi,
    round: Vec<(GithubRef, Wanted)>,
    commits: Vec<String>,
    limit: u64,
) -> Result<Vec<GithubPackage>, Box<GithubError>> {
    let requests: Vec<ArtifactRequest> = round
        .iter()
        .zip(&commits)
        .map(|((reference, _), commit)| ArtifactRequest {
            url: api.tarball_url(reference, commit),
            expected: None,
            published: None,
        })
        .collect();
    let artifacts = fetcher.download_all(&requests, "Downloading GitHub archives");
    let mut packages = Vec::new();
    for ((((reference, wanted), commit), request), artifact) in
        round.into_iter().zip(commits).zip(requests).zip(artifacts)
    {
        let artifact =
            artifact.map_err(|source| GithubError::fetch(&reference, &wanted, source))?;
        let read = std::fs::File::open(&artifact.path)
            .map_err(crate::cran::error::DescriptionError::Unreadable)
            .and_then(|file| {
                archive::read_description(
                    std::io::BufReader::new(file),
                    reference.subdir.as_deref(),
                    limit,
                )
            });
        let description = match read {
            Ok(description) => description,
            Err(source) => {
                fetcher.forget_artifact(&request.url);
                return Err(Box::new(GithubError::Archive {
                    entry: reference.to_string(),
                    wanted,
                    url: request.url.to_string(),
                    source: Box::new(source),
                }));
            }
        };
        let name = description_name(&description).ok_or_else(|| GithubError::NoPackage {
            entry: reference.to_string(),
            wanted: wanted.clone(),
        })?;
        packages.push(GithubPackage {
            source: GithubSource::new(&reference, commit),
            reference,
            wanted,
            name,
            url: request.url,
            sha256: artifact.sha256,
            description,
        });
    }
    Ok(packages)
}

/// The `Package` a DESCRIPTION names, when it is one R allows.
fn description_name(description: &str) -> Option<String> {
    let fields = super::dcf_fields(description);
    let name = fields.get("Package")?.trim();
    let allowed = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
    allowed.then(|| name.to_string())
}

/// The GitHub references of a package's `Remotes` (other kinds are left to its repositories).
fn remotes(package: &GithubPackage) -> Result<Vec<GithubRef>, Box<GithubError>> {
    let records = dcf::parse(&package.description).unwrap_or_default();
    let Some(field) = records.first().and_then(|r| r.get("Remotes")) else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for entry in field.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let parsed = GithubRef::from_remote(entry).map_err(|source| GithubError::BadRemote {
            package: package.name.clone(),
            source,
        })?;
        found.extend(parsed);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_answer_is_a_bare_sha_or_json_with_one() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(parse_commit(sha.as_bytes()).as_deref(), Some(sha));
        assert_eq!(
            parse_commit(format!("{}\n", sha.to_uppercase()).as_bytes()).as_deref(),
            Some(sha)
        );
        let json = format!(r#"{{"sha": "{sha}", "commit": {{}}}}"#);
        assert_eq!(parse_commit(json.as_bytes()).as_deref(), Some(sha));
        assert_eq!(parse_commit(b"<html>"), None);
        assert_eq!(parse_commit(br#"{"sha": "; rm -rf /"}"#), None);
    }

    #[test]
    fn a_package_name_must_be_one_r_allows() {
        assert_eq!(
            description_name("Package: ok.pkg\nVersion: 1\n").as_deref(),
            Some("ok.pkg")
        );
        assert_eq!(description_name("Package: $(id)\n"), None);
        assert_eq!(description_name("Version: 1\n"), None);
    }
}
