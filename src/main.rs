//! The `imglock` command: parse the arguments, run the command, print the error chain once.

use std::process::ExitCode;

fn main() -> ExitCode {
    imglock::cli::main()
}
