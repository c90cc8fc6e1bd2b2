//! A static `setup.cfg`: `[options] install_requires` and `python_requires`, and
//! `[options.extras_require]`, read as setuptools reads them (an INI file without interpolation;
//! a list is one item a line, or `;`-separated on one line; `\` continues a requirement on the
//! next line). Static only when no value uses an `attr:` or `file:` directive.

use std::collections::BTreeMap;

use super::{NotStatic, StaticMetadata, requirement_with};

/// A section: its keys (lower-cased, as `configparser` does) in order, with their values.
type Section = Vec<(String, String)>;

/// The static dependencies of a `setup.cfg`, or why it gives none.
pub fn read(text: &str) -> Result<StaticMetadata, NotStatic> {
    let sections = sections(text);
    let options = sections.get("options");
    let value =
        |key: &str| options.and_then(|section| section.iter().rev().find(|(k, _)| k == key));
    let (_, install_requires) = value("install_requires").ok_or(NotStatic::NoInstallRequires)?;
    let python_requires = value("python_requires").map(|(_, v)| v.clone());
    let extras = sections.get("options.extras_require");
    let mut checked: Vec<(&str, &str)> = vec![("install_requires", install_requires)];
    if let Some(python) = &python_requires {
        checked.push(("python_requires", python));
    }
    checked.extend(
        extras
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    for (key, value) in checked {
        for directive in ["attr:", "file:"] {
            if value.trim_start().starts_with(directive) {
                return Err(NotStatic::Directive {
                    key: key.to_string(),
                    directive,
                });
            }
        }
    }
    let mut requires_dist = requirements(install_requires);
    for (extra, list) in extras.into_iter().flatten() {
        requires_dist.extend(
            requirements(list)
                .iter()
                .map(|requirement| requirement_with(requirement, None, Some(extra))),
        );
    }
    Ok(StaticMetadata {
        requires_dist,
        requires_python: python_requires.filter(|python| !python.is_empty()),
        ..StaticMetadata::default()
    })
}

/// The requirements of a list value: one a line (or `;`-separated on a single line), `\`
/// joining a line to the next, comments dropped.
fn requirements(value: &str) -> Vec<String> {
    let items: Vec<&str> = if value.contains('\n') {
        value.lines().collect()
    } else {
        value.split(';').collect()
    };
    let mut joined: Vec<String> = Vec::new();
    let mut pending = String::new();
    for item in items {
        let item = item.split(" #").next().unwrap_or_default().trim();
        if item.is_empty() || item.starts_with('#') {
            continue;
        }
        match item.strip_suffix('\\') {
            Some(start) => pending.push_str(start.trim_end()),
            None => {
                pending.push_str(item);
                joined.push(std::mem::take(&mut pending));
            }
        }
    }
    if !pending.is_empty() {
        joined.push(pending);
    }
    joined
}

/// The sections of an INI text as `configparser` reads it: `key = value` or `key: value`,
/// indented lines continuing the value before them, `#` and `;` lines being comments.
fn sections(text: &str) -> BTreeMap<String, Section> {
    let mut sections: BTreeMap<String, Section> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with(['#', ';']) {
            continue;
        }
        let section = current.as_ref().and_then(|name| sections.get_mut(name));
        if let Some((_, value)) = section
            .filter(|_| line.starts_with([' ', '\t']))
            .and_then(|section| section.last_mut())
        {
            value.push('\n');
            value.push_str(trimmed);
        } else if let Some(header) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            let name = header.trim().to_string();
            sections.entry(name.clone()).or_default();
            current = Some(name);
        } else if let (Some(section), Some(at)) = (
            current.as_ref().and_then(|name| sections.get_mut(name)),
            trimmed.find(['=', ':']),
        ) {
            let key = trimmed[..at].trim().to_ascii_lowercase();
            section.push((key, trimmed[at + 1..].trim().to_string()));
        }
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    /// importlib_metadata 4.8.1's: requirements one a line, extras with `\` continuations and
    /// a blank line inside a value.
    const IMPORTLIB_METADATA: &str =
        include_str!("../../../fixtures/sdist-members/importlib_metadata-4.8.1.setup.cfg");

    #[test]
    fn install_requires_and_extras_are_read() {
        let read = read(IMPORTLIB_METADATA).unwrap();
        assert_eq!(read.requires_python.as_deref(), Some(">=3.6"));
        assert_eq!(
            read.requires_dist[..2],
            [
                "zipp>=0.5".to_string(),
                "typing-extensions>=3.6.4; python_version < \"3.8\"".to_string()
            ]
        );
        assert!(read.requires_dist.contains(
            &"pytest-black >= 0.3.7 ; (python_implementation != \"PyPy\") and extra == \"testing\""
                .to_string()
        ));
        assert!(
            read.requires_dist.contains(
                &"importlib_resources>=1.3 ; (python_version < \"3.9\") and extra == \"testing\""
                    .to_string()
            )
        );
        assert!(
            read.requires_dist
                .contains(&"ipython ; extra == \"perf\"".to_string())
        );
        for text in &read.requires_dist {
            crate::pypi::requirement::parse(text).unwrap();
        }
    }

    #[test]
    fn directives_or_no_install_requires_are_not_static() {
        let directive =
            IMPORTLIB_METADATA.replace("install_requires = ", "install_requires = file: req.txt");
        assert_eq!(
            read(&directive),
            Err(NotStatic::Directive {
                key: "install_requires".into(),
                directive: "file:"
            })
        );
        // PyYAML 5.3.1's setup.cfg names no dependencies: setup.py may.
        let pyyaml = "\n# The INCLUDE and LIB directories to build the '_yaml' extension.\n[build_ext]\n\n# List of directories.\n#include_dirs=/usr/local/include:../../include\n\n[metadata]\nlicense_file = LICENSE";
        assert_eq!(read(pyyaml), Err(NotStatic::NoInstallRequires));
        let one_line = read("[options]\ninstall_requires = a>=1; b\n").unwrap();
        assert_eq!(one_line.requires_dist, ["a>=1", "b"]);
    }
}
