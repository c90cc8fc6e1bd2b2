//! Checks of one layer's Maven requests that Maven itself would not make, so that a mistake in
//! the spec is said as one: two versions of one artifact asked for in a layer (Maven would
//! silently keep the first), and an artifact or version no repository has (Maven would take the
//! missing POM for one without dependencies, and only the jar's download would fail, naming no
//! layer).

use std::collections::HashMap;

use super::coordinate::Gav;
use super::error::MavenError;
use super::resolve::{Request, key_of};
use super::store::PomStore;
use crate::package::{Ecosystem, Pin};

/// Refuses a layer that asks for one artifact at two versions.
pub(super) fn one_version_each(layer: &str, requests: &[Request]) -> Result<(), MavenError> {
    let mut first_of = HashMap::new();
    for request in requests {
        let first = first_of
            .entry(key_of(&request.coordinate))
            .or_insert(&request.coordinate);
        if first.version != request.coordinate.version {
            return Err(MavenError::TwoVersions {
                layer: layer.to_string(),
                first: first.to_string(),
                second: request.coordinate.to_string(),
            });
        }
    }
    Ok(())
}

/// Refuses a request (of an exact version) whose POM no repository has, when no repository
/// lists that version either: the artifact is unknown, or its version is. A version the
/// repositories list without a POM is taken as Maven takes it (see `resolve`).
pub(super) fn each_found(
    store: &PomStore<'_>,
    layer: &str,
    requests: &[Request],
    below: &[Pin],
) -> Result<(), MavenError> {
    for request in requests {
        let coordinate = &request.coordinate;
        let gav = coordinate.gav();
        if coordinate.version.starts_with(['[', '(']) || !store.is_absent(&gav) {
            continue;
        }
        let listed = store.versions(&coordinate.group, &coordinate.artifact);
        if listed.contains(&coordinate.version) {
            continue;
        }
        let tried = store.pom_urls(&gav);
        if !listed.is_empty() {
            return Err(MavenError::UnknownVersion {
                layer: layer.to_string(),
                requirement: coordinate.to_string(),
                tried,
                listed,
            });
        }
        return Err(MavenError::UnknownArtifact {
            layer: layer.to_string(),
            requirement: coordinate.to_string(),
            tried,
            suggestion: closest_artifact(store, &gav, below),
        });
    }
    Ok(())
}

/// The `group:artifact` closest to `gav`'s among those the resolve has seen: the POMs fetched
/// for every layer and the artifacts lower layers locked.
fn closest_artifact(store: &PomStore<'_>, gav: &Gav, below: &[Pin]) -> Option<String> {
    let mut known: Vec<String> = store
        .fetched()
        .iter()
        .map(|gav| format!("{}:{}", gav.group, gav.artifact))
        .collect();
    known.extend(
        below
            .iter()
            .filter(|pin| pin.ecosystem == Ecosystem::Maven)
            .map(|pin| pin.name.clone()),
    );
    known.sort();
    known.dedup();
    let name = format!("{}:{}", gav.group, gav.artifact);
    crate::suggest::closest(&name, known.iter().map(String::as_str))
}
