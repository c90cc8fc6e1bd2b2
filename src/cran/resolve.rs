//! The R closure walk: newest version wins, every constraint is checked, nothing backtracks.
//!
//! This is what `install.packages()` does, made exact: starting from a layer's requirements, each
//! package's Depends, Imports and LinkingTo are followed breadth-first; the first repository that
//! has a name supplies it; a version is chosen once and every later constraint is checked against
//! it. Pins kept from an earlier lock are preferred while they fit; when one does not, the walk
//! starts again without it. Pins of lower layers are fixed. The walk is pure: the repositories are
//! already-parsed indexes, and archived and dated versions come through [`ArchiveSource`].

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use super::archive::ArchiveSource;
pub use super::archive::NoArchive;
use super::error::{Chain, ResolveError};
use super::index::{PackageEntry, RepoIndex, RepoKind};
use super::requirement::Requirement;
use super::version::RVersion;

/// R's base packages: part of R itself, never resolved.
pub const BASE_PACKAGES: &[&str] = &[
    "base",
    "compiler",
    "datasets",
    "graphics",
    "grDevices",
    "grid",
    "methods",
    "parallel",
    "splines",
    "stats",
    "stats4",
    "tcltk",
    "tools",
    "translations",
    "utils",
];

/// R's recommended packages: shipped with every R installation, so provided by the base image
/// unless a spec lists them explicitly.
pub const RECOMMENDED_PACKAGES: &[&str] = &[
    "KernSmooth",
    "MASS",
    "Matrix",
    "boot",
    "class",
    "cluster",
    "codetools",
    "foreign",
    "lattice",
    "mgcv",
    "nlme",
    "nnet",
    "rpart",
    "spatial",
    "survival",
];

/// A version pinned by a lower layer.
#[derive(Debug, Clone)]
pub struct FixedPin {
    pub version: RVersion,
    pub layer: String,
}

/// Everything one layer's walk needs.
pub struct LayerInput<'a> {
    /// The layer's name in the spec, used in error chains and notes.
    pub layer: &'a str,
    /// The layer's own requirements, with the list (`cran` or `bioconductor`) they were written in.
    pub roots: &'a [(RepoKind, Requirement)],
    /// Packages locked by lower layers.
    pub fixed: &'a HashMap<String, FixedPin>,
    /// Versions of an earlier lock, kept when they still fit.
    pub preferred: &'a HashMap<String, RVersion>,
    /// Names the spec lists anywhere: recommended packages among them are resolved, not assumed.
    pub explicit: &'a HashSet<String>,
    /// The image's R version, which every chosen package's `R (>= x)` must allow.
    pub r_version: &'a RVersion,
    /// Whether the base image was read: its library packages are then among `fixed`, and no
    /// recommended package is assumed by name.
    pub base_known: bool,
}

/// A package chosen for the layer.
#[derive(Debug, Clone)]
pub struct Selected {
    /// The chosen version as its repository's index describes it.
    pub entry: PackageEntry,
    /// Index into the repositories slice.
    pub repository: usize,
    /// Names of the locked packages it depends on (this or lower layers), sorted.
    pub dependencies: Vec<String>,
}

/// The outcome of a layer's walk.
#[derive(Debug, Default)]
pub struct LayerOutcome {
    /// Sorted by name.
    pub packages: Vec<Selected>,
    /// Things `--verbose` reports: which repository won, which pins were dropped.
    pub notes: Vec<String>,
}

/// Resolves one layer against `repositories` (in priority order).
pub fn resolve_layer(
    repositories: &[RepoIndex],
    archive: &dyn ArchiveSource,
    input: &LayerInput<'_>,
) -> Result<LayerOutcome, Box<ResolveError>> {
    let mut preferred = input.preferred.clone();
    let mut dropped = Vec::new();
    loop {
        let walk = Walk {
            repositories,
            archive,
            input,
            preferred: &preferred,
            chosen: BTreeMap::new(),
            reasons: HashMap::new(),
            notes: Vec::new(),
            prefetched: HashSet::new(),
        };
        match walk.run() {
            Err(WalkError::PreferredDoesNotFit(name)) => {
                dropped.push(format!(
                    "{name}: the locked version no longer fits the requirements; choosing again"
                ));
                preferred.remove(&name);
            }
            Err(WalkError::Resolve(error)) => return Err(error),
            Ok(mut outcome) => {
                dropped.append(&mut outcome.notes);
                outcome.notes = dropped;
                return Ok(outcome);
            }
        }
    }
}

enum WalkError {
    PreferredDoesNotFit(String),
    Resolve(Box<ResolveError>),
}

impl From<ResolveError> for WalkError {
    fn from(error: ResolveError) -> Self {
        Self::Resolve(Box::new(error))
    }
}

/// Who required a package first: the layer (`None`) or a chosen package (name and version).
#[derive(Clone)]
struct Reason {
    parent: Option<(String, String)>,
    requirement: String,
}

struct Walk<'a> {
    repositories: &'a [RepoIndex],
    archive: &'a dyn ArchiveSource,
    input: &'a LayerInput<'a>,
    preferred: &'a HashMap<String, RVersion>,
    chosen: BTreeMap<String, (Selected, bool)>,
    reasons: HashMap<String, Reason>,
    notes: Vec<String>,
    /// The packages whose current closure [`Walk::prefetch`] has asked for already.
    prefetched: HashSet<String>,
}

/// One requirement waiting to be met: from which list (roots only) and from which parent.
struct Pending {
    kind: Option<RepoKind>,
    requirement: Requirement,
    parent: Option<(String, String)>,
}

impl Walk<'_> {
    /// Walks the layer's closure breadth-first from its roots, then reports what was chosen.
    fn run(mut self) -> Result<LayerOutcome, WalkError> {
        let mut queue: VecDeque<Pending> = self
            .input
            .roots
            .iter()
            .map(|(kind, requirement)| Pending {
                kind: Some(*kind),
                requirement: requirement.clone(),
                parent: None,
            })
            .collect();
        // Level by level, what choosing a level (and, guessed, the levels below) reads fetched
        // at once before it.
        while !queue.is_empty() {
            self.prefetch(&queue);
            for pending in std::mem::take(&mut queue) {
                queue.extend(self.meet(&pending)?);
            }
        }
        Ok(self.outcome())
    }

    /// Starts at once what choosing the queued packages and everything below them reads
    /// ([`ArchiveSource::prefetch`]). Below them is guessed from the current versions'
    /// dependencies: a dated walk keeps most packages current, so their tarballs are all in
    /// flight before the first level is chosen, and a later level asks only for what the guess
    /// missed (a package chosen at an archived version may need others).
    fn prefetch(&mut self, queue: &VecDeque<Pending>) {
        let mut seen = std::mem::take(&mut self.prefetched);
        let open = |name: &str| {
            !self.is_provided(name)
                && !self.input.fixed.contains_key(name)
                && !self.chosen.contains_key(name)
        };
        let mut level: Vec<String> = queue
            .iter()
            .map(|pending| pending.requirement.name.clone())
            .filter(|name| open(name) && seen.insert(name.clone()))
            .collect();
        let mut closure = Vec::new();
        while !level.is_empty() {
            let entries = super::archive::current_entries(
                self.repositories,
                level.iter().map(String::as_str),
            );
            level = entries
                .iter()
                .flat_map(|(_, entry)| &entry.dependencies)
                .map(|dependency| dependency.name.clone())
                .filter(|name| open(name) && seen.insert(name.clone()))
                .collect();
            closure.extend(entries);
        }
        self.prefetched = seen;
        self.archive.prefetch(&closure);
    }

    /// Meets one requirement: a provided package needs nothing, a package pinned below or chosen
    /// already must fit it, any other is chosen now. Returns the requirements of a package
    /// chosen now, to be met in turn.
    fn meet(&mut self, pending: &Pending) -> Result<Vec<Pending>, WalkError> {
        let name = pending.requirement.name.clone();
        if self.is_provided(&name) {
            return Ok(Vec::new());
        }
        if let Some(pin) = self.input.fixed.get(&name) {
            self.check_fixed(pending, pin)?;
            return Ok(Vec::new());
        }
        if self.chosen.contains_key(&name) {
            self.check_chosen(pending)?;
            return Ok(Vec::new());
        }
        self.reasons.insert(
            name.clone(),
            Reason {
                parent: pending.parent.clone(),
                requirement: pending.requirement.to_string(),
            },
        );
        let (selected, from_preference) = self.choose(pending)?;
        let parent = Some((name.clone(), selected.entry.version.to_string()));
        let next = selected
            .entry
            .dependencies
            .iter()
            .map(|dependency| Pending {
                kind: None,
                requirement: dependency.clone(),
                parent: parent.clone(),
            })
            .collect();
        self.chosen.insert(name, (selected, from_preference));
        Ok(next)
    }

    /// Whether the version a lower layer pinned fits the requirement.
    fn check_fixed(&self, pending: &Pending, pin: &FixedPin) -> Result<(), WalkError> {
        if pending.requirement.matches(&pin.version) {
            return Ok(());
        }
        Err(ResolveError::LowerLayer {
            requirement: pending.requirement.to_string(),
            chain: self.chain_to(pending),
            version: pin.version.to_string(),
            lower_layer: pin.layer.clone(),
            name: pending.requirement.name.clone(),
        }
        .into())
    }

    /// Whether the version chosen already fits the requirement; a preferred version that does
    /// not is dropped (the walk starts again), any other is a conflict.
    fn check_chosen(&self, pending: &Pending) -> Result<(), WalkError> {
        let name = &pending.requirement.name;
        let Some((selected, from_preference)) = self.chosen.get(name) else {
            return Ok(());
        };
        if pending.requirement.matches(&selected.entry.version) {
            return Ok(());
        }
        if *from_preference {
            return Err(WalkError::PreferredDoesNotFit(name.clone()));
        }
        Err(ResolveError::Conflict {
            requirement: pending.requirement.to_string(),
            chain: self.chain_to(pending),
            chosen: selected.entry.version.to_string(),
            chosen_because: self.chain_of(name),
            name: name.clone(),
        }
        .into())
    }

    /// The chosen packages (sorted by name), each with the locked packages (this layer's or
    /// lower ones') it depends on, and the walk's notes.
    fn outcome(self) -> LayerOutcome {
        let locked: HashSet<&str> = self
            .chosen
            .keys()
            .map(String::as_str)
            .chain(self.input.fixed.keys().map(String::as_str))
            .collect();
        let packages = self
            .chosen
            .values()
            .map(|(selected, _)| {
                let mut selected = selected.clone();
                let mut dependencies: Vec<String> = selected
                    .entry
                    .dependencies
                    .iter()
                    .map(|d| d.name.clone())
                    .filter(|d| locked.contains(d.as_str()))
                    .collect();
                dependencies.sort();
                dependencies.dedup();
                selected.dependencies = dependencies;
                selected
            })
            .collect();
        LayerOutcome {
            packages,
            notes: self.notes,
        }
    }

    /// Base packages always; recommended ones unless the spec lists them or the base image was
    /// read (what it holds is then among the fixed pins).
    fn is_provided(&self, name: &str) -> bool {
        BASE_PACKAGES.contains(&name)
            || (RECOMMENDED_PACKAGES.contains(&name)
                && !self.input.explicit.contains(name)
                && !self.input.base_known)
    }

    /// Picks the version for a name met for the first time.
    fn choose(&mut self, pending: &Pending) -> Result<(Selected, bool), WalkError> {
        let name = &pending.requirement.name;
        let (repository, entry) = self.find(pending)?;
        let index = &self.repositories[repository];
        let entry = self.as_of(pending, index, entry)?;
        let mut wanted: Option<(RVersion, bool)> = None;
        // A kept pin newer than what the repository offers (CRAN as of a date) is not kept.
        if let Some(version) = self.preferred.get(name)
            && pending.requirement.matches(version)
            && version <= &entry.version
        {
            wanted = Some((version.clone(), true));
        }
        if wanted.is_none()
            && let Some(exact) = pending
                .requirement
                .constraints
                .iter()
                .find_map(|c| c.exact())
        {
            wanted = Some((exact.clone(), false));
        }
        let (entry, from_preference) = match wanted {
            Some((version, from_preference)) if version != entry.version => {
                let archived = self
                    .archive
                    .archived(index, name, &version)
                    .map_err(|source| ResolveError::Archive {
                        name: name.clone(),
                        version: version.to_string(),
                        chain: self.chain_to(pending),
                        repository: index.repository.label.clone(),
                        source,
                    })?;
                match archived {
                    Some(entry) => {
                        self.notes.push(format!(
                            "{name} {version}: from the archive of {}",
                            index.repository.label
                        ));
                        (entry, from_preference)
                    }
                    // A preferred version that is gone is simply not preferred any more.
                    None if from_preference => {
                        return Err(WalkError::PreferredDoesNotFit(name.clone()));
                    }
                    None => {
                        return Err(self.no_match(pending, index, &entry, true).into());
                    }
                }
            }
            Some((_, from_preference)) => (entry, from_preference),
            None => (entry, false),
        };
        if !pending.requirement.matches(&entry.version) {
            return Err(self.no_match(pending, index, &entry, false).into());
        }
        if let Some(needs) = entry
            .r_constraints
            .iter()
            .find(|c| !c.matches(self.input.r_version))
        {
            return Err(ResolveError::RTooOld {
                name: name.clone(),
                version: entry.version.to_string(),
                chain: self.chain_to(pending),
                needs: needs.to_string(),
                image_r: self.input.r_version.to_string(),
            }
            .into());
        }
        Ok((
            Selected {
                entry,
                repository,
                dependencies: Vec::new(),
            },
            from_preference,
        ))
    }

    /// The newest version of `current`'s package published by the archive's date (`current`
    /// when there is none).
    fn as_of(
        &self,
        pending: &Pending,
        index: &RepoIndex,
        current: PackageEntry,
    ) -> Result<PackageEntry, WalkError> {
        let (name, version) = (current.name.clone(), current.version.to_string());
        match self.archive.as_of(index, current) {
            Ok(Some(dated)) => Ok(dated),
            Ok(None) => Err(ResolveError::NotYetPublished {
                name,
                chain: self.chain_to(pending),
                repository: index.repository.label.clone(),
            }
            .into()),
            Err(source) => Err(ResolveError::Archive {
                name,
                version,
                chain: self.chain_to(pending),
                repository: index.repository.label.clone(),
                source,
            }
            .into()),
        }
    }

    /// The repository a layer entry names for the package, else the first general repository
    /// (of the right kind, for roots) that has the name.
    fn find(&mut self, pending: &Pending) -> Result<(usize, PackageEntry), WalkError> {
        let name = &pending.requirement.name;
        if let Some(named) = self
            .repositories
            .iter()
            .position(|i| i.named.contains(name))
        {
            return self.entry_of(pending, named);
        }
        let offering: Vec<usize> = self
            .repositories
            .iter()
            .enumerate()
            .filter(|(_, index)| index.general && index.contains(name))
            .map(|(position, _)| position)
            .collect();
        let of_kind: Vec<usize> = offering
            .iter()
            .copied()
            .filter(|&i| {
                pending
                    .kind
                    .is_none_or(|kind| self.repositories[i].kind == kind)
            })
            .collect();
        let Some(&first) = of_kind.first() else {
            if let (Some(kind), Some(&other)) = (pending.kind, offering.first()) {
                let found = self.repositories[other].kind;
                return Err(ResolveError::WrongList {
                    name: name.clone(),
                    listed: kind.ecosystem(),
                    found: found.ecosystem(),
                    repository: self.repositories[other].repository.label.clone(),
                }
                .into());
            }
            return Err(ResolveError::UnknownPackage {
                name: name.clone(),
                chain: self.chain_to(pending),
                suggestion: self.suggest(name),
            }
            .into());
        };
        if of_kind.len() > 1 {
            let others: Vec<&str> = of_kind[1..]
                .iter()
                .map(|&i| self.repositories[i].repository.label.as_str())
                .collect();
            self.notes.push(format!(
                "{name}: offered by {} and {}; using {} (listed first)",
                self.repositories[first].repository.label,
                others.join(", "),
                self.repositories[first].repository.label
            ));
        }
        self.entry_of(pending, first)
    }

    /// The entry of the pending package in repository `at`.
    fn entry_of(&self, pending: &Pending, at: usize) -> Result<(usize, PackageEntry), WalkError> {
        let name = &pending.requirement.name;
        let index = &self.repositories[at];
        match index.entry(name) {
            Some(Ok(entry)) => Ok((at, entry)),
            None => Err(ResolveError::NotInRepository {
                name: name.clone(),
                chain: self.chain_to(pending),
                repository: index.repository.label.clone(),
                elsewhere: self
                    .repositories
                    .iter()
                    .filter(|other| other.contains(name))
                    .map(|other| other.repository.label.clone())
                    .collect(),
            }
            .into()),
            Some(Err(broken)) => Err(ResolveError::BrokenEntry {
                name: name.clone(),
                chain: self.chain_to(pending),
                repository: index.repository.label.clone(),
                line: broken.line,
                source: broken.reason.clone(),
            }
            .into()),
        }
    }

    fn no_match(
        &self,
        pending: &Pending,
        index: &RepoIndex,
        current: &PackageEntry,
        archive_missed: bool,
    ) -> ResolveError {
        let name = &pending.requirement.name;
        let hint = if archive_missed {
            Some(format!(
                "Its archive has no {name} at the version asked for either"
            ))
        } else if index.kind == RepoKind::Cran && pending.parent.is_none() {
            Some(format!(
                "To use an archived version, pin it exactly: `{name} == <version>`"
            ))
        } else {
            None
        };
        ResolveError::NoMatchingVersion {
            name: name.clone(),
            requirement: pending.requirement.to_string(),
            chain: self.chain_to(pending),
            repository: index.repository.label.clone(),
            available: current.version.to_string(),
            hint,
        }
    }

    /// The chain that leads to `pending`: its parents' chain, then itself.
    fn chain_to(&self, pending: &Pending) -> Chain {
        match &pending.parent {
            None => Chain(vec![format!(
                "layer `{}` asks for {}",
                self.input.layer, pending.requirement
            )]),
            Some((parent, version)) => {
                let mut chain = self.chain_of(parent);
                chain.0.push(format!(
                    "{parent} {version} requires {}",
                    pending.requirement
                ));
                chain
            }
        }
    }

    /// Why a chosen package is in the layer.
    fn chain_of(&self, name: &str) -> Chain {
        let mut steps = Vec::new();
        let mut current = name.to_string();
        let mut seen = HashSet::new();
        while let Some(reason) = self.reasons.get(&current) {
            if !seen.insert(current.clone()) {
                break;
            }
            match &reason.parent {
                None => {
                    steps.push(format!(
                        "layer `{}` asks for {}",
                        self.input.layer, reason.requirement
                    ));
                    break;
                }
                Some((parent, version)) => {
                    steps.push(format!(
                        "{parent} {version} requires {}",
                        reason.requirement
                    ));
                    current = parent.clone();
                }
            }
        }
        steps.reverse();
        Chain(steps)
    }

    /// The closest known name, for a misspelling.
    fn suggest(&self, name: &str) -> Option<String> {
        crate::suggest::closest(
            name,
            self.repositories.iter().flat_map(|index| index.names()),
        )
    }
}
