//! Maven's part of the spec: a layer's `maven` entries (a coordinate, or a table with its
//! exclusions), `maven-provided` and `maven-target`, and `[repositories] maven`.
//!
//! A leaf below the spec: it imports nothing of [`crate::spec`]. Each check returns the span it is
//! about and a message, which the spec locates at file, line and column.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::dockerfile_values::{SpanProblem, checked_image_path};

/// Maven's key of the `[repositories]` table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MavenRepositories {
    /// `maven`: Maven repositories, in order (Maven Central when empty).
    #[serde(rename = "maven", skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<String>,
}

/// Maven's settings of one `[[layer]]`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MavenLayer {
    /// `maven-target`: where the layer's jars go in the image.
    #[serde(rename = "maven_target", skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl MavenLayer {
    /// The layer's `maven-target`, checked: an absolute path in the image, and set whenever the
    /// layer installs Maven artifacts (`installs_maven`). A missing one is reported at the layer's
    /// `name`, written at `name_span`.
    pub fn parse(
        target: Option<Spanned<String>>,
        installs_maven: bool,
        name: &str,
        name_span: Range<usize>,
    ) -> Result<Self, SpanProblem> {
        let target = checked_image_path("maven-target", target, "/databricks/jars")?;
        if installs_maven && target.is_none() {
            return Err((
                name_span,
                format!(
                    "layer `{name}` installs Maven artifacts but has no `maven-target`: say where the jars go, like `maven-target = \"/databricks/jars\"`"
                ),
            ));
        }
        Ok(Self { target })
    }
}

/// A `maven` requirement as written: a coordinate, or a table.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    untagged,
    expecting = "expected a coordinate `group:artifact:version`, or a table `{ coordinate = \"group:artifact:version\", exclude = [\"group:artifact\", …] }`"
)]
pub enum MavenEntry {
    /// `"group:artifact:version"`.
    Plain(String),
    /// `{ coordinate = "group:artifact:version", exclude = ["group:artifact", …] }`.
    Table(MavenTable),
}

/// The table form of a `maven` requirement.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MavenTable {
    /// The coordinate.
    coordinate: String,
    /// `group:artifact` patterns left out of its tree (`*` matches anything).
    #[serde(default)]
    exclude: Vec<String>,
    /// The one repository the coordinate's own files come from (its dependencies come from
    /// `[repositories] maven`), as Coursier's per-dependency repositories do.
    repository: Option<String>,
}

impl MavenEntry {
    /// The coordinate, trimmed, and the exclusions of the table form.
    pub fn coordinate_and_exclusions(&self) -> (String, Vec<String>) {
        match self {
            Self::Plain(coordinate) => (coordinate.trim().to_string(), Vec::new()),
            Self::Table(table) => (table.coordinate.trim().to_string(), table.exclude.clone()),
        }
    }

    /// The repository the table names for the coordinate's own files, when it names one.
    pub fn repository(&self) -> Option<String> {
        match self {
            Self::Plain(_) => None,
            Self::Table(table) => table.repository.as_ref().map(|r| r.trim().to_string()),
        }
    }
}
