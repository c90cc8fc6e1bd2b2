//! The shell that builds a layer's sdists inside the image from locked inputs only: per sdist, a
//! throw-away build virtualenv gets exactly its locked build dependencies (wheels, hash-checked,
//! no index), builds the exact sdist file (hash-checked, `--no-build-isolation`) into the wheel
//! cache mount, under a key of the sdist's name, version, sha256 and the image's Python and
//! platform; the built wheel is then installed into the layer's environment. A wheel already
//! under its key is installed without building. Nothing of the build environment stays.

use std::fmt::Write;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;

use crate::emit::shell::quote;
use crate::emit::step::{Source, StepError};
use crate::lock::{Lock, LockedPackage};
use crate::package::SettingValue;

/// Where built wheels are kept between builds (a cache mount).
pub const WHEEL_CACHE: &str = "/var/cache/imglock/wheels";

/// The part of the wheel cache's key that names the interpreter and platform a wheel was built
/// for, from the lock's resolution settings: `cp38-manylinux_2_17_x86_64`.
pub fn python_key(lock: &Lock) -> Result<String, StepError> {
    let setting = |key: &str| match lock.resolution.get(key) {
        Some(SettingValue::Text(text)) => Ok(text.clone()),
        _ => Err(StepError::InvalidLock(format!(
            "the lock has sdists to build but no `{key}` in [resolution]; re-create it with `imglock resolve`"
        ))),
    };
    let version = setting("python-version")?;
    let platform = setting("python-platform")?;
    let tag = format!("cp{}", version.replace('.', ""));
    let safe = |text: &str| {
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    };
    if !safe(&tag) || !safe(&platform) {
        return Err(StepError::InvalidLock(format!(
            "the lock's python-version `{version}` or python-platform `{platform}` is not a plain tag"
        )));
    }
    Ok(format!("{tag}-{platform}"))
}

/// One sdist to build, with the files of its build environment.
pub struct SdistBuild<'a> {
    pub sdist: &'a LockedPackage,
    pub source: &'a Source,
    /// Its locked build dependencies, with where each file comes from.
    pub build_packages: Vec<(&'a LockedPackage, &'a Source)>,
}

/// The build packages of `layer_build_packages` that `sdist` pins (its `build-requires`); an
/// error names a pin the layer does not lock, or an sdist that pins none (a lock written before
/// build dependencies were locked: its build could only fail in the image).
pub fn build_packages_of<'a>(
    sdist: &LockedPackage,
    layer_build_packages: &'a [(&'a LockedPackage, Source)],
) -> Result<Vec<(&'a LockedPackage, &'a Source)>, StepError> {
    let pins = sdist
        .details
        .pypi()
        .map(|details| details.build_requires.as_slice())
        .unwrap_or_default();
    if pins.is_empty() {
        return Err(StepError::InvalidLock(format!(
            "the sdist {} {} has no `build-requires`, so it cannot be built in the image (the lock was written before imglock locked build dependencies); re-create it with `imglock resolve`",
            sdist.name, sdist.version
        )));
    }
    pins.iter()
        .map(|pin| {
            layer_build_packages
                .iter()
                .find(|(package, _)| format!("{}=={}", package.name, package.version) == *pin)
                .map(|(package, source)| (*package, source))
                .ok_or_else(|| {
                    StepError::InvalidLock(format!(
                        "the sdist {} {} pins the build dependency `{pin}`, which its layer's [[layer.build-package]] tables do not lock; re-create the lock with `imglock resolve`",
                        sdist.name, sdist.version
                    ))
                })
        })
        .collect()
}

/// A requirements line pinning `package`'s exact file by its sha256.
pub fn requirement_line(package: &LockedPackage, source: &Source) -> String {
    let location = match source {
        Source::Url(url) => url.clone(),
        Source::Context(path) => format!("file:///imglock-context/{path}"),
    };
    format!(
        "{} @ {location} --hash=sha256:{}",
        package.name, package.sha256
    )
}

/// `printf` of `lines` (each quoted, sorted) into `path`.
pub fn write_lines(mut lines: Vec<String>, path: &str) -> String {
    lines.sort();
    let mut command = String::from("printf '%s\\n' \\\n");
    for line in lines {
        let _ = writeln!(command, "        {} \\", quote(&line));
    }
    let _ = write!(command, "        > {path}");
    command
}

impl SdistBuild<'_> {
    /// The commands (joined with `&&`) that build the sdist unless its wheel is cached, then
    /// install the wheel with `python` (the layer environment's interpreter, a shell word).
    pub fn commands(&self, python_key: &str, python: &str) -> Result<String, StepError> {
        let sdist = self.sdist;
        let invalid = || {
            StepError::InvalidLock(format!(
                "the sdist `{}` `{}` has no valid PEP 508 name and PEP 440 version",
                sdist.name.escape_debug(),
                sdist.version.escape_debug()
            ))
        };
        let name = PackageName::from_str(&sdist.name).map_err(|_| invalid())?;
        let version = Version::from_str(&sdist.version).map_err(|_| invalid())?;
        let wheels = quote(&format!(
            "{WHEEL_CACHE}/{name}/{version}/{}/{python_key}",
            sdist.sha256
        ));
        let venv = format!("/tmp/imglock-build-{name}");
        let build_file = format!("{venv}-requirements.txt");
        let sdist_file = format!("{venv}-sdist.txt");
        let pip = "--no-cache-dir --disable-pip-version-check --no-index";
        let build_lines = self
            .build_packages
            .iter()
            .map(|(package, source)| requirement_line(package, source))
            .collect();
        let label = quote(&format!("{name} {version}"));
        let mut out =
            format!("wheels={wheels} \\\n    && if ! ls \"$wheels\"/*.whl >/dev/null 2>&1; then ");
        let _ = write!(
            out,
            "{} \\\n    && {} \\\n    && $build_pip install --no-deps --require-hashes --only-binary :all: {pip} -r {build_file} \\\n    && {} \\\n    && built=\"$wheels.$$\" \\\n    && $build_pip wheel --no-deps --no-build-isolation --require-hashes {pip} -w \"$built\" -r {sdist_file} \\\n    && mkdir -p \"$wheels\" && mv \"$built\"/*.whl \"$wheels\"/ && rmdir \"$built\" \\\n    && rm -rf {venv} {build_file} {sdist_file} \\\n    && echo imglock: built {label} from its sdist; \\\n    else echo imglock: {label}: its wheel from the build cache; fi",
            build_venv(&venv),
            write_lines(build_lines, &build_file),
            write_lines(vec![requirement_line(sdist, self.source)], &sdist_file),
        );
        let _ = write!(
            out,
            " \\\n    && PIP_BREAK_SYSTEM_PACKAGES=1 {python} -m pip install --no-deps {pip} \"$wheels\"/*.whl"
        );
        Ok(out)
    }
}

/// Creates the build virtualenv `venv` and sets `$build_pip` to the pip that installs into it:
/// its own, or, where the image's Python has no `ensurepip` (Debian's without `python3-venv`), a
/// virtualenv without pip that the image's pip installs into (`pip --python`, pip 22.3+).
fn build_venv(venv: &str) -> String {
    format!(
        "{{ python3 -m venv {venv} >/dev/null 2>&1 || {{ rm -rf {venv} && python3 -m venv --without-pip {venv}; }}; }} \\\n    && if {venv}/bin/python -m pip --version >/dev/null 2>&1; then build_pip=\"{venv}/bin/python -m pip\"; else build_pip=\"python3 -m pip --python {venv}/bin/python\"; fi"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::{Ecosystem, PackageDetails};
    use crate::pypi::PypiDetails;

    fn package(name: &str, version: &str, build_requires: &[&str]) -> LockedPackage {
        LockedPackage {
            ecosystem: Ecosystem::Pypi,
            name: name.into(),
            version: version.into(),
            repository: "https://pypi.org/simple".into(),
            url: format!("https://x.invalid/{name}-{version}.tar.gz"),
            sha256: "a".repeat(64),
            size: 1,
            requested: true,
            dependencies: Vec::new(),
            details: PackageDetails::Pypi(PypiDetails {
                markers: Vec::new(),
                build_requires: build_requires.iter().map(|s| s.to_string()).collect(),
            }),
        }
    }

    #[test]
    fn an_sdist_takes_exactly_the_build_packages_it_pins() {
        let (old, new) = (
            package("setuptools", "51.1.1", &[]),
            package("setuptools", "60.9.3", &[]),
        );
        let layer = [
            (&old, Source::Url(old.url.clone())),
            (&new, Source::Url(new.url.clone())),
        ];
        let sdist = package("alembic", "1.4.1", &["setuptools==60.9.3"]);
        let taken = build_packages_of(&sdist, &layer).unwrap();
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].0.version, "60.9.3");
        let missing = package("alembic", "1.4.1", &["wheel==0.37.1"]);
        let error = build_packages_of(&missing, &layer).unwrap_err().to_string();
        assert!(
            error.contains("pins the build dependency `wheel==0.37.1`"),
            "{error}"
        );
        let old_lock = package("alembic", "1.4.1", &[]);
        let error = build_packages_of(&old_lock, &layer)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("alembic 1.4.1 has no `build-requires`"),
            "{error}"
        );
    }
}
