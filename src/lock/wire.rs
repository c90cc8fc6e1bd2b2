//! The lock file as written, as TOML holds it; checked strictly on load and turned into the
//! validated [`super::Lock`]. A package table's shared fields are read here; the rest go to its
//! ecosystem ([`PackageDetails::read`]), which refuses any it does not own.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::fields::PackageFields;
use super::{LockedImage, LockedPackage};
use crate::dockerfile_values::check_one_line;
use crate::package::{Ecosystem, PackageDetails, SettingValue};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct Lock {
    #[allow(dead_code)]
    pub version: u32,
    pub spec_hash: String,
    pub image: LockedImage,
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
    pub package: Vec<Package>,
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

    pub(super) fn is_maven(&self) -> bool {
        self.ecosystem == Ecosystem::Maven
    }

    /// The package, checked: a well-formed sha256, and only its own ecosystem's fields.
    pub(super) fn validate(self, layer: &str) -> Result<LockedPackage, String> {
        let about = format!(
            "{} package `{}` in layer `{layer}`",
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
        .chain(self.dependencies.iter().map(|d| ("dependencies", d)))
        {
            check_one_line(field, value).map_err(|problem| format!("{about}: {problem}"))?;
        }
        let hex_ok = self.sha256.len() == 64
            && self
                .sha256
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        if !hex_ok {
            return Err(format!(
                "{about} has sha256 `{}`, which is not 64 lowercase hexadecimal digits",
                self.sha256
            ));
        }
        let mut own = PackageFields::new(self.own);
        let details = PackageDetails::read(self.ecosystem, &mut own)
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
            requested: self.requested,
            dependencies: self.dependencies,
            details,
        })
    }
}
