//! The spec cut into named parts, each with a short hash of its normalised form: what the lock
//! records (`[spec-parts]`) so that `imglock check` can name what changed since it was resolved
//! (a layer, a requirement, a repository, the base image, a setting) instead of only saying that
//! the spec's hash differs. Part keys are `/`-separated paths, which no layer name holds:
//! `extends`, `image/KEY`, `repositories/KEY`, `layer/NAME` (its value is the layer's position,
//! so a rename shows as a layer at the same place under another name),
//! `layer/NAME/requirement/ECOSYSTEM/PACKAGE` and `layer/NAME/KEY` for the layer's other keys.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{RequirementEntry, Spec};
use crate::package::Ecosystem;

/// The spec's parts: key → short hash (or, for a layer, its position).
pub type SpecParts = BTreeMap<String, String>;

impl Spec {
    /// Every part of the spec with its hash (see the module comment for the keys).
    pub fn parts(&self) -> SpecParts {
        let mut parts = SpecParts::new();
        if let Some(extends) = &self.extends {
            parts.insert("extends".into(), short_hash(extends));
        }
        for (key, value) in fields(&self.image) {
            parts.insert(format!("image/{key}"), short_hash(&value));
        }
        for (key, value) in fields(&self.repositories) {
            parts.insert(format!("repositories/{key}"), short_hash(&value));
        }
        for (position, layer) in self.layers.iter().enumerate() {
            let name = &layer.name;
            parts.insert(format!("layer/{name}"), position.to_string());
            let mut requirements: BTreeMap<String, Vec<&RequirementEntry>> = BTreeMap::new();
            for entry in &layer.requirements {
                requirements
                    .entry(requirement_key(name, entry))
                    .or_default()
                    .push(entry);
            }
            for (key, entries) in requirements {
                parts.insert(key, short_hash(&entries));
            }
            for (key, value) in fields(layer) {
                if key != "name" && key != "requirements" {
                    parts.insert(format!("layer/{name}/{key}"), short_hash(&value));
                }
            }
        }
        parts
    }

    /// The line of the spec each requirement part starts on (its first entry's, when a package
    /// is written more than once in a list): where a change to it is shown.
    pub fn part_lines(&self) -> BTreeMap<String, usize> {
        let mut lines = BTreeMap::new();
        for layer in &self.layers {
            for entry in &layer.requirements {
                lines
                    .entry(requirement_key(&layer.name, entry))
                    .or_insert(entry.location.line);
            }
        }
        lines
    }
}

/// The part key of a requirement `entry` of the layer `layer`.
fn requirement_key(layer: &str, entry: &RequirementEntry) -> String {
    let list = if entry.provided {
        format!("{}-provided", entry.kind)
    } else {
        entry.kind.to_string()
    };
    let package = requested_name(entry.kind, &entry.text);
    format!("layer/{layer}/requirement/{list}/{package}")
}

/// The top-level keys of `value`'s JSON object and their values.
fn fields(value: &impl Serialize) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

/// The first 16 hex digits of the sha256 of `value`'s JSON: enough to tell a change.
fn short_hash(value: &impl Serialize) -> String {
    let json = serde_json::to_string(value).unwrap_or_default();
    hex::encode(&Sha256::digest(json.as_bytes())[..8])
}

/// The package a requirement `text` written in `ecosystem`'s list asks for, as that ecosystem
/// compares names.
pub fn requested_name(ecosystem: Ecosystem, text: &str) -> String {
    let name = match ecosystem {
        Ecosystem::Pypi => text
            .parse::<pep508_rs::Requirement>()
            .map(|r| r.name.to_string())
            .unwrap_or_else(|_| text.to_string()),
        Ecosystem::Maven => text.splitn(3, ':').take(2).collect::<Vec<_>>().join(":"),
        Ecosystem::Github => {
            let path = text.split('@').next().unwrap_or_default();
            path.rsplit('/').next().unwrap_or_default().to_string()
        }
        Ecosystem::Conda => {
            let bare = text.rsplit("::").next().unwrap_or_default();
            bare.split(|c: char| " =<>!~[".contains(c))
                .next()
                .unwrap_or_default()
                .to_string()
        }
        Ecosystem::File => text.to_string(),
        _ => text
            .split(|c: char| c == '(' || c.is_whitespace() || "=<>".contains(c))
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    normalise_name(ecosystem, &name)
}

/// A name as `ecosystem` compares it: PyPI's normalised, conda's and Debian's lower case, R's
/// and Maven's as written.
pub fn normalise_name(ecosystem: Ecosystem, name: &str) -> String {
    match ecosystem {
        Ecosystem::Pypi => name
            .to_lowercase()
            .split(['-', '_', '.'])
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-"),
        Ecosystem::Conda | Ecosystem::Apt => name.to_lowercase(),
        _ => name.trim().to_string(),
    }
}
