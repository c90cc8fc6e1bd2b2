//! apt's part of a lock diff, as a Debian developer reviews an upgrade: the binary packages one
//! source package builds move together, so the binaries a source's new version adds, removes,
//! upgrades or downgrades in one layer read as one change of the source, listing them (a
//! binary alone in its group stays a change of its own); and a new version that comes from a
//! security suite (`bookworm-security`) is called out as a security update. Versions are
//! ordered and levelled by dpkg's order (epochs, `~`), `crate::apt::support::version_change`,
//! as every ecosystem's are.

use std::collections::BTreeMap;

use super::{Change, ChangeKind};
use crate::apt::details::AptDetails;
use crate::lock::Lock;
use crate::package::Ecosystem;

/// The version and Debian facts of each locked Debian package of `lock`, by name (a name is
/// locked in one layer).
fn details(lock: &Lock) -> BTreeMap<&str, (&str, &AptDetails)> {
    lock.layers
        .iter()
        .flat_map(|layer| &layer.packages)
        .filter_map(|p| Some((p.name.as_str(), (p.version.as_str(), p.details.apt()?))))
        .collect()
}

/// What changes of binaries of one source go together: the layer, the kind, the source, its old
/// and new versions, and the suite the new one comes from.
type Group = (
    String,
    ChangeKind,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// `changes` with the security updates marked and the Debian binaries grouped by source.
pub(super) fn by_source(changes: Vec<Change>, old: &Lock, new: &Lock) -> Vec<Change> {
    let (old_details, new_details) = (details(old), details(new));
    let mut groups: BTreeMap<Group, Vec<Change>> = BTreeMap::new();
    let mut out = Vec::new();
    for mut change in changes {
        if change.ecosystem != Ecosystem::Apt || change.build_only {
            out.push(change);
            continue;
        }
        let name = change.name.as_str();
        let was = change
            .old_version
            .as_ref()
            .and(old_details.get(name).copied());
        let is = change
            .new_version
            .as_ref()
            .and(new_details.get(name).copied());
        let new_version_came =
            change.new_version.is_some() && change.old_version != change.new_version;
        if let Some((_, details)) = is.filter(|(_, d)| new_version_came && d.from_security_suite())
        {
            change.security_suite = Some(details.suite.clone());
        }
        let groupable = matches!(
            change.kind,
            ChangeKind::Added
                | ChangeKind::Removed
                | ChangeKind::Upgraded
                | ChangeKind::Downgraded
                | ChangeKind::Changed
        );
        let source_of = |side: Option<(&str, &AptDetails)>| {
            side.map(|(version, d)| (d.source.clone(), d.source_version(version).to_string()))
        };
        let (was, is) = (source_of(was), source_of(is));
        let source = is
            .as_ref()
            .or(was.as_ref())
            .map(|(source, _)| source.clone());
        let same_source = match (&was, &is) {
            (Some((a, _)), Some((b, _))) => a == b,
            _ => true,
        };
        let versions_differ = was.as_ref().map(|s| &s.1) != is.as_ref().map(|s| &s.1);
        match source {
            Some(source) if groupable && same_source && versions_differ => {
                let key = (
                    change.layer.clone(),
                    change.kind,
                    source,
                    was.map(|(_, version)| version),
                    is.map(|(_, version)| version),
                    change.security_suite.clone(),
                );
                groups.entry(key).or_default().push(change);
            }
            _ => out.push(change),
        }
    }
    for (key, members) in groups {
        out.extend(merged(key, members));
    }
    out
}

/// The changes of one group: one change of the source listing its binaries, or the binary's own
/// change when it is alone.
fn merged(key: Group, mut members: Vec<Change>) -> Vec<Change> {
    if members.len() < 2 {
        return members;
    }
    let (_, kind, source, old_version, new_version, _) = key;
    members.sort_by(|a, b| a.name.cmp(&b.name));
    let level = match (&old_version, &new_version) {
        (Some(old), Some(new)) => crate::apt::support::version_change(old, new).map(|(_, l)| l),
        _ => None,
    };
    let first = members[0].clone();
    vec![Change {
        kind,
        name: source,
        old_version,
        new_version,
        level: level.or(first.level),
        binaries: members.into_iter().map(|m| m.name).collect(),
        ..first
    }]
}
