//! The critical-path bound of a resolve: how many dependent rounds of requests a perfect client
//! needs for the POMs the resolve read, computed from the POMs themselves. A POM can be asked for
//! only once what names it is known: a parent once its child is read; an imported BOM once the
//! importer's parent chain is read (its coordinates are interpolated with the chain's
//! properties, and may be declared by any ancestor); a dependency, or a relocation target, once
//! the model that names it is complete (chain and imported BOMs read, since its version may come
//! from their dependency management). Benchmarks compare wall time with this bound times the
//! latency.

use std::collections::HashMap;

use super::coordinate::Gav;
use super::store::PomStore;
use super::walk::followed;

/// The rounds a perfect client needs before every POM of `needed` (and each one's whole
/// model) is read, starting from the projects `roots`, over what `store` fetched. A POM the
/// store does not reach from `roots` counts as never read (`usize::MAX`).
pub fn rounds(store: &PomStore<'_>, roots: &[Gav], needed: &[Gav]) -> usize {
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
            break;
        }
    }
    needed
        .iter()
        .map(|gav| complete(store, &read, gav, 0).unwrap_or(usize::MAX))
        .max()
        .unwrap_or(0)
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
