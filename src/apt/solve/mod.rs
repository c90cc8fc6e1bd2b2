//! Resolution as apt does it, with a SAT solver (resolvo): a layer's apt requests (Debian
//! relations), resolved over the [`AptIndex`] on top of the base image's installed packages.
//!
//! - `Depends` and `Pre-Depends`, with alternatives tried in the order written and version
//!   relations; `Provides` (an unversioned one never satisfies a versioned dependency, Debian
//!   Policy 7.5); `Conflicts` and `Breaks` (both exclude the versions they hit; a package never
//!   conflicts with itself, so `Conflicts`+`Provides` of one virtual name keeps it exclusive).
//! - apt's candidates: of each package, only its candidate version (the highest pin priority,
//!   500, a `-backports` suite 100, then the latest version) and its installed version are
//!   considered, as apt does (a dependency no candidate meets fails, as in apt); a request with
//!   a version relation (`name (= version)`, like `apt-get install name=version`) opens every
//!   version of its name. Installed first, then the candidate; among providers of a virtual
//!   name, the more important `Priority`.
//! - Installed packages stay (a request may upgrade one, never remove it); an installed
//!   version no source lists is kept with the dependencies it had.
//! - `Recommends`, when asked for, are added one round at a time as soft requirements: each
//!   unmet group's best candidate is installed when it can be. apt's upgrade by source package
//!   is added the same way, as requirements kept when they fit: an installed package upgraded
//!   takes along the installed packages of its source.
//!
//! Simplified, with one native architecture and `all`: `:any` is satisfied by a package that
//! is `Multi-Arch: allowed` or `foreign`; a qualifier naming another architecture is never
//! satisfied; architecture qualifiers of `Conflicts` and `Breaks` are ignored. apt's own
//! problem resolver is greedy and depth-first; the SAT solver finds a solution whenever one
//! exists among the same candidates, so it may succeed where apt gives up, and where a
//! dependency can be met several ways (alternatives, providers, a real package a provider
//! already stands in for) it may choose otherwise than apt's walk order does (two of the twelve
//! recorded oracle requests, tests/it/apt_oracle.rs). A request naming a virtual package with
//! several providers takes the first in that order, where apt asks the user to pick one.

mod error;
mod input;
mod provider;
mod sets;

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashSet, VecDeque};

use resolvo::{ConditionalRequirement, Problem, SolvableId, Solver, UnsolvableOrCancelled};

pub use error::{SolveError, Via};
pub use input::{BACKPORTS_PRIORITY, DEFAULT_PRIORITY, Installed, SolveOptions, default_priority};
use provider::{AptProvider, satisfiers};
use sets::{AptSet, Wanted};

use super::index::{AptIndex, Candidate};
use super::relation::{Alternatives, Relations};
use super::version::Version;

/// At most this many rounds of Recommends and same-source upgrades are added.
const EXTRA_ROUNDS: usize = 32;

/// One package to install.
#[derive(Debug, Clone)]
pub struct Planned<'a> {
    /// The package's name.
    pub name: String,
    /// The version to install.
    pub version: Version,
    /// Its architecture (`amd64`, `all`).
    pub architecture: String,
    /// The index candidate (its `Filename`, `SHA256`, `Size`, origin).
    pub candidate: &'a Candidate,
    /// A shortest chain from a request to the package that needs it.
    pub via: Via,
}

/// One request, parsed.
struct Request {
    text: String,
    group: Alternatives,
}

/// Resolves `requests` (each one Debian relation, alternatives joined by `|`) over `index`, on
/// a base image with `installed`: the packages to install (not installed at that version),
/// sorted by name.
pub fn solve<'a>(
    index: &'a AptIndex,
    installed: &[Installed],
    requests: &[String],
    options: &SolveOptions,
) -> Result<Vec<Planned<'a>>, SolveError> {
    let requests = parse_requests(requests)?;
    let every_version = requests
        .iter()
        .flat_map(|r| &r.group.0)
        .filter(|d| d.constraint.is_some())
        .map(|d| d.name.clone())
        .collect();
    let provider = AptProvider::new(index, installed, options, every_version);
    for request in &requests {
        check_request(&provider, request)?;
    }
    let mut roots: Vec<ConditionalRequirement> = requests
        .iter()
        .map(|r| provider.requirement(&r.group).into())
        .collect();
    for package in installed {
        let (id, _) = provider.package_solvables(&package.name);
        let any = provider.pool.intern_version_set(
            id,
            AptSet::Satisfies(Wanted::of(&plain(&package.name), &options.architecture)),
        );
        roots.push(resolvo::Requirement::Single(any).into());
    }
    let mut solver = Solver::new(provider);
    let mut soft: Vec<SolvableId> = Vec::new();
    let mut solution = run(&mut solver, &roots, &soft, &requests)?;
    let mut tried: Vec<SolvableId> = Vec::new();
    for _ in 0..EXTRA_ROUNDS {
        let provider = solver.provider();
        let upgrades = same_source_upgrades(provider, installed, &solution, &tried);
        let recommended = match options.recommends {
            true => recommended(provider, &solution, &soft),
            false => Vec::new(),
        };
        if upgrades.is_empty() && recommended.is_empty() {
            break;
        }
        // An upgrade is a requirement once it is known to fit; a Recommends stays soft.
        for upgrade in upgrades {
            tried.push(upgrade);
            let name = solver.provider().pool.resolve_solvable(upgrade).name;
            let exact = solver
                .provider()
                .pool
                .intern_version_set(name, AptSet::Is(upgrade));
            roots.push(resolvo::Requirement::Single(exact).into());
            match run(&mut solver, &roots, &soft, &requests) {
                Ok(fits) => solution = fits,
                Err(_) => drop(roots.pop()),
            }
        }
        if !recommended.is_empty() {
            soft.extend(recommended);
            solution = run(&mut solver, &roots, &soft, &requests)?;
        }
    }
    Ok(planned(solver.provider(), &solution, &requests))
}

/// A dependency on `name`, any version.
fn plain(name: &str) -> super::relation::Dependency {
    super::relation::Dependency {
        name: name.to_string(),
        arch: None,
        constraint: None,
        restriction: None,
        profiles: Vec::new(),
    }
}

fn parse_requests(requests: &[String]) -> Result<Vec<Request>, SolveError> {
    requests
        .iter()
        .map(|text| {
            let relations = Relations::parse(text).map_err(|source| SolveError::Request {
                request: text.clone(),
                source,
            })?;
            let [group] = <[Alternatives; 1]>::try_from(relations.0).map_err(|_| {
                SolveError::SeveralRelations {
                    request: text.clone(),
                }
            })?;
            Ok(Request {
                text: text.trim().to_string(),
                group,
            })
        })
        .collect()
}

/// Refuses a request no source can meet on its own: every alternative unknown (with the
/// closest name), or known with no version it admits (with the versions there are).
fn check_request(provider: &AptProvider<'_, '_>, request: &Request) -> Result<(), SolveError> {
    let group = &request.group;
    if !group
        .0
        .iter()
        .any(|d| provider.is_real(&d.name) || provider.is_provided(&d.name))
    {
        let name = group.0[0].name.clone();
        return Err(SolveError::UnknownPackage {
            suggestion: crate::suggest::closest(&name, provider.index.package_names()),
            name,
            request: request.text.clone(),
        });
    }
    let admitting = group.0.iter().any(|dependency| {
        let wanted = Wanted::of(dependency, &provider.options.architecture);
        let (_, solvables) = provider.package_solvables(&dependency.name);
        let real = AptSet::Satisfies(wanted.clone());
        solvables.into_iter().any(|s| provider.matches(s, &real))
            || provider
                .providers(&dependency.name)
                .iter()
                .any(|(_, version)| wanted.admits_provided(version.as_ref()))
    });
    if admitting {
        return Ok(());
    }
    let dependency = &group.0[0];
    let (_, solvables) = provider.package_solvables(&dependency.name);
    let mut available: Vec<String> = solvables
        .into_iter()
        .filter_map(|s| {
            provider
                .pool
                .resolve_solvable(s)
                .record
                .version()
                .map(ToString::to_string)
        })
        .collect();
    for (solvable, version) in provider.providers(&dependency.name) {
        let provided = version
            .map(|v| format!(" {}", sets::equal(&v)))
            .unwrap_or_default();
        available.push(format!(
            "{} (Provides: {}{provided})",
            provider.name_of(solvable),
            dependency.name
        ));
    }
    Err(SolveError::NoVersion {
        name: dependency.name.clone(),
        request: request.text.clone(),
        available: available.join(", "),
    })
}

/// Runs the solver once; a conflict becomes [`SolveError::Unsolvable`].
fn run(
    solver: &mut Solver<AptProvider<'_, '_>>,
    roots: &[ConditionalRequirement],
    soft: &[SolvableId],
    requests: &[Request],
) -> Result<Vec<SolvableId>, SolveError> {
    let problem = Problem::new()
        .requirements(roots.to_vec())
        .soft_requirements(soft.to_vec());
    match solver.solve(problem) {
        Ok(solution) => Ok(solution),
        Err(UnsolvableOrCancelled::Unsolvable(conflict)) => Err(SolveError::Unsolvable {
            requests: requests
                .iter()
                .map(|r| format!("`{}`", r.text))
                .collect::<Vec<_>>()
                .join(", "),
            explanation: debian_terms(&conflict.display_user_friendly(solver).to_string()),
        }),
        Err(UnsolvableOrCancelled::Cancelled(_)) => unreachable!("the apt provider never cancels"),
    }
}

/// The solver's explanation with its words for relations replaced by Debian's.
fn debian_terms(explanation: &str) -> String {
    explanation
        .replace(" would constrain", " declares")
        .replace(" would require", " depends on")
        .replace(
            ", which conflicts with any installable versions previously reported",
            ", which rules out every version that could be installed",
        )
}

/// apt's upgrade by source package (`APT::Get::Upgrade-By-Source-Package`, on by default):
/// when an installed package is upgraded, the other installed packages built from the same
/// source are upgraded with it, to their candidate of that source version, when they can be.
fn same_source_upgrades(
    provider: &AptProvider<'_, '_>,
    installed: &[Installed],
    solution: &[SolvableId],
    tried: &[SolvableId],
) -> Vec<SolvableId> {
    let upgraded: Vec<(&str, &Version)> = solution
        .iter()
        .filter(|&&s| !provider.is_installed(s))
        .filter_map(|&s| provider.candidate(s))
        .filter(|c| installed.iter().any(|i| i.name == c.package.name))
        .map(|c| c.package.source_package())
        .collect();
    if upgraded.is_empty() {
        return Vec::new();
    }
    let selected: HashSet<SolvableId> = solution.iter().copied().collect();
    installed
        .iter()
        .filter_map(|package| provider.apt_candidate(&package.name))
        .filter(|s| !selected.contains(s) && !tried.contains(s))
        .filter(|&s| {
            provider
                .candidate(s)
                .is_some_and(|c| upgraded.contains(&c.package.source_package()))
        })
        .collect()
}

/// The best candidate of each Recommends group the solution leaves unmet, not yet tried.
fn recommended(
    provider: &AptProvider<'_, '_>,
    solution: &[SolvableId],
    tried: &[SolvableId],
) -> Vec<SolvableId> {
    let selected: HashSet<SolvableId> = solution.iter().copied().collect();
    let mut out = Vec::new();
    for &solvable in solution {
        let Some(candidate) = provider.candidate(solvable) else {
            continue;
        };
        for group in &candidate.package.recommends.0 {
            if !satisfiers(provider, group, &selected).is_empty() {
                continue;
            }
            if let Some(best) = best_candidate(provider, group)
                && !tried.contains(&best)
                && !out.contains(&best)
            {
                out.push(best);
            }
        }
    }
    out
}

/// The package apt would pick first for `group`: the first alternative's best candidate.
fn best_candidate(provider: &AptProvider<'_, '_>, group: &Alternatives) -> Option<SolvableId> {
    group.0.iter().find_map(|dependency| {
        let wanted = Wanted::of(dependency, &provider.options.architecture);
        let (_, mut real) = provider.package_solvables(&dependency.name);
        let set = AptSet::Satisfies(wanted.clone());
        real.retain(|&s| provider.matches(s, &set));
        real.sort_by(|&a, &b| provider.compare(a, b));
        real.first().copied().or_else(|| {
            let mut providing: Vec<SolvableId> = provider
                .providers(&dependency.name)
                .into_iter()
                .filter(|(_, version)| wanted.admits_provided(version.as_ref()))
                .map(|(s, _)| s)
                .collect();
            providing.sort_by(|&a, &b| provider.compare(a, b));
            providing.first().copied()
        })
    })
}

/// The solution's packages to install, each with a shortest chain from a request.
fn planned<'a>(
    provider: &AptProvider<'a, '_>,
    solution: &[SolvableId],
    requests: &[Request],
) -> Vec<Planned<'a>> {
    let selected: HashSet<SolvableId> = solution.iter().map(|&s| provider.package_of(s)).collect();
    let via = chains(provider, &selected, requests);
    let mut out: Vec<Planned<'a>> = selected
        .iter()
        .filter(|&&s| !provider.is_installed(s))
        .filter_map(|&s| {
            let candidate = provider.candidate(s)?;
            Some(Planned {
                name: candidate.package.name.clone(),
                version: candidate.package.version.clone(),
                architecture: candidate.package.architecture.clone(),
                candidate,
                via: via.get(&s).cloned().unwrap_or_default(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A shortest chain to each selected package, walking breadth-first from the requests (then
/// from the installed packages, for what only they need).
fn chains(
    provider: &AptProvider<'_, '_>,
    selected: &HashSet<SolvableId>,
    requests: &[Request],
) -> BTreeMap<SolvableId, Via> {
    let mut via: BTreeMap<SolvableId, Via> = BTreeMap::new();
    let mut queue = VecDeque::new();
    let reach = |via: &mut BTreeMap<SolvableId, Via>, queue: &mut VecDeque<_>, solvable, chain| {
        if let Entry::Vacant(slot) = via.entry(solvable) {
            slot.insert(chain);
            queue.push_back(solvable);
        }
    };
    for request in requests {
        for solvable in satisfiers(provider, &request.group, selected) {
            reach(
                &mut via,
                &mut queue,
                solvable,
                Via(vec![request.text.clone()]),
            );
        }
    }
    for &solvable in selected.iter().filter(|&&s| provider.is_installed(s)) {
        reach(&mut via, &mut queue, solvable, Via::default());
    }
    while let Some(parent) = queue.pop_front() {
        let Some(candidate) = provider.candidate(parent) else {
            continue;
        };
        let package = &candidate.package;
        let recommends = provider.options.recommends.then_some(&package.recommends.0);
        let groups = package.pre_depends.0.iter().chain(&package.depends.0);
        for group in groups.chain(recommends.into_iter().flatten()) {
            for child in satisfiers(provider, group, selected) {
                let mut chain = via[&parent].clone();
                chain.0.push(provider.name_of(parent).to_string());
                reach(&mut via, &mut queue, child, chain);
            }
        }
    }
    via
}

#[cfg(test)]
mod tests;
