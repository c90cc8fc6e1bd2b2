//! What a Maven artifact adds to its lock entry.

/// The Maven facts of a locked artifact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MavenDetails {
    /// The chain of artifacts that brought it in, from a requested one.
    pub via: Vec<String>,
}
