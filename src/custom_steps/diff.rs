//! How two locks' custom steps differ, for `imglock diff`: per layer, the steps added, removed
//! or changed (a `copy` whose file's bytes changed, a step rewritten in place), aligned by their
//! longest common run so one inserted step reads as one addition; and the image's `entrypoint`
//! and `cmd` changes.

use serde::Serialize;

use super::{CopyStep, CustomStep, ImageCommand};
use crate::lock::Lock;

/// What happened to a custom step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepChangeKind {
    Added,
    Removed,
    /// The same kind of step at the same place, with other values (or a `copy` file's bytes).
    Changed,
}

/// One change of one custom step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepChange {
    pub kind: StepChangeKind,
    /// The layer the step is in.
    pub layer: String,
    /// The step before, as a review reads it (`copy conf/a → /etc/ (sha256 …)`).
    pub old: Option<String>,
    /// The step after.
    pub new: Option<String>,
}

impl StepChange {
    /// The change as one line: `+ step`, `- step` or `~ old → new`.
    pub fn describe(&self) -> String {
        let (old, new) = (self.old.as_deref(), self.new.as_deref());
        match self.kind {
            StepChangeKind::Added => format!("step added: {}", new.unwrap_or_default()),
            StepChangeKind::Removed => format!("step removed: {}", old.unwrap_or_default()),
            StepChangeKind::Changed => format!(
                "step changed: {} → {}",
                old.unwrap_or_default(),
                new.unwrap_or_default()
            ),
        }
    }
}

/// Every layer's step changes, layers in the new lock's order (then layers only the old has).
pub fn step_changes(old: &Lock, new: &Lock) -> Vec<StepChange> {
    let mut layers: Vec<&str> = Vec::new();
    for layer in new.layers.iter().chain(&old.layers) {
        if !layers.contains(&layer.name.as_str()) {
            layers.push(&layer.name);
        }
    }
    let steps_of = |lock: &'_ Lock, name: &str| {
        lock.layers
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.steps.clone())
            .unwrap_or_default()
    };
    layers
        .into_iter()
        .flat_map(|name| layer_changes(name, &steps_of(old, name), &steps_of(new, name)))
        .collect()
}

/// The image's `entrypoint` and `cmd` changes, as lines of the diff's image section.
pub fn command_changes(old: &ImageCommand, new: &ImageCommand) -> Vec<String> {
    let show = |words: &Option<Vec<String>>| match words {
        Some(words) => serde_json::to_string(words).unwrap_or_default(),
        None => "(none)".into(),
    };
    [
        ("entrypoint", &old.entrypoint, &new.entrypoint),
        ("cmd", &old.cmd, &new.cmd),
    ]
    .into_iter()
    .filter(|(_, old, new)| old != new)
    .map(|(key, old, new)| format!("{key}: {} → {}", show(old), show(new)))
    .collect()
}

/// The changes of one layer's steps: the longest common run of steps of the same identity (a
/// `copy` is the same step whatever its file's bytes) is kept, and between two kept steps the
/// removed and added steps are paired, kind by kind in order, as changes.
fn layer_changes(layer: &str, old: &[CustomStep], new: &[CustomStep]) -> Vec<StepChange> {
    let mut changes = Vec::new();
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    for pair in align(old, new) {
        match pair {
            (Some(o), Some(n)) => {
                pair_up(layer, &mut removed, &mut added, &mut changes);
                if o != n {
                    changes.push(change(layer, StepChangeKind::Changed, Some(o), Some(n)));
                }
            }
            (Some(o), None) => removed.push(o),
            (None, Some(n)) => added.push(n),
            (None, None) => {}
        }
    }
    pair_up(layer, &mut removed, &mut added, &mut changes);
    changes
}

/// The steps `removed` and `added` between two kept ones as changes: each removed step paired
/// with the first added one of its kind, the rest removed or added.
fn pair_up(
    layer: &str,
    removed: &mut Vec<&CustomStep>,
    added: &mut Vec<&CustomStep>,
    changes: &mut Vec<StepChange>,
) {
    let mut unpaired = Vec::new();
    for old in removed.drain(..) {
        match added.iter().position(|a| a.kind() == old.kind()) {
            Some(at) => {
                let new = added.remove(at);
                changes.push(change(layer, StepChangeKind::Changed, Some(old), Some(new)));
            }
            None => unpaired.push(change(layer, StepChangeKind::Removed, Some(old), None)),
        }
    }
    changes.extend(unpaired);
    changes.extend(
        added
            .drain(..)
            .map(|new| change(layer, StepChangeKind::Added, None, Some(new))),
    );
}

/// A change of `kind` in `layer` from step `old` to step `new`.
fn change(
    layer: &str,
    kind: StepChangeKind,
    old: Option<&CustomStep>,
    new: Option<&CustomStep>,
) -> StepChange {
    StepChange {
        kind,
        layer: layer.to_string(),
        old: old.map(ToString::to_string),
        new: new.map(ToString::to_string),
    }
}

/// Both step lists aligned by a longest common subsequence of their identities: pairs of kept
/// steps, and each other step alone, in order.
fn align<'a>(
    old: &'a [CustomStep],
    new: &'a [CustomStep],
) -> Vec<(Option<&'a CustomStep>, Option<&'a CustomStep>)> {
    let same = |a: &CustomStep, b: &CustomStep| identity(a) == identity(b);
    // longest[i][j]: the longest common run of old[i..] and new[j..].
    let mut longest = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            longest[i][j] = if same(&old[i], &new[j]) {
                longest[i + 1][j + 1] + 1
            } else {
                longest[i + 1][j].max(longest[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && same(&old[i], &new[j]) {
            out.push((Some(&old[i]), Some(&new[j])));
            (i, j) = (i + 1, j + 1);
        } else if j == new.len() || (i < old.len() && longest[i + 1][j] >= longest[i][j + 1]) {
            out.push((Some(&old[i]), None));
            i += 1;
        } else {
            out.push((None, Some(&new[j])));
            j += 1;
        }
    }
    out
}

/// What makes two steps the same step: everything but a `copy` file's sha256.
fn identity(step: &CustomStep) -> CustomStep {
    match step {
        CustomStep::Copy(copy) => CustomStep::Copy(CopyStep {
            sha256: String::new(),
            ..copy.clone()
        }),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str) -> CustomStep {
        CustomStep::Run(line.into())
    }

    #[test]
    fn an_inserted_step_is_one_addition_and_a_rewritten_one_a_change() {
        let old = [run("a"), run("b"), CustomStep::User("x".into())];
        let new = [
            run("a"),
            CustomStep::Workdir("/w".into()),
            run("b2"),
            CustomStep::User("x".into()),
        ];
        let changes = layer_changes("l", &old, &new);
        let kinds: Vec<_> = changes.iter().map(|c| (c.kind, c.describe())).collect();
        assert_eq!(
            kinds,
            [
                (
                    StepChangeKind::Changed,
                    "step changed: run b → run b2".to_string()
                ),
                (StepChangeKind::Added, "step added: workdir /w".to_string()),
            ]
        );
    }
}
