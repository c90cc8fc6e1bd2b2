//! Maven artifacts from Maven repositories: POMs read with `quick-xml`, effective models built as
//! Maven 3's model builder does, versions ordered as `ComparableVersion` orders them, and each
//! layer's dependency tree resolved level by level as Maven 3 mediates it.
//!
//! A layer's `maven` coordinates are direct `compile` dependencies; its `maven-provided` ones
//! (what the runtime ships, like Spark) are direct `provided` dependencies, so their trees stay
//! out as Maven keeps a `provided` tree out. Artifacts a lower layer locked are not locked again.
//! Each jar is downloaded once into the cache, its checksum file fetched with it, and checked
//! against the strongest checksum the repository publishes beside it (`.sha512`, `.sha256`,
//! `.sha1`; see [`crate::fetch::PublishedChecksums`]); the lock
//! records its sha256, size and the chain of artifacts that brought it in.

pub mod bound;
pub mod coordinate;
pub(crate) mod details;
mod emit;
mod error;
pub(crate) mod inventory;
pub(crate) mod model;
pub(crate) mod pom;
mod requests;
pub mod resolve;
pub(crate) mod scope;
pub(crate) mod spec;
pub mod store;
pub(crate) mod support;
pub(crate) mod version;
mod walk;
pub(crate) mod xml;

pub(crate) use details::MavenDetails;
pub(crate) use error::MavenError;
pub use scope::Scope;
pub(crate) use version::version_change;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use self::coordinate::{Coordinate, Gav};
use self::resolve::{Request, resolve};
use self::store::PomStore;
use crate::ecosystem::{
    EcosystemError, LayerRequest, LayerResolution, LayerResolver, PinSource, ResolvedPackage,
};
use crate::fetch::Fetcher;
use crate::package::{Ecosystem, PackageDetails, SettingValue};
use crate::repository::Repository;
use crate::spec::{Spec, SpecError};

/// The repository used when the spec names none.
pub const MAVEN_CENTRAL: &str = "https://repo1.maven.org/maven2";

/// The Maven ecosystem of one spec.
pub struct MavenPackages<'a> {
    store: PomStore<'a>,
    requests: HashMap<String, Vec<Request>>,
}

impl<'a> MavenPackages<'a> {
    /// The licenses `gav`'s effective model names (its POMs are fetched by now), joined by
    /// `, `; `None` when it names none.
    fn license_of(&self, gav: &Gav) -> Option<String> {
        let model = model::build(&self.store, gav).ok()?;
        (!model.licenses.is_empty()).then(|| model.licenses.join(", "))
    }

    /// The Maven ecosystem, or `None` when no layer asks for Maven artifacts.
    pub fn load(
        spec: &Spec,
        lock_dir: &Path,
        fetcher: &'a Fetcher,
    ) -> Result<Option<Self>, MavenError> {
        let mut requests: HashMap<String, Vec<Request>> = HashMap::new();
        for layer in &spec.layers {
            for entry in &layer.requirements {
                let scope = match (entry.kind, entry.provided) {
                    (Ecosystem::Maven, false) => Scope::Compile,
                    (Ecosystem::Maven, true) => Scope::Provided,
                    _ => continue,
                };
                let coordinate = Coordinate::parse(&entry.text)
                    .map_err(|e| spec.error_at(entry, format!("in layer `{}`: {e}", layer.name)))?;
                let exclusions = entry
                    .exclusions
                    .iter()
                    .map(|pattern| match pattern.split_once(':') {
                        Some((group, artifact)) if !group.is_empty() && !artifact.is_empty() => {
                            Ok((group.to_string(), artifact.to_string()))
                        }
                        _ => Err(spec.error_at(
                            entry,
                            format!(
                                "in layer `{}`: the exclusion `{pattern}` must be `group:artifact`, either part may be `*`",
                                layer.name
                            ),
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                requests
                    .entry(layer.name.clone())
                    .or_default()
                    .push(Request {
                        coordinate,
                        exclusions,
                        scope,
                    });
            }
        }
        if !requests
            .values()
            .flatten()
            .any(|request| request.scope == Scope::Compile)
        {
            return Ok(None);
        }
        let spec_dir = spec.dir();
        let default = [MAVEN_CENTRAL.to_string()];
        let listed = if spec.repositories.maven.repositories.is_empty() {
            &default[..]
        } else {
            &spec.repositories.maven.repositories[..]
        };
        let mut repositories = listed
            .iter()
            .map(|text| {
                Repository::parse(text, &spec_dir, lock_dir).map_err(|e| SpecError {
                    path: spec.path.clone(),
                    location: None,
                    message: format!("[repositories] maven: {e}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let general = repositories.len();
        let named = named_repositories(spec, lock_dir, &mut repositories)?;
        let packages = Self {
            store: PomStore::new(fetcher, repositories).with_named(general, named),
            requests,
        };
        packages.prefetch_every_layer();
        Ok(Some(packages))
    }

    /// With more than one layer of requests, fetches the POMs of every layer's trees at once,
    /// from the first round: a higher layer's POMs are in by the time the layers below it are
    /// resolved (a layer's resolution never reads another's).
    fn prefetch_every_layer(&self) {
        if self.requests.len() > 1 {
            let every: Vec<Request> = self.requests.values().flatten().cloned().collect();
            resolve::prefetch(&self.store, &every);
        }
    }
}

/// The `(group, artifact)` of each coordinate a layer entry names a repository for, and that
/// repository's position in `repositories` (appended when `[repositories] maven` does not list
/// it). An artifact named with two repositories is refused.
fn named_repositories(
    spec: &Spec,
    lock_dir: &Path,
    repositories: &mut Vec<Repository>,
) -> Result<HashMap<(String, String), usize>, MavenError> {
    let mut named = HashMap::new();
    let mut chosen = crate::repository::NamedSources::default();
    for layer in &spec.layers {
        let entries = layer
            .requirements
            .iter()
            .filter(|e| e.kind == Ecosystem::Maven);
        for entry in entries {
            let Some(written) = &entry.repository else {
                continue;
            };
            let error = |message: String| {
                spec.error_at(entry, format!("in layer `{}`: {message}", layer.name))
            };
            let repository = Repository::parse(written, &spec.dir(), lock_dir)
                .map_err(|e| error(format!("{}'s repository: {e}", entry.text)))?;
            let coordinate = Coordinate::parse(&entry.text).map_err(|e| error(e.to_string()))?;
            let artifact = format!("{}:{}", coordinate.group, coordinate.artifact);
            chosen
                .choose(&artifact, &layer.name, &repository, "repository")
                .map_err(error)?;
            let position = match repositories.iter().position(|r| r.url == repository.url) {
                Some(position) => position,
                None => {
                    repositories.push(repository);
                    repositories.len() - 1
                }
            };
            named.insert((coordinate.group, coordinate.artifact), position);
        }
    }
    Ok(named)
}

/// A Maven artifact's name in the lock: `group:artifact`, with `:classifier` when it has one.
pub fn lock_name(coordinate: &Coordinate) -> String {
    match &coordinate.classifier {
        Some(classifier) => format!("{}:{}:{classifier}", coordinate.group, coordinate.artifact),
        None => format!("{}:{}", coordinate.group, coordinate.artifact),
    }
}

impl LayerResolver for MavenPackages<'_> {
    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Maven
    }

    fn settings(&self) -> BTreeMap<String, SettingValue> {
        let mut settings = BTreeMap::new();
        settings.insert(
            "maven-repositories".into(),
            SettingValue::List(
                self.store.repositories[..self.store.general]
                    .iter()
                    .map(|r| r.label.clone())
                    .collect(),
            ),
        );
        settings
    }

    fn resolve_layer(&self, request: &LayerRequest<'_>) -> Result<LayerResolution, EcosystemError> {
        let Some(requests) = self.requests.get(&request.layer.name) else {
            return Ok(LayerResolution::default());
        };
        let layer = &request.layer.name;
        requests::one_version_each(layer, requests)?;
        let resolution = resolve(&self.store, requests)?;
        requests::each_found(&self.store, layer, requests, request.below)?;
        let mut notes = resolution.notes;
        let below: HashMap<&str, &str> = request
            .below
            .iter()
            .filter(|pin| pin.ecosystem == Ecosystem::Maven)
            .map(|pin| (pin.name.as_str(), pin.version.as_str()))
            .collect();
        let mut artifacts = Vec::new();
        for artifact in resolution.artifacts {
            let name = lock_name(&artifact.coordinate);
            match below.get(name.as_str()) {
                Some(version) if *version == artifact.coordinate.version => {}
                Some(version) => notes.push(format!(
                    "layer `{}`: {name} {} is left out, a lower layer has {version}",
                    request.layer.name, artifact.coordinate.version
                )),
                None => artifacts.push((name, artifact)),
            }
        }
        let mut packages = Vec::new();
        for (name, artifact) in artifacts {
            // The repository that served an artifact's POM serves its file, and the checksum
            // files beside it, fetched with it.
            let gav = artifact.coordinate.gav();
            let repository = self.store.repository_of(&gav).label.clone();
            let request = self
                .store
                .artifact_request(&gav, &artifact.coordinate.file_suffix());
            packages.push(ResolvedPackage {
                ecosystem: Ecosystem::Maven,
                name,
                version: artifact.coordinate.version.clone(),
                url: self.store.repository_of(&gav).label_for(&request.url),
                repository,
                artifact: PinSource::Download(request),
                license: self.license_of(&gav),
                requested: artifact.path.is_empty(),
                dependencies: artifact.dependencies,
                details: PackageDetails::Maven(MavenDetails { via: artifact.path }),
            });
        }
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(LayerResolution {
            packages,
            notes,
            ..LayerResolution::default()
        })
    }
}

#[cfg(test)]
mod fuzz;
