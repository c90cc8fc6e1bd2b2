//! The manifests of an image: a `docker save` tar's `manifest.json`, or an OCI layout's
//! `index.json` and the (possibly nested) indexes and image manifest it names. Every manifest,
//! configuration and layer named by a digest is checked against it as it is read.

use std::io::Read;

use serde::Deserialize;

use super::blobs::Blobs;
use super::digest::{Expected, Hashing};
use super::{ImageError, MAX_MANIFEST_BYTES, Reader};

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
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
}

impl Descriptor {
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
        let text = self.read_blob(blobs, name, expected)?;
        serde_json::from_slice(&text)
            .map_err(|e| self.format(format!("`{name}` is not valid: {e}")))
    }

    /// The bytes of the small blob `name` (a manifest, index or configuration), checked against
    /// `expected`.
    fn read_blob(
        &self,
        blobs: &dyn Blobs,
        name: &str,
        expected: Option<&Expected>,
    ) -> Result<Vec<u8>, ImageError> {
        let cannot = |e: std::io::Error| self.format(format!("cannot read `{name}`: {e}"));
        let mut hashing = Hashing::new(blobs.open(name).map_err(cannot)?, expected);
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
            if expected.is_some() {
                self.read_blob(archive, config, expected.as_ref())?;
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

    /// An OCI layout (a folder, or an OCI archive tar).
    pub(super) fn read_oci(&mut self, blobs: &dyn Blobs) -> Result<(), ImageError> {
        let index: OciIndex = self.read_json(blobs, "index.json", None)?;
        let mut descriptor = index
            .manifests
            .first()
            .cloned()
            .ok_or_else(|| self.format("`index.json` lists no manifest"))?;
        // Nested indexes (multi-platform images): take the first manifest of each.
        for _ in 0..8 {
            let expected = self.expected(&descriptor, "")?;
            let blob = expected.blob_path();
            let manifest: OciManifest = self.read_json(blobs, &blob, Some(&expected))?;
            if descriptor.is_index()
                || (!manifest.manifests.is_empty() && manifest.layers.is_empty())
            {
                descriptor = manifest
                    .manifests
                    .first()
                    .cloned()
                    .ok_or_else(|| self.format("an image index lists no manifest"))?;
                continue;
            }
            return self.read_oci_image(blobs, &manifest);
        }
        Err(self.format("image indexes nest too deeply"))
    }

    /// The configuration and layers of an image manifest.
    fn read_oci_image(
        &mut self,
        blobs: &dyn Blobs,
        manifest: &OciManifest,
    ) -> Result<(), ImageError> {
        if let Some(config) = &manifest.config {
            let expected = self.expected(config, "configuration ")?;
            self.read_blob(blobs, &expected.blob_path(), Some(&expected))?;
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
