//! What a base image has installed ([`BaseContents`]), taken from the files [`super::wanted`]
//! selects: dpkg's installed packages, the Python interpreter and its distributions, R and its
//! library packages, the conda prefix's packages, and apt's sources and keyrings.

use std::collections::BTreeMap;

use super::dpkg::{DpkgPackage, read_status};
use super::wanted::{BaseFile, BaseWanted, R_LIBRARIES, dist_info_parent, python_dir};
use crate::cran::dcf;
use crate::image::Files;

/// What a base image has installed: the fixed pins below the spec's first layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BaseContents {
    /// dpkg's installed packages (`Status: install ok installed`), by name and architecture.
    pub dpkg: Vec<DpkgPackage>,
    /// The Python interpreter and what its package folders hold, when the image has one.
    pub python: Option<PythonInstall>,
    /// R and its library packages, when the image has R.
    pub r: Option<RInstall>,
    /// The conda prefix's packages (its `conda-meta` records), by name.
    pub conda: BTreeMap<String, CondaRecord>,
    /// apt's sources (`etc/apt/sources.list` and `sources.list.d/*`) by path, as bytes.
    pub apt_sources: BTreeMap<String, Vec<u8>>,
    /// apt's keyrings (`etc/apt/trusted.gpg`, `trusted.gpg.d`, `keyrings`, and
    /// `usr/share/keyrings`) by path, as bytes.
    pub keyrings: BTreeMap<String, Vec<u8>>,
}

/// The image's Python: the interpreter `python3` runs (the one in `/usr/local` first, else the
/// newest) and the distributions on its path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PythonInstall {
    /// Its `major.minor`, like `3.11`.
    pub version: String,
    /// Its distributions by normalised name (PEP 503).
    pub packages: BTreeMap<String, PythonPackage>,
}

/// One installed Python distribution.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PythonPackage {
    /// As its METADATA spells it.
    pub name: String,
    /// As its METADATA spells it.
    pub version: String,
    /// Its `.dist-info` folder in the image.
    pub path: String,
}

/// The image's R.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RInstall {
    /// R's version, from its `base` package's `DESCRIPTION`.
    pub version: String,
    /// Its library packages by name (a package in two libraries: the first of
    /// [`R_LIBRARIES`]' order that R searches, site libraries before R's own).
    pub packages: BTreeMap<String, RPackage>,
}

/// One R library package.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RPackage {
    /// As its DESCRIPTION says.
    pub version: String,
    /// `base` or `recommended` for those R ships, else `None`.
    pub priority: Option<String>,
    /// The library folder, like `usr/lib/R/library`.
    pub library: String,
}

/// One package of the conda prefix.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CondaRecord {
    /// As its record says.
    pub version: String,
    /// Its build string.
    pub build: String,
}

/// Files of one kind found in the image: path, and bytes when read whole.
type Found<'a> = Vec<(&'a str, Option<&'a [u8]>)>;

/// The layer name pins of the base image carry, which errors about them name.
pub const BASE_LAYER: &str = "base image";

impl BaseContents {
    /// The Python distributions and conda packages it has installed, as fixed pins below the
    /// spec's first layer: a resolver takes them as installed (never reinstalled, never
    /// changed), as it takes a lower layer's. R's library and dpkg's packages are read by their
    /// resolvers, which need more than a version.
    pub fn pins(&self) -> Vec<crate::package::Pin> {
        use crate::package::{Ecosystem, Pin};
        let pin = |ecosystem, name: &str, version: &str, build: Option<&str>| Pin {
            ecosystem,
            name: name.to_string(),
            version: version.to_string(),
            layer: BASE_LAYER.to_string(),
            build: build.map(str::to_string),
        };
        let python = self.python.iter().flat_map(|p| p.packages.values());
        let python = python.map(|p| pin(Ecosystem::Pypi, &p.name, &p.version, None));
        let conda = self.conda.iter().map(|(name, record)| {
            pin(Ecosystem::Conda, name, &record.version, Some(&record.build))
        });
        python.chain(conda).collect()
    }

    /// What `files` (read with `wanted`) say is installed; what cannot be read is a warning.
    pub(super) fn from_files(
        files: &Files,
        wanted: &BaseWanted,
        warnings: &mut Vec<String>,
    ) -> Self {
        let mut contents = Self::default();
        let mut by_kind: BTreeMap<BaseFile, Found<'_>> = BTreeMap::new();
        for (path, content) in files {
            if let Some(kind) = wanted.kind(path) {
                by_kind
                    .entry(kind)
                    .or_default()
                    .push((path, content.bytes()));
            }
        }
        let take = |kind| by_kind.get(&kind).cloned().unwrap_or_default();
        for (path, bytes) in take(BaseFile::DpkgStatus) {
            contents
                .dpkg
                .extend(read_status(path, &text(bytes), warnings));
        }
        contents
            .dpkg
            .sort_by(|a, b| (&a.name, &a.architecture).cmp(&(&b.name, &b.architecture)));
        contents
            .dpkg
            .dedup_by(|a, b| (&a.name, &a.architecture) == (&b.name, &b.architecture));
        for (kind, map) in [
            (BaseFile::AptSource, &mut contents.apt_sources),
            (BaseFile::Keyring, &mut contents.keyrings),
        ] {
            for (path, bytes) in take(kind) {
                map.insert(path.to_string(), bytes.unwrap_or_default().to_vec());
            }
        }
        let stdlibs: Vec<&str> = take(BaseFile::PythonStdlib)
            .iter()
            .map(|(p, _)| *p)
            .collect();
        contents.python = python(&stdlibs, &take(BaseFile::DistInfo), warnings);
        contents.r = r(&take(BaseFile::RDescription), warnings);
        contents.conda = conda(&take(BaseFile::CondaMeta), warnings);
        contents
    }
}

fn text(bytes: Option<&[u8]>) -> String {
    String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned()
}

/// The interpreter `python3` runs, of those whose standard library is at `stdlibs`
/// (`<lib>/python3.X/os.py`), and the distributions of its package folders.
fn python(
    stdlibs: &[&str],
    dist_infos: &[(&str, Option<&[u8]>)],
    warnings: &mut Vec<String>,
) -> Option<PythonInstall> {
    let version_of = |path: &&str| {
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        python_dir(dir).map(str::to_string)
    };
    let key = |path: &&str| {
        let local = path.starts_with("usr/local/");
        let version: Vec<u32> = version_of(path)
            .unwrap_or_default()
            .split('.')
            .filter_map(|p| p.parse().ok())
            .collect();
        (local, version)
    };
    let chosen = stdlibs.iter().max_by_key(|path| key(path))?;
    let version = version_of(chosen)?;
    let mut packages = BTreeMap::new();
    for (path, bytes) in dist_infos {
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        // Debian's version-less `python3` folder serves every Python 3.
        if dist_info_parent(dir).is_none_or(|v| v != version && v != "3") {
            continue;
        }
        let (name, dist_version) = dist_metadata(&text(*bytes));
        match (name, dist_version) {
            (Some(name), Some(dist_version)) => {
                packages.entry(normalise(&name)).or_insert(PythonPackage {
                    name,
                    version: dist_version,
                    path: dir.to_string(),
                });
            }
            _ => warnings.push(format!("`{path}` names no `Name` and `Version`; skipped")),
        }
    }
    Some(PythonInstall { version, packages })
}

/// The `Name` and `Version` headers of a METADATA file (email headers, up to the first blank
/// line).
fn dist_metadata(text: &str) -> (Option<String>, Option<String>) {
    let mut name = None;
    let mut version = None;
    for line in text.lines().take_while(|line| !line.trim().is_empty()) {
        if let Some((key, value)) = line.split_once(':') {
            match key.trim() {
                "Name" => name = Some(value.trim().to_string()),
                "Version" => version = Some(value.trim().to_string()),
                _ => {}
            }
        }
    }
    (name, version)
}

/// A Python distribution name normalised as PEP 503 says.
fn normalise(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// R's version (from the `base` package in R's own library) and every library's packages.
fn r(descriptions: &[(&str, Option<&[u8]>)], warnings: &mut Vec<String>) -> Option<RInstall> {
    let mut version = None;
    let mut packages: BTreeMap<String, RPackage> = BTreeMap::new();
    // Site libraries first, as `.libPaths()` lists them: their copy of a package is the one R
    // loads.
    let order = |library: &str| match library {
        "usr/local/lib/R/site-library" => 0,
        "usr/lib/R/site-library" => 1,
        _ => 2 + R_LIBRARIES.iter().position(|l| *l == library).unwrap_or(0),
    };
    let mut sorted: Vec<_> = descriptions.to_vec();
    sorted.sort_by_key(|(path, _)| order(path.rsplitn(3, '/').nth(2).unwrap_or_default()));
    for (path, bytes) in sorted {
        let text = text(bytes);
        let records = match dcf::parse(&text) {
            Ok(records) => records,
            Err(error) => {
                warnings.push(format!(
                    "`{path}` is not a DESCRIPTION file ({error}); skipped"
                ));
                continue;
            }
        };
        let Some(record) = records.first() else {
            continue;
        };
        let (Some(name), Some(package_version)) = (record.get("Package"), record.get("Version"))
        else {
            warnings.push(format!(
                "`{path}` names no `Package` and `Version`; skipped"
            ));
            continue;
        };
        let library = path.rsplitn(3, '/').nth(2).unwrap_or_default().to_string();
        if name == "base" && library.ends_with("R/library") && version.is_none() {
            version = Some(package_version.to_string());
        }
        packages.entry(name.to_string()).or_insert(RPackage {
            version: package_version.to_string(),
            priority: record.get("Priority").map(str::to_string),
            library,
        });
    }
    version.map(|version| RInstall { version, packages })
}

/// The conda prefix's packages, from their `conda-meta` records.
fn conda(
    records: &[(&str, Option<&[u8]>)],
    warnings: &mut Vec<String>,
) -> BTreeMap<String, CondaRecord> {
    #[derive(serde::Deserialize)]
    struct Meta {
        name: String,
        version: String,
        #[serde(default)]
        build: String,
    }
    let mut out = BTreeMap::new();
    for (path, bytes) in records {
        match serde_json::from_slice::<Meta>(bytes.unwrap_or_default()) {
            Ok(meta) => {
                out.insert(
                    meta.name,
                    CondaRecord {
                        version: meta.version,
                        build: meta.build,
                    },
                );
            }
            Err(error) => warnings.push(format!(
                "`{path}` is not a conda-meta record ({error}); skipped"
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_names_are_normalised_and_metadata_headers_read() {
        assert_eq!(normalise("Foo_Bar.baz"), "foo-bar-baz");
        let (name, version) =
            dist_metadata("Metadata-Version: 2.1\nName: pip\nVersion: 23.0.1\n\nName: not-this\n");
        assert_eq!(name.as_deref(), Some("pip"));
        assert_eq!(version.as_deref(), Some("23.0.1"));
    }
}
