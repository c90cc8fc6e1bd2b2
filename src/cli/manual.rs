//! `imglock man` and `imglock completions`: the manual pages and shell completion scripts, both
//! generated from the parser's own definitions.

use std::io::Write;
use std::process::ExitCode;

use super::Cli;
use crate::error::Error;

/// Prints the completion script of `shell`.
pub(super) fn completions_command(shell: clap_complete::Shell) -> Result<ExitCode, Error> {
    let mut command = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut command, "imglock", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

/// Prints the manual page of imglock, or of its subcommand `name` as `imglock-NAME(1)`.
pub(super) fn man_command(name: Option<&str>) -> Result<ExitCode, Error> {
    let imglock = <Cli as clap::CommandFactory>::command();
    let command = match name {
        None => imglock,
        Some(name) => {
            let Some(command) = imglock.find_subcommand(name) else {
                let names = imglock.get_subcommands().map(clap::Command::get_name);
                let _ = writeln!(
                    std::io::stderr(),
                    "error: imglock has no command `{name}`{}",
                    match crate::suggest::closest(name, names) {
                        Some(closest) => format!(" (did you mean `{closest}`?)"),
                        None => String::new(),
                    }
                );
                return Ok(ExitCode::from(2));
            };
            command.clone().name(format!("imglock-{name}"))
        }
    };
    match clap_mangen::Man::new(command).render(&mut std::io::stdout()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write {
            path: "standard output".into(),
            source: error,
        }),
        _ => Ok(ExitCode::SUCCESS),
    }
}
