//! apt's part of the spec: `[repositories] apt` (sources in the one-line form,
//! `"URI SUITE COMPONENT…"` with or without the leading `deb` and `[options]`),
//! `[repositories] apt-keyring` (keyring files the Releases may be signed with, relative to the
//! spec), a layer's `apt` requests (Debian relations, like `openjdk-17-jdk` or
//! `ca-certificates-java (= 20230710~deb12u1)`) and `apt-recommends`.
//!
//! A leaf below the spec: it imports nothing of [`crate::spec`]. Each check returns the span it
//! is about and a message, which the spec locates at file, line and column.

use serde::Serialize;
use toml::Spanned;

use super::sources::parse_one_line;
use crate::dockerfile_values::SpanProblem;

/// apt's keys of the `[repositories]` table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AptRepositories {
    /// `apt`: sources in the one-line form, in order; empty for the base image's own
    /// `/etc/apt/sources.list(.d)`.
    #[serde(rename = "apt", skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// `apt-keyring`: keyring files (binary or armored OpenPGP keys, relative to the spec) the
    /// sources' Releases may be signed with, besides the base image's trusted keyrings.
    #[serde(rename = "apt_keyring", skip_serializing_if = "Vec::is_empty")]
    pub keyrings: Vec<String>,
}

impl AptRepositories {
    /// The keys, checked: every source line reads as one.
    pub fn parse(
        sources: Option<Spanned<Vec<String>>>,
        keyrings: Vec<String>,
    ) -> Result<Self, SpanProblem> {
        let Some(sources) = sources else {
            return Ok(Self {
                sources: Vec::new(),
                keyrings,
            });
        };
        let span = sources.span();
        let sources = sources.into_inner();
        parse_one_line(sources.iter().map(String::as_str), "repositories.apt")
            .map_err(|error| (span, error.to_string()))?;
        Ok(Self { sources, keyrings })
    }
}

/// apt's settings of one `[[layer]]`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AptLayer {
    /// `apt-recommends`: whether the packages the layer's requests recommend are installed too
    /// (apt's default; imglock's is off, as `apt-get install --no-install-recommends`).
    #[serde(rename = "apt_recommends", skip_serializing_if = "std::ops::Not::not")]
    pub recommends: bool,
}
