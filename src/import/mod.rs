//! `imglock import`: other tools' manifests (requirements.txt, environment.yml, renv.lock,
//! DESCRIPTION, pom.xml, a doAzureParallel cluster.json, a Dockerfile) read into what a spec
//! can say — image settings, repositories, layers with their package lists and custom steps —
//! plus the [`Note`]s naming each line it could not carry over, never dropped silently. One
//! file per format reads; [`document`] writes the result into a spec through toml_edit,
//! keeping an existing spec's comments and formatting; [`edit`] is `imglock add` / `remove`
//! on the same document and [`starter`] is `imglock init`'s commented spec.

mod cluster;
mod description;
mod dockerfile;
pub mod document;
pub mod edit;
mod environment;
mod pom;
mod renv;
mod requirements;
mod shell;
pub mod starter;
pub mod write;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::package::Ecosystem;

/// The formats `imglock import` reads (`--from KIND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// pip's requirements file (`-r`/`-c` includes, `--hash`, index options).
    Requirements,
    /// conda's `environment.yml` (channels, dependencies, a `pip:` list).
    Environment,
    /// renv's `renv.lock` (R version, repositories, pinned packages).
    Renv,
    /// An R package's `DESCRIPTION` (Depends, Imports, LinkingTo, Remotes).
    Description,
    /// Maven's `pom.xml` (dependencies, properties, repositories).
    Pom,
    /// A doAzureParallel cluster configuration (`rPackages`, `containerImage`).
    Cluster,
    /// A Dockerfile (FROM, install lines as layers, the rest as custom steps).
    Dockerfile,
}

impl Kind {
    /// The format of `path`, told by its name, else by its first bytes.
    pub fn detect(path: &Path, text: &str) -> Option<Self> {
        let name = path.file_name()?.to_string_lossy().to_lowercase();
        let by_name = match name.as_str() {
            "renv.lock" => Some(Self::Renv),
            "description" => Some(Self::Description),
            "pom.xml" => Some(Self::Pom),
            "environment.yml" | "environment.yaml" => Some(Self::Environment),
            "dockerfile" | "containerfile" => Some(Self::Dockerfile),
            _ if name.ends_with(".dockerfile") || name.starts_with("dockerfile.") => {
                Some(Self::Dockerfile)
            }
            _ if name.ends_with(".pom") => Some(Self::Pom),
            _ if name.ends_with(".yml") || name.ends_with(".yaml") => Some(Self::Environment),
            _ if name.ends_with(".txt") || name.ends_with(".in") => Some(Self::Requirements),
            _ => None,
        };
        by_name.or_else(|| Self::detect_content(text))
    }

    fn detect_content(text: &str) -> Option<Self> {
        let start = text.trim_start();
        if start.starts_with("<?xml") || start.starts_with("<project") {
            Some(Self::Pom)
        } else if start.starts_with('{') {
            Some(if text.contains("\"rPackages\"") {
                Self::Cluster
            } else {
                Self::Renv
            })
        } else if start.lines().any(|l| l.trim_start().starts_with("FROM ")) {
            Some(Self::Dockerfile)
        } else if start.starts_with("Package:") {
            Some(Self::Description)
        } else {
            None
        }
    }

    /// The layer an import of this format fills when `--layer` is not given.
    pub fn default_layer(self) -> &'static str {
        match self {
            Self::Requirements => "python",
            Self::Environment => "environment",
            Self::Renv | Self::Description | Self::Cluster => "r-packages",
            Self::Pom => "jars",
            Self::Dockerfile => "setup",
        }
    }
}

/// A value of `[image]` or a single-valued setting of `[repositories]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    /// A string, like `base` or `bioconductor`.
    Text(String),
    /// A list of strings, like `entrypoint`.
    Words(Vec<String>),
}

/// One entry of a layer's package list: a string, or an inline table of string fields (in
/// order), such as `{ name = "skorch", channel = … }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// `"numpy==1.18.5"`.
    Plain(String),
    /// `{ key = "value", … }`, or a field holding a list (`exclude = [...]`).
    Table(Vec<(String, Setting)>),
}

/// A custom step as a layer's `steps` writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `{ env = { NAME = "value" } }`, in the order written.
    Env(Vec<(String, String)>),
    /// `{ workdir = "…" }`.
    Workdir(String),
    /// `{ copy = "…", to = "…" }` (the source relative to the spec's folder).
    Copy { source: String, to: String },
    /// `{ run = "…" }`.
    Run(String),
    /// `{ user = "…" }`.
    User(String),
}

/// One layer read from a manifest: its package lists (by the spec's key) and its steps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportedLayer {
    /// The layer's name.
    pub name: String,
    /// Each ecosystem's entries, in the order first met.
    pub lists: Vec<(Ecosystem, Vec<Entry>)>,
    /// `maven-provided` coordinates (a POM's `provided` scope).
    pub maven_provided: Vec<String>,
    /// Other keys of the layer (`maven-target`), set when the spec's layer has none.
    pub settings: Vec<(String, Setting)>,
    /// The custom steps, after the packages.
    pub steps: Vec<Step>,
}

impl ImportedLayer {
    /// An empty layer called `name`.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_string(),
            ..Self::default()
        }
    }

    /// Appends `entry` to the list of `ecosystem`, unless it is there already.
    pub fn push(&mut self, ecosystem: Ecosystem, entry: Entry) {
        match self.lists.iter_mut().find(|(e, _)| *e == ecosystem) {
            Some((_, entries)) if entries.contains(&entry) => {}
            Some((_, entries)) => entries.push(entry),
            None => self.lists.push((ecosystem, vec![entry])),
        }
    }

    /// Whether it holds neither packages nor steps.
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty() && self.maven_provided.is_empty() && self.steps.is_empty()
    }
}

/// Something of a manifest the spec does not carry: where it was, what it said, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// `file:line`, or the file alone.
    pub place: String,
    /// The text left out (one line).
    pub text: String,
    /// Why, and what to do about it.
    pub reason: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: `{}`: {}", self.place, self.text, self.reason)
    }
}

/// What manifests said, in the spec's terms.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    /// `[image]` keys and values, in order.
    pub image: Vec<(String, Setting)>,
    /// `[repositories]`: list keys (`pypi`, `conda`, …) get their URLs appended, other keys
    /// (`bioconductor`, `cran-snapshot`) set.
    pub repositories: Vec<(String, Setting)>,
    /// Repositories assumed when neither the import nor the spec names one of the kind (the
    /// key, the URL, and the note saying so when it is used).
    pub fallback_repositories: Vec<(String, String, Note)>,
    /// The layers, bottom first.
    pub layers: Vec<ImportedLayer>,
    /// What was left out.
    pub notes: Vec<Note>,
}

impl Imported {
    /// Sets an `[image]` key (the first value given wins; a different later one is noted).
    pub fn set_image(&mut self, key: &str, value: Setting, place: &str) {
        set_once(&mut self.image, key, value, place, &mut self.notes);
    }

    /// Sets the base image (a Docker Hub short name made whole), and `r` when it is a rocker
    /// image whose tag is R's version.
    pub fn set_base(&mut self, image: &str, place: &str) {
        let base = full_reference(image);
        let r_version = ["docker.io/rocker/r-ver:", "docker.io/library/r-base:"]
            .iter()
            .find_map(|prefix| base.strip_prefix(prefix))
            .map(|tag| tag.split('@').next().unwrap_or(tag).to_string())
            .filter(|tag| tag.split('.').all(|part| part.parse::<u32>().is_ok()));
        self.set_image("base", Setting::Text(base.clone()), place);
        if let Some(version) = r_version {
            self.set_image("r", Setting::Text(version), place);
        }
    }

    /// Sets a single-valued `[repositories]` key, as [`Self::set_image`].
    pub fn set_repository(&mut self, key: &str, value: &str, place: &str) {
        let value = Setting::Text(value.to_string());
        set_once(&mut self.repositories, key, value, place, &mut self.notes);
    }

    /// Appends a repository URL to the list `key` (`pypi`, `conda`, …), once.
    pub fn add_repository(&mut self, key: &str, url: &str) {
        let url = url.to_string();
        match self.repositories.iter_mut().find(|(k, _)| k == key) {
            Some((_, Setting::Words(urls))) if !urls.contains(&url) => urls.push(url),
            Some(_) => {}
            None => self
                .repositories
                .push((key.to_string(), Setting::Words(vec![url]))),
        }
    }

    /// Assumes `url` for the repositories `key` unless the import or the spec names some.
    pub fn fallback_repository(&mut self, key: &str, url: &str, place: &str, reason: &str) {
        if !self.fallback_repositories.iter().any(|(k, _, _)| k == key) {
            let note = Note {
                place: place.to_string(),
                text: format!("{key} = [\"{url}\"]"),
                reason: reason.to_string(),
            };
            self.fallback_repositories
                .push((key.to_string(), url.to_string(), note));
        }
    }

    /// Records that `text` at `place` was left out, and why.
    pub fn note(&mut self, place: &str, text: &str, reason: &str) {
        self.notes.push(Note {
            place: place.to_string(),
            text: one_line(text),
            reason: reason.to_string(),
        });
    }

    /// The layer called `name`, made (at the top) when missing.
    pub fn layer(&mut self, name: &str) -> &mut ImportedLayer {
        let index = match self.layers.iter().position(|l| l.name == name) {
            Some(index) => index,
            None => {
                self.layers.push(ImportedLayer::named(name));
                self.layers.len() - 1
            }
        };
        &mut self.layers[index]
    }

    /// Whether it says anything a spec would hold.
    pub fn is_empty(&self) -> bool {
        self.image.is_empty()
            && self.repositories.is_empty()
            && self.layers.iter().all(ImportedLayer::is_empty)
    }

    /// Takes in what `other` read (another file of the same import).
    fn absorb(&mut self, other: Imported) {
        for (key, value) in other.image {
            self.set_image(&key, value, "(import)");
        }
        for (key, value) in other.repositories {
            match value {
                Setting::Words(urls) => urls.iter().for_each(|u| self.add_repository(&key, u)),
                Setting::Text(text) => self.set_repository(&key, &text, "(import)"),
            }
        }
        for layer in other.layers {
            let target = self.layer(&layer.name);
            for (ecosystem, entries) in layer.lists {
                entries.into_iter().for_each(|e| target.push(ecosystem, e));
            }
            target.maven_provided.extend(layer.maven_provided);
            target.settings.extend(layer.settings);
            target.steps.extend(layer.steps);
        }
        self.notes.extend(other.notes);
        self.fallback_repositories
            .extend(other.fallback_repositories);
    }
}

fn set_once(
    settings: &mut Vec<(String, Setting)>,
    key: &str,
    value: Setting,
    place: &str,
    notes: &mut Vec<Note>,
) {
    match settings.iter().find(|(k, _)| k == key) {
        None => settings.push((key.to_string(), value)),
        Some((_, kept)) if *kept == value => {}
        Some((_, kept)) => notes.push(Note {
            place: place.to_string(),
            text: format!("{key} = {}", describe(&value)),
            reason: format!("kept the first value read, {}", describe(kept)),
        }),
    }
}

/// A setting as a note shows it.
fn describe(setting: &Setting) -> String {
    match setting {
        Setting::Text(text) => format!("\"{text}\""),
        Setting::Words(words) => format!("{words:?}"),
    }
}

/// A Docker Hub short name (`rocker/r-ver:3.4.2`) as a full reference
/// (`docker.io/rocker/r-ver:3.4.2`).
fn full_reference(image: &str) -> String {
    let first = image.split('/').next().unwrap_or_default();
    let registry = first.contains('.') || first.contains(':') || first == "localhost";
    match (image.contains('/'), registry) {
        (true, true) => image.to_string(),
        (true, false) => format!("docker.io/{image}"),
        (false, _) => format!("docker.io/library/{image}"),
    }
}

/// The first line of an error's text (some span several, pointing at a column).
pub fn first_line(error: impl fmt::Display) -> String {
    error
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// `text` on one line, shortened to 160 characters.
fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.char_indices().nth(160) {
        Some((cut, _)) => format!("{}…", &joined[..cut]),
        None => joined,
    }
}

/// Why a manifest could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "cannot tell what kind of manifest `{}` is: name it requirements.txt, environment.yml, \
         renv.lock, DESCRIPTION, pom.xml, cluster.json or Dockerfile, or say `--from KIND`",
        path.display()
    )]
    UnknownKind { path: PathBuf },
    #[error("`{}` is not a valid {kind}: {reason}", path.display())]
    Invalid {
        path: PathBuf,
        kind: &'static str,
        reason: String,
    },
    #[error("`{}` includes itself through `-r`/`-c` (a cycle of includes)", path.display())]
    IncludeCycle { path: PathBuf },
    #[error("nothing in {files} could be imported (each line left out is listed above)")]
    Nothing { files: String },
}

/// What the importers share: the file being read and the layer its packages go to.
pub struct Source<'a> {
    /// The manifest's path, as given.
    pub path: &'a Path,
    /// Its text.
    pub text: &'a str,
    /// The layer its packages go to (`--layer`, else the format's default).
    pub layer: &'a str,
    /// The folder of the spec being written (copy sources are made relative to it).
    pub spec_dir: &'a Path,
}

impl Source<'_> {
    /// `file:line` of the 1-based `line`.
    pub fn at(&self, line: usize) -> String {
        format!("{}:{line}", self.path.display())
    }

    /// An [`ImportError::Invalid`] of this file.
    pub fn invalid(&self, kind: &'static str, reason: impl fmt::Display) -> ImportError {
        ImportError::Invalid {
            path: self.path.to_path_buf(),
            kind,
            reason: reason.to_string(),
        }
    }
}

/// Reads `files` (each as `from`, else as its name or content says) into one [`Imported`].
pub fn read_files(
    files: &[PathBuf],
    from: Option<Kind>,
    layer: Option<&str>,
    spec_dir: &Path,
) -> Result<Imported, ImportError> {
    let mut imported = Imported::default();
    for path in files {
        let text = read_text(path)?;
        let kind = match from.or_else(|| Kind::detect(path, &text)) {
            Some(kind) => kind,
            None => return Err(ImportError::UnknownKind { path: path.clone() }),
        };
        let source = Source {
            path,
            text: &text,
            layer: layer.unwrap_or(kind.default_layer()),
            spec_dir,
        };
        imported.absorb(read_one(kind, &source)?);
    }
    Ok(imported)
}

fn read_one(kind: Kind, source: &Source) -> Result<Imported, ImportError> {
    match kind {
        Kind::Requirements => requirements::read(source),
        Kind::Environment => environment::read(source),
        Kind::Renv => renv::read(source),
        Kind::Description => description::read(source),
        Kind::Pom => pom::read(source),
        Kind::Cluster => cluster::read(source),
        Kind::Dockerfile => dockerfile::read(source),
    }
}

/// The text of `path`.
fn read_text(path: &Path) -> Result<String, ImportError> {
    std::fs::read_to_string(path).map_err(|source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The default base image for a new spec of `imported`: an R image of its R version, else
/// micromamba for conda, a JRE for Maven, else Python's.
pub fn default_base(imported: &Imported) -> String {
    let has = |e: Ecosystem| {
        imported
            .layers
            .iter()
            .any(|l| l.lists.iter().any(|(k, _)| *k == e))
    };
    let r_version = imported.image.iter().find_map(|(k, v)| match v {
        Setting::Text(version) if k == "r" => Some(version.clone()),
        _ => None,
    });
    if let Some(version) = r_version {
        format!("docker.io/rocker/r-ver:{version}")
    } else if [Ecosystem::Cran, Ecosystem::Bioconductor, Ecosystem::Github]
        .into_iter()
        .any(has)
    {
        starter::R_BASE.to_string()
    } else if has(Ecosystem::Conda) {
        "docker.io/mambaorg/micromamba:1.5.8".to_string()
    } else if has(Ecosystem::Maven) {
        "docker.io/library/eclipse-temurin:17-jre".to_string()
    } else {
        starter::DEFAULT_BASE.to_string()
    }
}
