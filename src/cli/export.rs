//! `imglock export`: the lock in another tool's format ([`crate::export`]), on stdout or
//! written atomically to `--out`; a note on stderr says what a one-ecosystem format left out.

use std::io::Write;
use std::process::ExitCode;

use super::ExportArgs;
use crate::error::Error;
use crate::export::export;

pub(super) fn export_command(args: ExportArgs) -> Result<ExitCode, Error> {
    let text =
        std::fs::read_to_string(&args.lock).map_err(|source| crate::lock::LockError::Read {
            path: args.lock.clone(),
            source,
        })?;
    let lock = crate::lock::Lock::parse(&args.lock, &text)?;
    let exported = export(&lock, text.as_bytes(), args.format, &args.layer)?;
    if !exported.left_out.is_empty() {
        let counts: Vec<String> = exported
            .left_out
            .iter()
            .map(|(ecosystem, count)| format!("{count} {ecosystem}"))
            .collect();
        let _ = writeln!(
            std::io::stderr(),
            "note: `--format {}` leaves out the lock's other packages ({}); `--format cyclonedx` or `spdx` lists every one",
            args.format.name(),
            counts.join(", ")
        );
    }
    match &args.out {
        Some(path) => {
            crate::files::write_atomic(path, exported.text.as_bytes()).map_err(|source| {
                Error::Write {
                    path: path.clone(),
                    source,
                }
            })?
        }
        None => {
            let _ = std::io::stdout().write_all(exported.text.as_bytes());
        }
    }
    Ok(ExitCode::SUCCESS)
}
