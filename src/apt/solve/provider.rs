//! The apt index as resolvo's `DependencyProvider`: each real package name's solvables (as
//! apt sees them: its candidate version, the highest pin priority's latest for the native
//! architecture or `all`, and its installed version; every version of a name a request
//! constrains), each virtual name's
//! providers, dependencies as requirements (alternatives as unions, in their written order) and
//! `Conflicts`/`Breaks` as constraints, and apt's candidate order: installed first, then pin
//! priority, then version.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::fmt::Display;

use resolvo::utils::Pool;
use resolvo::{
    Candidates, Condition, ConditionId, Dependencies, DependencyProvider, Interner,
    KnownDependencies, NameId, Requirement, SolvableId, SolverCache, StringId, VersionSetId,
    VersionSetUnionId,
};

use super::input::{Installed, SolveOptions};
use super::sets::{AptName, AptSet, Clash, Qualifier, Record, Wanted, equal, hits};
use crate::apt::index::{AptIndex, Candidate};
use crate::apt::packages::{MultiArch, Priority};
use crate::apt::relation::{Alternatives, Dependency};
use crate::apt::version::Version;

/// The solvables of one real package name.
#[derive(Debug, Default, Clone)]
struct Named {
    solvables: Vec<SolvableId>,
    /// The solvable each index candidate became (`None`: another architecture).
    by_position: Vec<Option<SolvableId>>,
    installed: Option<SolvableId>,
    /// apt's candidate version.
    candidate: Option<SolvableId>,
}

/// The index, the installed packages and the options, as resolvo asks for them.
pub struct AptProvider<'a, 'b> {
    pub(super) pool: Pool<AptSet, AptName>,
    pub(super) index: &'a AptIndex,
    pub(super) installed: &'b [Installed],
    pub(super) options: &'b SolveOptions,
    installed_by_name: HashMap<&'b str, usize>,
    /// Installed packages' provides, by provided name: (installed entry, version).
    installed_provides: HashMap<&'b str, Vec<(usize, Option<Version>)>>,
    /// Names a request constrains: every version of them is a candidate (as `apt-get install
    /// name=version` selects one), not only apt's candidate and the installed one.
    every_version: HashSet<String>,
    named: RefCell<HashMap<NameId, Named>>,
    virtuals: RefCell<HashMap<NameId, Vec<SolvableId>>>,
}

impl<'a, 'b> AptProvider<'a, 'b> {
    /// A provider over `index`, with `installed` in the base image.
    pub fn new(
        index: &'a AptIndex,
        installed: &'b [Installed],
        options: &'b SolveOptions,
        every_version: HashSet<String>,
    ) -> Self {
        let mut installed_provides: HashMap<&str, Vec<(usize, Option<Version>)>> = HashMap::new();
        for (entry, package) in installed.iter().enumerate() {
            for provided in &package.provides {
                installed_provides
                    .entry(provided.name.as_str())
                    .or_default()
                    .push((entry, provided.version.clone()));
            }
        }
        Self {
            pool: Pool::new(),
            index,
            installed,
            options,
            installed_by_name: installed
                .iter()
                .enumerate()
                .map(|(i, p)| (p.name.as_str(), i))
                .collect(),
            installed_provides,
            every_version,
            named: RefCell::default(),
            virtuals: RefCell::default(),
        }
    }

    /// Whether `name` is a real package (a candidate or installed).
    pub fn is_real(&self, name: &str) -> bool {
        !self.index.candidates(name).is_empty() || self.installed_by_name.contains_key(name)
    }

    /// Whether something provides `name`.
    pub fn is_provided(&self, name: &str) -> bool {
        !self.index.providers(name).is_empty() || self.installed_provides.contains_key(name)
    }

    /// The index candidate a solvable is, if it is one.
    pub fn candidate(&self, solvable: SolvableId) -> Option<&'a Candidate> {
        let resolved = self.pool.resolve_solvable(solvable);
        match &resolved.record {
            Record::Candidate { position, .. } => {
                let name = self.pool.resolve_package_name(resolved.name).as_str();
                Some(&self.index.candidates(name)[*position])
            }
            _ => None,
        }
    }

    /// Whether a package's solvable is its installed version.
    pub fn is_installed(&self, solvable: SolvableId) -> bool {
        let name = self.pool.resolve_solvable(solvable).name;
        self.package(name).installed == Some(solvable)
    }

    /// apt's candidate of the real package `name`, when a source has one.
    pub fn apt_candidate(&self, name: &str) -> Option<SolvableId> {
        let (id, _) = self.package_solvables(name);
        self.package(id).candidate
    }

    /// The name a solvable belongs to, as Debian writes it.
    pub fn name_of(&self, solvable: SolvableId) -> &str {
        let name = self.pool.resolve_solvable(solvable).name;
        self.pool.resolve_package_name(name).as_str()
    }

    /// The solvable of the name `id` at `version`: the one `named` already has, else a new one
    /// made from `record`.
    fn solvable_at(
        &self,
        id: NameId,
        named: &mut Named,
        version: &Version,
        record: impl FnOnce() -> Record,
    ) -> SolvableId {
        let existing = named
            .solvables
            .iter()
            .copied()
            .find(|&s| self.pool.resolve_solvable(s).record.version() == Some(version));
        existing.unwrap_or_else(|| {
            let solvable = self.pool.intern_solvable(id, record());
            named.solvables.push(solvable);
            solvable
        })
    }
    /// The solvables of the real package `name`, created on first use.
    pub fn package_solvables(&self, name: &str) -> (NameId, Vec<SolvableId>) {
        let id = self
            .pool
            .intern_package_name(AptName::Package(name.to_string()));
        (id, self.package(id).solvables)
    }

    fn package(&self, id: NameId) -> Named {
        if let Some(named) = self.named.borrow().get(&id) {
            return named.clone();
        }
        let name = self.pool.resolve_package_name(id).as_str().to_string();
        let candidates = self.index.candidates(&name);
        let native = &self.options.architecture;
        let mut order: Vec<usize> = (0..candidates.len())
            .filter(|&i| {
                [native.as_str(), "all"].contains(&candidates[i].package.architecture.as_str())
            })
            .collect();
        // apt's candidate first: the highest pin priority, then the latest version.
        order.sort_by(|&a, &b| {
            let pin = |i: usize| self.options.priority(self.index, candidates[i].origin);
            pin(b)
                .cmp(&pin(a))
                .then_with(|| {
                    candidates[b]
                        .package
                        .version
                        .cmp(&candidates[a].package.version)
                })
                .then_with(|| candidates[a].origin.cmp(&candidates[b].origin))
        });
        let installed = self
            .installed_by_name
            .get(name.as_str())
            .map(|&e| &self.installed[e].version);
        let every_version = self.every_version.contains(name.as_str());
        let mut named = Named {
            by_position: vec![None; candidates.len()],
            ..Named::default()
        };
        let candidate = order.first().map(|&i| &candidates[i].package.version);
        for position in order {
            let version = &candidates[position].package.version;
            if !(every_version || Some(version) == candidate || Some(version) == installed) {
                continue;
            }
            let solvable = self.solvable_at(id, &mut named, version, || Record::Candidate {
                position,
                version: version.clone(),
            });
            named.by_position[position] = Some(solvable);
            named.candidate.get_or_insert(solvable);
        }
        if let Some(&entry) = self.installed_by_name.get(name.as_str()) {
            let version = &self.installed[entry].version;
            let installed = self.solvable_at(id, &mut named, version, || Record::Installed {
                entry,
                version: version.clone(),
            });
            named.installed = Some(installed);
        }
        self.named.borrow_mut().insert(id, named.clone());
        named
    }

    /// The installed-only solvable of installed entry `entry`, or its index candidate.
    fn installed_solvable(&self, entry: usize) -> Option<SolvableId> {
        let (id, _) = self.package_solvables(&self.installed[entry].name);
        self.package(id).installed
    }

    /// Every providing package of the virtual `name` that `keep` accepts: (provider solvable,
    /// provided version).
    pub fn providers(&self, name: &str) -> Vec<(SolvableId, Option<Version>)> {
        let mut out: Vec<(SolvableId, Option<Version>)> = Vec::new();
        for provider in self.index.providers(name) {
            let (id, _) = self.package_solvables(&provider.package);
            if let Some(solvable) = self.package(id).by_position[provider.candidate]
                && !out.iter().any(|(s, _)| *s == solvable)
            {
                out.push((solvable, provider.version.clone()));
            }
        }
        for (entry, version) in self.installed_provides.get(name).into_iter().flatten() {
            if let Some(solvable) = self.installed_solvable(*entry)
                && !out.iter().any(|(s, _)| *s == solvable)
            {
                out.push((solvable, version.clone()));
            }
        }
        out
    }

    fn virtual_solvables(&self, id: NameId) -> Vec<SolvableId> {
        if let Some(solvables) = self.virtuals.borrow().get(&id) {
            return solvables.clone();
        }
        let name = self.pool.resolve_package_name(id).as_str().to_string();
        let solvables: Vec<SolvableId> = self
            .providers(&name)
            .into_iter()
            .map(|(provider, version)| {
                self.pool
                    .intern_solvable(id, Record::Provided { provider, version })
            })
            .collect();
        self.virtuals.borrow_mut().insert(id, solvables.clone());
        solvables
    }

    /// The version sets one alternative of a dependency stands for: the real package's, then
    /// the virtual name's (when something provides it).
    fn sets_of(&self, dependency: &Dependency, out: &mut Vec<VersionSetId>) {
        let wanted = Wanted::of(dependency, &self.options.architecture);
        let name = dependency.name.as_str();
        let provided = self.is_provided(name);
        let real = (self.is_real(name) || !provided).then(|| {
            let id = self
                .pool
                .intern_package_name(AptName::Package(name.to_string()));
            self.pool
                .intern_version_set(id, AptSet::Satisfies(wanted.clone()))
        });
        let virtual_set = provided.then(|| {
            let id = self
                .pool
                .intern_package_name(AptName::Virtual(name.to_string()));
            self.pool
                .intern_version_set(id, AptSet::Provides(wanted.clone()))
        });
        // A dependency an installed provider already meets needs nothing installed, as apt
        // sees it: the providers come first then, before a real package of the name that is
        // not installed (x11-common's `lsb-base (>= 1.3-9ubuntu2)`, met by the essential
        // sysvinit-utils' `Provides: lsb-base (= 11.1.0)`).
        let provider_first = provided && self.met_by_installed_provider(name, &wanted);
        let sets = match provider_first {
            true => [virtual_set, real],
            false => [real, virtual_set],
        };
        out.extend(sets.into_iter().flatten());
    }

    /// Whether an installed package provides `name` as `wanted` asks while no installed
    /// package of that name meets it.
    fn met_by_installed_provider(&self, name: &str, wanted: &Wanted) -> bool {
        let (_, solvables) = self.package_solvables(name);
        let set = AptSet::Satisfies(wanted.clone());
        let real_installed = solvables
            .into_iter()
            .any(|s| self.is_installed(s) && self.matches(s, &set));
        !real_installed
            && self.providers(name).into_iter().any(|(solvable, version)| {
                let (architecture, multi_arch) = self.arch_of(solvable);
                self.is_installed(solvable)
                    && wanted.admits_provided(version.as_ref())
                    && wanted.qualifier.admits(architecture, multi_arch)
            })
    }

    /// A group of alternatives as one requirement, its alternatives in the order written.
    pub fn requirement(&self, group: &Alternatives) -> Requirement {
        let mut sets = Vec::new();
        for dependency in &group.0 {
            self.sets_of(dependency, &mut sets);
        }
        match sets.as_slice() {
            [single] => Requirement::Single(*single),
            _ => Requirement::Union(
                self.pool
                    .intern_version_set_union(sets[0], sets[1..].iter().copied()),
            ),
        }
    }

    /// The constraints a `Conflicts`/`Breaks` alternative of `declarer` puts on the solution.
    fn conflict_sets(
        &self,
        field: Clash,
        declarer: SolvableId,
        dependency: &Dependency,
        out: &mut Vec<VersionSetId>,
    ) {
        let conflict = dependency.constraint.clone().map(super::sets::Rel);
        let own = self.name_of(declarer).to_string();
        let name = dependency.name.as_str();
        if self.is_real(name) && !(name == own && conflict.is_none()) {
            let id = self
                .pool
                .intern_package_name(AptName::Package(name.to_string()));
            let keep = (name == own).then_some(declarer);
            out.push(self.pool.intern_version_set(
                id,
                AptSet::NotHit {
                    field,
                    conflict: conflict.clone(),
                    keep,
                },
            ));
        }
        let wanted = Wanted {
            constraint: conflict,
            qualifier: Qualifier::Native,
        };
        for (provider, version) in self.providers(name) {
            if self.name_of(provider) != own && wanted.admits_provided(version.as_ref()) {
                let id = self.pool.resolve_solvable(provider).name;
                out.push(
                    self.pool
                        .intern_version_set(id, AptSet::Not(field, provider)),
                );
            }
        }
    }

    /// The dependencies of a solvable (Pre-Depends, Depends, Conflicts, Breaks).
    pub fn dependencies(&self, solvable: SolvableId) -> KnownDependencies {
        let mut known = KnownDependencies::default();
        if let Record::Provided { provider, .. } = self.pool.resolve_solvable(solvable).record {
            let id = self.pool.resolve_solvable(provider).name;
            let set = self.pool.intern_version_set(id, AptSet::Is(provider));
            known.requirements.push(Requirement::Single(set).into());
            return known;
        }
        let Some(candidate) = self.candidate(solvable) else {
            return known; // installed, not listed: its dependencies were met when it was
        };
        let package = &candidate.package;
        for group in package.pre_depends.0.iter().chain(&package.depends.0) {
            known.requirements.push(self.requirement(group).into());
        }
        let clashes = [
            (Clash::Conflicts, &package.conflicts),
            (Clash::Breaks, &package.breaks),
        ];
        for (field, relations) in clashes {
            for dependency in relations.0.iter().flat_map(|group| &group.0) {
                self.conflict_sets(field, solvable, dependency, &mut known.constrains);
            }
        }
        known
    }

    /// Whether `solvable` is in the version set `set`.
    pub fn matches(&self, solvable: SolvableId, set: &AptSet) -> bool {
        let record = &self.pool.resolve_solvable(solvable).record;
        match set {
            AptSet::Satisfies(wanted) => {
                let (architecture, multi_arch) = self.arch_of(solvable);
                record.version().is_some_and(|v| wanted.admits_version(v))
                    && wanted.qualifier.admits(architecture, multi_arch)
            }
            AptSet::Provides(wanted) => match record {
                Record::Provided { provider, version } => {
                    let (architecture, multi_arch) = self.arch_of(*provider);
                    wanted.admits_provided(version.as_ref())
                        && wanted.qualifier.admits(architecture, multi_arch)
                }
                _ => false,
            },
            AptSet::Is(wanted) => solvable == *wanted,
            AptSet::NotHit { conflict, keep, .. } => {
                Some(solvable) == *keep
                    || !record.version().is_some_and(|v| hits(conflict.as_ref(), v))
            }
            AptSet::Not(_, excluded) => solvable != *excluded,
        }
    }

    /// A package solvable's architecture and Multi-Arch (installed-only ones: `no`).
    fn arch_of(&self, solvable: SolvableId) -> (&str, MultiArch) {
        match &self.pool.resolve_solvable(solvable).record {
            Record::Installed { entry, .. } => {
                (&self.installed[*entry].architecture, MultiArch::No)
            }
            _ => self.candidate(solvable).map_or(("", MultiArch::No), |c| {
                (&c.package.architecture, c.package.multi_arch)
            }),
        }
    }

    /// apt's order of two solvables of one name: installed first, then (for providers) the
    /// more important Priority, then pin priority, then the later version.
    pub fn compare(&self, a: SolvableId, b: SolvableId) -> Ordering {
        let key = |s: SolvableId| {
            let package = self.package_of(s);
            let candidate = self.candidate(package);
            let importance = match candidate.and_then(|c| c.package.priority) {
                Some(priority) if package != s => priority,
                _ => Priority::Optional,
            };
            let pin = candidate.map_or(i32::MAX, |c| self.options.priority(self.index, c.origin));
            (!self.is_installed(package), importance, -pin, package)
        };
        let (ka, kb) = (key(a), key(b));
        (ka.0, ka.1, ka.2)
            .cmp(&(kb.0, kb.1, kb.2))
            .then_with(|| self.name_of(ka.3).cmp(self.name_of(kb.3)))
            .then_with(|| {
                let version = |s| self.pool.resolve_solvable(s).record.version().cloned();
                version(kb.3).cmp(&version(ka.3))
            })
    }

    /// The package a solvable stands for: itself, or a provider's package.
    pub fn package_of(&self, solvable: SolvableId) -> SolvableId {
        match self.pool.resolve_solvable(solvable).record {
            Record::Provided { provider, .. } => provider,
            _ => solvable,
        }
    }
}

impl Interner for AptProvider<'_, '_> {
    type NameId = NameId;
    type SolvableId = SolvableId;

    fn display_solvable(&self, solvable: SolvableId) -> impl Display + '_ {
        let resolved = self.pool.resolve_solvable(solvable);
        match &resolved.record {
            Record::Provided { provider, version } => {
                let provided = version
                    .as_ref()
                    .map(|v| format!(" {}", equal(v)))
                    .unwrap_or_default();
                let provider = self.pool.resolve_solvable(*provider);
                format!(
                    "{} {} (Provides: {}{provided})",
                    self.pool.resolve_package_name(provider.name).as_str(),
                    provider.record,
                    self.pool.resolve_package_name(resolved.name).as_str(),
                )
            }
            record => format!("{} {record}", self.pool.resolve_package_name(resolved.name)),
        }
    }

    fn display_merged_solvables(&self, solvables: &[SolvableId]) -> impl Display + '_ {
        let shown: Vec<String> = solvables
            .iter()
            .map(|&s| self.display_solvable(s).to_string())
            .collect();
        shown.join(" | ")
    }

    fn display_name(&self, name: NameId) -> impl Display + '_ {
        self.pool.resolve_package_name(name)
    }

    fn display_version_set(&self, version_set: VersionSetId) -> impl Display + '_ {
        match self.pool.resolve_version_set(version_set) {
            AptSet::Satisfies(wanted) | AptSet::Provides(wanted) => wanted.to_string(),
            AptSet::Is(solvable) => self
                .pool
                .resolve_solvable(*solvable)
                .record
                .version()
                .map(|v| equal(v).to_string())
                .unwrap_or_default(),
            AptSet::NotHit {
                field,
                conflict: Some(rel),
                ..
            } => format!("({field} {rel})"),
            AptSet::NotHit {
                field,
                conflict: None,
                ..
            } => format!("({field}, any version)"),
            AptSet::Not(field, solvable) => format!(
                "{} ({field} a name it Provides)",
                self.pool.resolve_solvable(*solvable).record
            ),
        }
    }

    fn display_string(&self, string_id: StringId) -> impl Display + '_ {
        self.pool.resolve_string(string_id)
    }

    fn version_set_name(&self, version_set: VersionSetId) -> NameId {
        self.pool.resolve_version_set_package_name(version_set)
    }

    fn solvable_name(&self, solvable: SolvableId) -> NameId {
        self.pool.resolve_solvable(solvable).name
    }

    fn version_sets_in_union(
        &self,
        union: VersionSetUnionId,
    ) -> impl Iterator<Item = VersionSetId> {
        self.pool.resolve_version_set_union(union)
    }

    fn resolve_condition(&self, condition: ConditionId) -> Condition {
        self.pool.resolve_condition(condition).clone()
    }
}

impl DependencyProvider for AptProvider<'_, '_> {
    async fn filter_candidates(
        &self,
        candidates: &[SolvableId],
        version_set: VersionSetId,
        inverse: bool,
    ) -> Vec<SolvableId> {
        let set = self.pool.resolve_version_set(version_set);
        candidates
            .iter()
            .copied()
            .filter(|&s| self.matches(s, set) != inverse)
            .collect()
    }

    async fn get_candidates(&self, name: NameId) -> Option<Candidates<SolvableId>> {
        match self.pool.resolve_package_name(name) {
            AptName::Package(_) => {
                let named = self.package(name);
                Some(Candidates {
                    candidates: named.solvables,
                    favored: named.installed,
                    ..Candidates::default()
                })
            }
            AptName::Virtual(_) => Some(Candidates {
                candidates: self.virtual_solvables(name),
                allow_multiple: true,
                ..Candidates::default()
            }),
        }
    }

    async fn sort_candidates(&self, _solver: &SolverCache<Self>, solvables: &mut [SolvableId]) {
        solvables.sort_by(|&a, &b| self.compare(a, b));
    }

    async fn get_dependencies(&self, solvable: SolvableId) -> Dependencies {
        Dependencies::Known(self.dependencies(solvable))
    }
}

/// The solvables among `selected` that satisfy `group`: real packages first, then providers.
pub fn satisfiers(
    provider: &AptProvider<'_, '_>,
    group: &Alternatives,
    selected: &HashSet<SolvableId>,
) -> Vec<SolvableId> {
    let mut out = Vec::new();
    for dependency in &group.0 {
        let wanted = Wanted::of(dependency, &provider.options.architecture);
        let (_, solvables) = provider.package_solvables(&dependency.name);
        let set = AptSet::Satisfies(wanted.clone());
        out.extend(
            solvables
                .into_iter()
                .filter(|s| selected.contains(s) && provider.matches(*s, &set)),
        );
        for (solvable, version) in provider.providers(&dependency.name) {
            let (architecture, multi_arch) = provider.arch_of(solvable);
            if selected.contains(&solvable)
                && wanted.admits_provided(version.as_ref())
                && wanted.qualifier.admits(architecture, multi_arch)
                && !out.contains(&solvable)
            {
                out.push(solvable);
            }
        }
    }
    out
}
