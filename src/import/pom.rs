//! Maven's `pom.xml`: its `<dependencies>` → the layer's Maven list as `group:artifact:version`
//! (`${…}` properties substituted from `<properties>` and the project's own coordinates; a
//! version left out taken from `<dependencyManagement>`; exclusions kept as a table's
//! `exclude`), `provided` scope → `maven-provided`, `test` scope and optional ones noted, and
//! `<repositories>` → the Maven repositories. What `<dependencyManagement>` manages beyond
//! the dependencies is noted: a spec requests packages, it does not manage versions.

use std::collections::BTreeMap;

use super::{Entry, ImportError, Imported, Setting, Source};
use crate::maven::xml::{self, Element};
use crate::package::Ecosystem;

/// Where the jars go when the spec's layer does not say (`maven-target`).
pub const JARS: &str = "/opt/jars";

/// What one POM said.
pub fn read(source: &Source) -> Result<Imported, ImportError> {
    let root = xml::parse(source.text).map_err(|error| source.invalid("pom.xml", error))?;
    if root.name != "project" {
        return Err(source.invalid("pom.xml", "its root element is not <project>"));
    }
    let place = source.path.display().to_string();
    let properties = properties(&root);
    let managed: BTreeMap<String, String> =
        dependencies(&root, &["dependencyManagement", "dependencies"])
            .map(|d| (key(d, &properties), text(d, "version", &properties)))
            .collect();
    let mut imported = Imported::default();
    let target = format!("{}-target", Ecosystem::Maven.as_str());
    let jars = Setting::Text(JARS.to_string());
    imported.layer(source.layer).settings.push((target, jars));
    let mut used = Vec::new();
    for dependency in dependencies(&root, &["dependencies"]) {
        let key = key(dependency, &properties);
        used.push(key.clone());
        let version = match text(dependency, "version", &properties) {
            version if version.is_empty() => managed.get(&key).cloned().unwrap_or_default(),
            version => version,
        };
        let coordinate = format!("{key}:{version}");
        match dependency_entry(dependency, &coordinate, &version, &properties) {
            Ok(Placed::Requested(entry)) => {
                imported.layer(source.layer).push(Ecosystem::Maven, entry)
            }
            Ok(Placed::Provided) => imported.layer(source.layer).maven_provided.push(coordinate),
            Err(reason) => imported.note(&place, &coordinate, &reason),
        }
    }
    for (key, version) in &managed {
        if !used.contains(key) {
            let reason = "managed, not requested: a spec has no dependencyManagement; the \
                          resolver takes each dependency's own version";
            imported.note(&place, &format!("{key}:{version}"), reason);
        }
    }
    for repository in root
        .at(&["repositories"])
        .into_iter()
        .flat_map(|r| r.children("repository"))
    {
        let url = text(repository, "url", &properties);
        if !url.is_empty() {
            imported.add_repository(Ecosystem::Maven.as_str(), &url);
        }
    }
    Ok(imported)
}

/// Where a dependency goes.
enum Placed {
    Requested(Entry),
    Provided,
}

fn dependency_entry(
    dependency: &Element,
    coordinate: &str,
    version: &str,
    properties: &BTreeMap<String, String>,
) -> Result<Placed, String> {
    if version.is_empty() {
        return Err("no version, here or in <dependencyManagement>; add it with one".to_string());
    }
    if version.contains("${") {
        return Err(
            "a version property this POM does not define; add it with the version".to_string(),
        );
    }
    if !text(dependency, "classifier", properties).is_empty() {
        return Err(
            "a classifier, which a spec cannot request; add the jar as a `files` URL".to_string(),
        );
    }
    let scope = text(dependency, "scope", properties);
    match scope.as_str() {
        "test" => return Err("test scope: not part of the image".to_string()),
        "provided" => return Ok(Placed::Provided),
        "system" => return Err("system scope: a file on the build machine".to_string()),
        _ => {}
    }
    if text(dependency, "optional", properties) == "true" {
        return Err(
            "optional: not installed by default; `imglock add` it if the image needs it"
                .to_string(),
        );
    }
    let exclusions: Vec<String> = dependency
        .at(&["exclusions"])
        .into_iter()
        .flat_map(|e| e.children("exclusion"))
        .map(|e| key(e, properties))
        .collect();
    Ok(Placed::Requested(if exclusions.is_empty() {
        Entry::Plain(coordinate.to_string())
    } else {
        Entry::Table(vec![
            (
                "coordinate".to_string(),
                Setting::Text(coordinate.to_string()),
            ),
            ("exclude".to_string(), Setting::Words(exclusions)),
        ])
    }))
}

/// The `<dependency>` elements at `path` below the project.
fn dependencies<'a>(root: &'a Element, path: &[&str]) -> impl Iterator<Item = &'a Element> {
    root.at(path)
        .into_iter()
        .flat_map(|deps| deps.children("dependency"))
}

/// `group:artifact` of a dependency or exclusion.
fn key(element: &Element, properties: &BTreeMap<String, String>) -> String {
    format!(
        "{}:{}",
        text(element, "groupId", properties),
        text(element, "artifactId", properties)
    )
}

/// The text of `element`'s child `name`, its properties substituted (empty when missing).
fn text(element: &Element, name: &str, properties: &BTreeMap<String, String>) -> String {
    substitute(&element.text_of(name).unwrap_or_default(), properties)
}

/// `<properties>`, and `project.version`, `project.groupId` (the parent's when the project
/// leaves them out).
fn properties(root: &Element) -> BTreeMap<String, String> {
    let mut properties: BTreeMap<String, String> =
        crate::maven::pom::properties_of(root).into_iter().collect();
    for field in ["version", "groupId", "artifactId"] {
        let value = root
            .text_of(field)
            .or_else(|| root.child("parent").and_then(|p| p.text_of(field)));
        if let Some(value) = value {
            properties.insert(format!("project.{field}"), value.clone());
            properties.insert(format!("pom.{field}"), value);
        }
    }
    properties
}

/// `text` with each `${name}` it has a property for replaced (to a depth of ten, for properties
/// naming properties).
fn substitute(text: &str, properties: &BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    for _ in 0..10 {
        let Some(start) = out.find("${") else { break };
        let Some(length) = out[start..].find('}') else {
            break;
        };
        let name = &out[start + 2..start + length];
        let Some(value) = properties.get(name) else {
            break;
        };
        out = format!("{}{value}{}", &out[..start], &out[start + length + 1..]);
    }
    out
}
