//! `imglock.toml`, the user's spec: the base image, the repositories and the ordered layers.
//!
//! Reading is strict. Unknown keys, a base image without a digest, a malformed requirement and a
//! key reserved for an ecosystem this build does not support yet are errors that name the file,
//! line and column; nothing is ignored silently.

mod wire;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

pub use crate::conda::CondaInstaller;
use crate::cran::RVersion;
use crate::dockerfile_values::{check_image_path, check_layer_name};

/// The spec file name looked for when none is given.
pub const DEFAULT_SPEC: &str = "imglock.toml";

/// A validated spec.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The spec file, as given on the command line.
    pub path: PathBuf,
    pub image: Image,
    pub repositories: Repositories,
    pub layers: Vec<Layer>,
}

/// The `[image]` table.
#[derive(Debug, Clone, Serialize)]
pub struct Image {
    pub name: String,
    pub base: String,
    pub platform: String,
    pub r: Option<String>,
    /// The R library imglock installs into (absolute); R's site library when not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r_library: Option<String>,
    pub python: Option<String>,
    /// The image's glibc as a manylinux level (`2_17` when not set), for choosing wheels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manylinux: Option<String>,
    /// The image's glibc version, like `2.17`: conda's `__glibc` virtual package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glibc: Option<String>,
    /// The CUDA driver version the image runs with, like `11.8`: conda's `__cuda` (none if unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuda: Option<String>,
    /// Where the image's conda environment lives (absolute), `/opt/conda` when not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conda_prefix: Option<String>,
    /// The program that installs conda packages in the image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conda_installer: Option<CondaInstaller>,
}

/// The conda prefix used when the spec names none.
pub const CONDA_PREFIX: &str = "/opt/conda";

/// The `[repositories]` table, as written (paths are resolved when the repositories are used).
#[derive(Debug, Clone, Serialize)]
pub struct Repositories {
    pub cran: Vec<String>,
    pub bioconductor: BioconductorSource,
    /// Python package indexes, in priority order: the first that has a project serves it
    /// (PyPI when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pypi: Vec<String>,
    /// conda channels, in strict priority order: the first channel that has a name serves it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conda: Vec<String>,
    /// Maven repositories, in order (Maven Central when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub maven: Vec<String>,
}

/// Where Bioconductor packages come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum BioconductorSource {
    /// The release matching the image's R, from bioconductor.org.
    Auto,
    /// An explicit release, like `3.16`, from bioconductor.org.
    Release(String),
    /// A mirror laid out like bioconductor.org (`<url>/packages/<release>/bioc`), with the release
    /// matching the image's R.
    Mirror(String),
}

/// The Bioconductor site used when the spec names none.
pub const BIOCONDUCTOR_URL: &str = "https://bioconductor.org";
/// The CRAN mirror used when the spec names none.
pub const CRAN_URL: &str = "https://cloud.r-project.org";

/// One `[[layer]]`.
#[derive(Debug, Clone, Serialize)]
pub struct Layer {
    pub name: String,
    pub requirements: Vec<RequirementEntry>,
    /// Where the layer's jars go in the image (`maven-target`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maven_target: Option<String>,
}

/// Which list of a layer a requirement was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RequirementKind {
    Cran,
    Bioconductor,
    Pypi,
    Conda,
    Maven,
    /// Coordinates the runtime already ships (`maven-provided`): their trees are left out.
    MavenProvided,
}

impl RequirementKind {
    /// The key's spelling in the spec and the lock.
    pub fn key(self) -> &'static str {
        match self {
            Self::Cran => "cran",
            Self::Bioconductor => "bioconductor",
            Self::Pypi => "pypi",
            Self::Conda => "conda",
            Self::Maven => "maven",
            Self::MavenProvided => "maven-provided",
        }
    }
}

/// One requirement string of a layer and where it was written.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementEntry {
    pub kind: RequirementKind,
    pub text: String,
    /// `group:artifact` patterns left out of a Maven requirement's tree (`*` matches anything).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<String>,
    #[serde(skip)]
    pub location: Location,
}

/// A line and column (both 1-based) in the spec file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// A problem with the spec, at a place in it when one is known.
#[derive(Debug, thiserror::Error)]
pub struct SpecError {
    pub path: PathBuf,
    pub location: Option<Location>,
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

    /// Validates spec `text` read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, SpecError> {
        let error_at = |span: Option<std::ops::Range<usize>>, message: String| SpecError {
            path: path.to_path_buf(),
            location: span.map(|span| location_of(text, span.start)),
            message,
        };
        let wire: wire::Spec = toml::from_str(text)
            .map_err(|error| error_at(error.span(), error.message().to_string()))?;
        wire::check_unsupported(&wire).map_err(|(span, message)| error_at(Some(span), message))?;

        let image = wire.image.into_inner();
        let image = Image {
            name: image.name,
            base: check_base(image.base).map_err(|(span, m)| error_at(Some(span), m))?,
            platform: check_platform(image.platform)
                .map_err(|(span, m)| error_at(Some(span), m))?,
            r: image
                .r
                .map(|r| {
                    r.get_ref()
                        .parse::<RVersion>()
                        .map(|_| r.get_ref().clone())
                        .map_err(|e| error_at(Some(r.span()), format!("image.r: {e}")))
                })
                .transpose()?,
            r_library: check_absolute("image.r-library", image.r_library, "/opt/R/library")
                .map_err(|(span, m)| error_at(Some(span), m))?,
            python: image.python,
            manylinux: image.manylinux,
            glibc: check_dotted("image.glibc", image.glibc)
                .map_err(|(span, m)| error_at(Some(span), m))?,
            cuda: check_dotted("image.cuda", image.cuda)
                .map_err(|(span, m)| error_at(Some(span), m))?,
            conda_prefix: check_absolute("image.conda-prefix", image.conda_prefix, "/opt/conda")
                .map_err(|(span, m)| error_at(Some(span), m))?,
            conda_installer: image
                .conda_installer
                .map(|installer| {
                    installer.get_ref().parse().map_err(|message: String| {
                        error_at(
                            Some(installer.span()),
                            format!("image.conda-installer {message}"),
                        )
                    })
                })
                .transpose()?,
        };

        let repositories = wire.repositories.unwrap_or_default();
        let cran = match repositories.cran {
            None => vec![CRAN_URL.to_string()],
            Some(list) => list.into_vec(),
        };
        let pypi = repositories
            .pypi
            .map(wire::OneOrMany::into_vec)
            .unwrap_or_default();
        let conda = repositories
            .conda
            .map(wire::OneOrMany::into_vec)
            .unwrap_or_default();
        let maven = repositories
            .maven
            .map(wire::OneOrMany::into_vec)
            .unwrap_or_default();
        let bioconductor = match repositories.bioconductor {
            None => BioconductorSource::Auto,
            Some(value) => {
                parse_bioconductor(value.get_ref()).map_err(|m| error_at(Some(value.span()), m))?
            }
        };

        if wire.layer.is_empty() {
            return Err(error_at(
                None,
                "the spec has no `[[layer]]`: add one with a `name` and the packages it installs"
                    .into(),
            ));
        }
        let mut layers: Vec<Layer> = Vec::new();
        for layer in wire.layer {
            let name = layer.name.get_ref().trim().to_string();
            check_layer_name(&name).map_err(|m| error_at(Some(layer.name.span()), m))?;
            if layers.iter().any(|l| l.name == name) {
                return Err(error_at(
                    Some(layer.name.span()),
                    format!("two layers are named `{name}`: layer names must be unique"),
                ));
            }
            let mut requirements = Vec::new();
            for (kind, entries) in [
                (RequirementKind::Cran, layer.cran),
                (RequirementKind::Bioconductor, layer.bioconductor),
                (RequirementKind::Pypi, layer.pypi),
                (RequirementKind::Conda, layer.conda),
            ] {
                for entry in entries {
                    requirements.push(RequirementEntry {
                        kind,
                        text: entry.get_ref().trim().to_string(),
                        exclusions: Vec::new(),
                        location: location_of(text, entry.span().start),
                    });
                }
            }
            for entry in layer.maven {
                let location = location_of(text, entry.span().start);
                let (coordinate, exclusions) = match entry.into_inner() {
                    wire::MavenEntry::Plain(coordinate) => (coordinate, Vec::new()),
                    wire::MavenEntry::Excluding {
                        coordinate,
                        exclude,
                    } => (coordinate, exclude),
                };
                requirements.push(RequirementEntry {
                    kind: RequirementKind::Maven,
                    text: coordinate.trim().to_string(),
                    exclusions,
                    location,
                });
            }
            for entry in layer.maven_provided {
                requirements.push(RequirementEntry {
                    kind: RequirementKind::MavenProvided,
                    text: entry.get_ref().trim().to_string(),
                    exclusions: Vec::new(),
                    location: location_of(text, entry.span().start),
                });
            }
            let has_maven = requirements
                .iter()
                .any(|r| r.kind == RequirementKind::Maven);
            let maven_target =
                check_absolute("maven-target", layer.maven_target, "/databricks/jars")
                    .map_err(|(span, m)| error_at(Some(span), m))?;
            if has_maven && maven_target.is_none() {
                return Err(error_at(
                    Some(layer.name.span()),
                    format!(
                        "layer `{name}` installs Maven artifacts but has no `maven-target`: say where the jars go, like `maven-target = \"/databricks/jars\"`"
                    ),
                ));
            }
            layers.push(Layer {
                name,
                requirements,
                maven_target,
            });
        }

        let spec = Self {
            path: path.to_path_buf(),
            image,
            repositories: Repositories {
                cran,
                bioconductor,
                pypi,
                conda,
                maven,
            },
            layers,
        };
        let has_r = |l: &Layer| {
            l.requirements.iter().any(|r| {
                matches!(
                    r.kind,
                    RequirementKind::Cran | RequirementKind::Bioconductor
                )
            })
        };
        let has_conda = |l: &Layer| {
            l.requirements
                .iter()
                .any(|r| r.kind == RequirementKind::Conda)
        };
        if spec.repositories.conda.is_empty() && spec.layers.iter().any(has_conda) {
            return Err(error_at(
                None,
                "layers install conda packages but `[repositories] conda` lists no channel: add the channels in priority order, like `conda = [\"https://conda.anaconda.org/conda-forge\"]`".into(),
            ));
        }
        if spec.image.r.is_none() && spec.layers.iter().any(has_r) {
            return Err(error_at(
                None,
                "layers install R packages but `[image] r` is not set: give the R version of the base image, like `r = \"4.2.2\"`".into(),
            ));
        }
        Ok(spec)
    }

    /// The folder the spec's relative paths are relative to.
    pub fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// A hash of the normalised spec: what `imglock check` compares with the lock's.
    pub fn hash(&self) -> String {
        #[derive(Serialize)]
        struct Normalised<'a> {
            image: &'a Image,
            repositories: &'a Repositories,
            layers: &'a [Layer],
        }
        let json = serde_json::to_vec(&Normalised {
            image: &self.image,
            repositories: &self.repositories,
            layers: &self.layers,
        })
        .unwrap_or_default();
        format!("sha256:{}", hex::encode(Sha256::digest(json)))
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

fn location_of(text: &str, offset: usize) -> Location {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Location { line, column }
}

type Spanned2<T> = Result<T, (std::ops::Range<usize>, String)>;

fn check_base(base: Spanned<String>) -> Spanned2<String> {
    let span = base.span();
    let base = base.into_inner();
    let digest = base.split_once("@sha256:").map(|(_, digest)| digest);
    match digest {
        Some(hex) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(base),
        Some(_) => Err((
            span,
            format!(
                "image.base `{base}` has a malformed digest: after `@sha256:` come 64 hexadecimal digits"
            ),
        )),
        None => Err((
            span,
            format!(
                "image.base `{base}` is not pinned by digest. A tag such as `latest` or `4.2.2` can point at a different image tomorrow, so the lock could not promise the same build. Write `{base}@sha256:<digest>` (`docker buildx imagetools inspect {base}` or `skopeo inspect docker://{base}` prints it)."
            ),
        )),
    }
}

/// An absolute path in the image, like `example`.
fn check_absolute(
    key: &str,
    value: Option<Spanned<String>>,
    example: &str,
) -> Spanned2<Option<String>> {
    match value {
        None => Ok(None),
        Some(path) => match check_image_path(path.get_ref()) {
            Ok(()) => Ok(Some(path.into_inner())),
            Err(problem) => Err((
                path.span(),
                format!("{key}: {problem}; give an absolute path in the image, like `{example}`"),
            )),
        },
    }
}

/// A version like `2.17` or `11.8`: digits separated by dots.
fn check_dotted(key: &str, value: Option<Spanned<String>>) -> Spanned2<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    let dotted = value
        .get_ref()
        .split('.')
        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    if dotted {
        Ok(Some(value.into_inner()))
    } else {
        Err((
            value.span(),
            format!(
                "{key} `{}` must be a version like `2.17`: numbers separated by dots",
                value.get_ref()
            ),
        ))
    }
}

fn check_platform(platform: Option<Spanned<String>>) -> Spanned2<String> {
    let Some(platform) = platform else {
        return Ok("linux/amd64".to_string());
    };
    let span = platform.span();
    let value = platform.into_inner();
    let parts: Vec<&str> = value.split('/').collect();
    let known_arch = ["amd64", "arm64", "ppc64le", "s390x", "arm", "386"];
    if parts.len() >= 2 && parts.len() <= 3 && parts[0] == "linux" && known_arch.contains(&parts[1])
    {
        Ok(value)
    } else {
        Err((
            span,
            format!(
                "image.platform `{value}` is not a Linux image platform: write `os/arch`, like `linux/amd64` or `linux/arm64`"
            ),
        ))
    }
}

fn parse_bioconductor(value: &str) -> Result<BioconductorSource, String> {
    let value = value.trim();
    if value == "auto" {
        return Ok(BioconductorSource::Auto);
    }
    if value.contains(':') {
        return Ok(BioconductorSource::Mirror(value.to_string()));
    }
    let release_like = value.split('.').count() == 2
        && value
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if release_like {
        Ok(BioconductorSource::Release(value.to_string()))
    } else {
        Err(format!(
            "repositories.bioconductor `{value}` must be `auto`, a release like `3.16`, or a mirror URL"
        ))
    }
}
