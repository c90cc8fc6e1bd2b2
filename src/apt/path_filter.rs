//! dpkg's path filters: `path-exclude=GLOB` and `path-include=GLOB` options in
//! `/etc/dpkg/dpkg.cfg.d/*` and `/etc/dpkg/dpkg.cfg`, the files dpkg leaves out when it unpacks
//! a package. Debian's slim images and Ubuntu's minimal ones (rocker's R images) leave out
//! documentation, man pages and translations this way, which the packages' `md5sums` lists still
//! name: such a file is not missing.
//!
//! As dpkg reads them: the `dpkg.cfg.d` files whose names are only letters, digits, `_` and `-`,
//! in name order, then `dpkg.cfg`; the filters apply in the order read, the last one whose
//! pattern matches a path deciding; a pattern is an fnmatch(3) glob of the absolute path in
//! which `*` also matches `/`.

use glob::{MatchOptions, Pattern};

use crate::image::Files;

/// dpkg's main configuration file.
const DPKG_CFG: &str = "etc/dpkg/dpkg.cfg";
/// Its folder of configuration fragments.
const DPKG_CFG_D: &str = "etc/dpkg/dpkg.cfg.d";

/// fnmatch(3) without `FNM_PATHNAME` or `FNM_PERIOD`, as dpkg matches filters.
const FNMATCH: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: false,
    require_literal_leading_dot: false,
};

/// Whether `path` is a dpkg configuration file that dpkg reads.
pub(super) fn is_config(path: &str) -> bool {
    path == DPKG_CFG || fragment_name(path).is_some()
}

/// Whether the folder `path` leads to dpkg's configuration files.
pub(super) fn is_config_folder(path: &str) -> bool {
    DPKG_CFG_D == path || DPKG_CFG_D.starts_with(&format!("{path}/"))
}

/// The name of `path` if it is a fragment dpkg reads (`dpkg.cfg.d/<letters, digits, _, ->`).
fn fragment_name(path: &str) -> Option<&str> {
    let name = path.strip_prefix(DPKG_CFG_D)?.strip_prefix('/')?;
    let read = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    read.then_some(name)
}

/// Whether a filter leaves a path out or takes it back in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    Exclude,
    Include,
}

/// The image's path filters, in the order dpkg applies them.
#[derive(Debug, Default)]
pub(super) struct PathFilters(Vec<(Filter, Pattern)>);

impl PathFilters {
    /// The filters of the configuration files among `files` (a pattern that is no glob is left
    /// out, as dpkg would refuse it).
    pub(super) fn read(files: &Files) -> Self {
        let mut configs: Vec<(&String, &[u8])> = files
            .iter()
            .filter(|(path, _)| fragment_name(path).is_some())
            .filter_map(|(path, content)| Some((path, content.bytes()?)))
            .collect();
        configs.sort_by(|a, b| a.0.cmp(b.0));
        configs.extend(
            files
                .get_key_value(DPKG_CFG)
                .and_then(|(path, content)| Some((path, content.bytes()?))),
        );
        let filters = configs
            .iter()
            .flat_map(|(_, bytes)| {
                let text = String::from_utf8_lossy(bytes);
                text.lines().filter_map(option).collect::<Vec<_>>()
            })
            .collect();
        Self(filters)
    }

    /// Whether dpkg leaves the file at `path` (relative) out.
    pub(super) fn excludes(&self, path: &str) -> bool {
        let absolute = format!("/{path}");
        self.0
            .iter()
            .rev()
            .find(|(_, pattern)| pattern.matches_with(&absolute, FNMATCH))
            .is_some_and(|(filter, _)| *filter == Filter::Exclude)
    }
}

/// The filter a configuration line sets, if it sets one: `path-exclude=GLOB`, `path-include
/// GLOB`, with or without leading `--`.
fn option(line: &str) -> Option<(Filter, Pattern)> {
    let line = line.trim();
    let line = line.strip_prefix("--").unwrap_or(line);
    let (name, value) = line
        .split_once('=')
        .or_else(|| line.split_once(char::is_whitespace))?;
    let filter = match name.trim() {
        "path-exclude" => Filter::Exclude,
        "path-include" => Filter::Include,
        _ => return None,
    };
    Some((filter, Pattern::new(value.trim()).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Content;

    #[test]
    fn the_last_matching_filter_decides_in_dpkgs_reading_order() {
        let mut files = Files::new();
        let text = |text: &str| Content::Bytes(text.as_bytes().to_vec());
        files.insert(
            "etc/dpkg/dpkg.cfg.d/docker".into(),
            text(
                "# slim\npath-exclude /usr/share/doc/*\npath-include=/usr/share/doc/*/copyright\n",
            ),
        );
        files.insert(
            "etc/dpkg/dpkg.cfg.d/01-man".into(),
            text("path-exclude=/usr/share/man/*\n"),
        );
        files.insert(
            "etc/dpkg/dpkg.cfg.d/docker.dpkg-old".into(),
            text("path-exclude=/usr/bin/*\n"),
        );
        files.insert(
            "etc/dpkg/dpkg.cfg".into(),
            text("--path-include=/usr/share/man/man1/*\n"),
        );
        let filters = PathFilters::read(&files);
        assert!(filters.excludes("usr/share/doc/foo/changelog.gz"));
        assert!(filters.excludes("usr/share/doc/foo/examples/deep/x"));
        assert!(!filters.excludes("usr/share/doc/foo/copyright"));
        assert!(filters.excludes("usr/share/man/man8/foo.8.gz"));
        assert!(!filters.excludes("usr/share/man/man1/foo.1.gz"));
        assert!(!filters.excludes("usr/bin/foo"));
        assert!(is_config("etc/dpkg/dpkg.cfg.d/docker") && !is_config("etc/dpkg/dpkg.cfg.d/a.b"));
        assert!(is_config_folder("etc/dpkg") && !is_config_folder("etc/apt"));
    }
}
