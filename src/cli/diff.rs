//! `imglock diff`: the two locks it compares (two files, or a lock and its version at a git
//! revision, read with `git show`) and the report in the chosen format.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use super::{DiffArgs, DiffFormat, exit_code};
use crate::diff::{LockSource, diff};
use crate::error::Error;

pub(super) fn diff_command(args: DiffArgs) -> Result<ExitCode, Error> {
    let (old_label, old_path, old_bytes, new_path) = match (args.git, args.old, args.new) {
        (Some(revision), _, _) => {
            let bytes = git_show(&revision, &args.lock)?;
            (
                format!("{}@{revision}", args.lock.display()),
                args.lock.clone(),
                bytes,
                args.lock,
            )
        }
        (None, Some(old), Some(new)) => {
            let bytes = read_lock_bytes(&old)?;
            (old.display().to_string(), old, bytes, new)
        }
        _ => {
            return Err(Error::Usage(
                "give two locks (`imglock diff OLD NEW`) or a revision (`imglock diff --git main`)"
                    .into(),
            ));
        }
    };
    let new_bytes = read_lock_bytes(&new_path)?;
    let report = diff(
        &LockSource {
            label: old_label,
            path: &old_path,
            bytes: &old_bytes,
        },
        &LockSource {
            label: new_path.display().to_string(),
            path: &new_path,
            bytes: &new_bytes,
        },
    )?;
    let rendered = match args.format {
        DiffFormat::Text => crate::diff::text(&report, std::io::stdout().is_terminal()),
        DiffFormat::Markdown => crate::diff::markdown(&report),
        DiffFormat::Json => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        DiffFormat::Github => crate::diff::github(
            &report,
            &crate::lock::PackageLines::parse(&String::from_utf8_lossy(&new_bytes)),
        ),
    };
    let _ = write!(std::io::stdout(), "{rendered}");
    Ok(exit_code(report.is_empty()))
}

fn read_lock_bytes(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| {
        crate::lock::LockError::Read {
            path: path.to_path_buf(),
            source,
        }
        .into()
    })
}

/// The bytes of `lock` at git `revision`, from the repository that holds it.
fn git_show(revision: &str, lock: &std::path::Path) -> Result<Vec<u8>, Error> {
    let dir = crate::files::parent_dir(lock);
    let name = lock
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    check_revision(revision).map_err(|reason| Error::Git {
        lock: lock.to_path_buf(),
        revision: revision.to_string(),
        reason,
        source: None,
    })?;
    // `--end-of-options` (git 2.24) as well: nothing after it is read as an option.
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args(["show", "--end-of-options", &format!("{revision}:./{name}")])
        .output()
        .map_err(|source| Error::Git {
            lock: lock.to_path_buf(),
            revision: revision.to_string(),
            reason: "git could not be started; install git".into(),
            source: Some(source),
        })?;
    if !output.status.success() {
        return Err(Error::Git {
            lock: lock.to_path_buf(),
            revision: revision.to_string(),
            reason: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            source: None,
        });
    }
    Ok(output.stdout)
}

/// A git revision as `--git` takes it: one that starts with `-` would be read by git as an
/// option (`--output=x.txt` writes a file), so it is refused, as are empty ones and control
/// characters.
fn check_revision(revision: &str) -> Result<(), String> {
    if revision.is_empty() || revision.starts_with('-') {
        return Err(
            "a revision must not start with `-` or be empty; give a branch, tag or commit, like `main` or `HEAD~1`".into(),
        );
    }
    if revision.chars().any(char::is_control) {
        return Err("a revision must not hold control characters; give a branch, tag or commit, like `main` or `HEAD~1`".into());
    }
    Ok(())
}
