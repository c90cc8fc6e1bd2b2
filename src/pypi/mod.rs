//! Python packages from PyPI-style indexes: PEP 691/503 pages, PEP 658 metadata, wheel tags for
//! the image's interpreter and platform, and a PubGrub solve per layer.
//!
//! A layer's Python requirements resolve together with those of lower layers (one interpreter):
//! the lower layers' pins are fixed. Markers are evaluated for the image (`[image] python`,
//! `platform`, `manylinux`), never the host. The lock takes each file's sha256 and size from the
//! index, so resolving downloads only metadata.

pub(crate) mod build;
mod build_requires;
mod built_metadata;
pub mod details;
mod direct;
mod dist_metadata;
mod emit;
mod error;
mod explain;
mod git;
mod git_source;
mod index;
mod index_error;
pub mod inventory;
mod left_out;
mod metadata;
mod pending_builds;
mod ranges;
mod record;
mod requirement;
pub(crate) mod requirements;
mod sdist;
mod simple;
mod solver;
pub mod spec;
pub mod support;
mod tags;
mod version;
mod wheel_range;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{
    MarkerEnvironment, MarkerEnvironmentBuilder, PackageName, Requirement, VersionOrUrl,
};
use pubgrub::PubGrubError;

pub use details::PypiDetails;
pub use error::PypiError;
pub use git::moved_refs as moved_git_refs;
pub use tags::Target;
pub use version::version_change;

use self::index::Indexes;
use self::simple::DistFile;
use self::solver::{Provider, PyPackage};
use crate::ecosystem::{
    EcosystemError, LayerRequest, LayerResolution, LayerResolver, PinSource, ResolvedPackage,
};
use crate::fetch::{ArtifactRequest, Checksum, Fetcher};
use crate::package::{Ecosystem, PackageDetails, Pin, SettingValue};
use crate::repository::Repository;
use crate::spec::{RequirementEntry, Spec, SpecError};

/// The public index used when the spec names none.
pub const PYPI_URL: &str = "https://pypi.org/simple";

/// The Python ecosystem of one spec.
pub struct PypiPackages<'a> {
    indexes: Indexes<'a>,
    environment: MarkerEnvironment,
    target: Target,
    exclude_newer: Option<crate::exclude_newer::ExcludeNewer>,
    roots: HashMap<String, Vec<Requirement>>,
}

impl<'a> PypiPackages<'a> {
    /// The Python ecosystem, or `None` when no layer asks for Python packages.
    pub fn load(
        spec: &'a Spec,
        lock_dir: &Path,
        fetcher: &'a Fetcher,
        exclude_newer: Option<crate::exclude_newer::ExcludeNewer>,
        no_build: crate::support::NoBuild<'_>,
        likely: &[Pin],
    ) -> Result<Option<Self>, PypiError> {
        let (roots, named) = layer_roots(spec)?;
        if roots.is_empty() {
            return Ok(None);
        }
        let spec_error = |message: String| SpecError {
            path: spec.path.clone(),
            location: None,
            message,
        };
        let python = spec.image.pypi.python.as_deref().ok_or_else(|| {
            spec_error("layers install Python packages but `[image] python` is not set: give the interpreter of the base image, like `python = \"3.8\"`".into())
        })?;
        let python = parse_pair(python, '.').ok_or_else(|| {
            spec_error(format!(
                "image.python `{python}` must be `major.minor`, like \"3.8\""
            ))
        })?;
        let manylinux = spec.image.pypi.manylinux.as_deref().unwrap_or("2_17");
        let manylinux = parse_pair(manylinux, '_').ok_or_else(|| {
            spec_error(format!(
                "image.manylinux `{manylinux}` must be like \"2_17\""
            ))
        })?;
        let arch = spec.image.platform.arch().machine();
        let target = Target::new(python, manylinux, arch);
        let environment = environment(&target).map_err(|source| PypiError::MarkerEnvironment {
            path: spec.path.clone(),
            source,
        })?;
        let spec_dir = spec.dir();
        let default_index = [PYPI_URL.to_string()];
        let indexes = if spec.repositories.pypi.indexes.is_empty() {
            &default_index[..]
        } else {
            &spec.repositories.pypi.indexes[..]
        };
        let mut repositories = indexes
            .iter()
            .map(|text| {
                Repository::parse(text, &spec_dir, lock_dir)
                    .map_err(|e| spec_error(format!("[repositories] pypi: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let general = repositories.len();
        let explicit = explicit_indexes(spec, lock_dir, &named, &mut repositories)?;
        let packages = Self {
            indexes: Indexes::new(fetcher, repositories, target.clone(), exclude_newer)
                .with_explicit(general, explicit)
                .with_builds(index::Builds {
                    builder: build::MetadataBuilder::new(
                        // What a container runtime reads (a local base by `oci:PATH`).
                        &crate::base::BaseReference::parse(&spec.image.base)
                            .map_or_else(|_| spec.image.base.clone(), |base| base.from_line()),
                        no_build,
                        fetcher.cache().clone(),
                    ),
                    environment: environment.clone(),
                }),
            environment,
            target,
            exclude_newer,
            roots,
        };
        packages.add_direct_references(&spec_dir, lock_dir)?;
        packages.prefetch_first_round(likely);
        Ok(Some(packages))
    }

    /// Makes each direct reference (`name @ URL`) of the layers its project's only file, read
    /// for its sha256 when the URL gives none.
    fn add_direct_references(&self, spec_dir: &Path, lock_dir: &Path) -> Result<(), PypiError> {
        let mut layers: Vec<&String> = self.roots.keys().collect();
        layers.sort();
        let mut seen: HashMap<PackageName, direct::Reference> = HashMap::new();
        for layer in layers {
            let error = |source| PypiError::Direct {
                layer: layer.clone(),
                source: Box::new(source),
            };
            for requirement in &self.roots[layer] {
                let Some(VersionOrUrl::Url(url)) = &requirement.version_or_url else {
                    continue;
                };
                let given = url.given().unwrap_or(url.raw().as_str());
                let text = requirement.to_string();
                let reference =
                    direct::Reference::read(&requirement.name, &text, given, spec_dir, lock_dir)
                        .map_err(error)?;
                if let Some(first) = seen.get(&requirement.name) {
                    direct::check_same(&requirement.name, first, &reference).map_err(error)?;
                    continue;
                }
                let project = reference
                    .project(self.indexes.fetcher(), &self.target)
                    .map_err(error)?;
                self.indexes.add_direct(requirement.name.clone(), project);
                seen.insert(requirement.name.clone(), reference);
            }
        }
        Ok(())
    }

    /// Fetches at once, in the first round, the pages of every layer's requested projects (a
    /// higher layer's pages are in by the time the layers below it are resolved) and of the
    /// `likely` ones the replaced lock pins (a re-resolve revalidates them all in one round
    /// instead of one level of the dependency tree after another).
    fn prefetch_first_round(&self, likely: &[Pin]) {
        let requested = self
            .roots
            .values()
            .flatten()
            .filter(|requirement| !matches!(requirement.version_or_url, Some(VersionOrUrl::Url(_))))
            .map(|requirement| requirement.name.clone());
        let names: Vec<PackageName> = requested.chain(pins(likely).into_keys()).collect();
        self.indexes.prefetch_projects(&names);
    }
}

/// A requirement whose entry names the index it comes from.
struct NamedIndex<'a> {
    name: PackageName,
    layer: &'a str,
    entry: &'a RequirementEntry,
}

/// The index of each project a layer entry names one for, by its position among
/// `repositories` (an index `[repositories] pypi` does not list is added); a project named with
/// two indexes is refused.
fn explicit_indexes(
    spec: &Spec,
    lock_dir: &Path,
    named: &[NamedIndex<'_>],
    repositories: &mut Vec<Repository>,
) -> Result<HashMap<PackageName, usize>, PypiError> {
    let mut explicit: HashMap<PackageName, usize> = HashMap::new();
    let mut chosen = crate::repository::NamedSources::default();
    for asked in named {
        let written = asked.entry.repository.as_deref().unwrap_or_default();
        let error = |message: String| {
            spec.error_at(
                asked.entry,
                format!("in layer `{}`: {message}", asked.layer),
            )
        };
        let repository = Repository::parse(written, &spec.dir(), lock_dir)
            .map_err(|e| error(format!("the index of `{}`: {e}", asked.entry.text)))?;
        chosen
            .choose(asked.name.as_ref(), asked.layer, &repository, "index")
            .map_err(error)?;
        let at = match repositories.iter().position(|r| r.url == repository.url) {
            Some(at) => at,
            None => {
                repositories.push(repository);
                repositories.len() - 1
            }
        };
        explicit.insert(asked.name.clone(), at);
    }
    Ok(explicit)
}

/// Each layer's Python requirements, by layer name, read as PEP 508.
type LayerRoots = HashMap<String, Vec<Requirement>>;

/// Each layer's Python requirements, and those whose entry names their index.
fn layer_roots(spec: &Spec) -> Result<(LayerRoots, Vec<NamedIndex<'_>>), PypiError> {
    let mut roots: LayerRoots = HashMap::new();
    let mut named = Vec::new();
    for layer in &spec.layers {
        for entry in layer
            .requirements
            .iter()
            .filter(|r| r.kind == Ecosystem::Pypi)
        {
            let requirement = requirement::parse(&entry.text).map_err(|e| {
                spec.error_at(
                    entry,
                    format!("in layer `{}`: not a PEP 508 requirement: {e}", layer.name),
                )
            })?;
            if entry.repository.is_some() {
                named.push(NamedIndex {
                    name: requirement.name.clone(),
                    layer: &layer.name,
                    entry,
                });
            }
            roots
                .entry(layer.name.clone())
                .or_default()
                .push(requirement);
        }
    }
    Ok((roots, named))
}

fn parse_pair(text: &str, separator: char) -> Option<(u64, u64)> {
    let (major, minor) = text.trim().split_once(separator)?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The marker environment of the image's interpreter and platform.
fn environment(target: &Target) -> Result<MarkerEnvironment, pep440_rs::VersionParseError> {
    let (major, minor) = target.python;
    let version = format!("{major}.{minor}");
    let full = format!("{major}.{minor}.0");
    MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: &full,
        os_name: "posix",
        platform_machine: &target.arch,
        platform_python_implementation: "CPython",
        platform_release: "",
        platform_system: "Linux",
        platform_version: "",
        python_full_version: &full,
        python_version: &version,
        sys_platform: "linux",
    })
}

/// A note for each package of the failed resolution `tree` that is installed below the layer
/// (by a lower layer or the base image) and no finding names: it is never changed, which the
/// tree does not say.
fn installed_below(tree: &explain::NoSolution, below: &[Pin]) -> Vec<String> {
    let named: HashSet<PackageName> = tree
        .packages()
        .into_iter()
        .filter_map(|package| match package {
            PyPackage::Project(name) | PyPackage::Extra(name, _) => Some(name.clone()),
            _ => None,
        })
        .collect();
    below
        .iter()
        .filter(|pin| PackageName::from_str(&pin.name).is_ok_and(|n| named.contains(&n)))
        .map(|pin| {
            let by = crate::ecosystem::locked_below(pin);
            format!(
                "{} {} is locked in {by}, and a higher layer never changes it: require a version it meets, or change {by}",
                pin.name, pin.version
            )
        })
        .collect()
}

fn pins(pins: &[Pin]) -> HashMap<PackageName, Version> {
    pins.iter()
        .filter(|pin| pin.ecosystem == Ecosystem::Pypi)
        .filter_map(|pin| {
            Some((
                PackageName::from_str(&pin.name).ok()?,
                Version::from_str(&pin.version).ok()?,
            ))
        })
        .collect()
}

impl LayerResolver for PypiPackages<'_> {
    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Pypi
    }

    fn settings(&self) -> BTreeMap<String, SettingValue> {
        let mut settings = BTreeMap::new();
        let labels = self.indexes.repositories[..self.indexes.general]
            .iter()
            .map(|r| r.label.clone())
            .collect();
        settings.insert("pypi-indexes".into(), SettingValue::List(labels));
        let (major, minor) = self.target.python;
        settings.insert(
            "python-version".into(),
            SettingValue::Text(format!("{major}.{minor}")),
        );
        let (glibc_major, glibc_minor) = self.target.manylinux;
        settings.insert(
            "python-platform".into(),
            SettingValue::Text(format!(
                "manylinux_{glibc_major}_{glibc_minor}_{}",
                self.target.arch
            )),
        );
        if let Some(limit) = self.exclude_newer {
            settings.insert(
                "exclude-newer".into(),
                SettingValue::Text(limit.to_string()),
            );
        }
        settings
    }

    fn resolve_layer(&self, request: &LayerRequest<'_>) -> Result<LayerResolution, EcosystemError> {
        let Some(roots) = self.roots.get(&request.layer.name) else {
            return Ok(LayerResolution::default());
        };
        let layer = &request.layer.name;
        let fixed = pins(request.below);
        let provider = Provider::new(
            &self.indexes,
            &self.environment,
            roots.clone(),
            fixed.clone(),
            pins(request.preferred),
        );
        let failure = explain::Failure {
            layer,
            roots,
            below: request.below,
            indexes: &self.indexes,
        };
        let chosen = solve(&provider, &failure)?;
        let markers = provider.markers.borrow();
        let mut names: Vec<&PackageName> = chosen
            .keys()
            .filter(|name| !fixed.contains_key(*name))
            .collect();
        names.sort();
        let notes = self.sdist_notes(&names, &chosen);
        let sdists: Vec<(&PackageName, &Version)> = names
            .iter()
            .filter(|name| !self.is_wheel(name, &chosen[**name]))
            .map(|name| (*name, &chosen[*name]))
            .collect();
        let mut builds = self.build_environments(layer, &sdists, request.preferred_builds)?;
        let packages = names
            .into_iter()
            .map(|name| {
                let mut package = self.resolved_package(name, &chosen, roots, &markers)?;
                if let PackageDetails::Pypi(details) = &mut package.details {
                    details.build_requires = builds.pins.remove(name).unwrap_or_default();
                }
                Ok(package)
            })
            .collect::<Result<Vec<_>, PypiError>>()?;
        Ok(LayerResolution {
            packages,
            build_packages: builds.packages,
            notes,
        })
    }
}

impl PypiPackages<'_> {
    /// Whether the file chosen for `name` at `version` is a wheel (else an sdist).
    fn is_wheel(&self, name: &PackageName, version: &Version) -> bool {
        self.indexes
            .project(name)
            .ok()
            .flatten()
            .and_then(|project| Some(project.versions.get(version)?.file.is_wheel))
            .unwrap_or(true)
    }

    /// For `--verbose`: which file of each chosen sdist gave its dependencies.
    fn sdist_notes(
        &self,
        names: &[&PackageName],
        chosen: &HashMap<PackageName, Version>,
    ) -> Vec<String> {
        names
            .iter()
            .filter_map(|name| {
                let version = &chosen[*name];
                let metadata = self.indexes.metadata(name, version).ok()?;
                let source = metadata.sdist_source?;
                Some(format!(
                    "{name} {version} is an sdist: its dependencies were read from {source}"
                ))
            })
            .collect()
    }

    /// The lock entry of `name` at the version the solve chose: its file and index, the markers
    /// it was required under, and the chosen packages it depends on.
    fn resolved_package(
        &self,
        name: &PackageName,
        chosen: &HashMap<PackageName, Version>,
        roots: &[Requirement],
        markers: &BTreeMap<PackageName, BTreeSet<String>>,
    ) -> Result<ResolvedPackage, PypiError> {
        let version = &chosen[name];
        let project = self
            .indexes
            .project(name)?
            .ok_or_else(|| PypiError::Vanished {
                name: name.to_string(),
            })?;
        let candidate = &project.versions[version];
        let file = &candidate.file;
        // A direct reference's repository is its file: the lock names both as written; a git
        // reference's is its repository, its file the repository at the commit.
        let (repository, url, git) = match &project.source {
            index::ProjectSource::Index(position) => {
                let repository = &self.indexes.repositories[*position];
                (repository, repository.label_for(&file.url), None)
            }
            index::ProjectSource::Direct(repository) => {
                (repository, repository.label.clone(), None)
            }
            index::ProjectSource::Git(repository, git) => (repository, git.pinned(), Some(git)),
        };
        let metadata = self.indexes.metadata(name, version)?;
        Ok(ResolvedPackage {
            ecosystem: Ecosystem::Pypi,
            name: name.to_string(),
            version: version.to_string(),
            repository: repository.label.clone(),
            url,
            artifact: pin_source(file),
            license: metadata.license.clone(),
            requested: roots.iter().any(|r| &r.name == name),
            dependencies: self.chosen_dependencies(&metadata.requires_dist, chosen),
            details: PackageDetails::Pypi(PypiDetails {
                markers: markers
                    .get(name)
                    .map(|m| m.iter().cloned().collect())
                    .unwrap_or_default(),
                git: git.cloned(),
                ..PypiDetails::default()
            }),
        })
    }

    /// The names of the `chosen` packages among `requires_dist` whose markers hold for the image,
    /// sorted, each once.
    fn chosen_dependencies(
        &self,
        requires_dist: &[String],
        chosen: &HashMap<PackageName, Version>,
    ) -> Vec<String> {
        let mut dependencies: Vec<String> = requires_dist
            .iter()
            .filter_map(|text| requirement::parse(text).ok())
            .filter(|r| r.evaluate_markers(&self.environment, &[]) && chosen.contains_key(&r.name))
            .map(|r| r.name.to_string())
            .collect();
        dependencies.sort();
        dependencies.dedup();
        dependencies
    }
}

/// Runs PubGrub for the layer `layer` and returns the chosen version of each project; when no
/// solution exists, the error keeps PubGrub's explanation.
fn solve(
    provider: &Provider<'_>,
    failure: &explain::Failure<'_>,
) -> Result<HashMap<PackageName, Version>, PypiError> {
    let solution = match pubgrub::resolve(provider, PyPackage::Root, Version::new([0])) {
        Ok(solution) => solution,
        Err(PubGrubError::NoSolution(tree)) => return Err(no_solution(provider, failure, tree)),
        Err(PubGrubError::ErrorChoosingVersion { package, source }) => {
            return Err(PypiError::ChoosingVersion {
                package,
                source: Box::new(source),
            });
        }
        Err(PubGrubError::ErrorRetrievingDependencies {
            package,
            version,
            source,
        }) => {
            return Err(PypiError::ReadingDependencies {
                package,
                version,
                source: Box::new(source),
            });
        }
        Err(PubGrubError::ErrorInShouldCancel(source)) => {
            return Err(PypiError::Cancelled(Box::new(source)));
        }
    };
    Ok(solution
        .iter()
        .filter_map(|(package, version)| match package {
            PyPackage::Project(name) => Some((name.clone(), version.clone())),
            _ => None,
        })
        .collect())
}

/// The error of a solve that found no solution: the findings `failure` reads from `tree`,
/// PubGrub's explanation, and why each project that offered no version offered none.
fn no_solution(
    provider: &Provider<'_>,
    failure: &explain::Failure<'_>,
    tree: explain::NoSolution,
) -> PypiError {
    let mut collapsed = tree.clone();
    collapsed.collapse_no_versions();
    let explanation = failure.explain(&tree, &collapsed);
    let mut unavailable: Vec<String> = tree
        .packages()
        .into_iter()
        .filter_map(|package| match package {
            PyPackage::Project(name) => provider.indexes.why_unavailable(name),
            _ => None,
        })
        .collect();
    unavailable.extend(installed_below(&tree, &explanation.unexplained_pins));
    unavailable.sort();
    unavailable.dedup();
    PypiError::NoSolution {
        layer: failure.layer.to_string(),
        tree: Box::new(collapsed),
        findings: explanation.findings,
        complete: explanation.complete,
        unavailable,
    }
}

/// How the lock pins a file: by the sha256 and size the index gives, or by downloading it
/// when the index does not give both.
fn pin_source(file: &DistFile) -> PinSource {
    match (&file.sha256, file.size) {
        (Some(sha256), Some(size)) => PinSource::Known {
            sha256: sha256.clone(),
            size,
        },
        (sha256, _) => PinSource::Download(ArtifactRequest {
            url: file.url.clone(),
            published: None,
            expected: sha256.clone().map(Checksum::Sha256),
        }),
    }
}

#[cfg(test)]
mod fuzz;
