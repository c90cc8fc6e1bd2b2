//! PyPI's part of the spec: `[image] python`, `manylinux`, `python-prefix` and `python-venv`,
//! `[repositories] pypi`.
//!
//! A leaf below the spec: it imports nothing of [`crate::spec`]. The interpreter and glibc levels
//! are read when Python packages are resolved (a spec without Python packages may leave them
//! unset or unread). Each check returns the span it is about and a message, which the spec
//! locates at file, line and column.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::dockerfile_values::{SpanProblem, checked_image_path};

/// An example of `python-prefix`, for messages: where Databricks images keep their virtualenv.
const PREFIX_EXAMPLE: &str = "/databricks/python3";

/// PyPI's keys of the `[image]` table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PypiImage {
    /// `python`: the interpreter of the base image, like `3.8`.
    pub python: Option<String>,
    /// `manylinux`: the image's glibc as a manylinux level (`2_17` when not set), for choosing
    /// wheels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manylinux: Option<String>,
    /// `python-prefix`: the Python environment packages are installed into (a virtualenv, or a
    /// prefix like conda's `/opt/conda`), whose `bin/python` runs pip; the image's `python3`
    /// when not set.
    #[serde(rename = "python_prefix", skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// `python-venv`: create `python-prefix` as a virtualenv when the image does not have it.
    #[serde(rename = "python_venv", skip_serializing_if = "Option::is_none")]
    pub venv: Option<PythonVenv>,
}

impl PypiImage {
    /// The keys, checked: `python-prefix` an absolute path in the image, `python-venv` a kind of
    /// virtualenv imglock creates, and only with a `python-prefix` to create it at.
    pub fn parse(
        python: Option<String>,
        manylinux: Option<String>,
        prefix: Option<Spanned<String>>,
        venv: Option<Spanned<String>>,
    ) -> Result<Self, SpanProblem> {
        let prefix = checked_image_path("image.python-prefix", prefix, PREFIX_EXAMPLE)?;
        let venv = match venv {
            None => None,
            Some(venv) => {
                let kind = venv.get_ref().parse().map_err(|m| (venv.span(), m))?;
                if prefix.is_none() {
                    return Err((
                        venv.span(),
                        format!(
                            "image.python-venv needs `python-prefix`, the path of the virtualenv to create, like `python-prefix = \"{PREFIX_EXAMPLE}\"`"
                        ),
                    ));
                }
                Some(kind)
            }
        };
        Ok(Self {
            python,
            manylinux,
            prefix,
            venv,
        })
    }
}

/// How `python-prefix` is created as a virtualenv when the image lacks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PythonVenv {
    /// `python3 -m venv --system-site-packages`: the virtualenv also sees the packages of the
    /// image's own Python (as the Databricks images make theirs).
    SystemSitePackages,
    /// `python3 -m venv`: only what is installed into it.
    Isolated,
}

impl PythonVenv {
    /// The name the spec and the lock give it.
    pub fn name(self) -> &'static str {
        match self {
            Self::SystemSitePackages => "system-site-packages",
            Self::Isolated => "isolated",
        }
    }
}

impl std::str::FromStr for PythonVenv {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        [Self::SystemSitePackages, Self::Isolated]
            .into_iter()
            .find(|kind| kind.name() == text)
            .ok_or_else(|| {
                format!(
                    "image.python-venv `{}` must be `system-site-packages` (the virtualenv also sees the image's own Python packages) or `isolated`",
                    text.escape_debug()
                )
            })
    }
}

/// PyPI's key of the `[repositories]` table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PypiRepositories {
    /// `pypi`: Python package indexes, in priority order: the first that has a project serves it
    /// (PyPI when empty).
    #[serde(rename = "pypi", skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<String>,
}
