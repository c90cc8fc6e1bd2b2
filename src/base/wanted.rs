//! Which files of a base image say what it has installed: dpkg's status, the apt sources and
//! keyrings, the Python interpreters' standard libraries (`os.py` marks one) and the dist-info
//! of their package folders, R's library folders' `DESCRIPTION`s, and the conda prefix's
//! `conda-meta` records.

use super::dpkg;
use crate::image::{Want, Wanted};

/// The R homes and library folders R images use: Debian's (`/usr/lib/R`, with site libraries
/// under `/usr/lib` and `/usr/local/lib`) and rocker's (R built into `/usr/local/lib/R`).
pub(super) const R_LIBRARIES: [&str; 4] = [
    "usr/lib/R/library",
    "usr/lib/R/site-library",
    "usr/local/lib/R/library",
    "usr/local/lib/R/site-library",
];

/// Where Python interpreters keep their standard library (`python3.X` below these).
pub(super) const PYTHON_LIBS: [&str; 2] = ["usr/local/lib", "usr/lib"];

/// The apt folders whose files are keyrings.
const KEYRING_DIRS: [&str; 3] = [
    "etc/apt/trusted.gpg.d",
    "etc/apt/keyrings",
    "usr/share/keyrings",
];

/// What the base image's inventory reads.
pub(super) struct BaseWanted {
    /// The conda prefix's `conda-meta` folder, relative (`opt/conda/conda-meta`).
    pub conda_meta: String,
}

/// What a wanted file of the base image is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum BaseFile {
    DpkgStatus,
    AptSource,
    Keyring,
    /// `<lib>/python3.X/os.py`: an interpreter's standard library.
    PythonStdlib,
    DistInfo,
    RDescription,
    CondaMeta,
}

impl BaseWanted {
    /// What the file at `path` is, if the inventory wants it.
    pub(super) fn kind(&self, path: &str) -> Option<BaseFile> {
        let (dir, name) = path.rsplit_once('/')?;
        if path == dpkg::STATUS || dir == dpkg::STATUS_D {
            return Some(BaseFile::DpkgStatus);
        }
        if path == "etc/apt/sources.list" || dir == "etc/apt/sources.list.d" {
            return Some(BaseFile::AptSource);
        }
        if path == "etc/apt/trusted.gpg" || KEYRING_DIRS.contains(&dir) {
            return Some(BaseFile::Keyring);
        }
        if dir == self.conda_meta && name.ends_with(".json") {
            return Some(BaseFile::CondaMeta);
        }
        if name == "os.py" && python_dir(dir).is_some() {
            return Some(BaseFile::PythonStdlib);
        }
        if name == "METADATA" && dist_info_parent(dir).is_some() {
            return Some(BaseFile::DistInfo);
        }
        if name == "DESCRIPTION" {
            let (library, _package) = dir.rsplit_once('/')?;
            return R_LIBRARIES
                .contains(&library)
                .then_some(BaseFile::RDescription);
        }
        None
    }
}

/// `<lib>/python3.X` (or Debian's version-less `<lib>/python3`) of a known `<lib>`: its
/// version part (`3.11`, or `3`).
pub(super) fn python_dir(dir: &str) -> Option<&str> {
    let (lib, name) = dir.rsplit_once('/')?;
    let version = name.strip_prefix("python")?;
    let digits = version
        .split('.')
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (PYTHON_LIBS.contains(&lib) && version.starts_with('3') && digits).then_some(version)
}

/// For `<python dir>/{site,dist}-packages/<x>.dist-info`: the python dir's version part.
pub(super) fn dist_info_parent(dir: &str) -> Option<&str> {
    let (packages, info) = dir.rsplit_once('/')?;
    let (python, kind) = packages.rsplit_once('/')?;
    let ok = info.ends_with(".dist-info") && (kind == "site-packages" || kind == "dist-packages");
    ok.then(|| python_dir(python)).flatten()
}

impl Wanted for BaseWanted {
    fn file(&self, path: &str) -> Option<Want> {
        match self.kind(path)? {
            // Only its existence counts.
            BaseFile::PythonStdlib => Some(Want::Digest),
            _ => Some(Want::Bytes),
        }
    }

    fn folder(&self, path: &str) -> bool {
        let prefixes = [
            dpkg::STATUS_D,
            "etc/apt",
            "usr/share/keyrings",
            self.conda_meta.as_str(),
        ];
        let within = |root: &str| {
            root == path
                || root.starts_with(&format!("{path}/"))
                || path.starts_with(&format!("{root}/"))
        };
        prefixes.iter().any(|p| within(p))
            || R_LIBRARIES.iter().any(|p| within(p))
            || PYTHON_LIBS.iter().any(|lib| {
                within(lib) && (path.len() <= lib.len() || python_prefix(&path[lib.len() + 1..]))
            })
    }
}

/// Whether `rest` (below a Python lib folder) leads to a `python3…` folder's package folders.
fn python_prefix(rest: &str) -> bool {
    let mut parts = rest.split('/');
    let first = parts.next().unwrap_or_default();
    if !first.starts_with("python3") {
        return false;
    }
    match parts.next() {
        None => true,
        Some(next) => next == "site-packages" || next == "dist-packages",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_that_say_what_is_installed_are_wanted() {
        let wanted = BaseWanted {
            conda_meta: "opt/conda/conda-meta".into(),
        };
        let kind = |path| wanted.kind(path);
        assert_eq!(kind("var/lib/dpkg/status"), Some(BaseFile::DpkgStatus));
        assert_eq!(
            kind("var/lib/dpkg/status.d/base"),
            Some(BaseFile::DpkgStatus)
        );
        assert_eq!(kind("var/lib/dpkg/status-old"), None);
        assert_eq!(
            kind("etc/apt/sources.list.d/debian.sources"),
            Some(BaseFile::AptSource)
        );
        assert_eq!(
            kind("usr/share/keyrings/debian-archive-keyring.gpg"),
            Some(BaseFile::Keyring)
        );
        assert_eq!(
            kind("usr/lib/python3.11/os.py"),
            Some(BaseFile::PythonStdlib)
        );
        assert_eq!(kind("usr/lib/python3.11/json/os.py"), None);
        assert_eq!(
            kind("usr/lib/python3/dist-packages/pip-23.0.1.dist-info/METADATA"),
            Some(BaseFile::DistInfo)
        );
        assert_eq!(
            kind("usr/lib/R/library/base/DESCRIPTION"),
            Some(BaseFile::RDescription)
        );
        assert_eq!(kind("usr/lib/R/library/base/doc/DESCRIPTION"), None);
        assert_eq!(
            kind("opt/conda/conda-meta/zlib-1.3-h0.json"),
            Some(BaseFile::CondaMeta)
        );
        assert!(wanted.folder("usr"));
        assert!(wanted.folder("usr/lib/python3.11/site-packages"));
        assert!(!wanted.folder("usr/lib/python3.11/json"));
        assert!(!wanted.folder("usr/share/doc"));
        assert!(wanted.folder("opt/conda"));
    }
}
