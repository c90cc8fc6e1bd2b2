//! `imglock export`: the lock in another tool's format. Two kinds of format:
//!
//! - one ecosystem's lock file, for its own installer, written by its ecosystem's folder:
//!   `requirements` (pip's `--require-hashes`, like `uv export`;
//!   [`crate::pypi::requirements`]), `conda-explicit` (`@EXPLICIT`, like conda-lock;
//!   [`crate::conda::explicit`]) and `renv` (an `renv.lock`; [`crate::cran::renv`]). Each takes
//!   its ecosystem's packages of the chosen layers, leaves the others out (and says how many,
//!   for the CLI to tell), and refuses a selection that holds none of them rather than writing
//!   an empty file;
//! - a software bill of materials of every ecosystem: `cyclonedx` (CycloneDX 1.6 JSON) and
//!   `spdx` (SPDX 2.3 JSON), each package with its purl (each ecosystem's own, [`purl`]),
//!   sha256, layer, license (when the lock records one) and dependencies.
//!
//! Every output is a function of the lock's bytes and the chosen layers alone: no timestamps,
//! no machine paths, the SBOMs' serial number a UUID made from the lock's sha256.

mod cyclonedx;
mod spdx;

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::lock::{Lock, LockedPackage};
use crate::package::Ecosystem;

/// The formats `imglock export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// pip's requirements file with `--hash` pins (the PyPI packages).
    Requirements,
    /// conda's `@EXPLICIT` file of URLs with their md5 (the conda packages).
    CondaExplicit,
    /// An `renv.lock` (the CRAN, Bioconductor and GitHub R packages).
    Renv,
    /// A CycloneDX 1.6 JSON SBOM of every package.
    Cyclonedx,
    /// An SPDX 2.3 JSON SBOM of every package.
    Spdx,
}

impl ExportFormat {
    /// Its spelling on the command line.
    pub fn name(self) -> String {
        use clap::ValueEnum;
        self.to_possible_value()
            .map(|value| value.get_name().to_string())
            .unwrap_or_default()
    }

    /// The ecosystems it can express: `None` for the SBOMs, which take every one.
    fn ecosystems(self) -> Option<&'static [Ecosystem]> {
        match self {
            Self::Requirements => Some(&[Ecosystem::Pypi]),
            Self::CondaExplicit => Some(&[Ecosystem::Conda]),
            Self::Renv => Some(&[Ecosystem::Cran, Ecosystem::Bioconductor, Ecosystem::Github]),
            Self::Cyclonedx | Self::Spdx => None,
        }
    }
}

/// What cannot be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// `--layer` names a layer the lock does not have.
    #[error("the lock has no layer `{name}`{}; its layers are {}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(), quoted(layers))]
    UnknownLayer {
        /// The name as given.
        name: String,
        /// The closest layer name, if one is close.
        suggestion: Option<String>,
        /// The lock's layers, in order.
        layers: Vec<String>,
    },
    /// The chosen layers hold no package the format can express.
    #[error(
        "`--format {}` writes {wanted} packages, and {where_} no such package (it holds {held}); export another format, like `--format cyclonedx` for every ecosystem",
        format.name()
    )]
    NothingToExport {
        /// The format asked for.
        format: ExportFormat,
        /// What it writes, like `Python`.
        wanted: &'static str,
        /// Which part of the lock was looked at: `the lock has`, `layer `r-core` has`.
        where_: String,
        /// What it holds instead, like `5 cran, 3 conda`, or `no packages`.
        held: String,
    },
}

/// An export: the text to write, and what the format left out.
#[derive(Debug)]
pub struct Exported {
    /// The file's contents.
    pub text: String,
    /// The packages of the chosen layers the format cannot express, counted by ecosystem.
    pub left_out: BTreeMap<Ecosystem, usize>,
}

/// The packages to export: those of the chosen layers, in lock order, each with its layer.
pub(crate) struct Selection<'a> {
    pub lock: &'a Lock,
    /// The chosen layers' names, in lock order (every layer when none was chosen).
    pub layers: Vec<&'a str>,
    /// `(layer name, package)`, in lock order.
    pub packages: Vec<(&'a str, &'a LockedPackage)>,
    /// The same packages by ecosystem and name (unique in a lock).
    by_name: BTreeMap<(Ecosystem, &'a str), &'a LockedPackage>,
    /// The sha256 of the lock's bytes and the chosen layers: what names this export.
    pub digest: [u8; 32],
}

impl<'a> Selection<'a> {
    /// The locked package `name` of `ecosystem` among the selection, if exported.
    pub fn find(&self, ecosystem: Ecosystem, name: &str) -> Option<&'a LockedPackage> {
        self.by_name.get(&(ecosystem, name)).copied()
    }

    /// The exported packages `package` depends on, in its `dependencies` order (those of
    /// layers not exported are left out).
    pub fn dependencies_of(&self, package: &LockedPackage) -> Vec<&'a LockedPackage> {
        package
            .dependencies
            .iter()
            .filter_map(|name| self.find(package.ecosystem, name))
            .collect()
    }

    /// A UUID (version 5 and RFC 4122 variant bits, the rest from [`Self::digest`]): the
    /// same lock and layers always give the same one.
    pub fn uuid(&self) -> String {
        let mut bytes: [u8; 16] = self.digest[..16].try_into().unwrap_or_default();
        bytes[6] = (bytes[6] & 0x0f) | 0x50;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex = hex::encode(bytes);
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }
}

/// Exports `lock` (whose file holds `lock_bytes`) in `format`: the packages of `layers` (every
/// layer when empty).
pub fn export(
    lock: &Lock,
    lock_bytes: &[u8],
    format: ExportFormat,
    layers: &[String],
) -> Result<Exported, ExportError> {
    let selection = select(lock, lock_bytes, layers)?;
    let Some(ecosystems) = format.ecosystems() else {
        let text = match format {
            ExportFormat::Spdx => spdx::render(&selection),
            _ => cyclonedx::render(&selection),
        };
        return Ok(Exported {
            text,
            left_out: BTreeMap::new(),
        });
    };
    let (kept, left): (Vec<_>, Vec<_>) = selection
        .packages
        .iter()
        .map(|(_, package)| *package)
        .partition(|p| ecosystems.contains(&p.ecosystem));
    let mut left_out = BTreeMap::new();
    for package in &left {
        *left_out.entry(package.ecosystem).or_insert(0) += 1;
    }
    if kept.is_empty() {
        return Err(nothing_to_export(format, &selection, layers, &left_out));
    }
    let resolution = &lock.resolution;
    let heading = heading(&selection, format);
    let text = match format {
        ExportFormat::Requirements => {
            crate::pypi::requirements::render(&heading, resolution, &kept)
        }
        ExportFormat::CondaExplicit => crate::conda::explicit::render(&heading, resolution, &kept),
        _ => crate::cran::renv::render(resolution, &kept),
    };
    Ok(Exported { text, left_out })
}

/// The selection of `layers` (all when empty), each checked to be one of the lock's.
fn select<'a>(
    lock: &'a Lock,
    lock_bytes: &[u8],
    layers: &[String],
) -> Result<Selection<'a>, ExportError> {
    let names: Vec<&str> = lock.layers.iter().map(|l| l.name.as_str()).collect();
    if let Some(unknown) = layers.iter().find(|l| !names.contains(&l.as_str())) {
        return Err(ExportError::UnknownLayer {
            name: unknown.clone(),
            suggestion: crate::suggest::closest(unknown, names.iter().copied()),
            layers: names.iter().map(|n| n.to_string()).collect(),
        });
    }
    let chosen: Vec<&str> = names
        .into_iter()
        .filter(|name| layers.is_empty() || layers.iter().any(|l| l == name))
        .collect();
    let packages: Vec<(&str, &LockedPackage)> = lock
        .layers
        .iter()
        .filter(|layer| chosen.contains(&layer.name.as_str()))
        .flat_map(|layer| layer.packages.iter().map(|p| (layer.name.as_str(), p)))
        .collect();
    let by_name = packages
        .iter()
        .map(|(_, p)| ((p.ecosystem, p.name.as_str()), *p))
        .collect();
    let mut hasher = Sha256::new();
    hasher.update(lock_bytes);
    for layer in &chosen {
        hasher.update(b"\0");
        hasher.update(layer.as_bytes());
    }
    Ok(Selection {
        lock,
        layers: chosen,
        packages,
        by_name,
        digest: hasher.finalize().into(),
    })
}

/// The comment lines that open a text format: what made it, from which lock.
fn heading(selection: &Selection<'_>, format: ExportFormat) -> String {
    format!(
        "# This file was generated by imglock from the lock of image `{}` (layers {}):\n#    imglock export --format {}\n",
        selection.lock.image.name,
        selection.layers.join(", "),
        format.name()
    )
}

/// The purl of `package`, as its ecosystem spells it.
pub(crate) fn purl(package: &LockedPackage) -> String {
    let id = crate::purl::Identity {
        name: &package.name,
        version: &package.version,
        repository: &package.repository,
        url: &package.url,
        sha256: &package.sha256,
    };
    package.details.purl(package.ecosystem, &id)
}

fn nothing_to_export(
    format: ExportFormat,
    selection: &Selection<'_>,
    layers: &[String],
    held: &BTreeMap<Ecosystem, usize>,
) -> ExportError {
    let wanted = format
        .ecosystems()
        .and_then(|ecosystems| ecosystems.first())
        .map_or("", |ecosystem| ecosystem.packages_name());
    let where_ = match layers {
        [] => "the lock has".to_string(),
        [one] => format!("layer `{one}` has"),
        _ => format!("layers {} have", quoted(&selection.layers)),
    };
    let held = if held.is_empty() {
        "no packages".to_string()
    } else {
        held.iter()
            .map(|(ecosystem, count)| format!("{count} {ecosystem}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    ExportError::NothingToExport {
        format,
        wanted,
        where_,
        held,
    }
}

/// `` `a`, `b` `` for names.
fn quoted(names: &[impl AsRef<str>]) -> String {
    names
        .iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The JSON text of `value`, pretty-printed with a final newline.
fn json_text(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}
