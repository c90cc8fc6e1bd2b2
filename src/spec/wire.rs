//! The file format as written, checked by serde; turned into [`super::Spec`] by
//! [`super::Spec::parse`].

use serde::Deserialize;
use toml::Spanned;

use crate::maven::spec::MavenEntry;
use crate::url_files::spec::FileEntry;

/// The whole file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Spec {
    /// Read by hand (`super::family`), so a wrong shape gets a message that shows the right one.
    pub extends: Option<Spanned<toml::Value>>,
    pub image: Spanned<Image>,
    pub repositories: Option<Repositories>,
    #[serde(default)]
    pub layer: Vec<Layer>,
}

impl Image {
    /// The keys a child image shares with its parent, by name: all but `name`, `entrypoint`
    /// and `cmd` (the child's own).
    pub fn shared_keys(&mut self) -> [(&'static str, &mut Option<Spanned<String>>); 12] {
        [
            ("base", &mut self.base),
            ("platform", &mut self.platform),
            ("r", &mut self.r),
            ("r-library", &mut self.r_library),
            ("python", &mut self.python),
            ("manylinux", &mut self.manylinux),
            ("python-prefix", &mut self.python_prefix),
            ("python-venv", &mut self.python_venv),
            ("glibc", &mut self.glibc),
            ("cuda", &mut self.cuda),
            ("conda-prefix", &mut self.conda_prefix),
            ("conda-installer", &mut self.conda_installer),
        ]
    }
}

/// The `[image]` table. In a spec that `extends` another, every key left out is the parent's
/// ([`super::family`]).
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct Image {
    pub name: String,
    pub base: Option<Spanned<String>>,
    pub platform: Option<Spanned<String>>,
    pub r: Option<Spanned<String>>,
    pub r_library: Option<Spanned<String>>,
    pub python: Option<Spanned<String>>,
    pub manylinux: Option<Spanned<String>>,
    pub python_prefix: Option<Spanned<String>>,
    pub python_venv: Option<Spanned<String>>,
    pub glibc: Option<Spanned<String>>,
    pub cuda: Option<Spanned<String>>,
    pub conda_prefix: Option<Spanned<String>>,
    pub conda_installer: Option<Spanned<String>>,
    pub entrypoint: Option<Spanned<Vec<String>>>,
    pub cmd: Option<Spanned<Vec<String>>>,
}

/// The `[repositories]` table.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct Repositories {
    pub apt: Option<Spanned<Vec<String>>>,
    pub apt_keyring: Option<OneOrMany>,
    pub cran: Option<OneOrMany>,
    pub bioconductor: Option<Spanned<String>>,
    pub cran_snapshot: Option<Spanned<String>>,
    pub pypi: Option<OneOrMany>,
    pub conda: Option<OneOrMany>,
    pub conda_channel_priority: Option<Spanned<String>>,
    pub maven: Option<OneOrMany>,
    pub github: Option<Spanned<String>>,
}

/// A list of repositories, or one written as a string.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    /// The repositories, in order.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(one) => vec![one],
            Self::Many(many) => many,
        }
    }
}

/// One `[[layer]]`: its name, and each ecosystem's lists and settings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct Layer {
    pub name: Spanned<String>,
    #[serde(default)]
    pub apt: Vec<Spanned<String>>,
    pub apt_recommends: Option<bool>,
    #[serde(default)]
    pub cran: Vec<Spanned<Entry<RSourced>>>,
    #[serde(default)]
    pub bioconductor: Vec<Spanned<Entry<RSourced>>>,
    #[serde(default)]
    pub pypi: Vec<Spanned<Entry<PypiSourced>>>,
    #[serde(default)]
    pub conda: Vec<Spanned<Entry<CondaSourced>>>,
    #[serde(default)]
    pub maven: Vec<Spanned<MavenEntry>>,
    pub maven_target: Option<Spanned<String>>,
    #[serde(default)]
    pub maven_provided: Vec<Spanned<String>>,
    #[serde(default)]
    pub github: Vec<Spanned<String>>,
    #[serde(default)]
    pub files: Vec<Spanned<FileEntry>>,
    #[serde(default)]
    pub steps: Vec<Spanned<crate::custom_steps::spec::StepTable>>,
}

/// An entry of a layer's `cran`, `bioconductor`, `pypi` or `conda` list: a requirement, or a
/// table naming the package and the one repository it comes from (in the words of the
/// ecosystem's own tools: CRAN's `repository`, uv's `index`, conda's `channel`).
#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "expected a requirement string, or a table naming the package and where it comes from, like `{ name = \"hwriterPlus\", repository = \"https://…\" }` (`cran`, `bioconductor`), `{ requirement = \"torch==2.1.0\", index = \"https://…\" }` (`pypi`) or `{ name = \"skorch\", channel = \"conda-forge\" }` (`conda`)"
)]
pub(super) enum Entry<T> {
    /// A requirement, in the ecosystem's grammar.
    Plain(String),
    /// A requirement and where it comes from.
    Sourced(T),
}

impl<T: Sourced> Entry<T> {
    /// The requirement, trimmed, and the repository it alone comes from, when one is named.
    pub fn parts(&self) -> (String, Option<String>) {
        match self {
            Self::Plain(text) => (text.trim().to_string(), None),
            Self::Sourced(table) => {
                let (text, repository) = table.parts();
                (text.trim().to_string(), Some(repository.trim().to_string()))
            }
        }
    }
}

/// A table entry: its requirement and the repository it names.
pub(super) trait Sourced {
    /// The requirement and the repository, as written.
    fn parts(&self) -> (&str, &str);
}

/// `{ name = "hwriterPlus", repository = "https://…" }`: a CRAN or Bioconductor package from
/// one CRAN-like repository (the name may carry a version constraint, `"rlang (>= 1.1)"`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RSourced {
    name: String,
    repository: String,
}

impl Sourced for RSourced {
    fn parts(&self) -> (&str, &str) {
        (&self.name, &self.repository)
    }
}

/// `{ requirement = "torch==2.1.0", index = "https://download.pytorch.org/whl/cpu" }`: a PyPI
/// requirement from one index, as uv's `[tool.uv.sources]` with an `explicit` index.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PypiSourced {
    requirement: String,
    index: String,
}

impl Sourced for PypiSourced {
    fn parts(&self) -> (&str, &str) {
        (&self.requirement, &self.index)
    }
}

/// `{ name = "skorch", channel = "conda-forge" }`: a conda match spec from one channel (the
/// table form of `conda-forge::skorch`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CondaSourced {
    name: String,
    channel: String,
}

impl Sourced for CondaSourced {
    fn parts(&self) -> (&str, &str) {
        (&self.name, &self.channel)
    }
}
