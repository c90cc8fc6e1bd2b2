//! Custom steps in the lock: each layer's `[[layer.step]]` tables, in the spec's order, after its
//! packages (a lock without steps has none, as locks written before steps existed), and the
//! image's `entrypoint` and `cmd`. Read back with every value checked as the spec's are (a
//! `copy` source relative to the lock's folder), and written in a fixed form.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use serde::Deserialize;

use super::{CopyStep, CustomStep, ImageCommand, check_lock_source};

/// A `[[layer.step]]` table as the lock holds it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepTable {
    env: Option<BTreeMap<String, String>>,
    workdir: Option<String>,
    copy: Option<String>,
    to: Option<String>,
    mode: Option<String>,
    sha256: Option<String>,
    run: Option<String>,
    user: Option<String>,
}

/// The steps of layer `layer`, checked.
pub fn read_steps(layer: &str, tables: Vec<StepTable>) -> Result<Vec<CustomStep>, String> {
    tables
        .into_iter()
        .map(|table| {
            read_step(table)
                .and_then(|step| step.check(check_lock_source).map(|()| step))
                .map_err(|problem| format!("layer `{layer}`: step: {problem}"))
        })
        .collect()
}

/// One step: exactly one kind, with the fields it has and no other.
fn read_step(table: StepTable) -> Result<CustomStep, String> {
    let StepTable {
        env,
        workdir,
        copy,
        to,
        mode,
        sha256,
        run,
        user,
    } = table;
    let copy_fields = to.is_some() || mode.is_some() || sha256.is_some();
    let step = match (env, workdir, copy, run, user) {
        (Some(env), None, None, None, None) if !env.is_empty() => CustomStep::Env(env),
        (None, Some(path), None, None, None) => CustomStep::Workdir(path),
        (None, None, Some(source), None, None) => CustomStep::Copy(CopyStep {
            source,
            to: to.ok_or("`copy` has no `to`")?,
            mode,
            sha256: sha256.ok_or("`copy` has no `sha256`")?,
        }),
        (None, None, None, Some(line), None) => CustomStep::Run(line),
        (None, None, None, None, Some(user)) => CustomStep::User(user),
        _ => {
            return Err("a step has exactly one of `env`, `workdir`, `copy`, `run`, `user`".into());
        }
    };
    if copy_fields && !matches!(step, CustomStep::Copy(_)) {
        return Err(format!(
            "a `{}` step has `to`, `mode` or `sha256`",
            step.kind()
        ));
    }
    Ok(step)
}

/// The spec's steps as the lock records them: a `copy` source re-expressed relative to the
/// lock's folder `lock_dir` (the spec's is `spec_dir`), so emit finds it from the lock alone.
pub fn for_lock(steps: &[CustomStep], spec_dir: &Path, lock_dir: &Path) -> Vec<CustomStep> {
    steps
        .iter()
        .map(|step| match step {
            CustomStep::Copy(copy) => CustomStep::Copy(CopyStep {
                source: crate::repository::relative_to(&spec_dir.join(&copy.source), lock_dir),
                ..copy.clone()
            }),
            other => other.clone(),
        })
        .collect()
}

/// Writes a layer's steps as `[[layer.step]]` tables.
pub fn write_steps(out: &mut String, steps: &[CustomStep]) {
    let quote = crate::lock::fields::quote;
    for step in steps {
        let _ = writeln!(out, "\n[[layer.step]]");
        let _ = match step {
            CustomStep::Env(variables) => {
                let pairs: Vec<String> = variables
                    .iter()
                    .map(|(name, value)| format!("{name} = {}", quote(value)))
                    .collect();
                writeln!(out, "env = {{ {} }}", pairs.join(", "))
            }
            CustomStep::Workdir(path) => writeln!(out, "workdir = {}", quote(path)),
            CustomStep::Copy(copy) => {
                let _ = writeln!(
                    out,
                    "copy = {}\nto = {}",
                    quote(&copy.source),
                    quote(&copy.to)
                );
                if let Some(mode) = &copy.mode {
                    let _ = writeln!(out, "mode = {}", quote(mode));
                }
                writeln!(out, "sha256 = {}", quote(&copy.sha256))
            }
            CustomStep::Run(line) => writeln!(out, "run = {}", quote(line)),
            CustomStep::User(user) => writeln!(out, "user = {}", quote(user)),
        };
    }
}

/// Writes the image's `entrypoint` and `cmd` lines (in `[image]`), when set.
pub fn write_command(out: &mut String, command: &ImageCommand) {
    for (key, words) in [("entrypoint", &command.entrypoint), ("cmd", &command.cmd)] {
        if let Some(words) = words {
            let _ = writeln!(out, "{key} = {}", crate::lock::fields::list(words));
        }
    }
}
