//! The lock file as written, as TOML holds it; checked strictly on load and turned into the
//! validated [`super::Lock`]. A package table's shared fields are read here; the rest go to its
//! ecosystem ([`PackageDetails::read`]), which refuses any it does not own. Each package table
//! keeps its place in the text, so a refused field is named with its line.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::fields::{Origin, PackageFields};
use super::{LockedImage, LockedPackage, LockedParent};
use crate::dockerfile_values::{check_one_line, check_sha256};
use crate::package::{Ecosystem, PackageDetails, SettingValue};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct Lock {
    #[allow(dead_code)]
    pub version: u32,
    pub spec_hash: String,
    /// Absent from older locks.
    #[serde(default)]
    pub spec_parts: BTreeMap<String, String>,
    pub image: LockedImage,
    /// Absent from locks of specs without `extends`, and from older locks.
    pub parent: Option<LockedParent>,
    #[serde(default)]
    pub resolution: BTreeMap<String, SettingValue>,
    #[serde(default)]
    pub layer: Vec<Layer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Layer {
    pub name: String,
    #[serde(rename = "maven-target")]
    pub maven_target: Option<String>,
    #[serde(default)]
    pub package: Vec<toml::Spanned<Package>>,
    /// `[[layer.build-package]]`: what builds the layer's sdists (absent from older locks).
    #[serde(default, rename = "build-package")]
    pub build_package: Vec<toml::Spanned<Package>>,
    /// `[[layer.step]]`: the layer's custom steps (absent from older locks).
    #[serde(default)]
    pub step: Vec<crate::custom_steps::lock::StepTable>,
}

/// A `[[layer.package]]` table.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct Package {
    ecosystem: Ecosystem,
    name: String,
    version: String,
    repository: String,
    url: String,
    sha256: String,
    size: u64,
    /// Absent when the metadata gave none, and from older locks.
    license: Option<String>,
    #[serde(default)]
    requested: bool,
    #[serde(default)]
    dependencies: Vec<String>,
    /// The fields its ecosystem adds (and any unknown ones, which it refuses).
    #[serde(flatten)]
    own: toml::Table,
}

impl Package {
    /// What names the package in a lock: its ecosystem and name.
    pub(super) fn key(&self) -> (Ecosystem, &str) {
        (self.ecosystem, &self.name)
    }

    pub(super) fn version(&self) -> &str {
        &self.version
    }

    pub(super) fn is_maven(&self) -> bool {
        self.ecosystem == Ecosystem::Maven
    }

    /// The package, checked: one-line values, a well-formed sha256, and only its own
    /// ecosystem's fields; `what` says what it is (`package`, `build package`), `origin` where
    /// its table is in the lock's text.
    pub(super) fn validate(
        self,
        layer: &str,
        what: &str,
        origin: Origin,
    ) -> Result<LockedPackage, String> {
        let about = format!(
            "{} {what} `{}` in layer `{layer}`",
            self.ecosystem,
            self.name.escape_debug()
        );
        for (field, value) in [
            ("name", &self.name),
            ("version", &self.version),
            ("repository", &self.repository),
            ("url", &self.url),
            ("sha256", &self.sha256),
        ]
        .into_iter()
        .chain(self.license.iter().map(|l| ("license", l)))
        .chain(self.dependencies.iter().map(|d| ("dependencies", d)))
        {
            check_one_line(field, value)
                .map_err(|problem| origin.at(field, format!("{about}: {problem}")))?;
        }
        check_sha256("sha256", &self.sha256)
            .map_err(|problem| origin.at("sha256", format!("{about} {problem}")))?;
        let mut own = PackageFields::new(self.own, origin);
        let details = PackageDetails::read(self.ecosystem, &self.url, &mut own)
            .and_then(|details| own.finish().map(|()| details))
            .map_err(|problem| format!("{about} {problem}"))?;
        Ok(LockedPackage {
            ecosystem: self.ecosystem,
            name: self.name,
            version: self.version,
            repository: self.repository,
            url: self.url,
            sha256: self.sha256,
            size: self.size,
            license: self.license,
            requested: self.requested,
            dependencies: self.dependencies,
            details,
        })
    }
}
