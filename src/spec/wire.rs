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
    pub pypi: Option<OneOrMany>,
    pub conda: Option<OneOrMany>,
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
    pub cran: Vec<Spanned<String>>,
    #[serde(default)]
    pub bioconductor: Vec<Spanned<String>>,
    #[serde(default)]
    pub pypi: Vec<Spanned<String>>,
    #[serde(default)]
    pub conda: Vec<Spanned<String>>,
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
