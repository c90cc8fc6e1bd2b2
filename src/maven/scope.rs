//! A dependency's scope, read once from the effective POM (or the spec's list) and compared as a
//! value from then on.
//!
//! An unknown scope is kept as written, as Maven's resolver keeps it: `JavaScopeDeriver`
//! (maven-resolver, used by Maven 3) derives a child's scope from its parent's by comparing the
//! known names only, so an unknown scope below a `compile` dependency stays itself, and any
//! dependency below an unknown scope becomes `runtime`; no classpath includes an unknown scope,
//! so such an artifact itself is never installed.

use std::fmt;

/// A Maven dependency scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `compile`, the default: needed to build and run, and passed on to dependents.
    Compile,
    /// `provided`: the runtime ships it (like Spark), so it and its tree are not installed.
    Provided,
    /// `runtime`: needed to run but not to compile against.
    Runtime,
    /// `test`: only for the project's own tests; never installed.
    Test,
    /// `system`: a jar already on the machine, named by `systemPath`; left out, never fetched.
    System,
    /// Only in dependency management, on a `pom` dependency: a BOM to merge in.
    Import,
    /// A scope Maven does not know, as written.
    Other(String),
}

impl Scope {
    /// The scope written in a POM: `compile` when none is written.
    pub fn parse(text: Option<&str>) -> Self {
        match text.map(str::trim) {
            None | Some("") | Some("compile") => Self::Compile,
            Some("provided") => Self::Provided,
            Some("runtime") => Self::Runtime,
            Some("test") => Self::Test,
            Some("system") => Self::System,
            Some("import") => Self::Import,
            Some(other) => Self::Other(other.to_string()),
        }
    }

    /// Its name in a POM.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Compile => "compile",
            Self::Provided => "provided",
            Self::Runtime => "runtime",
            Self::Test => "test",
            Self::System => "system",
            Self::Import => "import",
            Self::Other(text) => text,
        }
    }

    /// Whether a dependency of this scope is on the runtime classpath, the one an image needs.
    pub fn is_runtime_classpath(&self) -> bool {
        matches!(self, Self::Compile | Self::Runtime)
    }

    /// Whether a dependency declared with this scope is left out of its dependent's tree:
    /// `test`, `provided` and `system` dependencies are not transitive.
    pub fn is_not_transitive(&self) -> bool {
        matches!(self, Self::Test | Self::Provided | Self::System)
    }

    /// The scope a dependency declared with `declared` gets below a dependency of this scope
    /// (`None` when it is left out), as `JavaScopeDeriver` derives it.
    pub fn derive(&self, declared: &Self) -> Option<Self> {
        if declared.is_not_transitive() {
            return None;
        }
        match (self, declared) {
            (Self::Compile, Self::Compile) => Some(Self::Compile),
            (Self::Compile, Self::Other(text)) => Some(Self::Other(text.clone())),
            (Self::Compile, _) | (Self::Runtime | Self::Other(_), _) => Some(Self::Runtime),
            (Self::Provided, _) => Some(Self::Provided),
            (Self::Test, _) => Some(Self::Test),
            (Self::System | Self::Import, _) => None,
        }
    }

    /// Of the scopes an artifact was reached with, the one Maven mediates to: the widest of
    /// compile, runtime, provided and test, else the first other one.
    pub fn widest<'a>(scopes: impl IntoIterator<Item = &'a Self>) -> Option<Self> {
        let scopes: Vec<&Self> = scopes.into_iter().collect();
        [Self::Compile, Self::Runtime, Self::Provided, Self::Test]
            .into_iter()
            .find(|known| scopes.contains(&known))
            .or_else(|| {
                scopes
                    .into_iter()
                    .find(|s| matches!(s, Self::Other(_)))
                    .cloned()
            })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_scope_and_keeps_unknown_ones() {
        assert_eq!(Scope::parse(None), Scope::Compile);
        assert_eq!(Scope::parse(Some(" runtime ")), Scope::Runtime);
        assert_eq!(Scope::parse(Some("import")), Scope::Import);
        assert_eq!(
            Scope::parse(Some("bundle")),
            Scope::Other("bundle".to_string())
        );
    }

    #[test]
    fn derives_like_maven() {
        let other = Scope::Other("bundle".to_string());
        assert_eq!(Scope::Compile.derive(&Scope::Runtime), Some(Scope::Runtime));
        assert_eq!(Scope::Compile.derive(&other), Some(other.clone()));
        assert_eq!(other.derive(&Scope::Compile), Some(Scope::Runtime));
        assert_eq!(
            Scope::Provided.derive(&Scope::Compile),
            Some(Scope::Provided)
        );
        assert_eq!(Scope::Compile.derive(&Scope::Test), None);
        assert!(!other.is_runtime_classpath());
    }
}
