//! `imglock tree` and `imglock why`: the lock's dependency trees ([`crate::tree`]) as text or
//! JSON.

use std::io::Write;
use std::process::ExitCode;

use super::{Format, TreeArgs, WhyArgs};
use crate::error::Error;
use crate::tree::{Direction, Graph};

pub(super) fn tree_command(args: TreeArgs) -> Result<ExitCode, Error> {
    let direction = match args.invert {
        true => Direction::Dependents,
        false => Direction::Dependencies,
    };
    let (package, layer) = (args.package.as_deref(), args.layer.as_deref());
    print_trees(&args.lock, package, layer, direction, args.format)
}

pub(super) fn why_command(args: WhyArgs) -> Result<ExitCode, Error> {
    let package = Some(args.package.as_str());
    print_trees(
        &args.lock,
        package,
        None,
        Direction::Dependents,
        args.format,
    )
}

/// Prints the trees of `lock` from `package` (else from every request), of `layer` alone when
/// given.
fn print_trees(
    lock: &std::path::Path,
    package: Option<&str>,
    layer: Option<&str>,
    direction: Direction,
    format: Format,
) -> Result<ExitCode, Error> {
    let lock = crate::lock::Lock::read(lock)?;
    let trees = Graph::new(&lock).trees(package, layer, direction)?;
    let out = match format {
        Format::Text => crate::tree::text(&trees),
        Format::Json => serde_json::to_string_pretty(&trees).unwrap_or_default() + "\n",
    };
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(ExitCode::SUCCESS)
}
