//! Custom steps: what a layer does besides installing packages (`env`, `workdir`, `copy`, `run`,
//! `user`, in the order the spec writes them) and the image's `entrypoint` and `cmd`, so the
//! emitted Dockerfile is the whole image.
//!
//! This module owns the steps' model and every check of their values, the same for the spec
//! ([`spec`]: read with their places, `copy` files hashed) and the lock ([`lock`]: read back and
//! written); [`emit`] writes their Dockerfile instructions after the layer's package steps, and
//! [`diff`] compares two locks' steps. A value reaches the Dockerfile only once checked here: none
//! can add, end or change an instruction.

pub(crate) mod diff;
pub(crate) mod emit;
pub(crate) mod lock;
mod record;
pub(crate) mod spec;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

pub(crate) use record::{changed_copies, record};

use crate::dockerfile_values::check_image_path;

/// One custom step of a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomStep {
    /// `ENV`: variables, sorted by name (one instruction sets them all at once).
    Env(BTreeMap<String, String>),
    /// `WORKDIR`: an absolute path in the image.
    Workdir(String),
    /// `COPY`: a file of the spec's folder into the image.
    Copy(CopyStep),
    /// `RUN`: a shell line the user owns, as written.
    Run(String),
    /// `USER`: who runs what follows (and the image, unless a later step changes it).
    User(String),
}

/// A `copy` step: a file, where it goes, and its content's sha256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyStep {
    /// The file, relative to the spec's folder in a spec and to the lock's folder in a lock,
    /// with `/` separators.
    pub source: String,
    /// Where it goes in the image: a folder when it ends with `/`, else the file's new path.
    pub to: String,
    /// Its permissions in the image (`0755`), when given: else what `COPY` gives (`0644` for a
    /// file the build context holds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The sha256 of its bytes: a change of the file is a change of the spec and the lock.
    pub sha256: String,
}

/// The image's `entrypoint` and `cmd`, each in exec form (a list of words, run without a
/// shell).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImageCommand {
    /// `ENTRYPOINT [...]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// `CMD [...]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
}

impl CustomStep {
    /// The step's key in the spec and the lock (`env`, `workdir`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Env(_) => "env",
            Self::Workdir(_) => "workdir",
            Self::Copy(_) => "copy",
            Self::Run(_) => "run",
            Self::User(_) => "user",
        }
    }

    /// Checks every value of the step (a copy's source by `check_source`, which differs between
    /// the spec and the lock).
    pub fn check(&self, check_source: fn(&str) -> Result<(), String>) -> Result<(), String> {
        match self {
            Self::Env(variables) => variables
                .iter()
                .try_for_each(|(name, value)| check_env(name, value)),
            Self::Workdir(path) => check_plain_path("workdir", path),
            Self::Copy(copy) => {
                check_source(&copy.source)?;
                check_plain_path("to", &copy.to)?;
                copy.mode.as_deref().map_or(Ok(()), check_mode)?;
                crate::dockerfile_values::check_sha256("sha256", &copy.sha256)
                    .map_err(|problem| format!("`copy` of `{}` {problem}", copy.source))
            }
            Self::Run(line) => check_run(line),
            Self::User(user) => check_user(user),
        }
    }
}

/// How a step reads in a review: its key and values (a copy's sha256 shortened).
impl fmt::Display for CustomStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env(variables) => {
                let pairs: Vec<String> = variables
                    .iter()
                    .map(|(name, value)| format!("{name}={value:?}"))
                    .collect();
                write!(f, "env {}", pairs.join(" "))
            }
            Self::Workdir(path) => write!(f, "workdir {path}"),
            Self::Copy(copy) => write!(
                f,
                "copy {} → {} ({}sha256 {})",
                copy.source,
                copy.to,
                copy.mode
                    .as_ref()
                    .map_or(String::new(), |mode| format!("mode {mode}, ")),
                &copy.sha256[..copy.sha256.len().min(12)]
            ),
            Self::Run(line) => write!(f, "run {line}"),
            Self::User(user) => write!(f, "user {user}"),
        }
    }
}

impl ImageCommand {
    /// Checks both lists: each a list of one-line words, none empty.
    pub fn check(&self) -> Result<(), String> {
        for (key, words) in [("entrypoint", &self.entrypoint), ("cmd", &self.cmd)] {
            if let Some(words) = words {
                check_exec_form(key, words)?;
            }
        }
        Ok(())
    }

    /// Whether neither is set.
    pub fn is_empty(&self) -> bool {
        self.entrypoint.is_none() && self.cmd.is_none()
    }
}

/// An `env` variable: a name of letters, digits and `_` (not starting with a digit) and a
/// one-line value.
pub fn check_env(name: &str, value: &str) -> Result<(), String> {
    let plain = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !plain {
        return Err(format!(
            "`env` variable `{}` must be letters, digits and `_`, not starting with a digit",
            name.escape_debug()
        ));
    }
    crate::dockerfile_values::check_one_line(&format!("env.{name}"), value)
}

/// A path in the image written bare into the Dockerfile (`workdir`, a copy's `to`): absolute,
/// no `..`, and only letters, digits and `-_./:=+@%,` (no blank, quote, `$` or glob character,
/// which the instruction would read).
pub fn check_plain_path(key: &str, path: &str) -> Result<(), String> {
    check_image_path(path).map_err(|problem| format!("`{key}` {problem}"))?;
    if !plain_word(path) {
        return Err(format!(
            "`{key}` = `{}` may hold only letters, digits and `-_./:=+@%,`",
            path.escape_debug()
        ));
    }
    Ok(())
}

/// A `copy`'s `mode`: three or four octal digits, like `0755`.
pub fn check_mode(mode: &str) -> Result<(), String> {
    let octal = (3..=4).contains(&mode.len()) && mode.bytes().all(|b| (b'0'..=b'7').contains(&b));
    if octal {
        Ok(())
    } else {
        Err(format!(
            "`mode` = `{}` must be three or four octal digits, like `0755`",
            mode.escape_debug()
        ))
    }
}

/// A `user`: a user name or id, optionally `:group`; letters, digits, `_`, `.` and `-`.
pub fn check_user(user: &str) -> Result<(), String> {
    let part = |p: &str| {
        p.bytes().next().is_some_and(|b| b != b'-' && b != b'.')
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    };
    let ok = match user.split_once(':') {
        Some((name, group)) => part(name) && part(group),
        None => part(user),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`user` = `{}` must be a user name or id, optionally `:group` (letters, digits, `_`, `.`, `-`)",
            user.escape_debug()
        ))
    }
}

/// A `run` line: the user's shell text, emitted as `RUN <text>`, so it must read back as exactly
/// one plain `RUN`: one line (no line break or other control character), not continued (no `\`
/// at its end), no here-document (`<<WORD`), and not starting with `-` (a flag of `RUN`, like
/// `--mount` or `--network`, rather than a command).
pub fn check_run(line: &str) -> Result<(), String> {
    let shown = line.escape_debug();
    let problem = if line.trim().is_empty() {
        Some("is empty")
    } else if line.chars().any(char::is_control) {
        Some(
            "holds a line break or another control character: write one shell line, joining commands with `&&`",
        )
    } else if line.trim_start().starts_with('-') {
        Some("starts with `-`, which `RUN` would read as its own flag: start with the command")
    } else if line.trim_end().ends_with('\\') {
        Some("ends with `\\`, which would continue it into the next instruction")
    } else if crate::emit::instructions(&format!("RUN {line}\nRUN true\n")) != ["RUN", "RUN"] {
        Some("opens a here-document (`<<`), which would take the next lines as its body")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(format!("`run` = `{shown}` {problem}")),
        None => Ok(()),
    }
}

/// An exec-form list (`entrypoint`, `cmd`): at least one word, each one line.
pub fn check_exec_form(key: &str, words: &[String]) -> Result<(), String> {
    if words.is_empty() {
        return Err(format!(
            "`{key}` is empty: give the program and its arguments, or leave `{key}` out"
        ));
    }
    words
        .iter()
        .try_for_each(|word| crate::dockerfile_values::check_one_line(key, word))
}

/// Whether `text` is one word the shell and the Dockerfile read as is.
fn plain_word(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=+@%,".contains(&b))
}

/// A copy's source path, relative: components of [`plain_word`] characters, none `.` or empty;
/// `..` only where `parents` allows it (leading, in a lock kept elsewhere than the spec).
fn check_relative(source: &str, parents: bool) -> Result<(), String> {
    let shown = source.escape_debug();
    if source.starts_with('/') {
        return Err(format!(
            "`copy` = `{shown}` is an absolute path: copy files of the spec's folder, named relative to it"
        ));
    }
    let mut leading = true;
    for part in source.split('/') {
        let parent = part == "..";
        leading &= parent;
        if parent && !(parents && leading) {
            return Err(format!(
                "`copy` = `{shown}` has a `..` component: copy files of the spec's folder only"
            ));
        }
        if !parent && (part == "." || !plain_word(part)) {
            return Err(format!(
                "`copy` = `{shown}` must be a relative path of letters, digits and `-_.+@%,=` (no blank, glob character or `.`/empty component)"
            ));
        }
    }
    Ok(())
}

/// A copy source in a spec: below the spec's folder.
pub fn check_spec_source(source: &str) -> Result<(), String> {
    check_relative(source, false)
}

/// A copy source in a lock: relative to the lock's folder, which may be below the spec's.
pub fn check_lock_source(source: &str) -> Result<(), String> {
    check_relative(source, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_lines_stay_one_plain_instruction() {
        for good in [
            "useradd -m dask",
            "echo \"a\\b\" && [ -f /x ] || true",
            "cat <&0 > /dev/null; echo '<<EOF'",
        ] {
            assert!(check_run(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "echo a\nRUN touch /pwned",
            "echo a\r",
            "--network=host curl x",
            "echo a \\",
            "cat <<EOF",
        ] {
            assert!(check_run(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sources_stay_below_their_folder() {
        assert!(check_spec_source("conf/spark.conf").is_ok());
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a b",
            "*.conf",
            "",
        ] {
            assert!(check_spec_source(bad).is_err(), "{bad:?}");
        }
        assert!(check_lock_source("../spec/conf/a").is_ok());
        assert!(check_lock_source("spec/../../a").is_err());
    }

    #[test]
    fn names_users_and_paths_are_plain() {
        assert!(check_env("LANG", "C.UTF-8 \"quoted\" $PATH").is_ok());
        for bad in ["", "1A", "A-B", "A B"] {
            assert!(check_env(bad, "x").is_err(), "{bad:?}");
        }
        assert!(check_env("A", "x\ny").is_err());
        assert!(check_user("dask").is_ok() && check_user("1000:1000").is_ok());
        for bad in ["", "-u", "a b", "a:b:c", "$(id)"] {
            assert!(check_user(bad).is_err(), "{bad:?}");
        }
        assert!(check_plain_path("workdir", "/opt/app").is_ok());
        for bad in ["opt", "/opt/$HOME", "/opt/a b", "/opt/../etc", "/opt/*"] {
            assert!(check_plain_path("workdir", bad).is_err(), "{bad:?}");
        }
    }
}
