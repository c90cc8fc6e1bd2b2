//! What a Maven artifact adds to its lock entry, and how the lock spells it.

use crate::lock::fields::{FieldWriter, PackageFields, Slot};
use crate::purl::{Identity, Purl};

/// The Maven facts of a locked artifact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MavenDetails {
    /// The chain of artifacts that brought it in, from a requested one.
    pub via: Vec<String>,
}

impl MavenDetails {
    /// Its purl: `pkg:maven/GROUP/ARTIFACT@VERSION?classifier=…&type=…`; the lock names it
    /// `group:artifact[:classifier]`, its type is its file's extension.
    pub fn purl(&self, id: &Identity<'_>) -> String {
        let mut parts = id.name.splitn(3, ':');
        let group = parts.next().unwrap_or_default();
        let artifact = parts.next().unwrap_or_default();
        let classifier = parts.next().unwrap_or_default();
        let file = id.url.rsplit('/').next().unwrap_or_default();
        let extension = file.rsplit_once('.').map_or("jar", |(_, e)| e);
        Purl::new("maven", artifact, id.version)
            .namespace(group)
            .qualifier("classifier", classifier)
            .qualifier("type", extension)
            .render()
    }

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
