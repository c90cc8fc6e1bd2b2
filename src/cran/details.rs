//! What an R package (CRAN or Bioconductor) adds to its lock entry, and how the lock spells it.

use crate::lock::fields::{FieldWriter, PackageFields, Slot};

/// The R facts of a locked package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RDetails {
    /// Whether it has code to compile (`NeedsCompilation`), as its index says.
    pub needs_compilation: Option<bool>,
    /// What it says it needs from the system (`SystemRequirements`), as written in its tarball.
    pub system_requirements: Option<String>,
}

impl RDetails {
    /// Takes its fields from a package table of the lock.
    pub fn read(fields: &mut PackageFields) -> Result<Self, String> {
        Ok(Self {
            needs_compilation: fields.boolean("needs-compilation")?,
            system_requirements: fields.string("system-requirements")?,
        })
    }

    /// Writes the fields that go in `slot` (all follow `requested`).
    pub fn write(&self, slot: Slot, out: &mut FieldWriter<'_>) {
        if slot != Slot::Requested {
            return;
        }
        if let Some(needs) = self.needs_compilation {
            out.plain("needs-compilation", needs);
        }
        if let Some(requirements) = &self.system_requirements {
            out.string("system-requirements", requirements);
        }
    }
}
