//! How a spec names its base image (`[image] base`), and how the lock pins it.
//!
//! A registry image is written as Docker and buildah write it, `[registry[:port]/]path[:tag]`
//! with an optional `@sha256:<digest>`; a tag alone is allowed and `imglock resolve` pins it. A
//! local image uses skopeo's transport names: `oci:PATH` (an OCI layout folder),
//! `oci-archive:PATH` (a tar of one) or `docker-archive:PATH` (a `docker save` tar), PATH
//! relative to the spec's folder, again with an optional `@sha256:<digest>` (of the manifest
//! `index.json` names, or for `docker-archive` of the image's configuration, its image ID).
//! skopeo's `oci:PATH:REFERENCE` form is not read: a layout is pinned by digest instead.

use std::fmt;

use crate::dockerfile_values::{check_image_reference, check_one_line};

/// A base image, as the spec or the lock names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseReference {
    /// An image in an OCI registry.
    Registry {
        /// `[registry[:port]/]path[:tag]`, as written.
        name: String,
        /// `sha256:<hex>`, when pinned.
        digest: Option<String>,
    },
    /// An image in a local file or folder.
    Local {
        /// What kind of file it is.
        transport: Transport,
        /// Where, as written (relative to the spec's folder unless absolute).
        path: String,
        /// `sha256:<hex>`, when pinned.
        digest: Option<String>,
    },
}

/// The kinds of local image, by skopeo's transport names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `oci:`: an OCI image layout folder.
    Oci,
    /// `oci-archive:`: a tar of an OCI image layout.
    OciArchive,
    /// `docker-archive:`: a `docker save` tar.
    DockerArchive,
}

impl Transport {
    const ALL: [Self; 3] = [Self::Oci, Self::OciArchive, Self::DockerArchive];

    /// Its name, as skopeo spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Oci => "oci",
            Self::OciArchive => "oci-archive",
            Self::DockerArchive => "docker-archive",
        }
    }
}

impl BaseReference {
    /// `text` read as a base image reference; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (named, digest) = split_digest(text)?;
        for transport in Transport::ALL {
            if let Some(path) = named.strip_prefix(&format!("{}:", transport.name())) {
                check_one_line("image.base", path)?;
                if path.is_empty() || path.chars().any(char::is_whitespace) {
                    return Err(format!(
                        "`{}` names no path, or one with white space (a Dockerfile's `FROM` cannot hold it): write `{}:PATH`",
                        text.escape_debug(),
                        transport.name()
                    ));
                }
                return Ok(Self::Local {
                    transport,
                    path: path.to_string(),
                    digest,
                });
            }
        }
        check_image_reference(text)?;
        Ok(Self::Registry {
            name: named.to_string(),
            digest,
        })
    }

    /// The digest it is pinned to, if any.
    pub fn digest(&self) -> Option<&str> {
        match self {
            Self::Registry { digest, .. } | Self::Local { digest, .. } => digest.as_deref(),
        }
    }

    /// The same image pinned to `digest`.
    pub fn pinned(&self, new: &str) -> Self {
        let mut pinned = self.clone();
        match &mut pinned {
            Self::Registry { digest, .. } | Self::Local { digest, .. } => {
                *digest = Some(new.to_string())
            }
        }
        pinned
    }

    /// What a Dockerfile's `FROM` names: a registry image with its digest; a local image by its
    /// transport and path (buildah reads those; a `FROM` cannot carry a local image's digest).
    pub fn from_line(&self) -> String {
        match self {
            Self::Registry { .. } => self.to_string(),
            Self::Local {
                transport, path, ..
            } => format!("{}:{path}", transport.name()),
        }
    }
}

/// `text` split at `@`: the name, and a well-formed `sha256:<64 lowercase hex>` digest if any.
fn split_digest(text: &str) -> Result<(&str, Option<String>), String> {
    let Some((named, digest)) = text.rsplit_once('@') else {
        return Ok((text, None));
    };
    let hex = digest.strip_prefix("sha256:").unwrap_or("");
    let lowercase_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if hex.len() != 64 || !hex.bytes().all(lowercase_hex) {
        return Err(format!(
            "`{}` has a malformed digest: after `@` comes `sha256:` and 64 lowercase hexadecimal digits",
            text.escape_debug()
        ));
    }
    Ok((named, Some(digest.to_string())))
}

impl fmt::Display for BaseReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Registry { name, .. } => f.write_str(name)?,
            Self::Local {
                transport, path, ..
            } => write!(f, "{}:{path}", transport.name())?,
        }
        match self.digest() {
            Some(digest) => write!(f, "@{digest}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_and_local_references_read_back_as_written() {
        let hex = "ab".repeat(32);
        for text in [
            "rocker/r-ver:4.2.2".to_string(),
            format!("rocker/r-ver:4.2.2@sha256:{hex}"),
            format!("127.0.0.1:5000/base@sha256:{hex}"),
            "oci:images/base".to_string(),
            format!("oci-archive:base.tar@sha256:{hex}"),
            "docker-archive:/tmp/base.tar".to_string(),
        ] {
            let reference = BaseReference::parse(&text).unwrap();
            assert_eq!(reference.to_string(), text);
        }
        let local = BaseReference::parse("oci:images/base").unwrap();
        assert_eq!(
            local.pinned(&format!("sha256:{hex}")).to_string(),
            format!("oci:images/base@sha256:{hex}")
        );
        assert_eq!(local.from_line(), "oci:images/base");
        for bad in ["oci:", "rocker/r-ver@sha256:abc", "Rocker/R", "oci:a\nb"] {
            assert!(BaseReference::parse(bad).is_err(), "{bad}");
        }
    }
}
