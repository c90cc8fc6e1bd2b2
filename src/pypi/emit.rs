//! The Python part of the Dockerfile: one `RUN` per layer that writes a requirements file of
//! exact files with `--hash` lines and installs it with `pip --no-deps --require-hashes`, so pip
//! installs exactly the lock: no resolution, no index, nothing unpinned. The environment is the
//! image's own Python, or the lock's `python-prefix` (a virtualenv, created first when the lock
//! says so, or a prefix like conda's); pip is told to install into it even where the
//! distribution marks it as externally managed (PEP 668: Debian 12, Ubuntu 23.04); older pips
//! ignore the setting.

use std::fmt::Write;

use super::spec::PythonVenv;
use crate::emit::shell::quote;
use crate::emit::step::{Source, context_mount};
use crate::lock::{Lock, LockedPackage};

/// The Python environment a layer's packages are installed into.
#[derive(Debug, Clone, Copy, Default)]
pub struct Environment<'a> {
    /// The environment's prefix; the image's `python3` when `None`.
    prefix: Option<&'a str>,
    /// Whether, and how, to create it as a virtualenv when the image lacks it.
    venv: Option<PythonVenv>,
}

impl<'a> Environment<'a> {
    /// The environment the lock names.
    pub fn of(lock: &'a Lock) -> Self {
        Self {
            prefix: lock.image.python_prefix.as_deref(),
            venv: lock.image.python_venv,
        }
    }

    /// The interpreter that runs pip, as a shell word.
    fn python(&self) -> String {
        match self.prefix {
            Some(prefix) => quote(&format!("{}/bin/python", prefix.trim_end_matches('/'))),
            None => "python3".into(),
        }
    }

    /// The command that creates the virtualenv when it is not there yet.
    fn create(&self) -> Option<String> {
        let (prefix, venv) = (self.prefix?, self.venv?);
        let options = match venv {
            PythonVenv::SystemSitePackages => " --system-site-packages",
            PythonVenv::Isolated => "",
        };
        Some(format!(
            "{{ [ -x {python} ] || python3 -m venv{options} {prefix}; }}",
            python = self.python(),
            prefix = quote(prefix),
        ))
    }
}

/// The install step of a layer's Python packages (wheels with `--only-binary :all:`; an sdist,
/// which the resolver allows only with static metadata, is built by pip in a second install).
pub fn install_step(
    layer: &str,
    packages: &[(&LockedPackage, Source)],
    environment: Environment<'_>,
) -> String {
    let mut names: Vec<&str> = packages.iter().map(|(p, _)| p.name.as_str()).collect();
    names.sort_unstable();
    let mut out = format!(
        "# layer `{layer}`, Python packages: {}\nRUN",
        names.join(" ")
    );
    out.push_str(context_mount(packages));
    let (wheels, sdists): (Vec<_>, Vec<_>) = packages
        .iter()
        .partition(|(package, _)| package.url.ends_with(".whl"));
    let mut commands: Vec<String> = environment.create().into_iter().collect();
    for (files, file_name, binary) in [
        (&wheels, "wheels", "--only-binary :all:"),
        (&sdists, "sdists", "--no-binary :all:"),
    ] {
        if files.is_empty() {
            continue;
        }
        let path = format!("/tmp/imglock-python-{file_name}.txt");
        let mut command = String::from("printf '%s\\n' \\\n");
        let mut lines: Vec<String> = files
            .iter()
            .map(|(package, source)| {
                let location = match source {
                    Source::Url(url) => url.clone(),
                    Source::Context(path) => format!("file:///imglock-context/{path}"),
                };
                format!(
                    "{} @ {location} --hash=sha256:{}",
                    package.name, package.sha256
                )
            })
            .collect();
        lines.sort();
        for line in lines {
            let _ = writeln!(command, "        {} \\", quote(&line));
        }
        let _ = write!(
            command,
            "        > {path} \\\n    && PIP_BREAK_SYSTEM_PACKAGES=1 {python} -m pip install --no-deps --require-hashes {binary} --no-cache-dir --disable-pip-version-check -r {path} \\\n    && rm -f {path}",
            python = environment.python()
        );
        commands.push(command);
    }
    let _ = writeln!(out, " {}", commands.join(" \\\n    && "));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_is_created_as_the_lock_says_and_runs_pip() {
        let image = Environment::default();
        assert_eq!(image.python(), "python3");
        assert_eq!(image.create(), None);
        let existing = Environment {
            prefix: Some("/opt/conda"),
            venv: None,
        };
        assert_eq!(existing.python(), "/opt/conda/bin/python");
        assert_eq!(existing.create(), None);
        let databricks = Environment {
            prefix: Some("/databricks/python3"),
            venv: Some(PythonVenv::SystemSitePackages),
        };
        assert_eq!(
            databricks.create().unwrap(),
            "{ [ -x /databricks/python3/bin/python ] || python3 -m venv --system-site-packages /databricks/python3; }"
        );
        let spaced = Environment {
            prefix: Some("/opt/my env"),
            venv: Some(PythonVenv::Isolated),
        };
        assert_eq!(
            spaced.create().unwrap(),
            "{ [ -x '/opt/my env/bin/python' ] || python3 -m venv '/opt/my env'; }"
        );
    }
}
