//! Reading the spec: the wire format checked key by key into [`Spec`], every error located at
//! the file, line and column it is about.

use std::path::Path;

use toml::Spanned;

use super::wire;
use super::{
    BioconductorSource, CRAN_URL, CondaInstaller, Image, Layer, Location, Repositories,
    RequirementEntry, RequirementKind, Spec, SpecError,
};
use crate::cran::RVersion;
use crate::dockerfile_values::{check_image_path, check_layer_name};
use crate::platform::Platform;

impl Spec {
    /// Validates spec `text` read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, SpecError> {
        let source = SpecText { path, text };
        let wire: wire::Spec = toml::from_str(text)
            .map_err(|error| source.error_at(error.span(), error.message().to_string()))?;
        wire::check_unsupported(&wire).map_err(|problem| source.spanned_error(problem))?;
        let image = parse_image(&source, wire.image.into_inner())?;
        let repositories = parse_repositories(&source, wire.repositories.unwrap_or_default())?;
        let layers = parse_layers(&source, wire.layer)?;
        let spec = Self {
            path: path.to_path_buf(),
            image,
            repositories,
            layers,
        };
        check_ecosystems_configured(&source, &spec)?;
        Ok(spec)
    }
}

/// The spec's text and where it was read from: what every parse error is located in.
struct SpecText<'a> {
    path: &'a Path,
    text: &'a str,
}

impl SpecText<'_> {
    /// An error with `message`, at the line and column where `span` starts when there is one.
    fn error_at(&self, span: Option<std::ops::Range<usize>>, message: String) -> SpecError {
        SpecError {
            path: self.path.to_path_buf(),
            location: span.map(|span| self.location(span.start)),
            message,
        }
    }

    /// An error from a check that returns its span and message.
    fn spanned_error(&self, (span, message): (std::ops::Range<usize>, String)) -> SpecError {
        self.error_at(Some(span), message)
    }

    /// The line and column (both 1-based) of byte `offset`.
    fn location(&self, offset: usize) -> Location {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Location { line, column }
    }
}

/// The `[image]` table, checked: a base pinned by digest, a known platform, versions and paths
/// in the forms the image needs.
fn parse_image(source: &SpecText<'_>, image: wire::Image) -> Result<Image, SpecError> {
    let located = |problem| source.spanned_error(problem);
    Ok(Image {
        name: image.name,
        base: check_base(image.base).map_err(located)?,
        platform: check_platform(image.platform).map_err(located)?,
        r: check_r_version(image.r).map_err(located)?,
        r_library: check_absolute("image.r-library", image.r_library, "/opt/R/library")
            .map_err(located)?,
        python: image.python,
        manylinux: image.manylinux,
        glibc: check_dotted("image.glibc", image.glibc).map_err(located)?,
        cuda: check_dotted("image.cuda", image.cuda).map_err(located)?,
        conda_prefix: check_absolute("image.conda-prefix", image.conda_prefix, "/opt/conda")
            .map_err(located)?,
        conda_installer: check_conda_installer(image.conda_installer).map_err(located)?,
    })
}

/// The `[repositories]` table, with CRAN's default mirror and Bioconductor's source filled in.
fn parse_repositories(
    source: &SpecText<'_>,
    repositories: wire::Repositories,
) -> Result<Repositories, SpecError> {
    let cran = match repositories.cran {
        None => vec![CRAN_URL.to_string()],
        Some(list) => list.into_vec(),
    };
    let bioconductor = match repositories.bioconductor {
        None => BioconductorSource::Auto,
        Some(value) => parse_bioconductor(value.get_ref())
            .map_err(|m| source.error_at(Some(value.span()), m))?,
    };
    let list =
        |value: Option<wire::OneOrMany>| value.map(wire::OneOrMany::into_vec).unwrap_or_default();
    Ok(Repositories {
        cran,
        bioconductor,
        pypi: list(repositories.pypi),
        conda: list(repositories.conda),
        maven: list(repositories.maven),
    })
}

/// Every `[[layer]]`, in order; a spec needs at least one.
fn parse_layers(
    source: &SpecText<'_>,
    wire_layers: Vec<wire::Layer>,
) -> Result<Vec<Layer>, SpecError> {
    if wire_layers.is_empty() {
        return Err(source.error_at(
            None,
            "the spec has no `[[layer]]`: add one with a `name` and the packages it installs"
                .into(),
        ));
    }
    let mut layers: Vec<Layer> = Vec::new();
    for layer in wire_layers {
        let layer = parse_layer(source, layer, &layers)?;
        layers.push(layer);
    }
    Ok(layers)
}

/// One `[[layer]]`: a valid name no `earlier` layer has, its requirements, and a `maven-target`
/// whenever it installs Maven artifacts.
fn parse_layer(
    source: &SpecText<'_>,
    layer: wire::Layer,
    earlier: &[Layer],
) -> Result<Layer, SpecError> {
    let name = layer.name.get_ref().trim().to_string();
    check_layer_name(&name).map_err(|m| source.error_at(Some(layer.name.span()), m))?;
    if earlier.iter().any(|l| l.name == name) {
        return Err(source.error_at(
            Some(layer.name.span()),
            format!("two layers are named `{name}`: layer names must be unique"),
        ));
    }
    let requirements = layer_requirements(source, &layer);
    let has_maven = requirements
        .iter()
        .any(|r| r.kind == RequirementKind::Maven);
    let maven_target = check_absolute("maven-target", layer.maven_target, "/databricks/jars")
        .map_err(|problem| source.spanned_error(problem))?;
    if has_maven && maven_target.is_none() {
        return Err(source.error_at(
            Some(layer.name.span()),
            format!(
                "layer `{name}` installs Maven artifacts but has no `maven-target`: say where the jars go, like `maven-target = \"/databricks/jars\"`"
            ),
        ));
    }
    Ok(Layer {
        name,
        requirements,
        maven_target,
    })
}

/// A layer's requirements, list by list: cran, bioconductor, pypi, conda, maven, maven-provided.
fn layer_requirements(source: &SpecText<'_>, layer: &wire::Layer) -> Vec<RequirementEntry> {
    let mut requirements = Vec::new();
    for (kind, entries) in [
        (RequirementKind::Cran, &layer.cran),
        (RequirementKind::Bioconductor, &layer.bioconductor),
        (RequirementKind::Pypi, &layer.pypi),
        (RequirementKind::Conda, &layer.conda),
    ] {
        requirements.extend(
            entries
                .iter()
                .map(|entry| plain_requirement(source, kind, entry)),
        );
    }
    requirements.extend(
        layer
            .maven
            .iter()
            .map(|entry| maven_requirement(source, entry)),
    );
    requirements.extend(
        layer
            .maven_provided
            .iter()
            .map(|entry| plain_requirement(source, RequirementKind::MavenProvided, entry)),
    );
    requirements
}

/// A requirement written as a string, trimmed.
fn plain_requirement(
    source: &SpecText<'_>,
    kind: RequirementKind,
    entry: &Spanned<String>,
) -> RequirementEntry {
    RequirementEntry {
        kind,
        text: entry.get_ref().trim().to_string(),
        exclusions: Vec::new(),
        location: source.location(entry.span().start),
    }
}

/// A `maven` requirement: a coordinate, with the exclusions of its table form.
fn maven_requirement(source: &SpecText<'_>, entry: &Spanned<wire::MavenEntry>) -> RequirementEntry {
    let (coordinate, exclusions) = match entry.get_ref() {
        wire::MavenEntry::Plain(coordinate) => (coordinate, Vec::new()),
        wire::MavenEntry::Excluding {
            coordinate,
            exclude,
        } => (coordinate, exclude.clone()),
    };
    RequirementEntry {
        kind: RequirementKind::Maven,
        text: coordinate.trim().to_string(),
        exclusions,
        location: source.location(entry.span().start),
    }
}

/// Refuses layers of an ecosystem the spec leaves unconfigured: conda packages without a
/// channel, R packages without `[image] r`.
fn check_ecosystems_configured(source: &SpecText<'_>, spec: &Spec) -> Result<(), SpecError> {
    let installs = |wanted: fn(RequirementKind) -> bool| {
        spec.layers
            .iter()
            .any(|l| l.requirements.iter().any(|r| wanted(r.kind)))
    };
    if spec.repositories.conda.is_empty() && installs(|kind| kind == RequirementKind::Conda) {
        return Err(source.error_at(
            None,
            "layers install conda packages but `[repositories] conda` lists no channel: add the channels in priority order, like `conda = [\"https://conda.anaconda.org/conda-forge\"]`".into(),
        ));
    }
    let is_r = |kind: RequirementKind| {
        matches!(kind, RequirementKind::Cran | RequirementKind::Bioconductor)
    };
    if spec.image.r.is_none() && installs(is_r) {
        return Err(source.error_at(
            None,
            "layers install R packages but `[image] r` is not set: give the R version of the base image, like `r = \"4.2.2\"`".into(),
        ));
    }
    Ok(())
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

fn check_platform(platform: Option<Spanned<String>>) -> Spanned2<Platform> {
    match platform {
        None => Ok(Platform::default()),
        Some(platform) => platform
            .get_ref()
            .parse()
            .map_err(|message| (platform.span(), message)),
    }
}

/// `image.r`, when set: a version R's own version order reads.
fn check_r_version(r: Option<Spanned<String>>) -> Spanned2<Option<String>> {
    let Some(r) = r else { return Ok(None) };
    match r.get_ref().parse::<RVersion>() {
        Ok(_) => Ok(Some(r.into_inner())),
        Err(e) => Err((r.span(), format!("image.r: {e}"))),
    }
}

/// `image.conda-installer`, when set: a program imglock knows how to drive.
fn check_conda_installer(installer: Option<Spanned<String>>) -> Spanned2<Option<CondaInstaller>> {
    let Some(installer) = installer else {
        return Ok(None);
    };
    installer
        .get_ref()
        .parse()
        .map(Some)
        .map_err(|message: String| (installer.span(), format!("image.conda-installer {message}")))
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
