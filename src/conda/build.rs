//! What a conda package adds to its lock entry: the build that identifies it beyond its name and
//! version, and what its record declares; and how the lock spells it.

use crate::lock::fields::{FieldWriter, PackageFields, Slot};
use crate::purl::{Identity, Purl};

/// The conda facts of a locked package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondaBuild {
    pub build: String,
    pub build_number: u64,
    pub subdir: String,
    pub md5: Option<String>,
    /// The record's `depends`, as match specs.
    pub depends: Vec<String>,
}

impl CondaBuild {
    /// Its purl: `pkg:conda/NAME@VERSION?build=…&channel=…&subdir=…&type=conda|tar.bz2`.
    pub fn purl(&self, id: &Identity<'_>) -> String {
        let kind = if id.url.ends_with(".conda") {
            "conda"
        } else {
            "tar.bz2"
        };
        Purl::new("conda", id.name, id.version)
            .qualifier("build", &self.build)
            .qualifier("channel", id.repository)
            .qualifier("subdir", &self.subdir)
            .qualifier("type", kind)
            .render()
    }

    /// Takes its fields from a package table of the lock: `build`, `build-number` and `subdir`
    /// are required.
    pub fn read(fields: &mut PackageFields) -> Result<Self, String> {
        let md5 = fields.string("md5")?;
        let depends = fields.strings("depends")?;
        let (Some(build), Some(build_number), Some(subdir)) = (
            fields.string("build")?,
            fields.count("build-number")?,
            fields.string("subdir")?,
        ) else {
            return Err("lacks one of `build`, `build-number` and `subdir`".into());
        };
        Ok(Self {
            build,
            build_number,
            subdir,
            md5,
            depends,
        })
    }

    /// Writes the fields that go in `slot`: the build after `size`, `depends` after
    /// `dependencies`.
    pub fn write(&self, slot: Slot, out: &mut FieldWriter<'_>) {
        match slot {
            Slot::Artifact => {
                if let Some(md5) = &self.md5 {
                    out.string("md5", md5);
                }
                out.string("build", &self.build);
                out.plain("build-number", self.build_number);
                out.string("subdir", &self.subdir);
            }
            Slot::Dependencies if !self.depends.is_empty() => {
                out.strings("depends", &self.depends);
            }
            Slot::Requested | Slot::Dependencies => {}
        }
    }
}
