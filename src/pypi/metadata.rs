//! Core metadata (`METADATA`, `PKG-INFO`): the e-mail-header format wheels and sdists describe
//! themselves in. Only the fields resolution needs are kept.

use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;

/// Metadata that does not describe the distribution it was served for.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "it is not that distribution's core metadata: it names project `{name}` version `{version}` (an index answering with an error page, or serving another file in its place)"
)]
pub struct WrongMetadata {
    /// The `Name` it gives (empty when none).
    pub name: String,
    /// The `Version` it gives (empty when none).
    pub version: String,
}

/// What resolution needs from a distribution's metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoreMetadata {
    pub metadata_version: String,
    pub name: String,
    pub version: String,
    pub requires_dist: Vec<String>,
    pub requires_python: Option<String>,
    /// Fields the metadata says are computed at build time (Metadata 2.2).
    pub dynamic: Vec<String>,
    /// For an sdist, which of its files gave the dependencies (`None` for a wheel).
    pub sdist_source: Option<super::sdist::source::SdistSource>,
    /// For an sdist, the requirements of its build environment (PEP 518 `[build-system]
    /// requires`, else PEP 517's defaults); empty for a wheel.
    pub build_requires: Vec<String>,
    /// The license it declares: its `License-Expression` (Metadata 2.4), else a short `License`
    /// (not a whole license text, not `UNKNOWN`), else its `License ::` classifiers' names.
    pub license: Option<String>,
}

impl CoreMetadata {
    /// Parses the header block of a metadata file (the description body is ignored).
    pub fn parse(text: &str) -> Self {
        let mut metadata = Self::default();
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            if line.is_empty() {
                break;
            }
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = fields.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                continue;
            }
            if let Some((key, value)) = line.split_once(':') {
                fields.push((key.trim().to_ascii_lowercase(), value.trim().to_string()));
            }
        }
        metadata.license = declared_license(&fields);
        for (key, value) in fields {
            match key.as_str() {
                "metadata-version" => metadata.metadata_version = value,
                "name" => metadata.name = value,
                "version" => metadata.version = value,
                "requires-dist" => metadata.requires_dist.push(value),
                "requires-python" => metadata.requires_python = Some(value),
                "dynamic" => metadata.dynamic.push(value.to_ascii_lowercase()),
                _ => {}
            }
        }
        metadata
    }

    /// This metadata, if it describes `name` at `version`: what an index serves in its place (an
    /// HTML error page with status 200, another project's file) is refused, so that it never
    /// passes for a distribution without dependencies.
    pub fn describing(self, name: &PackageName, version: &Version) -> Result<Self, WrongMetadata> {
        let same_name = PackageName::from_str(&self.name).is_ok_and(|found| &found == name);
        let same_version = Version::from_str(&self.version).is_ok_and(|found| &found == version);
        if same_name && same_version {
            Ok(self)
        } else {
            Err(WrongMetadata {
                name: self.name,
                version: self.version,
            })
        }
    }

    /// Whether an sdist's dependencies can be trusted without building it: Metadata 2.2 or later
    /// with `Requires-Dist` not declared dynamic.
    pub fn has_static_dependencies(&self) -> bool {
        let version: Vec<u64> = self
            .metadata_version
            .split('.')
            .filter_map(|part| part.parse().ok())
            .collect();
        version.as_slice() >= [2, 2].as_slice()
            && !self.dynamic.iter().any(|field| field == "requires-dist")
    }
}

/// The license the metadata `fields` declare (see [`CoreMetadata::license`]).
fn declared_license(fields: &[(String, String)]) -> Option<String> {
    let field = |key: &str| {
        fields
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    if let Some(expression) = field("license-expression") {
        return Some(expression);
    }
    let short = field("license").filter(|text| text.len() <= 100 && text != "UNKNOWN");
    if short.is_some() {
        return short;
    }
    let classifiers: Vec<&str> = fields
        .iter()
        .filter(|(key, _)| key == "classifier")
        .filter_map(|(_, value)| value.strip_prefix("License ::"))
        .filter_map(|value| value.rsplit("::").next().map(str::trim))
        .collect();
    (!classifiers.is_empty()).then(|| classifiers.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_license_is_the_expression_else_a_short_license_else_the_classifiers() {
        let license = |text: &str| CoreMetadata::parse(text).license;
        let classifier =
            "Classifier: License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)\n";
        assert_eq!(
            license(&format!(
                "Name: a\nLicense: MPL-2.0\nLicense-Expression: MPL-2.0 OR MIT\n{classifier}"
            )),
            Some("MPL-2.0 OR MIT".into())
        );
        assert_eq!(
            license(&format!("Name: a\nLicense: MPL-2.0\n{classifier}")),
            Some("MPL-2.0".into())
        );
        let long = format!("Name: a\nLicense: {}\n{classifier}", "x".repeat(101));
        assert_eq!(
            license(&long),
            Some("Mozilla Public License 2.0 (MPL 2.0)".into())
        );
        assert_eq!(license("Name: a\nLicense: UNKNOWN\n"), None);
    }

    #[test]
    fn metadata_of_another_distribution_is_refused() {
        let name = PackageName::from_str("Jsonschema").unwrap();
        let version = Version::from_str("4.5.1").unwrap();
        let of = |text: &str| CoreMetadata::parse(text).describing(&name, &version);
        assert!(of("Metadata-Version: 2.1\nName: jsonschema\nVersion: 4.5.1.0\n").is_ok());
        assert!(of("Metadata-Version: 2.1\nName: JSONSchema\nVersion: 4.5.1\n").is_ok());
        let error = of("<html><body>Sign in</body></html>").unwrap_err();
        assert!(
            error.to_string().contains("names project `` version ``"),
            "{error}"
        );
        assert!(of("Metadata-Version: 2.1\nName: attrs\nVersion: 4.5.1\n").is_err());
        assert!(of("Metadata-Version: 2.1\nName: jsonschema\nVersion: 4.5.2\n").is_err());
    }

    #[test]
    fn reads_the_header_block() {
        let text = "Metadata-Version: 2.1\nName: jsonschema\nVersion: 4.5.1\nRequires-Python: >=3.7\nRequires-Dist: attrs (>=17.4.0)\nRequires-Dist: importlib-resources (>=1.4.0) ; python_version < \"3.9\"\nDescription: long\n  text\n\nRequires-Dist: not-a-header\n";
        let metadata = CoreMetadata::parse(text);
        assert_eq!(metadata.name, "jsonschema");
        assert_eq!(metadata.requires_dist.len(), 2);
        assert_eq!(metadata.requires_python.as_deref(), Some(">=3.7"));
        assert!(!metadata.has_static_dependencies());
        let static_sdist =
            CoreMetadata::parse("Metadata-Version: 2.2\nName: x\nVersion: 1\nDynamic: License\n");
        assert!(static_sdist.has_static_dependencies());
        let dynamic = CoreMetadata::parse(
            "Metadata-Version: 2.3\nName: x\nVersion: 1\nDynamic: Requires-Dist\n",
        );
        assert!(!dynamic.has_static_dependencies());
    }
}
