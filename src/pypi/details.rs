//! What a Python package adds to its lock entry, and how the lock spells it.

use crate::lock::fields::{FieldWriter, PackageFields, Slot};
use crate::purl::{Identity, Purl};

/// The PyPI facts of a locked package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PypiDetails {
    /// The environment markers of the requirements that brought it in (PEP 508), if any.
    pub markers: Vec<String>,
    /// For an sdist, the exact pins of its build environment (`name==version`, sorted), whose
    /// files are the layer's build packages; empty for a wheel.
    pub build_requires: Vec<String>,
    /// For an sdist, the sha256 of the wheel a build of it made, recorded from a built image
    /// (`imglock verify IMAGE --record-binaries`): the only wheel of it the step takes from the
    /// wheel cache. Valid for the lock's wheel cache key (Python, platform and base image).
    pub binary_sha256: Option<String>,
    /// For a git direct reference, where its source archive comes from (see
    /// [`super::git`]); `None` for a file from an index or a URL.
    pub git: Option<super::git_source::GitSource>,
}

impl PypiDetails {
    /// Its purl: `pkg:pypi/NAME@VERSION` (the name lowercase, `_` as `-`), with `vcs_url` for a
    /// git reference and `download_url` for a direct URL one (whose repository is its URL).
    pub fn purl(&self, id: &Identity<'_>) -> String {
        let name = id.name.to_lowercase().replace('_', "-");
        let purl = Purl::new("pypi", &name, id.version);
        match &self.git {
            Some(git) => purl.qualifier("vcs_url", format!("git+{}@{}", git.url, git.commit)),
            None if id.repository == id.url => purl.qualifier("download_url", id.url),
            None => purl,
        }
        .render()
    }

    /// Takes its fields from a package table of the lock.
    pub fn read(fields: &mut PackageFields) -> Result<Self, String> {
        Ok(Self {
            markers: fields.strings("markers")?,
            build_requires: fields.strings("build-requires")?,
            binary_sha256: fields.sha256("binary-sha256")?,
            git: super::git_source::GitSource::read(fields)?,
        })
    }

    /// Writes the fields that go in `slot`: an sdist's wheel sha256 beside its own (after
    /// `size`), and a git package's source; the markers, then an sdist's build requirements, after `requested`, when there
    /// are any.
    pub fn write(&self, slot: Slot, out: &mut FieldWriter<'_>) {
        if slot == Slot::Artifact
            && let Some(binary) = &self.binary_sha256
        {
            out.string("binary-sha256", binary);
        }
        if slot == Slot::Artifact
            && let Some(git) = &self.git
        {
            git.write(out);
        }
        if slot != Slot::Requested {
            return;
        }
        if !self.markers.is_empty() {
            out.strings("markers", &self.markers);
        }
        if !self.build_requires.is_empty() {
            out.strings("build-requires", &self.build_requires);
        }
    }
}
