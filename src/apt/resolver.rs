//! apt's resolver in the pipeline: the sources (`[repositories] apt`, else the base image's own)
//! fetched and verified once into one [`AptIndex`], then each layer's requests solved over it
//! on top of what the base image has installed and what lower layers lock ([`super::solve`]).
//! Every .deb is pinned by the `Filename`, `SHA256` and `Size` its Packages index gives, whose
//! Release was verified: nothing is downloaded to lock it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::details::AptDetails;
use super::error::{AptError, FieldError};
use super::index::{AptIndex, Candidate};
use super::relation::parse_provides;
use super::signature::Keyring;
use super::solve::{Installed, Planned, SolveOptions, solve};
use super::sources::{AptSource, SignedBy, parse_deb822, parse_one_line};
use super::version::Version;
use crate::base::BaseContents;
use crate::ecosystem::{
    EcosystemError, LayerRequest, LayerResolution, LayerResolver, PinSource, ResolvedPackage,
};
use crate::package::{Ecosystem, PackageDetails, SettingValue};
use crate::spec::Spec;
use crate::support::ResolverInputs;

/// The lock's `[resolution]` key that records the sources.
const SOURCES_SETTING: &str = "apt-sources";

/// The spec's Debian packages, resolved over its sources' verified indexes.
pub struct AptPackages {
    index: AptIndex,
    /// The base image's installed packages.
    base: Vec<Installed>,
    /// The sources, in the one-line form, as the lock records them.
    sources: Vec<String>,
    architecture: &'static str,
}

impl AptPackages {
    /// The resolver, its indexes fetched; `None` when no layer asks for Debian packages.
    pub fn load(inputs: ResolverInputs<'_>) -> Result<Option<Self>, AptError> {
        let spec = inputs.spec;
        let asks = spec
            .layers
            .iter()
            .any(|layer| layer.requirements.iter().any(|r| r.kind == Ecosystem::Apt));
        if !asks {
            return Ok(None);
        }
        let base = inputs.base.ok_or_else(|| AptError::NoBase {
            base: spec.image.base.clone(),
        })?;
        let sources = sources(spec, base)?;
        let trusted = trusted_keyring(spec, base)?;
        let keyrings = sources
            .iter()
            .map(|source| source_keyring(source, &trusted, base))
            .collect::<Result<Vec<_>, _>>()?;
        let keyrings: Vec<&Keyring> = keyrings.iter().collect();
        let architecture = spec.image.platform.arch().debian();
        let now = jiff::Timestamp::now();
        let index =
            super::fetch_signed_index(inputs.fetcher, &sources, architecture, &keyrings, now)?;
        Ok(Some(Self {
            index,
            base: installed(base)?,
            sources: sources.iter().map(one_line).collect(),
            architecture,
        }))
    }

    /// What lower layers locked, as installed packages: each with the `Provides` its index
    /// candidate gives.
    fn below(&self, request: &LayerRequest<'_>) -> Vec<Installed> {
        request
            .below
            .iter()
            .filter(|pin| pin.ecosystem == Ecosystem::Apt)
            .filter_map(|pin| {
                let version = Version::parse(&pin.version).ok()?;
                let candidate = self
                    .index
                    .candidates(&pin.name)
                    .iter()
                    .find(|c| c.package.version == version)?;
                Some(Installed {
                    name: pin.name.clone(),
                    version,
                    architecture: candidate.package.architecture.clone(),
                    provides: candidate.package.provides.clone(),
                })
            })
            .collect()
    }

    /// The lock's entry of one planned package; `names` resolves a dependency's name (real or
    /// provided) to the locked package that meets it.
    fn resolved(
        &self,
        planned: &Planned<'_>,
        names: &HashMap<&str, &str>,
    ) -> Result<ResolvedPackage, AptError> {
        let package = &planned.candidate.package;
        let origin = &self.index.origins()[planned.candidate.origin];
        let url = self
            .index
            .deb_url(planned.candidate)
            .map_err(|_| AptError::Field {
                file: origin.uri.to_string(),
                line: 0,
                field: "Filename",
                source: FieldError::Invalid("not a path below the archive"),
            })?;
        let (source, source_version) = package.source_package();
        let requested = planned.via.0.len() <= 1;
        Ok(ResolvedPackage {
            ecosystem: Ecosystem::Apt,
            name: planned.name.clone(),
            version: planned.version.to_string(),
            repository: origin.uri.to_string(),
            url: url.to_string(),
            artifact: PinSource::Known {
                sha256: package.sha256.clone(),
                size: package.size,
            },
            license: None,
            requested,
            dependencies: dependencies(planned.candidate, names),
            details: PackageDetails::Apt(AptDetails {
                architecture: planned.architecture.clone(),
                source: source.to_string(),
                source_version: (source_version != &planned.version)
                    .then(|| source_version.to_string()),
                suite: origin.suite.clone(),
                // The chain's first entry is the request as written; the rest are the packages
                // from the requested one down to the one that needs this package.
                via: planned.via.0.iter().skip(1).cloned().collect(),
            }),
        })
    }
}

impl LayerResolver for AptPackages {
    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Apt
    }

    fn settings(&self) -> BTreeMap<String, SettingValue> {
        BTreeMap::from([(
            SOURCES_SETTING.to_string(),
            SettingValue::List(self.sources.clone()),
        )])
    }

    fn resolve_layer(&self, request: &LayerRequest<'_>) -> Result<LayerResolution, EcosystemError> {
        let requests: Vec<String> = request
            .layer
            .requirements
            .iter()
            .filter(|r| r.kind == Ecosystem::Apt)
            .map(|r| r.text.clone())
            .collect();
        if requests.is_empty() {
            return Ok(LayerResolution::default());
        }
        let below = self.below(request);
        let mut installed = self.base.clone();
        installed.extend(below.iter().cloned());
        let options = SolveOptions {
            recommends: request.layer.apt.recommends,
            ..SolveOptions::new(self.architecture)
        };
        let planned = solve(&self.index, &installed, &requests, &options)?;
        let mut names: HashMap<&str, &str> = HashMap::new();
        for name in below.iter().map(|i| i.name.as_str()) {
            names.insert(name, name);
        }
        for planned in &planned {
            names.insert(&planned.name, &planned.name);
            for provided in &planned.candidate.package.provides {
                names.entry(&provided.name).or_insert(&planned.name);
            }
        }
        let packages = planned
            .iter()
            .map(|p| self.resolved(p, &names))
            .collect::<Result<_, _>>()?;
        Ok(LayerResolution {
            packages,
            ..LayerResolution::default()
        })
    }
}

/// The locked packages `candidate` depends on (`Pre-Depends`, `Depends`): of each group, the
/// first alternative a locked package meets, by name or by what it provides.
fn dependencies(candidate: &Candidate, names: &HashMap<&str, &str>) -> Vec<String> {
    let package = &candidate.package;
    let met: BTreeSet<&str> = package
        .pre_depends
        .0
        .iter()
        .chain(&package.depends.0)
        .filter_map(|group| group.0.iter().find_map(|d| names.get(d.name.as_str())))
        .copied()
        .filter(|name| *name != package.name)
        .collect();
    met.into_iter().map(str::to_string).collect()
}

/// The sources: the spec's, else the base image's `sources.list` and `sources.list.d`.
fn sources(spec: &Spec, base: &BaseContents) -> Result<Vec<AptSource>, AptError> {
    let written = &spec.repositories.apt.sources;
    if !written.is_empty() {
        return parse_one_line(written.iter().map(String::as_str), "repositories.apt");
    }
    let mut sources = Vec::new();
    for (path, bytes) in &base.apt_sources {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| AptError::SourcesNotText { path: path.clone() })?;
        if path.ends_with(".sources") {
            sources.extend(parse_deb822(text, path)?);
        } else if path.ends_with(".list") {
            sources.extend(parse_one_line(text.lines(), path)?);
        }
    }
    if sources.is_empty() {
        return Err(AptError::NoSources {
            base: spec.image.base.clone(),
        });
    }
    Ok(sources)
}

/// The keys apt trusts for a source that names none: the base image's `etc/apt/trusted.gpg` and
/// `etc/apt/trusted.gpg.d/*` (those that read as keys), and the spec's `apt-keyring` files,
/// which must read.
fn trusted_keyring(spec: &Spec, base: &BaseContents) -> Result<Keyring, AptError> {
    let mut keyring = Keyring::default();
    let trusted = base.keyrings.iter().filter(|(path, _)| {
        *path == "etc/apt/trusted.gpg" || path.starts_with("etc/apt/trusted.gpg.d/")
    });
    for (path, bytes) in trusted {
        let _ = keyring.add(bytes, path);
    }
    let dir = spec.dir();
    for file in &spec.repositories.apt.keyrings {
        let path = dir.join(file);
        let bytes = std::fs::read(&path).map_err(|source| AptError::KeyringFile {
            path: path.display().to_string(),
            source,
        })?;
        keyring.add(&bytes, &path.display().to_string())?;
    }
    Ok(keyring)
}

/// The keys `source`'s Release must be signed with, as apt reads its `signed-by`: keyring
/// files of the base image, fingerprints of trusted keys, or a key written in the source; the
/// `trusted` keys when it names none.
fn source_keyring(
    source: &AptSource,
    trusted: &Keyring,
    base: &BaseContents,
) -> Result<Keyring, AptError> {
    match &source.signed_by {
        None => Ok(trusted.clone()),
        Some(SignedBy::Fingerprints(fingerprints)) => Ok(trusted.only(fingerprints)),
        Some(SignedBy::Key(armored)) => Keyring::from_bytes(armored.as_bytes(), "signed-by"),
        Some(SignedBy::Files(paths)) => {
            let mut keyring = Keyring::default();
            for path in paths {
                let bytes = base
                    .keyrings
                    .get(path.trim_start_matches('/'))
                    .ok_or_else(|| AptError::MissingKeyring {
                        line: one_line(source),
                        path: path.clone(),
                    })?;
                keyring.add(bytes, path)?;
            }
            Ok(keyring)
        }
    }
}

/// The base image's installed packages, as the solver takes them.
fn installed(base: &BaseContents) -> Result<Vec<Installed>, AptError> {
    base.dpkg
        .iter()
        .map(|package| {
            let error = |what, source| AptError::Installed {
                name: package.name.clone(),
                what,
                source,
            };
            let version = Version::parse(&package.version)
                .map_err(|e| error("version", FieldError::Version(e)))?;
            let provides = parse_provides(&package.provides.join(", "))
                .map_err(|e| error("Provides", FieldError::Relation(e)))?;
            Ok(Installed {
                name: package.name.clone(),
                version,
                architecture: package.architecture.clone(),
                provides,
            })
        })
        .collect()
}

/// A source in the one-line form, as the lock records it.
fn one_line(source: &AptSource) -> String {
    let mut options = Vec::new();
    if !source.architectures.is_empty() {
        options.push(format!("arch={}", source.architectures.join(",")));
    }
    if !source.check_valid_until {
        options.push("check-valid-until=no".to_string());
    }
    let options = match options.is_empty() {
        true => String::new(),
        false => format!("[{}] ", options.join(" ")),
    };
    format!(
        "deb {options}{} {} {}",
        source.uri,
        source.suite,
        source.components.join(" ")
    )
}
