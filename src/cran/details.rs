//! What an R package (CRAN or Bioconductor) adds to its lock entry.

/// The R facts of a locked package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RDetails {
    /// Whether it has code to compile (`NeedsCompilation`), as its index says.
    pub needs_compilation: Option<bool>,
    /// What it says it needs from the system (`SystemRequirements`), as written in its tarball.
    pub system_requirements: Option<String>,
}
