//! `imglock.toml`, the user's spec: the base image, the repositories and the ordered layers.
//!
//! Reading is strict. Unknown keys, a malformed base image reference (`crate::base` reads the
//! forms: a registry image by tag or digest, a local `oci:`, `oci-archive:` or `docker-archive:`
//! one), a malformed requirement and a key reserved for an ecosystem this build does not support
//! yet are errors that name the file, line and column; nothing is ignored silently. A spec that
//! `extends` a parent reads the parent's spec too ([`family`]).

mod credentials;
mod family;
#[cfg(test)]
mod fuzz;
mod parse;
mod parts;
#[cfg(test)]
mod tests;
mod wire;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::apt::spec::{AptLayer, AptRepositories};
use crate::conda::spec::{CondaImage, CondaRepositories};
use crate::cran::spec::{RImage, RRepositories};
use crate::custom_steps::{CustomStep, ImageCommand};
use crate::maven::spec::{MavenLayer, MavenRepositories};
use crate::package::Ecosystem;
use crate::pypi::spec::{PypiImage, PypiRepositories};
use crate::url_files::spec::FileRequest;

pub use credentials::WrittenCredentials;
pub use family::{Extends, rebase_local};
pub use parts::{SpecParts, normalise_name, requested_name};

/// The spec file name looked for when none is given.
pub const DEFAULT_SPEC: &str = "imglock.toml";

/// A validated spec.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The spec file, as given on the command line.
    pub path: PathBuf,
    /// The parent spec, when this one `extends` one: its layers come first, as its lock pins
    /// them.
    pub extends: Option<Extends>,
    /// The `[image]` table (in a child, with the keys it leaves out taken from its parent).
    pub image: Image,
    /// The `[repositories]` table.
    pub repositories: Repositories,
    /// The `[[layer]]`s, bottom first.
    pub layers: Vec<Layer>,
    /// The credentials its repository URLs were written with, taken out of them (never hashed,
    /// locked or shown).
    pub credentials: WrittenCredentials,
}

/// The `[image]` table: the base image, and each ecosystem's settings of it.
#[derive(Debug, Clone, Serialize)]
pub struct Image {
    /// The image's name.
    pub name: String,
    /// The base image, as written (a tag is pinned by `imglock resolve`, which gives the
    /// resolvers a spec whose base is the pinned reference).
    pub base: String,
    /// The platform the image runs on.
    pub platform: crate::platform::Platform,
    /// R's settings (CRAN and Bioconductor).
    #[serde(flatten)]
    pub r: RImage,
    /// PyPI's settings.
    #[serde(flatten)]
    pub pypi: PypiImage,
    /// conda's settings.
    #[serde(flatten)]
    pub conda: CondaImage,
    /// The image's `entrypoint` and `cmd` (hashed only when set).
    #[serde(flatten)]
    pub command: ImageCommand,
}

/// The `[repositories]` table, as written (paths are resolved when the repositories are used):
/// each ecosystem's repositories.
#[derive(Debug, Clone, Serialize)]
pub struct Repositories {
    /// apt's sources and keyrings.
    #[serde(flatten)]
    pub apt: AptRepositories,
    /// CRAN's and Bioconductor's.
    #[serde(flatten)]
    pub r: RRepositories,
    /// PyPI's indexes.
    #[serde(flatten)]
    pub pypi: PypiRepositories,
    /// conda's channels.
    #[serde(flatten)]
    pub conda: CondaRepositories,
    /// Maven's repositories.
    #[serde(flatten)]
    pub maven: MavenRepositories,
}

/// One `[[layer]]`.
#[derive(Debug, Clone, Serialize)]
pub struct Layer {
    /// The layer's name, unique in the spec.
    pub name: String,
    /// Its requirements, list by list: each ecosystem's lists, in the order the spec reads them.
    pub requirements: Vec<RequirementEntry>,
    /// Maven's settings of the layer.
    #[serde(flatten)]
    pub maven: MavenLayer,
    /// apt's settings of the layer.
    #[serde(flatten)]
    pub apt: AptLayer,
    /// Its URL artifacts (`files`), in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileRequest>,
    /// Its custom steps, in the order written, after its packages (hashed only when there are
    /// any, a `copy` with its file's sha256).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<CustomStep>,
}

/// One requirement string of a layer and where it was written.
#[derive(Debug, Clone)]
pub struct RequirementEntry {
    /// The ecosystem whose list it was written in.
    pub kind: Ecosystem,
    /// Written in the list of what the runtime already ships (Maven's provided coordinates,
    /// whose trees are left out) rather than the list of what the layer installs.
    pub provided: bool,
    /// The requirement, trimmed, in its ecosystem's grammar.
    pub text: String,
    /// `group:artifact` patterns left out of a Maven requirement's tree (`*` matches anything).
    pub exclusions: Vec<String>,
    /// The one repository this package comes from, as written (a CRAN-like repository, a PyPI
    /// index, a conda channel or a Maven repository); `None` for the ecosystem's usual lookup
    /// through `[repositories]`.
    pub repository: Option<String>,
    /// Where it was written.
    pub location: Location,
}

/// Hashed as `{"kind", "text", "exclusions", "repository"}`: the kind is the ecosystem's name,
/// followed by `provided` for a provided list, as the spec hash has always spelled it; the
/// exclusions and the repository only when there are any (a spec without them hashes as before).
impl Serialize for RequirementEntry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut entry = serializer.serialize_struct("RequirementEntry", 4)?;
        if self.provided {
            entry.serialize_field("kind", &format!("{}provided", self.kind))?;
        } else {
            entry.serialize_field("kind", &self.kind)?;
        }
        entry.serialize_field("text", &self.text)?;
        if self.exclusions.is_empty() {
            entry.skip_field("exclusions")?;
        } else {
            entry.serialize_field("exclusions", &self.exclusions)?;
        }
        match &self.repository {
            Some(repository) => entry.serialize_field("repository", repository)?,
            None => entry.skip_field("repository")?,
        }
        entry.end()
    }
}

/// A line and column (both 1-based) in the spec file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Location {
    /// The line, from 1.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
}

/// A problem with the spec, at a place in it when one is known.
#[derive(Debug, thiserror::Error)]
pub struct SpecError {
    /// The spec file.
    pub path: PathBuf,
    /// Where in it, when known.
    pub location: Option<Location>,
    /// What is wrong, and how to fix it.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some(at) => write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                at.line,
                at.column,
                self.message
            ),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl Spec {
    /// Reads and validates the spec at `path`.
    pub fn read(path: &Path) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|error| SpecError {
            path: path.to_path_buf(),
            location: None,
            message: format!("cannot read the spec ({error}); create it or pass `--spec PATH`"),
        })?;
        Self::parse(path, &text)
    }

    /// The folder the spec's relative paths are relative to.
    pub fn dir(&self) -> PathBuf {
        crate::files::parent_dir(&self.path)
    }

    /// A hash of the normalised spec: what `imglock check` compares with the lock's.
    pub fn hash(&self) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(self.hash_json())))
    }

    /// The JSON the hash is taken of.
    fn hash_json(&self) -> String {
        #[derive(Serialize)]
        struct Normalised<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            extends: Option<&'a Extends>,
            image: &'a Image,
            repositories: &'a Repositories,
            layers: &'a [Layer],
        }
        serde_json::to_string(&Normalised {
            extends: self.extends.as_ref(),
            image: &self.image,
            repositories: &self.repositories,
            layers: &self.layers,
        })
        .unwrap_or_default()
    }

    /// An error about a requirement of this spec, located at its line and column.
    pub fn error_at(&self, entry: &RequirementEntry, message: String) -> SpecError {
        SpecError {
            path: self.path.clone(),
            location: Some(entry.location),
            message,
        }
    }
}
