//! The PubGrub dependency provider over the Python indexes.
//!
//! Packages are projects, plus one virtual package per (project, extra) that depends on the
//! project at the same version and on what the extra adds. Versions are the newest first, final
//! releases before pre-releases (which are used only when nothing else fits), yanked ones only
//! for an exact pin. Lower layers' pins are the only version of their project; the previous
//! lock's pins are tried first. Whenever a package's dependencies are read, the pages of all the
//! projects it names and the metadata of the versions likely to be chosen are fetched at once,
//! so the wall time follows the depth of the graph, not its size.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use pep440_rs::Version;
use pep508_rs::{ExtraName, MarkerEnvironment, PackageName, Requirement, VersionOrUrl};
use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, PackageResolutionStatistics, Ranges,
};

use super::index::Indexes;
use super::index_error::IndexError;
use super::ranges::ranges_of;

/// How many versions of a project are fetched at once when resolution first walks down them;
/// each further walk down the same project fetches twice as many.
const BACKTRACK_BATCH: usize = 50;

/// Dependencies being collected, in a fixed order.
type Constraints = BTreeMap<PyPackage, Ranges<Version>>;

/// A node of the resolution graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PyPackage {
    /// The layer's own requirements.
    Root,
    Project(PackageName),
    /// A project with one of its extras.
    Extra(PackageName, ExtraName),
}

impl fmt::Display for PyPackage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => f.write_str("the layer's requirements"),
            Self::Project(name) => write!(f, "{name}"),
            Self::Extra(name, extra) => write!(f, "{name}[{extra}]"),
        }
    }
}

/// A failure that stops resolution (an unreachable index, a requirement no index can serve).
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error(transparent)]
    Index(#[from] IndexError),

    #[error(
        "`{requirement}` names a URL ({url}), which only the spec may do: name the file in a layer (`name @ URL`) or ask for the package by version"
    )]
    Url { requirement: String, url: String },
}

/// The provider PubGrub asks for versions and dependencies.
pub struct Provider<'a> {
    pub indexes: &'a Indexes<'a>,
    pub environment: &'a MarkerEnvironment,
    pub roots: Vec<Requirement>,
    /// Versions locked by lower layers: the only ones allowed.
    pub fixed: HashMap<PackageName, Version>,
    /// Versions of the previous lock: tried first.
    pub preferred: HashMap<PackageName, Version>,
    /// Projects the layer pins with `==`: the only ones that may resolve to yanked versions.
    pub exact: HashSet<PackageName>,
    /// The markers of the requirements that brought each project in.
    pub markers: RefCell<BTreeMap<PackageName, BTreeSet<String>>>,
    /// When each package was first seen: earlier packages are decided first.
    discovered: RefCell<HashMap<PyPackage, usize>>,
    /// Projects (with the extras asked of them) whose likely dependencies were fetched ahead.
    explored: RefCell<HashSet<String>>,
    /// How many times resolution walked down each project's older versions.
    walks: RefCell<HashMap<PackageName, u32>>,
}

impl<'a> Provider<'a> {
    pub fn new(
        indexes: &'a Indexes<'a>,
        environment: &'a MarkerEnvironment,
        roots: Vec<Requirement>,
        fixed: HashMap<PackageName, Version>,
        preferred: HashMap<PackageName, Version>,
    ) -> Self {
        let exact = roots
            .iter()
            .filter(|r| match &r.version_or_url {
                Some(VersionOrUrl::VersionSpecifier(s)) => s
                    .iter()
                    .any(|s| s.operator() == &pep440_rs::Operator::Equal),
                _ => false,
            })
            .map(|r| r.name.clone())
            .collect();
        Self {
            indexes,
            environment,
            roots,
            fixed,
            preferred,
            exact,
            markers: RefCell::new(BTreeMap::new()),
            discovered: RefCell::new(HashMap::new()),
            explored: RefCell::new(HashSet::new()),
            walks: RefCell::new(HashMap::new()),
        }
    }

    /// The dependencies `requirements` contribute, for the given active extras.
    fn constraints(
        &self,
        requirements: &[Requirement],
        extras: &[ExtraName],
    ) -> Result<Constraints, ProviderError> {
        let mut constraints = Constraints::new();
        for requirement in requirements {
            if !requirement.evaluate_markers(self.environment, extras) {
                continue;
            }
            let range = match &requirement.version_or_url {
                None => Ranges::full(),
                Some(VersionOrUrl::VersionSpecifier(specifiers)) => ranges_of(specifiers),
                // The spec's direct references are their projects' only files.
                Some(VersionOrUrl::Url(_))
                    if self.indexes.direct_url(&requirement.name).is_some() =>
                {
                    Ranges::full()
                }
                Some(VersionOrUrl::Url(url)) => {
                    return Err(ProviderError::Url {
                        requirement: requirement.to_string(),
                        url: url.to_string(),
                    });
                }
            };
            if let Some(marker) = requirement.marker.try_to_string() {
                self.markers
                    .borrow_mut()
                    .entry(requirement.name.clone())
                    .or_default()
                    .insert(marker);
            }
            let mut add = |package: PyPackage| {
                let merged = match constraints.get(&package) {
                    Some(existing) => existing.intersection(&range),
                    None => range.clone(),
                };
                constraints.insert(package, merged);
            };
            add(PyPackage::Project(requirement.name.clone()));
            for extra in &requirement.extras {
                add(PyPackage::Extra(requirement.name.clone(), extra.clone()));
            }
        }
        Ok(constraints)
    }

    /// Fetches ahead what resolution will most likely ask for next: the pages of the projects
    /// `constraints` name and the metadata of the version each would get now, then the same for
    /// their dependencies, level by level, each level in one parallel batch. Resolution then
    /// finds almost everything cached, so its wall time follows the depth of the graph.
    fn prefetch(&self, constraints: &Constraints) {
        {
            let mut discovered = self.discovered.borrow_mut();
            for package in constraints.keys() {
                let next = discovered.len();
                discovered.entry(package.clone()).or_insert(next);
            }
        }
        // Each project to look at, with its range and the extras asked of it.
        let mut frontier: Vec<(PackageName, Ranges<Version>, Vec<ExtraName>)> = Vec::new();
        for (package, range) in constraints {
            match package {
                PyPackage::Project(name) => {
                    frontier.push((name.clone(), range.clone(), Vec::new()))
                }
                PyPackage::Extra(name, extra) => {
                    frontier.push((name.clone(), range.clone(), vec![extra.clone()]))
                }
                PyPackage::Root => {}
            }
        }
        loop {
            frontier.retain(|(name, _, extras)| {
                let key = format!(
                    "{name}[{}]",
                    extras
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                );
                self.explored.borrow_mut().insert(key)
            });
            if frontier.is_empty() {
                return;
            }
            let names: Vec<PackageName> =
                frontier.iter().map(|(name, _, _)| name.clone()).collect();
            self.indexes.prefetch_projects(&names);
            let likely: Vec<(PackageName, Version, Vec<ExtraName>)> = frontier
                .iter()
                .filter_map(|(name, range, extras)| {
                    Some((name.clone(), self.pick(name, range).ok()??, extras.clone()))
                })
                .collect();
            let batch: Vec<(PackageName, Version)> = likely
                .iter()
                .map(|(name, version, _)| (name.clone(), version.clone()))
                .collect();
            self.indexes.prefetch_likely_metadata(&batch);
            let mut next = Vec::new();
            for (name, version, extras) in &likely {
                // A version whose metadata is being built is walked on from once it is needed.
                let Some(Ok(metadata)) = self.indexes.ready_metadata(name, version) else {
                    continue;
                };
                for text in &metadata.requires_dist {
                    let Ok(requirement) = super::requirement::parse(text) else {
                        continue;
                    };
                    if !requirement.evaluate_markers(self.environment, extras) {
                        continue;
                    }
                    let range = match &requirement.version_or_url {
                        Some(VersionOrUrl::VersionSpecifier(specifiers)) => ranges_of(specifiers),
                        _ => Ranges::full(),
                    };
                    next.push((requirement.name, range, requirement.extras));
                }
            }
            frontier = next;
        }
    }

    /// When PubGrub backtracks, it walks down a project's versions one by one: fetch the
    /// metadata of the next ones in the range together with the one chosen, in one batch, larger
    /// each time the same project needs another.
    fn prefetch_older(&self, name: &PackageName, chosen: &Version, range: &Ranges<Version>) {
        if self.indexes.has_metadata(name, chosen) {
            return;
        }
        let Ok(Some(project)) = self.indexes.project(name) else {
            return;
        };
        let walks = {
            let mut walks = self.walks.borrow_mut();
            let count = walks.entry(name.clone()).or_default();
            *count += 1;
            *count
        };
        let size = BACKTRACK_BATCH << (walks - 1).min(4);
        let batch: Vec<(PackageName, Version)> = project
            .versions
            .range(..=chosen.clone())
            .rev()
            .filter(|(version, candidate)| range.contains(*version) && !candidate.yanked)
            .take(size)
            .map(|(version, _)| (name.clone(), version.clone()))
            .collect();
        self.indexes.prefetch_metadata(&batch);
    }

    /// The version `name` gets within `range`: a fixed pin, else the preferred one, else the
    /// newest final release, else the newest pre-release.
    fn pick(
        &self,
        name: &PackageName,
        range: &Ranges<Version>,
    ) -> Result<Option<Version>, ProviderError> {
        if let Some(fixed) = self.fixed.get(name) {
            return Ok(range.contains(fixed).then(|| fixed.clone()));
        }
        let Some(project) = self.indexes.project(name)? else {
            return Ok(None);
        };
        let allowed = |version: &&Version| {
            range.contains(*version)
                && project
                    .versions
                    .get(*version)
                    .is_some_and(|c| !c.yanked || self.exact.contains(name))
        };
        if let Some(preferred) = self.preferred.get(name).filter(|v| allowed(v)) {
            return Ok(Some(preferred.clone()));
        }
        let newest_final = project
            .versions
            .keys()
            .rev()
            .filter(|v| !v.any_prerelease())
            .find(|v| allowed(v));
        Ok(newest_final
            .or_else(|| project.versions.keys().rev().find(|v| allowed(v)))
            .cloned())
    }
}

impl DependencyProvider for Provider<'_> {
    type P = PyPackage;
    type V = Version;
    type VS = Ranges<Version>;
    type M = String;
    type Priority = (u8, Reverse<usize>);
    type Err = ProviderError;

    fn prioritize(
        &self,
        package: &PyPackage,
        range: &Ranges<Version>,
        _: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let pinned = u8::from(range.as_singleton().is_some());
        let order = self
            .discovered
            .borrow()
            .get(package)
            .copied()
            .unwrap_or(usize::MAX);
        (pinned, Reverse(order))
    }

    fn choose_version(
        &self,
        package: &PyPackage,
        range: &Ranges<Version>,
    ) -> Result<Option<Version>, ProviderError> {
        let (PyPackage::Project(name) | PyPackage::Extra(name, _)) = package else {
            return Ok(Some(Version::new([0])));
        };
        let chosen = self.pick(name, range)?;
        if let Some(version) = &chosen {
            self.prefetch_older(name, version, range);
        }
        Ok(chosen)
    }

    fn get_dependencies(
        &self,
        package: &PyPackage,
        version: &Version,
    ) -> Result<Dependencies<PyPackage, Ranges<Version>, String>, ProviderError> {
        let constraints = match package {
            PyPackage::Root => self.constraints(&self.roots, &[])?,
            // An installed package (a lower layer's or the base image's) came with its
            // dependencies, also installed: its metadata is not needed (the base's own version
            // may be one no index has, like a Debian build of pip).
            PyPackage::Project(name) if self.fixed.get(name) == Some(version) => {
                return Ok(Dependencies::Available(DependencyConstraints::default()));
            }
            PyPackage::Project(name) | PyPackage::Extra(name, _) => {
                // Metadata that cannot be had (an sdist with dynamic dependencies, a failed
                // download) stops the resolve with its reason rather than sending PubGrub through
                // every older version.
                let metadata = self.indexes.metadata(name, version)?;
                let mut requirements = Vec::new();
                for text in &metadata.requires_dist {
                    match super::requirement::parse(text) {
                        Ok(requirement) => requirements.push(requirement),
                        Err(error) => {
                            return Ok(Dependencies::Unavailable(format!(
                                "{name} {version} declares an unreadable requirement `{text}`: {error}"
                            )));
                        }
                    }
                }
                let extras: Vec<ExtraName> = match package {
                    PyPackage::Extra(_, extra) => vec![extra.clone()],
                    _ => Vec::new(),
                };
                let mut constraints = self.constraints(&requirements, &extras)?;
                if let PyPackage::Extra(..) = package {
                    constraints.insert(
                        PyPackage::Project(name.clone()),
                        Ranges::singleton(version.clone()),
                    );
                }
                constraints
            }
        };
        self.prefetch(&constraints);
        Ok(Dependencies::Available(
            constraints
                .into_iter()
                .collect::<DependencyConstraints<_, _>>(),
        ))
    }
}
