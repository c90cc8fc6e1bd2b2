//! Why a lock is stale, one reason per changed part of the spec: the spec's parts now
//! ([`crate::spec::SpecParts`]) against those the lock recorded when it was resolved. A layer
//! at the same place under another name is a rename (its items are then compared under the new
//! name); a layer added or removed is one reason, not one per requirement in it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::spec::SpecParts;

/// What kind of thing a stale reason is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonKind {
    /// There is no lock yet.
    NoLock,
    /// The spec changed, and the lock (an older one) records no parts to say where.
    Spec,
    /// The parent spec this one `extends`.
    Extends,
    /// A `[[layer]]` as a whole: added, removed, renamed or moved.
    Layer,
    /// One package's requirements in a layer's list.
    Requirement,
    /// A layer's other settings (`files`, `steps`, `maven-target`, …).
    LayerSetting,
    /// A key of `[repositories]`.
    Repository,
    /// `[image] base`.
    BaseImage,
    /// Another key of `[image]`.
    ImageSetting,
    /// A file a `copy` step copies.
    CopyFile,
    /// The parent image's lock (for a child image).
    Parent,
    /// A git branch or tag a package was locked from.
    GitRef,
    /// What the spec resolves to now (`check --locked`).
    Resolution,
}

/// How the thing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    Added,
    Removed,
    Changed,
    Renamed,
    Moved,
    Missing,
}

impl Change {
    fn word(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
            Change::Renamed => "renamed",
            Change::Moved => "moved",
            Change::Missing => "missing",
        }
    }
}

/// One reason the lock is stale.
#[derive(Debug, Clone, Serialize)]
pub struct StaleReason {
    pub kind: ReasonKind,
    pub change: Change,
    /// The layer it is in, when it is in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// What changed: a package, a key, a file (absent for a layer as a whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// The line of the spec the changed part is on, when it is still in the spec and its line
    /// is known (a requirement's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The reason in words, one line.
    pub message: String,
    /// The command that makes the lock fresh again.
    pub action: String,
}

impl StaleReason {
    /// A reason `message`, fixed by `imglock resolve`.
    pub fn new(kind: ReasonKind, change: Change, message: String) -> Self {
        Self {
            kind,
            change,
            layer: None,
            item: None,
            line: None,
            message,
            action: "imglock resolve".into(),
        }
    }

    fn at(mut self, layer: Option<&str>, item: Option<&str>) -> Self {
        self.layer = layer.map(str::to_string);
        self.item = item.map(str::to_string);
        self
    }
}

/// Every difference between the spec's parts `now` and those the lock recorded (`locked`), each
/// at its line of the spec among `lines` (a part's key → its line), if it is there.
pub fn spec_reasons(
    now: &SpecParts,
    locked: &SpecParts,
    lines: &BTreeMap<String, usize>,
) -> Vec<StaleReason> {
    let (renames, mut reasons) = layer_reasons(now, locked);
    // The items of a layer added or removed as a whole are not reasons of their own.
    let gone: BTreeSet<&str> = reasons
        .iter()
        .filter(|r| matches!(r.change, Change::Added | Change::Removed))
        .filter_map(|r| r.layer.as_deref())
        .collect();
    // The lock's items of a renamed layer, compared under its new name.
    let locked: SpecParts = locked
        .iter()
        .map(|(key, hash)| (renamed_key(key, &renames), hash.clone()))
        .collect();
    let keys: BTreeSet<&String> = now.keys().chain(locked.keys()).collect();
    let mut items = Vec::new();
    for key in keys {
        let change = match (now.get(key), locked.get(key)) {
            (Some(_), None) => Change::Added,
            (None, Some(_)) => Change::Removed,
            (Some(a), Some(b)) if a != b => Change::Changed,
            _ => continue,
        };
        if let Some(mut reason) = item_reason(key, change).filter(|r| {
            r.kind == ReasonKind::Layer || !r.layer.as_deref().is_some_and(|l| gone.contains(l))
        }) {
            reason.line = lines.get(key).copied();
            items.push(reason);
        }
    }
    items.retain(|r| r.kind != ReasonKind::Layer);
    reasons.extend(items);
    reasons
}

/// The layers added, removed, renamed or moved, and the renames (old name → new name).
fn layer_reasons(
    now: &SpecParts,
    locked: &SpecParts,
) -> (BTreeMap<String, String>, Vec<StaleReason>) {
    let now = layer_positions(now);
    let locked = layer_positions(locked);
    let mut renames = BTreeMap::new();
    let mut reasons = Vec::new();
    let added: Vec<(&str, &str)> = now
        .iter()
        .filter(|(name, _)| !locked.contains_key(*name))
        .map(|(n, p)| (n.as_str(), p.as_str()))
        .collect();
    for (old, position) in locked.iter().filter(|(n, _)| !now.contains_key(*n)) {
        match added.iter().find(|(_, p)| p == position) {
            Some((new, _)) => {
                renames.insert(old.clone(), new.to_string());
                reasons.push(
                    StaleReason::new(
                        ReasonKind::Layer,
                        Change::Renamed,
                        format!("layer `{old}` renamed `{new}`"),
                    )
                    .at(Some(new), None),
                );
            }
            None => reasons.push(
                StaleReason::new(
                    ReasonKind::Layer,
                    Change::Removed,
                    format!("layer `{old}` removed"),
                )
                .at(Some(old), None),
            ),
        }
    }
    for (name, _) in added
        .iter()
        .filter(|(n, _)| !renames.values().any(|v| v == n))
    {
        reasons.push(
            StaleReason::new(
                ReasonKind::Layer,
                Change::Added,
                format!("layer `{name}` added"),
            )
            .at(Some(name), None),
        );
    }
    for (name, position) in &now {
        if locked.get(name).is_some_and(|was| was != position) {
            reasons.push(
                StaleReason::new(
                    ReasonKind::Layer,
                    Change::Moved,
                    format!(
                        "layer `{name}` moved from place {} to {}",
                        was_place(&locked, name),
                        place(position)
                    ),
                )
                .at(Some(name), None),
            );
        }
    }
    (renames, reasons)
}

/// The 1-based place of `name` among `positions`.
fn was_place(positions: &BTreeMap<String, String>, name: &str) -> String {
    positions.get(name).map(|p| place(p)).unwrap_or_default()
}

/// A 0-based position, 1-based.
fn place(position: &str) -> String {
    position
        .parse::<usize>()
        .map(|p| (p + 1).to_string())
        .unwrap_or_else(|_| position.to_string())
}

/// Each layer's name and position among `parts`.
fn layer_positions(parts: &SpecParts) -> BTreeMap<String, String> {
    parts
        .iter()
        .filter_map(|(key, position)| {
            let name = key.strip_prefix("layer/")?;
            (!name.contains('/')).then(|| (name.to_string(), position.clone()))
        })
        .collect()
}

/// `key` with its layer's name replaced by its new name, when it was renamed.
fn renamed_key(key: &str, renames: &BTreeMap<String, String>) -> String {
    let Some(rest) = key.strip_prefix("layer/") else {
        return key.to_string();
    };
    let (name, tail) = rest.split_once('/').unwrap_or((rest, ""));
    match renames.get(name) {
        Some(new) if tail.is_empty() => format!("layer/{new}"),
        Some(new) => format!("layer/{new}/{tail}"),
        None => key.to_string(),
    }
}

/// The reason a part `key` changed (`None` for a key this version does not know).
fn item_reason(key: &str, change: Change) -> Option<StaleReason> {
    let word = change.word();
    let mut path = key.splitn(5, '/');
    let reason = match (
        path.next()?,
        path.next(),
        path.next(),
        path.next(),
        path.next(),
    ) {
        ("extends", None, ..) => {
            StaleReason::new(ReasonKind::Extends, change, format!("`extends` {word}"))
        }
        ("image", Some("base"), None, ..) => StaleReason::new(
            ReasonKind::BaseImage,
            change,
            format!("image: base image {word}"),
        )
        .at(None, Some("base")),
        ("image", Some(setting), None, ..) => StaleReason::new(
            ReasonKind::ImageSetting,
            change,
            format!("image: `{setting}` {word}"),
        )
        .at(None, Some(setting)),
        ("repositories", Some(list), None, ..) => StaleReason::new(
            ReasonKind::Repository,
            change,
            format!("repositories: `{list}` {word}"),
        )
        .at(None, Some(list)),
        ("layer", Some(layer), None, ..) => {
            StaleReason::new(ReasonKind::Layer, change, String::new()).at(Some(layer), None)
        }
        ("layer", Some(layer), Some("requirement"), Some(list), Some(package)) => StaleReason::new(
            ReasonKind::Requirement,
            change,
            format!("layer `{layer}`: {list} requirement `{package}` {word}"),
        )
        .at(Some(layer), Some(package)),
        ("layer", Some(layer), Some(setting), None, ..) => StaleReason::new(
            ReasonKind::LayerSetting,
            change,
            format!("layer `{layer}`: `{setting}` {word}"),
        )
        .at(Some(layer), Some(setting)),
        _ => return None,
    };
    Some(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(pairs: &[(&str, &str)]) -> SpecParts {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn messages(reasons: &[StaleReason]) -> Vec<&str> {
        reasons.iter().map(|r| r.message.as_str()).collect()
    }

    #[test]
    fn a_rename_compares_the_items_under_the_new_name() {
        let locked = parts(&[
            ("layer/r", "0"),
            ("layer/r/requirement/cran/a", "1"),
            ("layer/r/requirement/cran/b", "1"),
        ]);
        let now = parts(&[
            ("layer/stats", "0"),
            ("layer/stats/requirement/cran/a", "1"),
            ("layer/stats/requirement/cran/b", "2"),
        ]);
        assert_eq!(
            messages(&spec_reasons(&now, &locked, &BTreeMap::new())),
            [
                "layer `r` renamed `stats`",
                "layer `stats`: cran requirement `b` changed"
            ]
        );
    }

    #[test]
    fn an_added_layer_is_one_reason_and_the_others_moved() {
        let locked = parts(&[("layer/a", "0"), ("image/base", "x")]);
        let now = parts(&[
            ("layer/new", "0"),
            ("layer/new/requirement/pypi/idna", "1"),
            ("layer/a", "1"),
            ("image/base", "y"),
        ]);
        assert_eq!(
            messages(&spec_reasons(&now, &locked, &BTreeMap::new())),
            [
                "layer `new` added",
                "layer `a` moved from place 1 to 2",
                "image: base image changed"
            ]
        );
    }
}
