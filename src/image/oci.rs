//! The manifests of an image: a `docker save` tar's `manifest.json`, or an OCI layout's
//! `index.json` and the (possibly nested) indexes and image manifest it names. Every manifest,
//! configuration and layer named by a digest is checked against it as it is read.

use std::io::Read;

use serde::Deserialize;

use super::blobs::Blobs;
use super::digest::{Expected, Hashing};
use super::{ImageError, MAX_MANIFEST_BYTES, Reader};
use crate::platform::Platform;

#[derive(Deserialize)]
struct DockerManifestEntry {
    #[serde(rename = "Config", default)]
    config: Option<String>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

#[derive(Deserialize)]
struct OciIndex {
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct OciManifest {
    #[serde(default)]
    manifests: Vec<Descriptor>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

#[derive(Deserialize, Clone)]
pub(super) struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    platform: Option<DescriptorPlatform>,
}

/// The platform an index names for one of its manifests.
#[derive(Deserialize, Clone)]
struct DescriptorPlatform {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

impl DescriptorPlatform {
    fn text(&self) -> String {
        match &self.variant {
            Some(variant) => format!("{}/{}/{variant}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }

    /// Whether it is `platform` (a variant only counts when `platform` names one).
    fn is(&self, platform: &Platform) -> bool {
        let (os, architecture, variant) = platform.oci_parts();
        self.os == os
            && self.architecture == architecture
            && variant.is_none_or(|v| self.variant.as_deref() == Some(v))
    }
}

impl Descriptor {
    /// A descriptor of the manifest `digest`, of a kind found when it is read.
    pub(super) fn of_digest(digest: &str) -> Self {
        Self {
            media_type: String::new(),
            digest: digest.to_string(),
            platform: None,
        }
    }

    fn is_index(&self) -> bool {
        self.media_type.contains("image.index") || self.media_type.contains("manifest.list")
    }
}

impl Reader<'_> {
    /// Reads the JSON file `name` of `blobs`, first checking its bytes against `expected`.
    fn read_json<T: for<'de> Deserialize<'de>>(
        &self,
        blobs: &dyn Blobs,
        name: &str,
        expected: Option<&Expected>,
    ) -> Result<T, ImageError> {
        let text = self.read_blob(blobs, name, expected, true)?;
        serde_json::from_slice(&text)
            .map_err(|e| self.format(format!("`{name}` is not valid: {e}")))
    }

    /// The bytes of the small blob `name` (a `manifest`, index or else a configuration),
    /// checked against `expected`.
    fn read_blob(
        &self,
        blobs: &dyn Blobs,
        name: &str,
        expected: Option<&Expected>,
        manifest: bool,
    ) -> Result<Vec<u8>, ImageError> {
        let cannot = |e: std::io::Error| self.format(format!("cannot read `{name}`: {e}"));
        let opened = if manifest {
            blobs.open_manifest(name)
        } else {
            blobs.open(name)
        };
        let mut hashing = Hashing::new(opened.map_err(cannot)?, expected);
        let mut text = Vec::new();
        (&mut hashing)
            .take(MAX_MANIFEST_BYTES)
            .read_to_end(&mut text)
            .map_err(cannot)?;
        let actual = hashing.finish(0).map_err(cannot)?;
        self.check_digest(name, expected, actual)?;
        Ok(text)
    }

    /// A `docker save` tar: its configuration and layers are checked where their names carry
    /// their digests (`blobs/sha256/<hex>`, a legacy `<hex>.json` configuration; a legacy
    /// `<id>/layer.tar` is named by an id, not by its digest).
    pub(super) fn read_docker_archive(&mut self, archive: &dyn Blobs) -> Result<(), ImageError> {
        let manifest: Vec<DockerManifestEntry> = self.read_json(archive, "manifest.json", None)?;
        let image = manifest
            .first()
            .ok_or_else(|| self.format("`manifest.json` lists no image"))?;
        if let Some(config) = &image.config {
            let expected = Expected::from_name(config);
            if let Some(expected) = &expected {
                self.read_blob(archive, config, Some(expected), false)?;
                self.out.manifest = Some(expected.to_string());
            }
        }
        for layer in &image.layers {
            let reader = archive
                .open(layer)
                .map_err(|e| self.format(format!("layer `{layer}`: {e}")))?;
            self.apply_layer(reader, layer, Expected::from_name(layer).as_ref())?;
        }
        Ok(())
    }

    /// An OCI layout (a folder, or an OCI archive tar): the manifest of `index.json` that
    /// [`super::Select`] names (by digest, else by platform, else the first).
    pub(super) fn read_oci(&mut self, blobs: &dyn Blobs) -> Result<(), ImageError> {
        let index: OciIndex = self.read_json(blobs, "index.json", None)?;
        let descriptor = match self.select.manifest {
            Some(digest) => index
                .manifests
                .iter()
                .find(|d| d.digest == digest)
                .cloned()
                .unwrap_or_else(|| Descriptor::of_digest(digest)),
            None => self.choose(&index.manifests, "`index.json`")?,
        };
        self.read_manifest(blobs, descriptor)
    }

    /// The image `descriptor` names (an image manifest, or an index whose manifest for the
    /// selected platform is taken, however deeply nested); its digest is what was read.
    pub(super) fn read_manifest(
        &mut self,
        blobs: &dyn Blobs,
        mut descriptor: Descriptor,
    ) -> Result<(), ImageError> {
        self.out.manifest = Some(descriptor.digest.clone());
        for _ in 0..8 {
            let expected = self.expected(&descriptor, "")?;
            let blob = expected.blob_path();
            let manifest: OciManifest = self.read_json(blobs, &blob, Some(&expected))?;
            if descriptor.is_index()
                || (!manifest.manifests.is_empty() && manifest.layers.is_empty())
            {
                descriptor = self.choose(&manifest.manifests, "an image index")?;
                continue;
            }
            return self.read_oci_image(blobs, &manifest);
        }
        Err(self.format("image indexes nest too deeply"))
    }

    /// The manifest of `manifests` (listed by `what`) for the selected platform: with no
    /// platform selected, or none named in the list, the first.
    fn choose(&self, manifests: &[Descriptor], what: &str) -> Result<Descriptor, ImageError> {
        let first = manifests
            .first()
            .ok_or_else(|| self.format(format!("{what} lists no manifest")))?;
        let Some(platform) = self.select.platform else {
            return Ok(first.clone());
        };
        let named: Vec<&DescriptorPlatform> = manifests
            .iter()
            .filter_map(|d| d.platform.as_ref())
            .collect();
        if named.is_empty() {
            return Ok(first.clone());
        }
        manifests
            .iter()
            .find(|d| d.platform.as_ref().is_some_and(|p| p.is(platform)))
            .cloned()
            .ok_or_else(|| {
                let offered: Vec<String> = named.iter().map(|p| p.text()).collect();
                self.format(format!(
                    "{what} has no manifest for the platform {platform} (it has {}): set `image.platform` to one of them or pick another image",
                    offered.join(", ")
                ))
            })
    }

    /// The configuration and layers of an image manifest.
    fn read_oci_image(
        &mut self,
        blobs: &dyn Blobs,
        manifest: &OciManifest,
    ) -> Result<(), ImageError> {
        if let Some(config) = &manifest.config {
            let expected = self.expected(config, "configuration ")?;
            self.read_blob(blobs, &expected.blob_path(), Some(&expected), false)?;
        }
        for layer in &manifest.layers {
            let expected = self.expected(layer, "layer ")?;
            let blob = expected.blob_path();
            let reader = blobs
                .open(&blob)
                .map_err(|e| self.format(format!("layer `{blob}`: {e}")))?;
            self.apply_layer(reader, &blob, Some(&expected))?;
        }
        Ok(())
    }

    /// The digest `descriptor` names, or an error naming what it is (`what`: "layer ", …).
    fn expected(&self, descriptor: &Descriptor, what: &str) -> Result<Expected, ImageError> {
        Expected::parse(&descriptor.digest)
            .ok_or_else(|| self.format(format!("bad {what}digest `{}`", descriptor.digest)))
    }
}
