//! A doAzureParallel cluster configuration (`cluster.json`): `containerImage` → the base
//! image, `rPackages.cran`, `.github` and `.bioconductor` → the layer's lists. What the nodes
//! run at start (`commandLine`) and the pool's settings are not the image's, and are noted; a
//! `githubAuthenticationToken` is noted without its value.

use serde_json::Value;

use super::{Entry, ImportError, Imported, Setting, Source};
use crate::package::Ecosystem;

/// What one cluster configuration said.
pub fn read(source: &Source) -> Result<Imported, ImportError> {
    let json: Value =
        serde_json::from_str(source.text).map_err(|error| source.invalid("cluster.json", error))?;
    let Some(object) = json.as_object() else {
        return Err(source.invalid("cluster.json", "it is not a JSON object"));
    };
    let place = source.path.display().to_string();
    let mut imported = Imported::default();
    imported.layer(source.layer);
    for (key, value) in object {
        match key.as_str() {
            "containerImage" => match value.as_str() {
                Some(image) => imported.set_base(image, &place),
                None => imported.note(&place, &format!("containerImage: {value}"), "not a string"),
            },
            "rPackages" => packages(&mut imported, source, value, &place),
            "name" => match value.as_str() {
                Some(name) => imported.set_image("name", Setting::Text(name.to_string()), &place),
                None => imported.note(&place, &format!("name: {value}"), "not a string"),
            },
            "commandLine" => {
                for line in value.as_array().into_iter().flatten() {
                    let text = line
                        .as_str()
                        .map_or_else(|| line.to_string(), str::to_string);
                    imported.note(&place, &text, "a command the nodes run at start, not part of the image; add a `run` step if the image needs it");
                }
            }
            other => imported.note(&place, other, "a setting of the pool, not of its image"),
        }
    }
    Ok(imported)
}

fn packages(imported: &mut Imported, source: &Source, value: &Value, place: &str) {
    // doAzureParallel's lists are spelt as the spec's.
    let lists = [Ecosystem::Cran, Ecosystem::Github, Ecosystem::Bioconductor];
    for (key, list) in value.as_object().into_iter().flatten() {
        if key == "githubAuthenticationToken" {
            imported.note(
                place,
                key,
                "a secret, not copied: imglock reads GITHUB_TOKEN from the environment",
            );
            continue;
        }
        let Some(ecosystem) = lists.iter().find(|e| e.as_str() == key) else {
            imported.note(
                place,
                &format!("rPackages.{key}"),
                "not a package list doAzureParallel installs",
            );
            continue;
        };
        for name in list.as_array().into_iter().flatten() {
            match name.as_str() {
                Some(name) => {
                    let name = name.trim_start_matches("https://github.com/").to_string();
                    imported
                        .layer(source.layer)
                        .push(*ecosystem, Entry::Plain(name));
                }
                None => imported.note(place, &name.to_string(), "not a package name"),
            }
        }
    }
}
