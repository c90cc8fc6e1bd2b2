//! Where each package is in a lock's text: the line of its `name = …` in its
//! `[[layer.package]]` table, so a report about a package can point at it (GitHub annotations).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::fields::Origin;
use crate::package::Ecosystem;

/// The line of each package of a lock, by layer, ecosystem and name.
#[derive(Debug, Default)]
pub struct PackageLines(BTreeMap<(String, Ecosystem, String), usize>);

/// Just the parts of a lock that place its packages; every other field is ignored.
#[derive(Deserialize)]
struct Placed {
    #[serde(default)]
    layer: Vec<PlacedLayer>,
}

#[derive(Deserialize)]
struct PlacedLayer {
    name: String,
    #[serde(default)]
    package: Vec<toml::Spanned<PlacedPackage>>,
}

#[derive(Deserialize)]
struct PlacedPackage {
    ecosystem: Ecosystem,
    name: String,
}

impl PackageLines {
    /// The packages' lines in the lock at `path`; none when it cannot be read or parsed (a
    /// report then names no lines, and the command reading the lock says what is wrong).
    pub fn read(path: &Path) -> Self {
        std::fs::read_to_string(path)
            .map(|text| Self::parse(&text))
            .unwrap_or_default()
    }

    /// The packages' lines in lock `text`.
    pub fn parse(text: &str) -> Self {
        let Ok(placed) = toml::from_str::<Placed>(text) else {
            return Self::default();
        };
        let mut lines = BTreeMap::new();
        for layer in placed.layer {
            for package in layer.package {
                let origin = Origin::new(text, package.span());
                let line = origin.line_of("name").unwrap_or(origin.first_line());
                let package = package.into_inner();
                lines.insert((layer.name.clone(), package.ecosystem, package.name), line);
            }
        }
        Self(lines)
    }

    /// The line of package `name` of `ecosystem` in `layer`, when the lock has it.
    pub fn line(&self, layer: &str, ecosystem: Ecosystem, name: &str) -> Option<usize> {
        self.0
            .get(&(layer.to_string(), ecosystem, name.to_string()))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_package_is_placed_at_its_name_line_within_its_layer() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/diff/old.lock"),
        )
        .unwrap();
        let lines = PackageLines::parse(&text);
        let all: Vec<&str> = text.lines().collect();
        let line = lines.line("top", Ecosystem::Cran, "plotkit").unwrap();
        assert_eq!(all[line - 1], "name = \"plotkit\"");
        assert!(all[..line].iter().rev().any(|l| *l == "name = \"top\""));
        assert_eq!(lines.line("base", Ecosystem::Cran, "plotkit"), None);
        assert_eq!(lines.line("top", Ecosystem::Pypi, "plotkit"), None);
        assert_eq!(
            PackageLines::parse("not toml [").line("top", Ecosystem::Cran, "x"),
            None
        );
    }
}
