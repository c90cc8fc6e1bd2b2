//! What a Maven artifact adds to its lock entry, and how the lock spells it.

use crate::lock::fields::{FieldWriter, PackageFields, Slot};

/// The Maven facts of a locked artifact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MavenDetails {
    /// The chain of artifacts that brought it in, from a requested one.
    pub via: Vec<String>,
}

impl MavenDetails {
    /// Takes its fields from a package table of the lock.
    pub fn read(fields: &mut PackageFields) -> Result<Self, String> {
        Ok(Self {
            via: fields.strings("via")?,
        })
    }

    /// Writes the fields that go in `slot` (the path follows `dependencies`, when there is one).
    pub fn write(&self, slot: Slot, out: &mut FieldWriter<'_>) {
        if slot == Slot::Dependencies && !self.via.is_empty() {
            out.strings("via", &self.via);
        }
    }
}
