//! What a Python package adds to its lock entry, and how the lock spells it.

use crate::lock::fields::{FieldWriter, PackageFields, Slot};

/// The PyPI facts of a locked package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PypiDetails {
    /// The environment markers of the requirements that brought it in (PEP 508), if any.
    pub markers: Vec<String>,
    /// For an sdist, the exact pins of its build environment (`name==version`, sorted), whose
    /// files are the layer's build packages; empty for a wheel.
    pub build_requires: Vec<String>,
}

impl PypiDetails {
    /// Takes its fields from a package table of the lock.
    pub fn read(fields: &mut PackageFields) -> Result<Self, String> {
        Ok(Self {
            markers: fields.strings("markers")?,
            build_requires: fields.strings("build-requires")?,
        })
    }

    /// Writes the fields that go in `slot` (the markers, then an sdist's build requirements,
    /// follow `requested`, when there are any).
    pub fn write(&self, slot: Slot, out: &mut FieldWriter<'_>) {
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
