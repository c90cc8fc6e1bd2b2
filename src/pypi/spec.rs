//! PyPI's part of the spec: `[image] python` and `manylinux`, `[repositories] pypi`.
//!
//! A leaf below the spec: it imports nothing of [`crate::spec`]. The interpreter and glibc levels
//! are read when Python packages are resolved (a spec without Python packages may leave them
//! unset or unread).

use serde::Serialize;

/// PyPI's keys of the `[image]` table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PypiImage {
    /// `python`: the interpreter of the base image, like `3.8`.
    pub python: Option<String>,
    /// `manylinux`: the image's glibc as a manylinux level (`2_17` when not set), for choosing
    /// wheels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manylinux: Option<String>,
}

/// PyPI's key of the `[repositories]` table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PypiRepositories {
    /// `pypi`: Python package indexes, in priority order: the first that has a project serves it
    /// (PyPI when empty).
    #[serde(rename = "pypi", skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<String>,
}
