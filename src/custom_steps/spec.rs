//! Custom steps as the spec writes them: a layer's `steps = [{ env = { … } }, { workdir = "…" },
//! { copy = "…", to = "…", mode = "0755"? }, { run = "…" }, { user = "…" }]` and the image's
//! `entrypoint` and `cmd`, checked with their places; a `copy` file is read (below the spec's
//! folder only, links followed) and hashed, so a change of its bytes changes the spec's hash.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use super::{CopyStep, CustomStep, ImageCommand, check_exec_form, check_spec_source};
use crate::dockerfile_values::SpanProblem;

/// One table of a layer's `steps`, as written: exactly one of its step keys (`to` and `mode` go
/// with `copy`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepTable {
    env: Option<BTreeMap<String, Spanned<String>>>,
    workdir: Option<Spanned<String>>,
    copy: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
    mode: Option<Spanned<String>>,
    run: Option<Spanned<String>>,
    user: Option<Spanned<String>>,
}

/// The steps of a layer, in the order written, each checked; `spec_dir` is the folder `copy`
/// files are read from.
pub fn parse_steps(
    tables: Vec<Spanned<StepTable>>,
    spec_dir: &Path,
) -> Result<Vec<CustomStep>, SpanProblem> {
    tables
        .into_iter()
        .map(|table| parse_step(table, spec_dir))
        .collect()
}

/// The image's `entrypoint` and `cmd`, checked.
pub fn parse_command(
    entrypoint: Option<Spanned<Vec<String>>>,
    cmd: Option<Spanned<Vec<String>>>,
) -> Result<ImageCommand, SpanProblem> {
    let checked = |words: Option<Spanned<Vec<String>>>, key: &str| match words {
        None => Ok(None),
        Some(words) => match check_exec_form(key, words.get_ref()) {
            Ok(()) => Ok(Some(words.into_inner())),
            Err(problem) => Err((words.span(), problem)),
        },
    };
    Ok(ImageCommand {
        entrypoint: checked(entrypoint, "entrypoint")?,
        cmd: checked(cmd, "cmd")?,
    })
}

/// One step: its one key, its values checked where they were written.
fn parse_step(table: Spanned<StepTable>, spec_dir: &Path) -> Result<CustomStep, SpanProblem> {
    let span = table.span();
    let table = table.into_inner();
    let kinds = [
        table.env.is_some(),
        table.workdir.is_some(),
        table.copy.is_some(),
        table.run.is_some(),
        table.user.is_some(),
    ];
    if kinds.iter().filter(|&&set| set).count() != 1 {
        return Err((
            span,
            "a step is a table of one of `env`, `workdir`, `copy` (with `to`), `run` or `user`, like `{ run = \"useradd -m app\" }`".into(),
        ));
    }
    if table.copy.is_none() {
        for (key, value) in [("to", &table.to), ("mode", &table.mode)] {
            if let Some(value) = value {
                return Err((value.span(), format!("`{key}` goes with `copy` only")));
            }
        }
    }
    if let Some(env) = table.env {
        return parse_env(env, span);
    }
    if let Some(copy) = table.copy {
        return parse_copy(copy, table.to, table.mode, spec_dir);
    }
    let (value, step): (Spanned<String>, fn(String) -> CustomStep) =
        match (table.workdir, table.run, table.user) {
            (Some(path), _, _) => (path, CustomStep::Workdir),
            (_, Some(line), _) => (line, CustomStep::Run),
            (_, _, Some(user)) => (user, CustomStep::User),
            _ => unreachable!("one kind is set"),
        };
    let step = step(value.get_ref().trim().to_string());
    step.check(check_spec_source)
        .map_err(|problem| (value.span(), problem))?;
    Ok(step)
}

/// An `env` step: at least one variable, each checked where its value was written.
fn parse_env(
    env: BTreeMap<String, Spanned<String>>,
    span: std::ops::Range<usize>,
) -> Result<CustomStep, SpanProblem> {
    let mut variables = BTreeMap::new();
    for (name, value) in env {
        super::check_env(&name, value.get_ref()).map_err(|problem| (value.span(), problem))?;
        variables.insert(name, value.into_inner());
    }
    if variables.is_empty() {
        return Err((
            span,
            "`env` is empty: name a variable, like `{ env = { LANG = \"C.UTF-8\" } }`".into(),
        ));
    }
    Ok(CustomStep::Env(variables))
}

/// A `copy` step: its file read and hashed, where it goes, and its mode when given.
fn parse_copy(
    copy: Spanned<String>,
    to: Option<Spanned<String>>,
    mode: Option<Spanned<String>>,
    spec_dir: &Path,
) -> Result<CustomStep, SpanProblem> {
    let at_copy = |problem| (copy.span(), problem);
    let Some(to) = to else {
        return Err(at_copy(
            "`copy` needs `to`: where the file goes in the image, like `to = \"/etc/app/\"`".into(),
        ));
    };
    let source = copy.get_ref().trim().to_string();
    check_spec_source(&source).map_err(at_copy)?;
    let sha256 = hash_file(spec_dir, &source).map_err(at_copy)?;
    if let Some(mode) = &mode {
        super::check_mode(mode.get_ref()).map_err(|problem| (mode.span(), problem))?;
    }
    let step = CustomStep::Copy(CopyStep {
        source,
        to: to.get_ref().trim().to_string(),
        mode: mode.map(Spanned::into_inner),
        sha256,
    });
    step.check(check_spec_source)
        .map_err(|problem| (to.span(), problem))?;
    Ok(step)
}

/// The sha256 of the file `source` of the spec's folder `spec_dir`: a regular file that is
/// below the folder once links are followed.
fn hash_file(spec_dir: &Path, source: &str) -> Result<String, String> {
    let cannot = |error: std::io::Error| {
        format!(
            "`copy` = `{source}`: cannot read the file ({error}); copy a file of the spec's folder"
        )
    };
    let folder = spec_dir.canonicalize().map_err(cannot)?;
    let file = folder.join(source).canonicalize().map_err(cannot)?;
    if !file.starts_with(&folder) {
        return Err(format!(
            "`copy` = `{source}` leads out of the spec's folder (through a link): copy files of the spec's folder only"
        ));
    }
    if !file.is_file() {
        return Err(format!(
            "`copy` = `{source}` is not a regular file: copy files one by one"
        ));
    }
    let bytes = std::fs::read(&file).map_err(cannot)?;
    Ok(hex::encode(Sha256::digest(bytes)))
}
