//! conda's `environment.yml`, as `pixi init --import` reads it: `channels` → the conda
//! repositories in priority order (`defaults` noted: it names no one channel), `dependencies` →
//! the layer's conda list (match specs as rattler writes them), a `pip:` sub-list → a PyPI
//! layer above it installed into the conda environment, `variables` → an `env` step. `name`
//! names a new spec's image; `prefix` is a path on the machine that wrote the file, noted.

use rattler_conda_types::{EnvironmentYaml, MatchSpecOrSubSection, NamedChannelOrUrl};

use super::{Entry, ImportError, Imported, Setting, Source, Step};
use crate::package::Ecosystem;

/// Where the environment goes in the image when the spec does not say (`conda-prefix`'s
/// default).
const CONDA_PREFIX: &str = "/opt/conda";

/// What one environment file said.
pub fn read(source: &Source) -> Result<Imported, ImportError> {
    let environment = EnvironmentYaml::from_yaml_str(source.text)
        .map_err(|error| source.invalid("environment.yml", error))?;
    let place = source.path.display().to_string();
    let mut imported = Imported::default();
    if let Some(name) = &environment.name {
        imported.set_image("name", Setting::Text(name.clone()), &place);
    }
    if let Some(prefix) = &environment.prefix {
        let text = format!("prefix: {}", prefix.display());
        imported.note(
            &place,
            &text,
            "a path where the file was written; set `conda-prefix` in [image] for the image's",
        );
    }
    channels(&mut imported, &environment.channels, &place);
    imported.layer(source.layer);
    for dependency in &environment.dependencies {
        match dependency {
            MatchSpecOrSubSection::MatchSpec(spec) => {
                let entry = Entry::Plain(spec.to_string());
                imported.layer(source.layer).push(Ecosystem::Conda, entry);
            }
            MatchSpecOrSubSection::SubSection(manager, specs) if manager == "pip" => {
                pip(&mut imported, source, specs, &place);
            }
            MatchSpecOrSubSection::SubSection(manager, specs) => {
                let text = format!("{manager}: {}", specs.join(", "));
                imported.note(
                    &place,
                    &text,
                    "only conda packages and a `pip:` list are imported",
                );
            }
        }
    }
    if !environment.variables.is_empty() {
        let pairs = environment.variables.iter();
        let env = pairs.map(|(k, v)| (k.clone(), v.clone())).collect();
        imported.layer(source.layer).steps.push(Step::Env(env));
    }
    Ok(imported)
}

fn channels(imported: &mut Imported, channels: &[NamedChannelOrUrl], place: &str) {
    let conda = Ecosystem::Conda.as_str();
    for channel in channels {
        let url = match channel {
            NamedChannelOrUrl::Name(name) if name == "defaults" => {
                imported.note(
                    place,
                    "channels: defaults",
                    "`defaults` is a set of channels a conda installation configures; \
                     list the channels it stands for (https://repo.anaconda.com/pkgs/main, …)",
                );
                continue;
            }
            NamedChannelOrUrl::Name(name) => format!("https://conda.anaconda.org/{name}"),
            NamedChannelOrUrl::Url(url) => url.to_string(),
            NamedChannelOrUrl::Path(path) => format!("file:{path}"),
        };
        imported.add_repository(conda, url.trim_end_matches('/'));
    }
}

/// The `pip:` sub-list: a PyPI layer above the conda one, into the conda environment.
fn pip(imported: &mut Imported, source: &Source, specs: &[String], place: &str) {
    let layer = format!("{}-pip", source.layer);
    for spec in specs {
        if spec.starts_with('-') {
            imported.note(
                place,
                spec,
                "a pip option in `pip:`; import a requirements file for it",
            );
            continue;
        }
        if let Err(error) = spec.parse::<pep508_rs::Requirement>() {
            let reason = format!(
                "not a PEP 508 requirement ({}); add it by hand",
                super::first_line(error)
            );
            imported.note(place, spec, &reason);
            continue;
        }
        imported
            .layer(&layer)
            .push(Ecosystem::Pypi, Entry::Plain(spec.clone()));
    }
    let prefix = Setting::Text(CONDA_PREFIX.to_string());
    imported.set_image("python-prefix", prefix, place);
}
