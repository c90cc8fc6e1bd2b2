//! The Python part of the Dockerfile: one `RUN` per layer that writes a requirements file of exact
//! files with `--hash` lines and installs it with `pip --no-deps --require-hashes`, so pip installs
//! exactly the lock: no resolution, no index, nothing unpinned; the layer's sdists are built in the
//! same step from their locked build dependencies ([`sdist_build`]). The environment is the image's
//! own Python, or the lock's `python-prefix` (a virtualenv, created first when the lock says so, or
//! a prefix like conda's); pip is told to install into it even where the distribution marks it as
//! externally managed (PEP 668: Debian 12, Ubuntu 23.04); older pips ignore the setting.

pub(crate) mod sdist_build;

use std::fmt::Write;

use self::sdist_build::SdistBuild;
use super::spec::PythonVenv;
use crate::emit::shell::quote;
use crate::emit::step::{NETRC_PATH, Source, StepError, artifact_mounts, cache_mount, needs_netrc};
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

/// What a layer's Python step installs: its packages and the files that build its sdists, each
/// with where it comes from in the build.
pub struct LayerFiles<'a> {
    pub packages: &'a [(&'a LockedPackage, Source)],
    pub build_packages: &'a [(&'a LockedPackage, Source)],
    /// The wheel cache key of the layer's sdists (see [`sdist_build::wheel_cache_key`]).
    pub wheel_key: &'a str,
}

/// The install step of a layer's Python packages: its wheels with `--only-binary :all:`, then
/// each sdist built in the image from its locked build dependencies (see [`sdist_build`]).
pub fn install_step(
    layer: &str,
    files: &LayerFiles<'_>,
    environment: Environment<'_>,
) -> Result<String, StepError> {
    let packages = files.packages;
    let mut names: Vec<&str> = packages.iter().map(|(p, _)| p.name.as_str()).collect();
    names.sort_unstable();
    let mut out = format!(
        "# layer `{layer}`, Python packages: {}\nRUN",
        names.join(" ")
    );
    let (wheels, sdists): (Vec<_>, Vec<_>) = packages
        .iter()
        .partition(|(package, _)| package.url.ends_with(".whl"));
    let all: Vec<(&LockedPackage, Source)> = packages
        .iter()
        .chain(files.build_packages)
        .cloned()
        .collect();
    out.push_str(&artifact_mounts(&all));
    if !sdists.is_empty() {
        let _ = write!(out, "{}", cache_mount(sdist_build::WHEEL_CACHE));
    }
    let python = environment.python();
    let mut commands: Vec<String> = Vec::new();
    if needs_netrc(&all) {
        // pip reads the credentials of the repositories that need them from the build's secret.
        commands.push(format!("export NETRC={NETRC_PATH}"));
    }
    commands.extend(environment.create());
    if !wheels.is_empty() {
        // pip compiles each module's `.pyc`, which holds the source's mtime (the install time)
        // unless SOURCE_DATE_EPOCH makes it hash-checked: fixed, the layer is the same in every
        // build (the date is the sdist builder's).
        let path = "/tmp/imglock-python-wheels.txt";
        let lines = wheels
            .iter()
            .map(|(package, source)| sdist_build::requirement_line(package, source))
            .collect();
        commands.push(format!(
            "{} \\\n    && PIP_BREAK_SYSTEM_PACKAGES=1 SOURCE_DATE_EPOCH={} {python} -m pip install --no-deps --require-hashes --only-binary :all: --no-cache-dir --disable-pip-version-check -r {path} \\\n    && rm -f {path}",
            sdist_build::write_lines(lines, path),
            crate::emit::step::SOURCE_DATE_EPOCH
        ));
    }
    let mut sdists: Vec<_> = sdists;
    sdists.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    for (sdist, source) in sdists {
        let build = SdistBuild {
            sdist,
            source,
            build_packages: sdist_build::build_packages_of(sdist, files.build_packages)?,
        };
        commands.push(build.command(files.wheel_key, &python)?);
    }
    let _ = writeln!(out, " {}", commands.join(" \\\n    && "));
    Ok(out)
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
