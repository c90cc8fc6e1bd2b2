//! `pyproject.toml`'s `[project]` table (PEP 621): its dependencies, when it declares them
//! statically (not named in `project.dynamic`); and its `[build-system] requires` (PEP 518),
//! what building the sdist needs.

use super::{NotStatic, StaticMetadata, requirement_with};

/// The static dependencies of a `pyproject.toml`, or why it gives none.
pub fn read(text: &str) -> Result<StaticMetadata, NotStatic> {
    crate::toml_nesting::check(text).map_err(|deep| NotStatic::Unreadable(deep.with_place()))?;
    let document: toml::Table =
        toml::from_str(text).map_err(|error| NotStatic::Unreadable(error.to_string()))?;
    let project = document
        .get("project")
        .and_then(toml::Value::as_table)
        .ok_or(NotStatic::NoProjectTable)?;
    let dynamic: Vec<&str> = project
        .get("dynamic")
        .and_then(toml::Value::as_array)
        .map(|fields| fields.iter().filter_map(toml::Value::as_str).collect())
        .unwrap_or_default();
    for field in ["dependencies", "optional-dependencies"] {
        if dynamic.contains(&field) {
            return Err(NotStatic::Dynamic(field.to_string()));
        }
    }
    let mut requires_dist = strings(project.get("dependencies"), "dependencies")?;
    if let Some(optional) = project.get("optional-dependencies") {
        let table = optional.as_table().ok_or_else(|| {
            NotStatic::Unreadable("`optional-dependencies` is not a table".into())
        })?;
        for (extra, list) in table {
            let field = format!("optional-dependencies.{extra}");
            for requirement in strings(Some(list), &field)? {
                requires_dist.push(requirement_with(&requirement, None, Some(extra)));
            }
        }
    }
    let text_of = |key: &str| {
        project
            .get(key)
            .and_then(toml::Value::as_str)
            .filter(|_| !dynamic.contains(&key))
            .map(str::to_string)
    };
    Ok(StaticMetadata {
        name: text_of("name"),
        version: text_of("version"),
        requires_dist,
        requires_python: text_of("requires-python"),
    })
}

/// The `[project]` name and version of a `pyproject.toml`, when both are static, whatever its
/// dependencies are.
pub fn name_and_version(text: &str) -> Option<(String, String)> {
    crate::toml_nesting::check(text).ok()?;
    let document: toml::Table = toml::from_str(text).ok()?;
    let project = document.get("project")?.as_table()?;
    let dynamic = project.get("dynamic").and_then(toml::Value::as_array);
    if dynamic.is_some_and(|fields| fields.iter().any(|f| f.as_str() == Some("version"))) {
        return None;
    }
    let text_of = |key: &str| Some(project.get(key)?.as_str()?.to_string());
    Some((text_of("name")?, text_of("version")?))
}

/// What PEP 517 builds a legacy sdist with (one without `[build-system]`): setuptools' legacy
/// backend, as pip and uv do.
pub const LEGACY_BUILD_REQUIRES: [&str; 2] = ["setuptools>=40.8.0", "wheel"];

/// The build requirements of an sdist whose `pyproject.toml` is `text` (`None` when it has
/// none): its `[build-system] requires`, else [`LEGACY_BUILD_REQUIRES`]. A `[build-system]`
/// table without `requires`, or a file that is not TOML, is refused (as pip refuses it).
pub fn build_requires(text: Option<&str>) -> Result<Vec<String>, String> {
    let legacy = || LEGACY_BUILD_REQUIRES.map(String::from).to_vec();
    let Some(text) = text else {
        return Ok(legacy());
    };
    crate::toml_nesting::check(text).map_err(|deep| deep.with_place())?;
    let document: toml::Table = toml::from_str(text).map_err(|error| error.to_string())?;
    let Some(build_system) = document.get("build-system") else {
        return Ok(legacy());
    };
    let requires = build_system
        .as_table()
        .ok_or("`build-system` is not a table")?
        .get("requires")
        .ok_or("[build-system] has no `requires`, which PEP 518 makes mandatory")?;
    strings(Some(requires), "build-system.requires").map_err(|error| error.to_string())
}

/// The strings of the array `value` (none when absent).
fn strings(value: Option<&toml::Value>, field: &str) -> Result<Vec<String>, NotStatic> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let unreadable = || NotStatic::Unreadable(format!("`{field}` is not an array of strings"));
    value
        .as_array()
        .ok_or_else(unreadable)?
        .iter()
        .map(|item| item.as_str().map(str::to_string).ok_or_else(unreadable))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_requirements_are_the_build_systems_else_pep_517s_defaults() {
        let legacy = ["setuptools>=40.8.0", "wheel"];
        assert_eq!(build_requires(None).unwrap(), legacy);
        assert_eq!(
            build_requires(Some("[project]\nname = \"x\"\n")).unwrap(),
            legacy
        );
        assert_eq!(
            build_requires(Some(
                "[build-system]\nrequires = [\"flit_core >=3.2,<4\"]\n"
            ))
            .unwrap(),
            ["flit_core >=3.2,<4"]
        );
        assert_eq!(
            build_requires(Some("[build-system]\nrequires = []\n")).unwrap(),
            Vec::<String>::new()
        );
        let missing = build_requires(Some("[build-system]\nbuild-backend = \"x\"\n"));
        assert!(missing.unwrap_err().contains("no `requires`"));
        assert!(build_requires(Some("[build-system\n")).is_err());
    }

    /// jsonschema 4.17.3's (its sdist's PKG-INFO is Metadata 2.1): static dependencies and
    /// extras, a dynamic version.
    const JSONSCHEMA: &str =
        include_str!("../../../fixtures/sdist-members/jsonschema-4.17.3.pyproject.toml");

    #[test]
    fn static_dependencies_and_extras_are_read() {
        let project = read(JSONSCHEMA).unwrap();
        assert_eq!(project.name.as_deref(), Some("jsonschema"));
        assert_eq!(project.version, None, "the version is dynamic");
        assert_eq!(project.requires_python.as_deref(), Some(">=3.7"));
        assert_eq!(project.requires_dist[0], "attrs>=17.4.0");
        assert_eq!(
            project.requires_dist[2],
            "importlib_metadata;python_version<'3.8'"
        );
        assert!(
            project
                .requires_dist
                .contains(&"fqdn ; extra == \"format\"".to_string())
        );
        assert!(
            project
                .requires_dist
                .contains(&"webcolors>=1.11 ; extra == \"format-nongpl\"".to_string())
        );
        for text in &project.requires_dist {
            crate::pypi::requirement::parse(text).unwrap();
        }
    }

    #[test]
    fn dynamic_dependencies_or_no_project_table_are_not_static() {
        let dynamic = JSONSCHEMA.replace(
            "dynamic = [\"version\", \"readme\"]",
            "dynamic = [\"version\", \"dependencies\"]",
        );
        assert_eq!(
            read(&dynamic),
            Err(NotStatic::Dynamic("dependencies".into()))
        );
        let build_only = "[build-system]\nrequires = [\"setuptools\"]\n";
        assert_eq!(read(build_only), Err(NotStatic::NoProjectTable));
        assert!(matches!(read("[project"), Err(NotStatic::Unreadable(_))));
        assert_eq!(
            read("[project]\nname = \"x\"\n").unwrap().requires_dist,
            Vec::<String>::new(),
            "absent and not dynamic: no dependencies (PEP 621)"
        );
    }
}
