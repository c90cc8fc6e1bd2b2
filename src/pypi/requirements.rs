//! `imglock export --format requirements`: the PyPI packages as a pip requirements file in
//! hash-checking mode, like `uv export --format requirements-txt`: `name==version` with the locked
//! file's `--hash=sha256:…`, so `pip install --require-hashes -r FILE` (implied by the hashes)
//! installs exactly the locked files or fails. A package locked from a URL, or from a git commit
//! (whose source archive the lock pins), is `name @ URL` with its hash, which pip checks too; a git
//! one says its repository and commit in a comment. No markers: the lock is for one interpreter and
//! platform, and every package in it is installed. The indexes are named (`--index-url`) unless
//! they are PyPI's.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::lock::LockedPackage;
use crate::package::SettingValue;

/// PyPI's index, which pip uses when none is named.
const PYPI: &str = "https://pypi.org/simple";

/// The requirements file of `packages` (PyPI packages of a lock whose `[resolution]` is
/// `resolution`), after the comment lines `heading`.
pub(crate) fn render(
    heading: &str,
    resolution: &BTreeMap<String, SettingValue>,
    packages: &[&LockedPackage],
) -> String {
    let mut out = heading.to_string();
    let indexes = resolution
        .get("pypi-indexes")
        .map(SettingValue::items)
        .unwrap_or_default();
    if indexes
        .iter()
        .any(|index| index.trim_end_matches('/') != PYPI)
    {
        for (position, index) in indexes.iter().enumerate() {
            let option = if position == 0 {
                "--index-url"
            } else {
                "--extra-index-url"
            };
            let _ = writeln!(out, "{option} {index}");
        }
    }
    let mut sorted = packages.to_vec();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for package in sorted {
        let details = package.details.pypi();
        let git = details.and_then(|d| d.git.as_ref());
        if let Some(git) = git {
            let _ = writeln!(
                out,
                "# {} from git+{}@{}",
                package.name, git.url, git.commit
            );
        }
        let requirement = match git.is_some() || package.repository == package.url {
            true => format!("{} @ {}", package.name, package.url),
            false => format!("{}=={}", package.name, package.version),
        };
        let _ = writeln!(
            out,
            "{requirement} \\\n    --hash=sha256:{}",
            package.sha256
        );
    }
    out
}
