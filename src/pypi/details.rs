//! What a Python package adds to its lock entry.

/// The PyPI facts of a locked package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PypiDetails {
    /// The environment markers of the requirements that brought it in (PEP 508), if any.
    pub markers: Vec<String>,
}
