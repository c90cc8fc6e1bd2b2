//! The locked build dependencies of a layer's source distributions: each chosen sdist's build
//! requirements (`[build-system] requires`, else PEP 517's setuptools + wheel) are resolved as
//! their own environment, apart from the layer's (as uv and pip isolate builds), for the image's
//! Python and platform, from the same indexes and as of the same `--exclude-newer`, with the same
//! solver. A build environment is made of wheels only: an sdist among build dependencies is refused
//! by name. The solve is the one metadata builds use
//! ([`super::index::Indexes::solve_build_environment`]). The sdist records its exact pins
//! (`build-requires`), the layer the files (`[[layer.build-package]]`, one entry per name and
//! version, shared by the sdists that pin it). The previous lock's build pins of the same sdist are
//! kept while they still fit, as a layer's pins are.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{PackageName, Requirement};

use super::error::PypiError;
use super::{PypiPackages, requirement};
use crate::ecosystem::ResolvedPackage;
use crate::package::{Ecosystem, PackageDetails, PreferredBuilds};

/// What building a layer's sdists needs.
#[derive(Debug, Default)]
pub(super) struct BuildEnvironments {
    /// Each sdist's build pins, `name==version`, sorted.
    pub pins: HashMap<PackageName, Vec<String>>,
    /// The files of every build dependency, each (name, version) once, sorted.
    pub packages: Vec<ResolvedPackage>,
}

impl PypiPackages<'_> {
    /// The build environments of the `sdists` (name and version) of layer `layer`, keeping the
    /// `preferred` pins of the previous lock where they still fit.
    pub(super) fn build_environments(
        &self,
        layer: &str,
        sdists: &[(&PackageName, &Version)],
        preferred: &PreferredBuilds,
    ) -> Result<BuildEnvironments, PypiError> {
        let mut environments = BuildEnvironments::default();
        let mut packages: BTreeMap<(String, String), ResolvedPackage> = BTreeMap::new();
        for (name, version) in sdists {
            let wrap = |source: PypiError| PypiError::BuildRequirements {
                name: name.to_string(),
                version: version.to_string(),
                layer: layer.to_string(),
                source: Box::new(source),
            };
            let key = (Ecosystem::Pypi, name.to_string(), version.to_string());
            let preferred = preferred_versions(preferred.get(&key));
            let (pins, resolved) = self
                .build_environment(layer, name, version, preferred)
                .map_err(wrap)?;
            environments.pins.insert((*name).clone(), pins);
            for package in resolved {
                let key = (package.name.clone(), package.version.clone());
                packages.entry(key).or_insert(package);
            }
        }
        environments.packages = packages.into_values().collect();
        Ok(environments)
    }

    /// The pins and files of the build environment of the sdist `name` at `version`.
    fn build_environment(
        &self,
        layer: &str,
        name: &PackageName,
        version: &Version,
        preferred: HashMap<PackageName, Version>,
    ) -> Result<(Vec<String>, Vec<ResolvedPackage>), PypiError> {
        let metadata = self.indexes.metadata(name, version)?;
        let roots = metadata
            .build_requires
            .iter()
            .map(|text| {
                requirement::parse(text).map_err(|error| PypiError::BuildRequirement {
                    text: text.clone(),
                    reason: error.to_string(),
                })
            })
            .collect::<Result<Vec<Requirement>, _>>()?;
        let chosen: HashMap<PackageName, Version> = self
            .indexes
            .solve_build_environment(&self.environment, roots.clone(), preferred, layer)?
            .into_iter()
            .map(|(dependency, (version, _))| (dependency, version))
            .collect();
        let mut names: Vec<&PackageName> = chosen.keys().collect();
        names.sort();
        let mut pins = Vec::new();
        let mut packages = Vec::new();
        for dependency in names {
            let mut package =
                self.resolved_package(dependency, &chosen, &roots, &BTreeMap::new())?;
            package.requested = false;
            package.details = PackageDetails::Pypi(super::PypiDetails::default());
            pins.push(format!("{}=={}", package.name, package.version));
            packages.push(package);
        }
        Ok((pins, packages))
    }
}

/// The versions of `pins` (`name==version`) that read as a name and a version.
fn preferred_versions(pins: Option<&Vec<String>>) -> HashMap<PackageName, Version> {
    pins.into_iter()
        .flatten()
        .filter_map(|pin| {
            let (name, version) = pin.split_once("==")?;
            Some((
                PackageName::from_str(name).ok()?,
                Version::from_str(version).ok()?,
            ))
        })
        .collect()
}
