//! Reading the spec: the wire format checked key by key into [`Spec`], every error located at
//! the file, line and column it is about.

use std::path::Path;

use toml::Spanned;

use super::family::{self, Chain};
use super::wire;
use super::{Image, Layer, Location, Repositories, RequirementEntry, Spec, SpecError};
use crate::apt::spec::{AptLayer, AptRepositories};
use crate::base::BaseReference;
use crate::conda::spec::{ChannelPriority, CondaImage, CondaRepositories};
use crate::cran::spec::{RImage, RRepositories};
use crate::dockerfile_values::{SpanProblem, check_layer_name};
use crate::maven::spec::{MavenLayer, MavenRepositories};
use crate::package::Ecosystem;
use crate::platform::Platform;
use crate::pypi::spec::{PypiImage, PypiRepositories};
use crate::url_files::spec::FileRequest;

/// The order a layer's requirement lists are read in (and hashed in). Each ecosystem's lists are
/// found by the exhaustive `match` in [`ecosystem_requirements`].
const REQUIREMENT_LISTS: [Ecosystem; 7] = [
    Ecosystem::Apt,
    Ecosystem::Cran,
    Ecosystem::Bioconductor,
    Ecosystem::Github,
    Ecosystem::Pypi,
    Ecosystem::Conda,
    Ecosystem::Maven,
];

impl Spec {
    /// Validates spec `text` read from `path`.
    /// A spec that `extends` a parent reads the parent's spec too (see [`super::family`]).
    pub fn parse(path: &Path, text: &str) -> Result<Self, SpecError> {
        Self::parse_in(path, text, &Chain::default()).map(|(spec, _)| spec)
    }

    /// Validates spec `text` read from `path`, the parent of the specs in `chain`: the spec,
    /// and its `[image]` table with what it inherited filled in (for a child of it to inherit).
    pub(super) fn parse_in(
        path: &Path,
        text: &str,
        chain: &Chain,
    ) -> Result<(Self, wire::Image), SpecError> {
        let source = SpecText::new(path, text);
        crate::toml_nesting::check(text).map_err(|deep| {
            source.error_at(Some(deep.offset..deep.offset + 1), deep.to_string())
        })?;
        let wire: wire::Spec = toml::from_str(text)
            .map_err(|error| source.error_at(error.span(), error.message().to_string()))?;
        let located = |span, message| source.error_at(span, message);
        let image_span = wire.image.span();
        let mut wire_image = wire.image.into_inner();
        let mut extends = None;
        if let Some(written) = wire.extends {
            let (read, image) =
                family::extend(path, chain, written, wire_image, &wire.layer, &located)?;
            wire_image = image;
            extends = Some(read);
        }
        let image = parse_image(&source, wire_image.clone(), image_span)?;
        let repositories = parse_repositories(&source, wire.repositories.unwrap_or_default())?;
        let layers = parse_layers(&source, wire.layer)?;
        let mut spec = Self {
            path: path.to_path_buf(),
            extends,
            image,
            repositories,
            layers,
            credentials: super::WrittenCredentials::default(),
        };
        spec.credentials = super::credentials::take_credentials(&mut spec);
        check_ecosystems_configured(&source, &spec)?;
        Ok((spec, wire_image))
    }
}

/// The spec's text and where it was read from: what every parse error is located in.
struct SpecText<'a> {
    path: &'a Path,
    text: &'a str,
    /// The byte offset where each line starts, so locating a span costs a binary search rather
    /// than a scan from the top (a spec of 100,000 requirements took minutes).
    line_starts: Vec<usize>,
}

impl<'a> SpecText<'a> {
    fn new(path: &'a Path, text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Self {
            path,
            text,
            line_starts,
        }
    }

    /// An error with `message`, at the line and column where `span` starts when there is one.
    fn error_at(&self, span: Option<std::ops::Range<usize>>, message: String) -> SpecError {
        SpecError {
            path: self.path.to_path_buf(),
            location: span.map(|span| self.location(span.start)),
            message,
        }
    }

    /// An error from a check that returns its span and message.
    fn spanned_error(&self, (span, message): SpanProblem) -> SpecError {
        self.error_at(Some(span), message)
    }

    /// The line and column (both 1-based) of byte `offset`.
    fn location(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts[line - 1];
        let column = self.text[line_start..offset].chars().count() + 1;
        Location { line, column }
    }
}

/// The `[image]` table, checked: a base pinned by digest, a known platform, and each ecosystem's
/// versions and paths in the forms the image needs.
fn parse_image(
    source: &SpecText<'_>,
    image: wire::Image,
    span: std::ops::Range<usize>,
) -> Result<Image, SpecError> {
    let located = |problem| source.spanned_error(problem);
    let Some(base) = image.base else {
        return Err(source.error_at(
            Some(span),
            "image.base is missing: name the base image (or `extends` a parent spec, whose base this image takes)".into(),
        ));
    };
    Ok(Image {
        name: image.name,
        base: check_base(base).map_err(located)?,
        platform: check_platform(image.platform).map_err(located)?,
        r: RImage::parse(image.r, image.r_library).map_err(located)?,
        pypi: PypiImage::parse(
            image.python.map(Spanned::into_inner),
            image.manylinux.map(Spanned::into_inner),
            image.python_prefix,
            image.python_venv,
        )
        .map_err(located)?,
        conda: CondaImage::parse(
            image.glibc,
            image.cuda,
            image.conda_prefix,
            image.conda_installer,
        )
        .map_err(located)?,
        command: crate::custom_steps::spec::parse_command(image.entrypoint, image.cmd)
            .map_err(located)?,
    })
}

/// The `[repositories]` table, with each ecosystem's defaults filled in.
fn parse_repositories(
    source: &SpecText<'_>,
    repositories: wire::Repositories,
) -> Result<Repositories, SpecError> {
    let list =
        |value: Option<wire::OneOrMany>| value.map(wire::OneOrMany::into_vec).unwrap_or_default();
    let r = RRepositories::parse(
        repositories.cran.map(wire::OneOrMany::into_vec),
        repositories.bioconductor,
        repositories.github,
        repositories.cran_snapshot,
    )
    .map_err(|problem| source.spanned_error(problem))?;
    let apt = AptRepositories::parse(repositories.apt, list(repositories.apt_keyring))
        .map_err(|problem| source.spanned_error(problem))?;
    Ok(Repositories {
        apt,
        r,
        pypi: PypiRepositories {
            indexes: list(repositories.pypi),
        },
        conda: CondaRepositories {
            channels: list(repositories.conda),
            priority: ChannelPriority::parse(repositories.conda_channel_priority)
                .map_err(|problem| source.spanned_error(problem))?,
        },
        maven: MavenRepositories {
            repositories: list(repositories.maven),
        },
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
    let installs_maven = requirements
        .iter()
        .any(|r| r.kind == Ecosystem::Maven && !r.provided);
    let maven = MavenLayer::parse(layer.maven_target, installs_maven, &name, layer.name.span())
        .map_err(|problem| source.spanned_error(problem))?;
    let apt = AptLayer {
        recommends: layer.apt_recommends.unwrap_or(false),
    };
    let files = layer
        .files
        .iter()
        .map(FileRequest::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|problem| source.spanned_error(problem))?;
    let spec_dir = crate::files::parent_dir(source.path);
    let steps = crate::custom_steps::spec::parse_steps(layer.steps, &spec_dir)
        .map_err(|problem| source.spanned_error(problem))?;
    Ok(Layer {
        name,
        requirements,
        maven,
        apt,
        files,
        steps,
    })
}

/// A layer's requirements, list by list in the order of [`REQUIREMENT_LISTS`].
fn layer_requirements(source: &SpecText<'_>, layer: &wire::Layer) -> Vec<RequirementEntry> {
    REQUIREMENT_LISTS
        .into_iter()
        .flat_map(|ecosystem| ecosystem_requirements(source, layer, ecosystem))
        .collect()
}

/// The requirements a layer lists for `ecosystem`: every ecosystem's list of strings, and for
/// Maven its entries (with their exclusions) followed by its provided coordinates.
fn ecosystem_requirements(
    source: &SpecText<'_>,
    layer: &wire::Layer,
    ecosystem: Ecosystem,
) -> Vec<RequirementEntry> {
    let plain = |entry: &Spanned<String>| {
        requirement(
            source,
            ecosystem,
            entry.get_ref().trim().into(),
            entry.span(),
        )
    };
    let sourced = |list| sourced_requirements(source, ecosystem, list);
    match ecosystem {
        Ecosystem::Apt => layer.apt.iter().map(plain).collect(),
        Ecosystem::Cran => sourced(&layer.cran),
        Ecosystem::Bioconductor => sourced(&layer.bioconductor),
        Ecosystem::Github => layer.github.iter().map(plain).collect(),
        Ecosystem::Pypi => sourced_requirements(source, ecosystem, &layer.pypi),
        Ecosystem::Conda => sourced_requirements(source, ecosystem, &layer.conda),
        Ecosystem::Maven => {
            let entries = layer.maven.iter().map(|entry| {
                let (text, exclusions) = entry.get_ref().coordinate_and_exclusions();
                RequirementEntry {
                    exclusions,
                    repository: entry.get_ref().repository(),
                    ..requirement(source, ecosystem, text, entry.span())
                }
            });
            let provided = layer.maven_provided.iter().map(|entry| RequirementEntry {
                provided: true,
                ..plain(entry)
            });
            entries.chain(provided).collect()
        }
        // A layer's `files` are tables, not requirement strings: `Layer::files`.
        Ecosystem::File => Vec::new(),
    }
}

/// The requirements of a list whose entries may name the repository they come from.
fn sourced_requirements<T: wire::Sourced>(
    source: &SpecText<'_>,
    ecosystem: Ecosystem,
    list: &[Spanned<wire::Entry<T>>],
) -> Vec<RequirementEntry> {
    list.iter()
        .map(|entry| {
            let (text, repository) = entry.get_ref().parts();
            RequirementEntry {
                repository,
                ..requirement(source, ecosystem, text, entry.span())
            }
        })
        .collect()
}

/// A requirement of the installed list of `kind`, with no exclusions, written at `span`.
fn requirement(
    source: &SpecText<'_>,
    kind: Ecosystem,
    text: String,
    span: std::ops::Range<usize>,
) -> RequirementEntry {
    RequirementEntry {
        kind,
        provided: false,
        text,
        exclusions: Vec::new(),
        repository: None,
        location: source.location(span.start),
    }
}

/// Refuses layers of an ecosystem the spec leaves unconfigured (each ecosystem says what it
/// needs): conda packages without a channel. (R packages without `[image] r` are checked once
/// the base image is read: R's version defaults to the base's.)
fn check_ecosystems_configured(source: &SpecText<'_>, spec: &Spec) -> Result<(), SpecError> {
    let installs = |wanted: fn(Ecosystem) -> bool| {
        spec.layers
            .iter()
            .any(|l| l.requirements.iter().any(|r| wanted(r.kind)))
    };
    let unconfigured = |message| source.error_at(None, message);
    spec.repositories
        .conda
        .check_configured(installs(|kind| kind == Ecosystem::Conda))
        .map_err(unconfigured)?;
    Ok(())
}

/// A checked value, or the problem with it.
type Spanned2<T> = Result<T, SpanProblem>;

/// `image.base`: a registry image (by tag or digest) or a local one (see
/// [`BaseReference`]); a tag is pinned to a digest by `imglock resolve`.
fn check_base(base: Spanned<String>) -> Spanned2<String> {
    let span = base.span();
    let base = base.into_inner();
    match BaseReference::parse(&base) {
        Ok(_) => Ok(base),
        Err(problem) => Err((span, format!("image.base {problem}"))),
    }
}

/// `image.platform`: a platform the image can run on (linux/amd64 when not set).
fn check_platform(platform: Option<Spanned<String>>) -> Spanned2<Platform> {
    match platform {
        None => Ok(Platform::default()),
        Some(platform) => platform
            .get_ref()
            .parse()
            .map_err(|message| (platform.span(), message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_count_lines_and_characters_from_one() {
        let text = "a = 1\néé = \"x\"\n\nlast";
        let source = SpecText::new(Path::new("imglock.toml"), text);
        let at = |offset| {
            let Location { line, column } = source.location(offset);
            (line, column)
        };
        assert_eq!(at(0), (1, 1));
        assert_eq!(at(5), (1, 6));
        assert_eq!(at(6), (2, 1));
        // `=` after two two-byte characters and a space: column 4.
        assert_eq!(at(6 + 5), (2, 4));
        assert_eq!(at(text.find("last").unwrap()), (4, 1));
        assert_eq!(at(text.len()), (4, 5));
        assert_eq!(at(text.len() + 10), (4, 5));
    }
}
