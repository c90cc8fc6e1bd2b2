//! `imglock check`: the report of whether the lock matches the spec, each reason it is stale on
//! a line of its own with what to do; `--locked` also resolves (as `resolve --locked`) and
//! `--frozen` reads only the lock.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{CheckFormat, exit_code};
use crate::check::reasons::{Change, ReasonKind, StaleReason};
use crate::check::{CheckReport, check};
use crate::error::Error;
use crate::progress::Progress;
use crate::resolve::lock_path_for;
use crate::spec::DEFAULT_SPEC;

/// The arguments of `imglock check`.
#[derive(Debug, Args)]
pub(super) struct CheckArgs {
    /// The spec to read.
    #[arg(long, default_value = DEFAULT_SPEC)]
    spec: PathBuf,
    /// The lock to compare [default: imglock.lock beside the spec].
    #[arg(long)]
    lock: Option<PathBuf>,
    /// Output format (`github`: GitHub Actions annotations, then the text).
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    format: CheckFormat,
    /// Also resolve the spec (the network, or the cache with --offline) and call the lock
    /// stale when it is not what the spec resolves to now: `resolve --locked`'s test, without
    /// its error.
    #[arg(long, conflicts_with = "frozen")]
    locked: bool,
    /// With --locked: resolve from the on-disk cache only.
    #[arg(long, requires = "locked")]
    offline: bool,
    /// Read only the lock, never the spec: exit 0 when it exists and is a valid lock (what a
    /// build from it needs), 2 when not. A frozen lock is used as it is, so whether it matches
    /// the spec is not asked.
    #[arg(long)]
    frozen: bool,
}

pub(super) fn check_command(args: CheckArgs, progress: Progress) -> Result<ExitCode, Error> {
    let lock = lock_path_for(&args.spec, args.lock.as_deref());
    if args.frozen {
        let summary = super::frozen_lock(&lock)?;
        let _ = writeln!(
            std::io::stdout(),
            "{summary} is a valid lock; the spec was not read (--frozen)"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut report = check(&args.spec, &lock)?;
    if args.locked
        && report.fresh
        && let Some(reason) = resolution_reason(&args, &lock, progress)?
    {
        report.reasons.push(reason);
        report.fresh = false;
    }
    print(&report, args.format);
    // GitHub's format annotates them instead.
    let warnings = !matches!(args.format, CheckFormat::Github);
    for unchecked in report.unchecked_refs.iter().filter(|_| warnings) {
        eprintln!("warning: cannot tell whether a git ref moved: {unchecked}");
    }
    Ok(exit_code(report.fresh))
}

/// Why the lock is not what the spec resolves to now (`resolve --locked`'s verdict), if it is
/// not.
fn resolution_reason(
    args: &CheckArgs,
    lock: &std::path::Path,
    progress: Progress,
) -> Result<Option<StaleReason>, Error> {
    let resolved = super::resolve_locked(
        args.spec.clone(),
        lock.to_path_buf(),
        args.offline,
        progress,
    );
    match resolved {
        Ok(_) => Ok(None),
        Err(Error::LockWouldChange { changes, .. }) => Ok(Some(StaleReason::new(
            ReasonKind::Resolution,
            Change::Changed,
            format!(
                "the spec resolves to another lock now: {}",
                changes.join("; ")
            ),
        ))),
        Err(error) => Err(error),
    }
}

/// Prints the report on stdout: JSON, or a line saying it is fresh, or one per stale reason
/// (after GitHub's annotations of them with `github`).
fn print(report: &CheckReport, format: CheckFormat) {
    let mut stdout = std::io::stdout();
    match format {
        CheckFormat::Json => {
            let text = serde_json::to_string_pretty(report).unwrap_or_default();
            let _ = writeln!(stdout, "{text}");
            return;
        }
        CheckFormat::Github => {
            let _ = write!(stdout, "{}", crate::check::github::annotations(report));
        }
        CheckFormat::Text => {}
    }
    if report.fresh {
        let _ = writeln!(
            stdout,
            "{} is up to date with {}",
            report.lock.display(),
            report.spec.display()
        );
        return;
    }
    // Without a lock, its one reason says so, alone.
    let indent = if report.lock_spec_hash.is_some() {
        let _ = writeln!(stdout, "{} is stale:", report.lock.display());
        "  "
    } else {
        ""
    };
    for reason in &report.reasons {
        let _ = writeln!(
            stdout,
            "{indent}{}; run `{}`",
            reason.message, reason.action
        );
    }
}
