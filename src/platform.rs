//! The image's platform (`[image] platform`, like `linux/amd64`), parsed once where the spec is
//! read; each ecosystem asks it for its own spelling of the architecture (wheel tags, conda
//! subdirs). A leaf module: it imports nothing of imglock.

use std::fmt;
use std::str::FromStr;

/// A Linux image platform: `linux/ARCH`, with an optional variant (`linux/arm/v7`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    arch: Arch,
    /// As written, for the lock and messages.
    text: String,
}

/// The CPU architectures of Linux images (OCI's `GOARCH` spellings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// `amd64` (x86_64).
    Amd64,
    /// `arm64` (aarch64).
    Arm64,
    /// `ppc64le`.
    Ppc64le,
    /// `s390x`.
    S390x,
    /// `arm` (32-bit).
    Arm,
    /// `386` (32-bit x86).
    I386,
}

impl Arch {
    /// The machine name the kernel reports (`uname -m`), which wheel tags and PEP 508's
    /// `platform_machine` use.
    pub fn machine(self) -> &'static str {
        match self {
            Self::Amd64 => "x86_64",
            Self::Arm64 => "aarch64",
            Self::Ppc64le => "ppc64le",
            Self::S390x => "s390x",
            Self::Arm => "armv7l",
            Self::I386 => "i686",
        }
    }

    /// Debian's name for it (`dpkg --print-architecture`), which apt's indexes are per.
    pub fn debian(self) -> &'static str {
        match self {
            Self::Amd64 => "amd64",
            Self::Arm64 => "arm64",
            Self::Ppc64le => "ppc64el",
            Self::S390x => "s390x",
            Self::Arm => "armhf",
            Self::I386 => "i386",
        }
    }

    /// conda's subdir for it, where conda publishes packages for it.
    pub fn conda_subdir(self) -> Option<&'static str> {
        match self {
            Self::Amd64 => Some("linux-64"),
            Self::Arm64 => Some("linux-aarch64"),
            Self::Ppc64le => Some("linux-ppc64le"),
            Self::S390x => Some("linux-s390x"),
            Self::Arm | Self::I386 => None,
        }
    }
}

impl Platform {
    /// Its CPU architecture.
    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// As written, like `linux/amd64`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Its OCI spelling, as image indexes name platforms: os, architecture and variant.
    pub fn oci_parts(&self) -> (&str, &str, Option<&str>) {
        let mut parts = self.text.split('/');
        let os = parts.next().unwrap_or_default();
        let architecture = parts.next().unwrap_or_default();
        (os, architecture, parts.next())
    }
}

impl Default for Platform {
    fn default() -> Self {
        Self {
            arch: Arch::Amd64,
            text: "linux/amd64".into(),
        }
    }
}

impl FromStr for Platform {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = text.split('/').collect();
        let arch = match parts.as_slice() {
            ["linux", arch] | ["linux", arch, _] => match *arch {
                "amd64" => Some(Arch::Amd64),
                "arm64" => Some(Arch::Arm64),
                "ppc64le" => Some(Arch::Ppc64le),
                "s390x" => Some(Arch::S390x),
                "arm" => Some(Arch::Arm),
                "386" => Some(Arch::I386),
                _ => None,
            },
            _ => None,
        };
        let variant_ok = parts
            .get(2)
            .is_none_or(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric()));
        match arch {
            Some(arch) if variant_ok => Ok(Self {
                arch,
                text: text.to_string(),
            }),
            _ => Err(format!(
                "image.platform `{text}` is not a Linux image platform: write `os/arch`, like `linux/amd64` or `linux/arm64`"
            )),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// As written, so the spec's hash is what it was when the platform was a string.
impl serde::Serialize for Platform {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ecosystem_gets_its_spelling_of_the_architecture() {
        let arm: Platform = "linux/arm64".parse().unwrap();
        assert_eq!(arm.arch().machine(), "aarch64");
        assert_eq!(arm.arch().conda_subdir(), Some("linux-aarch64"));
        let v7: Platform = "linux/arm/v7".parse().unwrap();
        assert_eq!(v7.arch().machine(), "armv7l");
        assert_eq!(v7.arch().conda_subdir(), None);
        assert_eq!(v7.to_string(), "linux/arm/v7");
        for bad in [
            "windows/amd64",
            "linux",
            "linux/mips",
            "linux/arm/",
            "linux/amd64/v2/x",
        ] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
    }
}
