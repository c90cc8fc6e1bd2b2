//! conda packages from channels: repodata for the image's subdir and `noarch`, specs and records
//! read by `rattler_conda_types`, and a SAT solve per layer by `rattler_solve`'s resolvo backend.
//!
//! All layers share one conda environment (`[image] conda-prefix`): a layer solves together with
//! the records lower layers locked, which stay exactly as locked. Channels have the priority
//! `[repositories] conda-channel-priority` gives them (strict by default: the first channel that
//! has a name serves it), a package may be asked from one channel ([`named`]), the image's virtual
//! packages (`__linux`, `__unix`, `__glibc`, `__archspec`, `__cuda` when `[image] cuda` is set)
//! stand in for the system, and `--exclude-newer` drops records published later. The lock takes
//! each record's sha256, md5 and size from the repodata, so resolving downloads no package.

pub mod build;
mod channel;
mod closure_records;
mod emit;
mod error;
pub(crate) mod explicit;
pub mod installer;
pub mod inventory;
mod named;
mod record_index;
mod solve;
pub mod spec;
mod subdir;
pub mod support;
mod version;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use rattler_conda_types::{MatchSpec, PackageName, ParseStrictness, RepoDataRecord};

pub use build::CondaBuild;
pub use channel::subdir_of;
pub use error::CondaError;
pub use installer::CondaInstaller;
pub use version::version_change;

use self::channel::{ChannelRecords, fetch_channels};
use self::named::Channels;
use self::solve::{Environment, solve};
use crate::ecosystem::{
    EcosystemError, LayerRequest, LayerResolution, LayerResolver, PinSource, ResolvedPackage,
};
use crate::fetch::{ArtifactRequest, Fetcher};
use crate::package::{Ecosystem, PackageDetails, Pin, SettingValue};
use crate::repository::Repository;
use crate::spec::{RequirementEntry, Spec, SpecError};

/// The glibc assumed when `[image] glibc` is not set: what manylinux2014 and conda-forge's
/// default sysroot target.
pub const DEFAULT_GLIBC: &str = "2.17";

/// The conda ecosystem of one spec.
pub struct CondaPackages {
    channels: Vec<ChannelRecords>,
    environment: Environment,
    /// How many of `channels` `[repositories] conda` lists (the others serve only the packages
    /// layer entries name them for).
    general: usize,
    /// Each layer's specs, as written and parsed.
    specs: HashMap<String, Vec<(String, MatchSpec)>>,
}

/// Each layer's specs, as written and parsed.
type LayerSpecs = HashMap<String, Vec<(String, MatchSpec)>>;

/// A package asked from one channel.
struct AskedFrom<'a> {
    layer: &'a str,
    entry: &'a RequirementEntry,
    name: PackageName,
    /// Its position among the channels.
    channel: usize,
}

impl AskedFrom<'_> {
    /// The error for a channel that does not have the package.
    fn not_in_channel(&self, spec: &Spec, channels: &[ChannelRecords]) -> SpecError {
        let name = self.name.as_normalized();
        let label = &channels[self.channel].repository.label;
        let advice = match named::elsewhere(channels, self.channel, &self.name).as_slice() {
            [] => "no channel of the spec has it either: check the name and the channel".into(),
            others => format!("it is in {}: name that channel, or none", others.join(", ")),
        };
        spec.error_at(
            self.entry,
            format!(
                "in layer `{}`: {name} is not in {label}; {advice}",
                self.layer
            ),
        )
    }
}

/// Every layer's conda specs, parsed, each asked from one channel restricted to it; and the
/// packages asked from one channel.
fn parse_specs<'a>(
    spec: &'a Spec,
    lock_dir: &Path,
    channels: &mut Channels,
) -> Result<(LayerSpecs, Vec<AskedFrom<'a>>), CondaError> {
    let mut specs: LayerSpecs = HashMap::new();
    let mut asked = Vec::new();
    let mut chosen = crate::repository::NamedSources::default();
    for layer in &spec.layers {
        for entry in layer
            .requirements
            .iter()
            .filter(|r| r.kind == Ecosystem::Conda)
        {
            let error = |message: String| {
                spec.error_at(entry, format!("in layer `{}`: {message}", layer.name))
            };
            let (text, channel) =
                named::split(&entry.text, entry.repository.as_deref()).map_err(error)?;
            let mut parsed = parse_match_spec(&text).map_err(error)?;
            if let (Some(written), Some(name)) = (channel, parsed.name.as_exact().cloned()) {
                let at = channels
                    .find_or_add(&written, name.as_normalized(), &spec.dir(), lock_dir)
                    .map_err(|e| error(format!("the channel of `{}`: {e}", entry.text)))?;
                chosen
                    .choose(
                        name.as_normalized(),
                        &layer.name,
                        &channels.repositories[at],
                        "channel",
                    )
                    .map_err(error)?;
                named::restrict(&mut parsed, &channels.repositories[at]);
                asked.push(AskedFrom {
                    layer: &layer.name,
                    entry,
                    name,
                    channel: at,
                });
            }
            specs
                .entry(layer.name.clone())
                .or_default()
                .push((entry.text.clone(), parsed));
        }
    }
    Ok((specs, asked))
}

/// A conda match spec that names exactly one package.
fn parse_match_spec(text: &str) -> Result<MatchSpec, String> {
    let parsed = MatchSpec::from_str(text, ParseStrictness::Lenient).map_err(|e| {
        format!(
            "`{text}` is not a conda match spec ({e}); write it like `dask 2.20.*` or `python >=3.8,<3.9`"
        )
    })?;
    if parsed.name.as_exact().is_none() {
        return Err(format!(
            "`{text}` does not name one package; a conda spec starts with the exact package name (no `*` or regular expression)"
        ));
    }
    Ok(parsed)
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
        let spec_error = |message: String| SpecError {
            path: spec.path.clone(),
            location: None,
            message,
        };
        let spec_dir = spec.dir();
        let listed = spec
            .repositories
            .conda
            .channels
            .iter()
            .map(|text| {
                Repository::parse(text, &spec_dir, lock_dir)
                    .map_err(|e| spec_error(format!("[repositories] conda: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut named_channels = Channels::new(listed);
        let (specs, named) = parse_specs(spec, lock_dir, &mut named_channels)?;
        if specs.is_empty() {
            return Ok(None);
        }
        let subdir = subdir_of(&spec.image.platform)?;
        let environment = Environment::new(
            subdir,
            spec.image.conda.glibc.as_deref().unwrap_or(DEFAULT_GLIBC),
            spec.image.conda.cuda.as_deref(),
            exclude_newer,
            spec.repositories.conda.priority.unwrap_or_default(),
        )?;
        let mut channels = fetch_channels(
            fetcher,
            &named_channels.repositories,
            subdir,
            &requested_names(&specs),
        )?;
        named_channels.keep_named(&mut channels);
        for asked in &named {
            if !named::has(&channels[asked.channel].records, &asked.name) {
                return Err(asked.not_in_channel(spec, &channels).into());
            }
        }
        Ok(Some(Self {
            channels,
            general: named_channels.general,
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
                self.channels[..self.general]
                    .iter()
                    .map(|c| c.repository.label.clone())
                    .collect(),
            ),
        );
        if self.environment.priority != spec::ChannelPriority::Strict {
            settings.insert(
                "conda-channel-priority".into(),
                SettingValue::Text(self.environment.priority.as_str().into()),
            );
        }
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
        let solved = solve(&self.channels, &self.environment, specs, &below, &preferred)
            .map_err(|error| error.in_layer(&request.layer.name, request.below))?;

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
                license: package.license.clone().filter(|l| !l.trim().is_empty()),
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
