//! What a conda package adds to its lock entry: the build that identifies it beyond its name and
//! version, and what its record declares.

/// The conda facts of a locked package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondaBuild {
    pub build: String,
    pub build_number: u64,
    pub subdir: String,
    pub md5: Option<String>,
    /// The record's `depends`, as match specs.
    pub depends: Vec<String>,
}
