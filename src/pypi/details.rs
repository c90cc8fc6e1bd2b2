//! What a Python package adds to its lock entry, and how the lock spells it.

use crate::lock::fields::{FieldWriter, PackageFields, Slot};

/// The PyPI facts of a locked package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PypiDetails {
    /// The environment markers of the requirements that brought it in (PEP 508), if any.
    pub markers: Vec<String>,
}

impl PypiDetails {
    /// Takes its fields from a package table of the lock.
    pub fn read(fields: &mut PackageFields) -> Result<Self, String> {
        Ok(Self {
            markers: fields.strings("markers")?,
        })
    }

    /// Writes the fields that go in `slot` (the markers follow `requested`, when there are any).
    pub fn write(&self, slot: Slot, out: &mut FieldWriter<'_>) {
        if slot == Slot::Requested && !self.markers.is_empty() {
            out.strings("markers", &self.markers);
        }
    }
}
