//! The lock file as written: every field of every ecosystem, flat, as TOML holds it; checked
//! strictly on load and turned into the validated [`super::Lock`], where each package carries
//! only its own ecosystem's details.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{LockedImage, LockedPackage};
use crate::conda::CondaBuild;
use crate::cran::RDetails;
use crate::ecosystem::{Ecosystem, PackageDetails, SettingValue};
use crate::maven::MavenDetails;
use crate::pypi::PypiDetails;

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
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
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
    // R
    needs_compilation: Option<bool>,
    system_requirements: Option<String>,
    // PyPI
    #[serde(default)]
    markers: Vec<String>,
    // conda
    md5: Option<String>,
    build: Option<String>,
    build_number: Option<u64>,
    subdir: Option<String>,
    #[serde(default)]
    depends: Vec<String>,
    // Maven
    #[serde(default)]
    via: Vec<String>,
}

impl Package {
    pub(super) fn is_maven(&self) -> bool {
        self.ecosystem == Ecosystem::Maven
    }

    /// The package, checked: a well-formed sha256, and only its own ecosystem's fields.
    pub(super) fn validate(self, layer: &str) -> Result<LockedPackage, String> {
        let about = format!(
            "{} package `{}` in layer `{layer}`",
            self.ecosystem, self.name
        );
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
        if let Some(field) = self.foreign_field() {
            return Err(format!(
                "{about} has `{field}`, which its ecosystem does not have"
            ));
        }
        let details = match self.ecosystem {
            Ecosystem::Cran | Ecosystem::Bioconductor => PackageDetails::R(RDetails {
                needs_compilation: self.needs_compilation,
                system_requirements: self.system_requirements,
            }),
            Ecosystem::Pypi => PackageDetails::Pypi(PypiDetails {
                markers: self.markers,
            }),
            Ecosystem::Conda => {
                let (Some(build), Some(build_number), Some(subdir)) =
                    (self.build, self.build_number, self.subdir)
                else {
                    return Err(format!(
                        "{about} lacks one of `build`, `build-number` and `subdir`"
                    ));
                };
                PackageDetails::Conda(CondaBuild {
                    build,
                    build_number,
                    subdir,
                    md5: self.md5,
                    depends: self.depends,
                })
            }
            Ecosystem::Maven => PackageDetails::Maven(MavenDetails { via: self.via }),
        };
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

    /// The first field set that belongs to another ecosystem than the package's.
    fn foreign_field(&self) -> Option<&'static str> {
        let ecosystem = self.ecosystem;
        let (r, pypi, conda, maven) = (
            ecosystem.is_r(),
            ecosystem == Ecosystem::Pypi,
            ecosystem == Ecosystem::Conda,
            ecosystem == Ecosystem::Maven,
        );
        [
            ("needs-compilation", self.needs_compilation.is_some(), r),
            ("system-requirements", self.system_requirements.is_some(), r),
            ("markers", !self.markers.is_empty(), pypi),
            ("md5", self.md5.is_some(), conda),
            ("build", self.build.is_some(), conda),
            ("build-number", self.build_number.is_some(), conda),
            ("subdir", self.subdir.is_some(), conda),
            ("depends", !self.depends.is_empty(), conda),
            ("via", !self.via.is_empty(), maven),
        ]
        .into_iter()
        .find(|(_, set, own)| *set && !own)
        .map(|(field, _, _)| field)
    }
}
