//! conda packages from channels: repodata for the image's subdir and `noarch`, specs and records
//! read by `rattler_conda_types`, and a SAT solve per layer by `rattler_solve`'s resolvo backend.
//!
//! All layers share one conda environment (`[image] conda-prefix`): a layer solves together with
//! the records lower layers locked, which stay exactly as locked. Channels have strict priority
//! (the first channel that has a name serves it), the image's virtual packages (`__linux`,
//! `__unix`, `__glibc`, `__archspec`, `__cuda` when `[image] cuda` is set) stand in for the
//! system, and `--exclude-newer` drops records published later. The lock takes each record's
//! sha256, md5 and size from the repodata, so resolving downloads no package.

pub mod build;
mod channel;
mod emit;
mod error;
pub mod installer;
pub mod inventory;
mod solve;
pub mod spec;
pub mod support;
mod version;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use rattler_conda_types::{MatchSpec, ParseStrictness, RepoDataRecord};

pub use build::CondaBuild;
pub use channel::subdir_of;
pub use error::CondaError;
pub use installer::CondaInstaller;
pub use version::version_change;

use self::channel::{ChannelRecords, fetch_channels};
use self::solve::{Environment, solve};
use crate::ecosystem::{
    EcosystemError, LayerRequest, LayerResolution, LayerResolver, PinSource, ResolvedPackage,
};
use crate::fetch::{ArtifactRequest, Fetcher};
use crate::package::{Ecosystem, PackageDetails, Pin, SettingValue};
use crate::repository::Repository;
use crate::spec::{Spec, SpecError};

/// The glibc assumed when `[image] glibc` is not set: what manylinux2014 and conda-forge's
/// default sysroot target.
pub const DEFAULT_GLIBC: &str = "2.17";

/// The conda ecosystem of one spec.
pub struct CondaPackages {
    channels: Vec<ChannelRecords>,
    environment: Environment,
    /// Each layer's specs, as written and parsed.
    specs: HashMap<String, Vec<(String, MatchSpec)>>,
}

impl CondaPackages {
    /// The conda ecosystem, or `None` when no layer asks for conda packages. Fetches every
    /// channel's repodata at once.
    pub fn load(
        spec: &Spec,
        lock_dir: &Path,
        fetcher: &Fetcher,
        exclude_newer: Option<crate::exclude_newer::ExcludeNewer>,
    ) -> Result<Option<Self>, CondaError> {
        let mut specs: HashMap<String, Vec<(String, MatchSpec)>> = HashMap::new();
        for layer in &spec.layers {
            for entry in layer
                .requirements
                .iter()
                .filter(|r| r.kind == Ecosystem::Conda)
            {
                let parsed = MatchSpec::from_str(&entry.text, ParseStrictness::Lenient)
                    .map_err(|e| {
                        spec.error_at(
                            entry,
                            format!(
                                "in layer `{}`: `{}` is not a conda match spec ({e}); write it like `dask 2.20.*` or `python >=3.8,<3.9`",
                                layer.name, entry.text
                            ),
                        )
                    })?;
                if parsed.name.as_exact().is_none() {
                    return Err(spec
                        .error_at(
                            entry,
                            format!(
                                "in layer `{}`: `{}` does not name one package; a conda spec starts with the exact package name (no `*` or regular expression)",
                                layer.name, entry.text
                            ),
                        )
                        .into());
                }
                specs
                    .entry(layer.name.clone())
                    .or_default()
                    .push((entry.text.clone(), parsed));
            }
        }
        if specs.is_empty() {
            return Ok(None);
        }
        let spec_error = |message: String| SpecError {
            path: spec.path.clone(),
            location: None,
            message,
        };
        let subdir = subdir_of(&spec.image.platform)?;
        let environment = Environment::new(
            subdir,
            spec.image.conda.glibc.as_deref().unwrap_or(DEFAULT_GLIBC),
            spec.image.conda.cuda.as_deref(),
            exclude_newer,
        )?;
        let spec_dir = spec.dir();
        let repositories = spec
            .repositories
            .conda
            .channels
            .iter()
            .map(|text| {
                Repository::parse(text, &spec_dir, lock_dir)
                    .map_err(|e| spec_error(format!("[repositories] conda: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let channels = fetch_channels(fetcher, &repositories, subdir, &requested_names(&specs))?;
        Ok(Some(Self {
            channels,
            environment,
            specs,
        }))
    }

    /// The records `pins` name (name, version and build), found in the channels.
    fn records_of(&self, pins: &[Pin]) -> Vec<&RepoDataRecord> {
        let wanted: HashSet<(&str, &str, &str)> = pins
            .iter()
            .filter(|pin| pin.ecosystem == Ecosystem::Conda)
            .filter_map(|pin| {
                Some((
                    pin.name.as_str(),
                    pin.version.as_str(),
                    pin.build.as_deref()?,
                ))
            })
            .collect();
        let mut found: HashMap<&str, &RepoDataRecord> = HashMap::new();
        for record in self.channels.iter().flat_map(|c| &c.records) {
            let package = &record.package_record;
            let name = package.name.as_normalized();
            let version = package.version.as_str();
            if wanted.contains(&(name, &*version, package.build.as_str())) {
                found.entry(name).or_insert(record);
            }
        }
        let mut records: Vec<&RepoDataRecord> = found.into_values().collect();
        records.sort_by(|a, b| a.package_record.name.cmp(&b.package_record.name));
        records
    }

    /// The channel a record came from.
    fn channel_of(&self, record: &RepoDataRecord) -> &Repository {
        let index = self
            .channels
            .iter()
            .position(|channel| record.channel.as_deref() == Some(channel.channel.as_str()))
            .unwrap_or(0);
        &self.channels[index].repository
    }
}

/// Every layer's package names, sorted: their closure is all that any layer's solve can reach.
fn requested_names(
    specs: &HashMap<String, Vec<(String, MatchSpec)>>,
) -> Vec<rattler_conda_types::PackageName> {
    let mut names: Vec<_> = specs
        .values()
        .flatten()
        .filter_map(|(_, spec)| spec.name.as_exact().cloned())
        .collect();
    names.sort();
    names.dedup();
    names
}

impl LayerResolver for CondaPackages {
    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Conda
    }

    fn settings(&self) -> BTreeMap<String, SettingValue> {
        let mut settings = BTreeMap::new();
        settings.insert(
            "conda-channels".into(),
            SettingValue::List(
                self.channels
                    .iter()
                    .map(|c| c.repository.label.clone())
                    .collect(),
            ),
        );
        settings.insert(
            "conda-subdir".into(),
            SettingValue::Text(self.environment.subdir.to_string()),
        );
        settings.insert(
            "conda-virtual-packages".into(),
            SettingValue::List(self.environment.describe()),
        );
        if let Some(limit) = self.environment.limit {
            settings.insert(
                "exclude-newer".into(),
                SettingValue::Text(limit.to_string()),
            );
        }
        settings
    }

    fn resolve_layer(&self, request: &LayerRequest<'_>) -> Result<LayerResolution, EcosystemError> {
        let Some(specs) = self.specs.get(&request.layer.name) else {
            return Ok(LayerResolution::default());
        };
        let below = self.records_of(request.below);
        let preferred = self.records_of(request.preferred);
        let solved = solve(&self.channels, &self.environment, specs, &below, &preferred)?;

        let in_solution: HashMap<&str, &RepoDataRecord> = solved
            .iter()
            .map(|r| (r.package_record.name.as_normalized(), r))
            .collect();
        let mut packages = Vec::new();
        for record in &solved {
            let name = record.package_record.name.as_normalized();
            if below
                .iter()
                .any(|b| b.package_record.name.as_normalized() == name)
            {
                continue;
            }
            let package = &record.package_record;
            let mut dependencies: Vec<String> = package
                .depends
                .iter()
                .filter_map(|depend| depend.split_whitespace().next())
                .filter(|dep| in_solution.contains_key(dep))
                .map(str::to_string)
                .collect();
            dependencies.sort();
            dependencies.dedup();
            let repository = self.channel_of(record);
            let artifact = match (&package.sha256, package.size) {
                (Some(sha256), Some(size)) => PinSource::Known {
                    sha256: hex::encode(sha256),
                    size,
                },
                _ => PinSource::Download(ArtifactRequest {
                    url: record.url.clone(),
                    published: None,
                    expected: package
                        .md5
                        .map(|md5| crate::fetch::Checksum::Md5(hex::encode(md5))),
                }),
            };
            packages.push(ResolvedPackage {
                ecosystem: Ecosystem::Conda,
                name: name.to_string(),
                version: package.version.as_str().to_string(),
                repository: repository.label.clone(),
                url: repository.label_for(&record.url),
                artifact,
                requested: specs.iter().any(|(_, spec)| {
                    spec.name
                        .as_exact()
                        .is_some_and(|n| n.as_normalized() == name)
                }),
                dependencies,
                details: PackageDetails::Conda(CondaBuild {
                    build: package.build.as_str().to_string(),
                    build_number: package.build_number,
                    subdir: package.subdir.clone(),
                    md5: package.md5.map(hex::encode),
                    depends: package.depends.clone(),
                }),
            });
        }
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(LayerResolution {
            packages,
            notes: Vec::new(),
            ..LayerResolution::default()
        })
    }
}

#[cfg(test)]
mod fuzz;
