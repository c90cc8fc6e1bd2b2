//! What an R package (CRAN, Bioconductor or GitHub) adds to its lock entry, and how the lock
//! spells it.

use super::github::source::GithubSource;
use crate::lock::fields::{FieldWriter, PackageFields, Slot};
use crate::purl::{Identity, Purl};

/// The R facts of a locked package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RDetails {
    /// The sha256 of the binary a build of this source made, recorded from a built image
    /// (`imglock verify IMAGE --record-binaries`): the only binary of it the installer takes
    /// from the binary cache. Valid for the lock's R version, platform and base image, the
    /// inputs of the cache key ([`super::cache_key::binary_cache_key`]).
    pub binary_sha256: Option<String>,
    /// Whether it has code to compile (`NeedsCompilation`), as its index says.
    pub needs_compilation: Option<bool>,
    /// What it says it needs from the system (`SystemRequirements`), as written in its tarball.
    pub system_requirements: Option<String>,
    /// Where a GitHub package's source is (its repository and commit); `None` for CRAN and
    /// Bioconductor packages.
    pub github: Option<GithubSource>,
    /// The locked packages its `LinkingTo` names, sorted: what its compiled code is built
    /// against, part of its binary cache key. `None` when unknown: a lock written before
    /// imglock recorded it (`linking-to`), for a package that may compile code.
    pub linking_to: Option<Vec<String>>,
}

impl RDetails {
    /// Its purl: `pkg:github/OWNER/REPO@COMMIT#SUBDIR` for a GitHub package, else
    /// `pkg:bioconductor/…` or `pkg:cran/…` (`bioconductor` says which).
    pub fn purl(&self, bioconductor: bool, id: &Identity<'_>) -> String {
        if let Some(github) = &self.github {
            let (owner, repo) = github.repo.split_once('/').unwrap_or(("", &github.repo));
            return Purl::new("github", &repo.to_lowercase(), &github.commit)
                .namespace(&owner.to_lowercase())
                .subpath(github.subdir.as_deref())
                .render();
        }
        let kind = if bioconductor { "bioconductor" } else { "cran" };
        Purl::new(kind, id.name, id.version).render()
    }

    /// Takes its fields from a package table of the lock.
    pub fn read(fields: &mut PackageFields) -> Result<Self, String> {
        Ok(Self {
            binary_sha256: fields.sha256("binary-sha256")?,
            needs_compilation: fields.boolean("needs-compilation")?,
            system_requirements: fields.string("system-requirements")?,
            github: None,
            linking_to: fields.optional_strings("linking-to")?,
        })
    }

    /// Takes a GitHub package's fields: an R package's, and its [`GithubSource`].
    pub fn read_github(fields: &mut PackageFields) -> Result<Self, String> {
        let github = GithubSource::read(fields)?;
        Ok(Self {
            github: Some(github),
            ..Self::read(fields)?
        })
    }

    /// Writes the fields that go in `slot`: the binary's sha256 and a GitHub package's source
    /// beside the source's sha256 (after `size`), the rest after `requested`.
    pub fn write(&self, slot: Slot, out: &mut FieldWriter<'_>) {
        match slot {
            Slot::Artifact => {
                if let Some(binary) = &self.binary_sha256 {
                    out.string("binary-sha256", binary);
                }
                if let Some(github) = &self.github {
                    github.write(out);
                }
            }
            Slot::Requested => {
                if let Some(needs) = self.needs_compilation {
                    out.plain("needs-compilation", needs);
                }
                if let Some(requirements) = &self.system_requirements {
                    out.string("system-requirements", requirements);
                }
                // Written for every package that may compile code (empty too: then an absent
                // list means a lock from before it was recorded) and for any that names one.
                if let Some(linking_to) = &self.linking_to
                    && (self.needs_compilation != Some(false) || !linking_to.is_empty())
                {
                    out.strings("linking-to", linking_to);
                }
            }
            Slot::Dependencies => {}
        }
    }
}
