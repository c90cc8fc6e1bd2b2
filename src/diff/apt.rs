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

/// The Debian facts of each lock's packages, by name.
struct Facts<'a> {
    old: BTreeMap<&'a str, (&'a str, &'a AptDetails)>,
    new: BTreeMap<&'a str, (&'a str, &'a AptDetails)>,
}

/// What the changes of binaries that go together share: the layer, the kind, the source
/// package, its old and new versions, and the security suite the new one comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SourceChange {
    layer: String,
    kind: ChangeKind,
    source: String,
    old_version: Option<String>,
    new_version: Option<String>,
    security_suite: Option<String>,
}

/// `changes` with the security updates marked and the Debian binaries grouped by source.
pub(super) fn by_source(changes: Vec<Change>, old: &Lock, new: &Lock) -> Vec<Change> {
    let facts = Facts {
        old: details(old),
        new: details(new),
    };
    let mut groups: BTreeMap<SourceChange, Vec<Change>> = BTreeMap::new();
    let mut out = Vec::new();
    for mut change in changes {
        if change.ecosystem != Ecosystem::Apt || change.build_only {
            out.push(change);
            continue;
        }
        change.security_suite = facts.security_suite(&change);
        match facts.source_change(&change) {
            Some(key) => groups.entry(key).or_default().push(change),
            None => out.push(change),
        }
    }
    for (key, members) in groups {
        out.extend(merged(key, members));
    }
    out
}

impl Facts<'_> {
    /// The security suite the new version of `change`'s package comes from, if it came new.
    fn security_suite(&self, change: &Change) -> Option<String> {
        let new_version = change.new_version.as_ref()?;
        let (_, details) = self.new.get(change.name.as_str())?;
        (change.old_version.as_ref() != Some(new_version) && details.from_security_suite())
            .then(|| details.suite.clone())
    }

    /// What `change` shares with the other changes of its source package's binaries, when it
    /// is an addition, removal or version change of the source's version (not a binNMU's).
    fn source_change(&self, change: &Change) -> Option<SourceChange> {
        let groupable = matches!(
            change.kind,
            ChangeKind::Added
                | ChangeKind::Removed
                | ChangeKind::Upgraded
                | ChangeKind::Downgraded
                | ChangeKind::Changed
        );
        let source = |facts: &BTreeMap<&str, (&str, &AptDetails)>, version: &Option<String>| {
            version.as_ref()?;
            let (version, details) = facts.get(change.name.as_str())?;
            Some((
                details.source.clone(),
                details.source_version(version).to_string(),
            ))
        };
        let was = source(&self.old, &change.old_version);
        let is = source(&self.new, &change.new_version);
        let name = match (&was, &is) {
            (Some((old, _)), Some((new, _))) if old != new => return None,
            (_, Some((name, _))) | (Some((name, _)), None) => name.clone(),
            (None, None) => return None,
        };
        let (old_version, new_version) = (was.map(|s| s.1), is.map(|s| s.1));
        (groupable && old_version != new_version).then(|| SourceChange {
            layer: change.layer.clone(),
            kind: change.kind,
            source: name,
            old_version,
            new_version,
            security_suite: change.security_suite.clone(),
        })
    }
}

/// The changes of one group: one change of the source listing its binaries, or the binary's own
/// change when it is alone.
fn merged(key: SourceChange, mut members: Vec<Change>) -> Vec<Change> {
    if members.len() < 2 {
        return members;
    }
    members.sort_by(|a, b| a.name.cmp(&b.name));
    let level = match (&key.old_version, &key.new_version) {
        (Some(old), Some(new)) => crate::apt::support::version_change(old, new).map(|(_, l)| l),
        _ => None,
    };
    let first = members[0].clone();
    vec![Change {
        kind: key.kind,
        name: key.source,
        old_version: key.old_version,
        new_version: key.new_version,
        level: level.or(first.level),
        binaries: members.into_iter().map(|m| m.name).collect(),
        ..first
    }]
}
