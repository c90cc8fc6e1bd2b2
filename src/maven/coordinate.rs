//! Maven coordinates: `group:artifact:version` and the forms with a classifier and a type, and
//! where a file of an artifact lives in a repository (`group/as/path/artifact/version/...`).

use std::fmt;

use crate::fetch::Mutability;

/// A project: group, artifact, version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gav {
    /// The `groupId`, dotted, like `org.apache.spark`.
    pub group: String,
    /// The `artifactId`, like `spark-core_2.12`.
    pub artifact: String,
    /// The exact version, like `3.2.4` (never a range).
    pub version: String,
}

impl Gav {
    /// The repository path of this project's file with `suffix`, like `.pom` or `-natives.jar`.
    pub fn file_path(&self, suffix: &str) -> String {
        format!(
            "{}/{}/{}/{}-{}{suffix}",
            self.group.replace('.', "/"),
            self.artifact,
            self.version,
            self.artifact,
            self.version
        )
    }

    /// The repository path of the artifact's `maven-metadata.xml` (its list of versions).
    pub fn metadata_path(group: &str, artifact: &str) -> String {
        format!("{}/{artifact}/maven-metadata.xml", group.replace('.', "/"))
    }

    /// Whether this project's files (its POM, artifacts and their checksums) can change once
    /// published: a `-SNAPSHOT` version is deployed again and again, a release never is.
    pub(crate) fn mutability(&self) -> Mutability {
        match self.version.ends_with("-SNAPSHOT") {
            true => Mutability::Mutable,
            false => Mutability::Immutable,
        }
    }
}

impl fmt::Display for Gav {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.group, self.artifact, self.version)
    }
}

/// A requested artifact: a project's file of a type (`jar` by default) and classifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Coordinate {
    /// The `groupId`, dotted, like `org.apache.spark`.
    pub group: String,
    /// The `artifactId`, like `spark-core_2.12`.
    pub artifact: String,
    /// The Maven type, like `jar` (the default), `pom` or `test-jar`.
    pub kind: String,
    /// The classifier, like `natives-linux`; `None` for the main artifact.
    pub classifier: Option<String>,
    /// The version as written: an exact one like `3.2.4`, or a range like `[1.0,2.0)`.
    pub version: String,
}

impl Coordinate {
    /// Reads `group:artifact:version`, `group:artifact:classifier:version` or
    /// `group:artifact:type:classifier:version`.
    pub fn parse(text: &str) -> Result<Self, CoordinateError> {
        let parts: Vec<&str> = text.trim().split(':').map(str::trim).collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(CoordinateError::EmptyPart(text.to_string()));
        }
        let (group, artifact, kind, classifier, version) = match parts.as_slice() {
            [g, a, v] => (g, a, "jar", None, v),
            [g, a, c, v] => (g, a, "jar", Some(*c), v),
            [g, a, t, c, v] => (g, a, *t, Some(*c), v),
            _ => {
                return Err(CoordinateError::Shape(text.to_string()));
            }
        };
        Ok(Self {
            group: group.to_string(),
            artifact: artifact.to_string(),
            kind: kind.to_string(),
            classifier: classifier.map(str::to_string),
            version: version.to_string(),
        })
    }

    /// What follows `artifact-version` in the artifact's file name: `[-classifier].extension`.
    pub fn file_suffix(&self) -> String {
        let classifier = self
            .classifier
            .as_deref()
            .map(|c| format!("-{c}"))
            .unwrap_or_default();
        format!("{classifier}.{}", extension_of(&self.kind))
    }

    /// The file name Maven gives the artifact: `artifact-version[-classifier].extension`.
    pub fn file_name(&self) -> String {
        format!("{}-{}{}", self.artifact, self.version, self.file_suffix())
    }

    /// The project whose POM describes it: group, artifact, version.
    pub fn gav(&self) -> Gav {
        Gav {
            group: self.group.clone(),
            artifact: self.artifact.clone(),
            version: self.version.clone(),
        }
    }
}

impl fmt::Display for Coordinate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.classifier, self.kind.as_str()) {
            (None, "jar") => write!(f, "{}:{}:{}", self.group, self.artifact, self.version),
            (Some(c), "jar") => write!(f, "{}:{}:{c}:{}", self.group, self.artifact, self.version),
            (c, kind) => write!(
                f,
                "{}:{}:{kind}:{}:{}",
                self.group,
                self.artifact,
                c.as_deref().unwrap_or(""),
                self.version
            ),
        }
    }
}

/// The classifier a dependency type implies when none is written (Maven's artifact handlers).
pub fn implied_classifier(kind: &str) -> Option<&'static str> {
    match kind {
        "test-jar" => Some("tests"),
        "javadoc" => Some("javadoc"),
        "java-source" => Some("sources"),
        "ejb-client" => Some("client"),
        _ => None,
    }
}

/// The file extension of a dependency type (Maven's artifact handlers).
pub fn extension_of(kind: &str) -> &str {
    match kind {
        "test-jar" | "ejb" | "ejb-client" | "java-source" | "javadoc" | "maven-plugin" => "jar",
        "bundle" => "jar",
        other => other,
    }
}

/// Why a text is not a Maven coordinate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoordinateError {
    /// A part between colons is blank, as in `org.x::1.0`.
    #[error("`{0}` has an empty part")]
    EmptyPart(String),

    /// The text has fewer than three or more than five colon-separated parts.
    #[error(
        "`{0}` is not a Maven coordinate: write group:artifact:version, group:artifact:classifier:version or group:artifact:type:classifier:version"
    )]
    Shape(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_three_forms() {
        let plain = Coordinate::parse("io.projectglow:glow-spark3_2.12:1.2.1").unwrap();
        assert_eq!(plain.file_name(), "glow-spark3_2.12-1.2.1.jar");
        assert_eq!(
            plain.gav().file_path(".pom"),
            "io/projectglow/glow-spark3_2.12/1.2.1/glow-spark3_2.12-1.2.1.pom"
        );
        let natives = Coordinate::parse("org.x:lib:natives:2.0").unwrap();
        assert_eq!(natives.file_name(), "lib-2.0-natives.jar");
        let typed = Coordinate::parse("org.x:lib:zip:dist:2.0").unwrap();
        assert_eq!(typed.file_name(), "lib-2.0-dist.zip");
        assert_eq!(typed.to_string(), "org.x:lib:zip:dist:2.0");
        assert!(Coordinate::parse("org.x:lib").is_err());
        assert!(Coordinate::parse("org.x::1.0").is_err());
    }
}
