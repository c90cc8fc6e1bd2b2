//! The critical-path bound of a resolve: how many dependent rounds of requests a perfect client
//! needs for the POMs the resolve read, computed from the POMs themselves. A POM can be asked for
//! only once what names it is known: a parent once its child is read; an imported BOM once the
//! importer's parent chain is read (its coordinates are interpolated with the chain's
//! properties, and may be declared by any ancestor); a dependency, or a relocation target, once
//! the model that names it is complete (chain and imported BOMs read, since its version may come
//! from their dependency management). [`rounds`] is that depth for a client with no limit on
//! requests in flight; [`rounds_within`] holds a client to at most so many requests in flight
//! per repository, as imglock's fetcher is ([`crate::fetch::REQUESTS_PER_HOST`]). Benchmarks
//! compare wall time with the bound times the latency.

use std::collections::{HashMap, HashSet};

use super::coordinate::Gav;
use super::store::PomStore;
use super::walk::followed;

/// The rounds a perfect client needs before every POM of `needed` (and each one's whole
/// model) is read, starting from the projects `roots`, over what `store` fetched. A POM the
/// store does not reach from `roots` counts as never read (`usize::MAX`).
pub fn rounds(store: &PomStore<'_>, roots: &[Gav], needed: &[Gav]) -> usize {
    let read = earliest_reads(store, roots);
    finished(store, &read, needed)
}

/// [`rounds`] for a client with at most `limit` requests in flight to each repository: the
/// POMs the models of `needed` are made of (each one's parent chain and imported BOMs' models),
/// counted by the repository that served them, fill at most `limit` requests a round, so the
/// `n` of them that cannot be read before round `r` take until round `r - 1 + ceil(n / limit)`
/// at least. So do the `per_artifact` requests fetching each artifact of `needed` takes (its
/// file and its checksum file: 2; 0 for the POMs alone), each askable in the round its POM is
/// read in, from the repository that served the POM. The bound is the greatest of those and the
/// depth (a list-scheduling lower bound: no client keeping to the limit can do better).
pub fn rounds_within(
    store: &PomStore<'_>,
    roots: &[Gav],
    needed: &[Gav],
    limit: usize,
    per_artifact: usize,
) -> usize {
    let read = earliest_reads(store, roots);
    let depth = finished(store, &read, needed);
    if depth == usize::MAX {
        return depth;
    }
    let mut made_of = HashSet::new();
    for gav in needed {
        model_poms(store, gav, &mut made_of, 0);
    }
    let artifacts = needed
        .iter()
        .flat_map(|gav| std::iter::repeat_n(gav, per_artifact));
    let mut by_repository: HashMap<usize, Vec<usize>> = HashMap::new();
    for gav in made_of.iter().chain(artifacts) {
        if let Some(round) = read.get(gav) {
            let position = store.position_of(gav);
            by_repository.entry(position).or_default().push(*round);
        }
    }
    let mut bound = depth;
    for mut earliest in by_repository.into_values() {
        earliest.sort_unstable_by(|a, b| b.cmp(a));
        // The first `i + 1` of them, latest first, cannot be read before round `earliest[i]`.
        for (i, round) in earliest.iter().enumerate() {
            bound = bound.max(round - 1 + (i + 1).div_ceil(limit.max(1)));
        }
    }
    bound
}

/// The earliest round each POM `store` fetched can be read in, from `roots` (read in round 1),
/// with no limit on requests in flight.
fn earliest_reads(store: &PomStore<'_>, roots: &[Gav]) -> HashMap<Gav, usize> {
    let mut read: HashMap<Gav, usize> = roots.iter().map(|gav| (gav.clone(), 1)).collect();
    let fetched = store.fetched();
    let models = store.built_models();
    loop {
        let mut earlier: Vec<(Gav, usize)> = Vec::new();
        for gav in &fetched {
            if let (Some(round), Some(parent)) = (read.get(gav), store.parent_of(gav)) {
                earlier.push((parent, round + 1));
            }
        }
        for model in &models {
            let Some(chain) = chain_read(store, &read, &model.gav) else {
                continue;
            };
            earlier.extend(model.imports.iter().map(|bom| (bom.clone(), chain + 1)));
            let Some(complete) = complete(store, &read, &model.gav, 0) else {
                continue;
            };
            let named = model
                .dependencies
                .iter()
                .filter(|dependency| followed(&[], dependency).is_some())
                .map(|d| Gav {
                    group: d.group.clone(),
                    artifact: d.artifact.clone(),
                    version: d.version.clone(),
                })
                .chain(model.relocation.clone());
            earlier.extend(named.map(|gav| (gav, complete + 1)));
        }
        let mut changed = false;
        for (gav, round) in earlier {
            let known = read.entry(gav).or_insert(usize::MAX);
            if round < *known {
                *known = round;
                changed = true;
            }
        }
        if !changed {
            return read;
        }
    }
}

/// The round the last POM of the models of `needed` is read in (`usize::MAX` when one never is).
fn finished(store: &PomStore<'_>, read: &HashMap<Gav, usize>, needed: &[Gav]) -> usize {
    needed
        .iter()
        .map(|gav| complete(store, read, gav, 0).unwrap_or(usize::MAX))
        .max()
        .unwrap_or(0)
}

/// Adds to `poms` the POMs the model of `gav` is made of: its parent chain and, recursively,
/// its imported BOMs' models.
fn model_poms(store: &PomStore<'_>, gav: &Gav, poms: &mut HashSet<Gav>, depth: usize) {
    if depth > 64 {
        return;
    }
    let mut next = Some(gav.clone());
    for _ in 0..64 {
        let Some(current) = next else { break };
        if !poms.insert(current.clone()) {
            break;
        }
        next = store.parent_of(&current);
    }
    for bom in store.model_imports(gav) {
        model_poms(store, &bom, poms, depth + 1);
    }
}

/// The round the last POM of `gav`'s parent chain is read in, once all are.
fn chain_read(store: &PomStore<'_>, read: &HashMap<Gav, usize>, gav: &Gav) -> Option<usize> {
    let mut last = 0;
    let mut next = Some(gav.clone());
    for _ in 0..64 {
        let Some(current) = next else {
            return Some(last);
        };
        last = last.max(*read.get(&current)?);
        next = store.parent_of(&current);
    }
    None
}

/// The round the last POM of `gav`'s model (its chain and its imported BOMs' models) is read
/// in, once all are.
fn complete(
    store: &PomStore<'_>,
    read: &HashMap<Gav, usize>,
    gav: &Gav,
    depth: usize,
) -> Option<usize> {
    let mut last = chain_read(store, read, gav)?;
    if depth > 64 {
        return None;
    }
    for bom in store.model_imports(gav) {
        last = last.max(complete(store, read, &bom, depth + 1)?);
    }
    Some(last)
}
