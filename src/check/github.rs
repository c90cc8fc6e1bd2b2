//! `imglock check --format github`: the verdict as GitHub Actions workflow commands, so that a
//! stale lock shows on the pull request's files: an error per reason, on the spec when the spec
//! (or a file it copies) changed, at the changed requirement's line when it is still there, else
//! on the lock; a warning per git ref that could not be asked. The verdict's text follows, for the log.

use super::CheckReport;
use super::reasons::{ReasonKind, StaleReason};
use crate::annotations::{Annotation, Level};

/// The annotations of `report`, one per line.
pub fn annotations(report: &CheckReport) -> String {
    let mut out = String::new();
    for reason in &report.reasons {
        let (file, line) = if is_in_spec(reason) {
            (&report.spec, reason.line)
        } else {
            (&report.lock, None)
        };
        let message = format!("{}; run `{}`", reason.message, reason.action);
        let error = Annotation::new(Level::Error, "imglock check: stale lock", message)
            .at(file.display().to_string(), line);
        out.push_str(&format!("{error}\n"));
    }
    for unchecked in &report.unchecked_refs {
        let message = format!("cannot tell whether a git ref moved: {unchecked}");
        let warning = Annotation::new(Level::Warning, "imglock check", message)
            .at(report.lock.display().to_string(), None);
        out.push_str(&format!("{warning}\n"));
    }
    out
}

/// Whether `reason` is a change the spec's author made (shown on the spec), rather than one of
/// the lock's own (its parent, a git ref, a new resolution, its absence).
fn is_in_spec(reason: &StaleReason) -> bool {
    !matches!(
        reason.kind,
        ReasonKind::NoLock | ReasonKind::Parent | ReasonKind::GitRef | ReasonKind::Resolution
    )
}
