//! What dpkg recorded in an image about what it installed, as `debsums` reads it: the status
//! (`var/lib/dpkg/status`, and the `status.d/*` files distroless images write instead), each
//! package's `info/<name>.md5sums` (`info/<name>:<arch>.md5sums` for a `Multi-Arch: same` one),
//! and `diversions`; and dpkg's path filters ([`super::path_filter`]). From them: which files
//! an `md5sums` lists dpkg installed (not a conffile, not left out by a path filter), where each
//! lies in the image — moved by another package's diversion, or behind merged /usr's links
//! (`bin/sh` is `usr/bin/sh` when `bin` links to `usr/bin`) — and what a second read of the image
//! must stream through md5 ([`ListedFiles`]).

use std::collections::{BTreeMap, BTreeSet};

use super::path_filter::PathFilters;
use crate::base::dpkg::{DpkgPackage, STATUS, STATUS_D, read_status};
use crate::image::{Content, Files, Want, Wanted};

/// Each package's lists: `.md5sums`, `.list`, `.conffiles`, maintainer scripts.
const INFO: &str = "var/lib/dpkg/info";
/// Files moved aside for another package's (`dpkg-divert`).
const DIVERSIONS: &str = "var/lib/dpkg/diversions";
/// The top folders merged /usr makes links into `usr/`.
const USR_ALIASES: [&str; 6] = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"];

/// Whether `path` is a file of dpkg's database that says what is installed: the status, a
/// `status.d` file, or the diversions. (`md5sums` lists are wanted by package.)
pub(super) fn is_database(path: &str) -> bool {
    path == STATUS
        || path == DIVERSIONS
        || path
            .strip_prefix(STATUS_D)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|name| !name.contains('/'))
}

/// Whether the folder `path` leads to dpkg's database.
pub(super) fn is_database_folder(path: &str) -> bool {
    [STATUS_D, INFO]
        .iter()
        .any(|folder| *folder == path || folder.starts_with(&format!("{path}/")))
}

/// The paths an installed package's `md5sums` list may have: `<name>:<arch>` first (dpkg's
/// name for a `Multi-Arch: same` package), then `<name>`.
pub(super) fn md5sums_paths(name: &str, architecture: &str) -> [String; 2] {
    [
        format!("{INFO}/{name}:{architecture}.md5sums"),
        format!("{INFO}/{name}.md5sums"),
    ]
}

/// One line of an `md5sums` list: a file of the package (relative, like `usr/bin/xmllint`) and
/// its md5 when installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Listed {
    pub md5: String,
    pub path: String,
}

/// What the image's dpkg database says.
#[derive(Debug, Default)]
pub(super) struct Dpkg {
    /// The installed packages by name (one per architecture installed).
    pub installed: BTreeMap<String, Vec<DpkgPackage>>,
    /// Diverted files: the path a package ships (relative) → where the file is instead, and the
    /// package that diverted it (`:` for the admin).
    diversions: BTreeMap<String, (String, String)>,
    /// The files dpkg leaves out when it unpacks.
    filters: PathFilters,
}

impl Dpkg {
    /// The database among `files` (a status file that does not read is left out).
    pub(super) fn read(files: &Files) -> Self {
        let mut dpkg = Self {
            filters: PathFilters::read(files),
            ..Self::default()
        };
        let mut ignored = Vec::new();
        for (path, content) in files.iter().filter(|(path, _)| is_database(path)) {
            let Some(bytes) = content.bytes() else {
                continue;
            };
            let text = String::from_utf8_lossy(bytes);
            if path == DIVERSIONS {
                dpkg.diversions = diversions(&text);
                continue;
            }
            for package in read_status(path, &text, &mut ignored) {
                let versions = dpkg.installed.entry(package.name.clone()).or_default();
                if !versions
                    .iter()
                    .any(|p| p.architecture == package.architecture)
                {
                    versions.push(package);
                }
            }
        }
        dpkg
    }

    /// The installed package `name` for `architecture`.
    pub(super) fn package(&self, name: &str, architecture: &str) -> Option<&DpkgPackage> {
        self.installed
            .get(name)?
            .iter()
            .find(|p| p.architecture == architecture)
    }

    /// What the `md5sums` list of `package` (installed) says of the files dpkg installed:
    /// without its conffiles (which the admin may change, as dpkg allows) and the files a path
    /// filter left out; `None` when it has no list (a package without files, or one built
    /// without).
    pub(super) fn listed(&self, files: &Files, package: &DpkgPackage) -> Option<Vec<Listed>> {
        let bytes = md5sums_paths(&package.name, &package.architecture)
            .iter()
            .find_map(|path| files.get(path)?.bytes())?;
        let conffiles: BTreeSet<&str> = package
            .conffiles
            .iter()
            .map(|path| path.trim_start_matches('/'))
            .collect();
        Some(
            String::from_utf8_lossy(bytes)
                .lines()
                .filter_map(md5sums_line)
                .filter(|listed| {
                    !conffiles.contains(listed.path.as_str())
                        && !self.filters.excludes(&listed.path)
                })
                .collect(),
        )
    }

    /// Where the file `path` that `package` ships is: where a diversion by another package (or
    /// by the admin) moved it, else at `path`.
    pub(super) fn located<'a>(&'a self, path: &'a str, package: &str) -> &'a str {
        match self.diversions.get(path) {
            Some((to, by)) if by != package => to,
            _ => path,
        }
    }
}

/// The file at `path` (relative) in `files`, with where it is: at `path`, else (merged /usr) at
/// `usr/<path>` when `path` is in one of the folders merged /usr links there.
pub(super) fn lookup<'f>(files: &'f Files, path: &str) -> Option<(&'f String, &'f Content)> {
    files
        .get_key_value(path)
        .or_else(|| files.get_key_value(&merged_usr(path)?))
}

/// `usr/<path>` for a `path` under a folder merged /usr links into `usr/` (`bin/sh`).
fn merged_usr(path: &str) -> Option<String> {
    let top = path.split('/').next()?;
    (USR_ALIASES.contains(&top) && path.len() > top.len()).then(|| format!("usr/{path}"))
}

/// A line of an `md5sums` list: 32 hexadecimal digits, white space, the path (relative; a
/// leading `/` is dropped). Other lines are not lists' and are left out.
fn md5sums_line(line: &str) -> Option<Listed> {
    let md5 = line.get(..32)?;
    let path = line[32..]
        .strip_prefix([' ', '\t'])?
        .trim_start()
        .trim_start_matches('/');
    (md5.bytes().all(|b| b.is_ascii_hexdigit()) && !path.is_empty()).then(|| Listed {
        md5: md5.to_ascii_lowercase(),
        path: path.to_string(),
    })
}

/// dpkg's `diversions` file: three lines per diversion (the diverted path, where it went, the
/// package that diverted it), paths absolute.
fn diversions(text: &str) -> BTreeMap<String, (String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks_exact(3)
        .map(|triple| {
            let relative = |path: &str| path.trim_start_matches('/').to_string();
            (
                relative(triple[0]),
                (relative(triple[1]), triple[2].trim().to_string()),
            )
        })
        .collect()
}

/// The files a second read of the image streams through md5: those the locked packages'
/// `md5sums` list, where they lie (and, for merged /usr, under `usr/` too).
pub(super) struct ListedFiles {
    files: BTreeSet<String>,
    folders: BTreeSet<String>,
}

impl ListedFiles {
    /// The files at `paths` (relative).
    pub(super) fn new<'a>(paths: impl Iterator<Item = &'a str>) -> Self {
        let mut listed = Self {
            files: BTreeSet::new(),
            folders: BTreeSet::new(),
        };
        for path in paths {
            for path in std::iter::once(path.to_string()).chain(merged_usr(path)) {
                let mut folder = path.as_str();
                while let Some((parent, _)) = folder.rsplit_once('/') {
                    if !listed.folders.insert(parent.to_string()) {
                        break;
                    }
                    folder = parent;
                }
                listed.files.insert(path);
            }
        }
        listed
    }

    /// Whether it names no file.
    pub(super) fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl Wanted for ListedFiles {
    fn file(&self, path: &str) -> Option<Want> {
        self.files.contains(path).then_some(Want::Md5)
    }

    fn folder(&self, path: &str) -> bool {
        self.folders.contains(path)
    }

    fn link_expected(&self, path: &str) -> bool {
        USR_ALIASES.contains(&path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5sums_lines_diversions_and_merged_usr() {
        let line = md5sums_line("0123456789ABCDEF0123456789abcdef  usr/share/doc/a b/copyright");
        assert_eq!(
            line,
            Some(Listed {
                md5: "0123456789abcdef0123456789abcdef".into(),
                path: "usr/share/doc/a b/copyright".into(),
            })
        );
        assert_eq!(md5sums_line("not a line"), None);
        assert_eq!(md5sums_line("0123456789abcdef0123456789abcdef"), None);
        let dpkg = Dpkg {
            diversions: diversions("/bin/sh\n/bin/sh.distrib\ndash\n"),
            ..Dpkg::default()
        };
        assert_eq!(dpkg.located("bin/sh", "bash"), "bin/sh.distrib");
        assert_eq!(dpkg.located("bin/sh", "dash"), "bin/sh");
        assert_eq!(merged_usr("bin/sh").as_deref(), Some("usr/bin/sh"));
        assert_eq!(merged_usr("binary/x"), None);
        assert_eq!(merged_usr("usr/bin/sh"), None);
        let listed = ListedFiles::new(["bin/sh", "usr/share/doc/x"].into_iter());
        assert!(listed.file("usr/bin/sh").is_some() && listed.file("bin/sh").is_some());
        assert!(listed.folder("usr/share") && listed.folder("bin") && !listed.folder("etc"));
        assert!(listed.link_expected("bin") && !listed.link_expected("usr/share"));
    }
}
