//! What a Debian package adds to its lock entry, and how the lock spells it:
//!
//! ```toml
//! architecture = "amd64"
//! source = "libxml2"
//! source-version = "2.9.14+dfsg-1.3~deb12u1"   # only when it differs from `version` (binNMUs)
//! suite = "bookworm-security"
//! ...
//! via = ["r-base-dev", "libblas-dev"]           # after `dependencies`
//! ```

use crate::lock::fields::{FieldWriter, PackageFields, Slot};
use crate::purl::{Identity, Purl};

/// The Debian facts of a locked .deb.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AptDetails {
    /// `Architecture`: the platform's (`amd64`) or `all`.
    pub architecture: String,
    /// The source package it was built from (`Source`, or its own name when not given).
    pub source: String,
    /// The source package's version, when it differs from the binary's (a binNMU's `+b1`).
    pub source_version: Option<String>,
    /// The suite whose index listed it (`bookworm`, `bookworm-security`): where its version came
    /// from, which a review of a security update wants to see.
    pub suite: String,
    /// The chain of packages that brought it in, from a requested one; empty when requested.
    pub via: Vec<String>,
}

impl AptDetails {
    /// Its purl: `pkg:deb/debian/NAME@VERSION?arch=…&distro=SUITE` (`ubuntu` for a repository
    /// of Ubuntu's).
    pub fn purl(&self, id: &Identity<'_>) -> String {
        let vendor = if id.repository.contains("ubuntu") {
            "ubuntu"
        } else {
            "debian"
        };
        Purl::new("deb", id.name, id.version)
            .namespace(vendor)
            .qualifier("arch", &self.architecture)
            .qualifier("distro", &self.suite)
            .render()
    }

    /// Takes its fields from a package table of the lock.
    pub fn read(fields: &mut PackageFields) -> Result<Self, String> {
        let source_version = fields.string("source-version")?;
        let via = fields.strings("via")?;
        let (Some(architecture), Some(source), Some(suite)) = (
            fields.string("architecture")?,
            fields.string("source")?,
            fields.string("suite")?,
        ) else {
            return Err("lacks one of `architecture`, `source` and `suite`".into());
        };
        Ok(Self {
            architecture,
            source,
            source_version,
            suite,
            via,
        })
    }

    /// Writes the fields that go in `slot`: what identifies the .deb after `size`, `via` after
    /// `dependencies`.
    pub fn write(&self, slot: Slot, out: &mut FieldWriter<'_>) {
        match slot {
            Slot::Artifact => {
                out.string("architecture", &self.architecture);
                out.string("source", &self.source);
                if let Some(version) = &self.source_version {
                    out.string("source-version", version);
                }
                out.string("suite", &self.suite);
            }
            Slot::Requested => {}
            Slot::Dependencies => {
                if !self.via.is_empty() {
                    out.strings("via", &self.via);
                }
            }
        }
    }

    /// The source package's version: its own, else the binary's `version`.
    pub fn source_version<'a>(&'a self, version: &'a str) -> &'a str {
        self.source_version.as_deref().unwrap_or(version)
    }

    /// Whether its version came from a security suite (`bookworm-security`, Ubuntu's
    /// `jammy-security`).
    pub fn from_security_suite(&self) -> bool {
        self.suite.ends_with("-security") || self.suite.ends_with("/updates")
    }
}
