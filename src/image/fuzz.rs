//! Fuzz targets of image reading: manifests (an OCI `index.json`, an image manifest, a
//! `docker save` `manifest.json`) over an in-memory layout, and tar layers (plain, gzip, zstd).
//! Whatever the bytes, reading never panics, a blob whose bytes do not match its digest is never
//! accepted, and what is read is only wanted files at safe relative paths, within the limits.
//! Seeds: layouts and layers written at test time, and the fixture R packages' tarballs.

use std::collections::HashMap;
use std::io::{Cursor, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::blobs::Blobs;
use super::digest::Expected;
use super::{ImageFiles, Limits, Reader, Want, Wanted};
use crate::fuzz::{self, Outcome, seeds};

/// Tokens of manifests and tar headers.
const DICTIONARY: &[&str] = &[
    "{\"schemaVersion\":2,",
    "\"manifests\":[",
    "\"layers\":[",
    "\"config\":",
    "\"mediaType\":\"application/vnd.oci.image.index.v1+json\",",
    "\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",",
    "\"digest\":\"sha256:",
    "\"digest\":\"sha512:",
    "[{\"Config\":",
    "\"Layers\":[",
    "blobs/sha256/",
    "../",
    "/etc/passwd",
    ".wh.",
    ".wh..wh..opq",
    "usr/local/lib/R/site-library/",
    "/DESCRIPTION",
    "ustar\0",
    "00000000000",
    "\"",
    ",",
    "]",
    "}",
];

/// The most bytes a fuzzed layer may expand to, and a wanted file may have.
const LIMITS: Limits = Limits {
    max_file_bytes: 1 << 20,
    max_layer_bytes: 32 << 20,
};

/// What the targets want: R's DESCRIPTIONs (read whole), jars (digested) and wheels (digested,
/// with their METADATA).
struct Everything;

impl Wanted for Everything {
    fn file(&self, path: &str) -> Option<Want> {
        if path.ends_with("/DESCRIPTION") {
            Some(Want::Bytes)
        } else if path.ends_with(".jar") {
            Some(Want::Digest)
        } else if path.ends_with(".whl") {
            Some(Want::DigestAndMember(|name| name.ends_with("/METADATA")))
        } else {
            None
        }
    }

    fn folder(&self, _: &str) -> bool {
        true
    }
}

/// An image layout in memory: blobs by path.
#[derive(Default, Clone)]
struct Memory(HashMap<String, Vec<u8>>);

impl Blobs for Memory {
    fn open(&self, name: &str) -> std::io::Result<Box<dyn Read + '_>> {
        let bytes = self.0.get(name.trim_start_matches("./")).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, format!("no `{name}`"))
        })?;
        Ok(Box::new(Cursor::new(bytes)))
    }
}

impl Memory {
    /// Adds `bytes` as the blob of their digest, and returns the digest.
    fn blob(&mut self, bytes: Vec<u8>) -> String {
        let hex = hex::encode(Sha256::digest(&bytes));
        self.0.insert(format!("blobs/sha256/{hex}"), bytes);
        format!("sha256:{hex}")
    }
}

fn reader() -> Reader<'static> {
    Reader {
        path: Path::new("fuzz-image"),
        wanted: &Everything,
        limits: LIMITS,
        select: super::Select::default(),
        out: ImageFiles::default(),
    }
}

/// A tar of `files` (path, contents), plus a whiteout and a hard link.
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        let _ = builder.append_data(&mut header, path, *bytes);
    }
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Link);
    link.set_size(0);
    let _ = builder.append_link(
        &mut link,
        "usr/lib/R/site-library/copy/DESCRIPTION",
        files.first().map_or("x", |(path, _)| path),
    );
    builder.into_inner().unwrap_or_default()
}

fn layer_seeds() -> Vec<Vec<u8>> {
    let description = b"Package: corekit\nVersion: 1.1-2\nRepository: CRAN\n";
    let plain = tar_of(&[
        (
            "usr/local/lib/R/site-library/corekit/DESCRIPTION",
            description,
        ),
        ("usr/local/lib/R/site-library/old/.wh..wh..opq", b""),
        ("usr/local/lib/R/site-library/.wh.gone", b""),
        (
            "opt/jars/a.jar",
            b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
        ),
    ]);
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = gzip.write_all(&plain);
    let zstd = zstd::encode_all(&plain[..], 1).unwrap_or_default();
    let mut seeds = vec![plain, gzip.finish().unwrap_or_default(), zstd];
    for tarball in seeds::read("fixtures/cran/src/contrib", |n| n.ends_with(".tar.gz"), 8) {
        let mut tar = Vec::new();
        let _ = flate2::read::GzDecoder::new(&tarball[..]).read_to_end(&mut tar);
        seeds.push(tar);
        seeds.push(tarball);
    }
    seeds
}

/// A layer is read or refused without a panic; under a digest it does not have it is refused;
/// what it yields is wanted files at safe paths within the limits.
fn layer_property(input: &[u8]) -> Outcome {
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(input)));
    let expected = Expected::parse(&digest).ok_or("a digest of its own bytes")?;
    let mut image = reader();
    let read = image.apply_layer(Box::new(Cursor::new(input)), "layer", Some(&expected));
    if read.is_ok() {
        check_files(&image.out)?;
    }
    let wrong = Expected::parse(&format!("sha256:{}", "0".repeat(64))).ok_or("a digest")?;
    if reader()
        .apply_layer(Box::new(Cursor::new(input)), "layer", Some(&wrong))
        .is_ok()
    {
        return Err("a layer is accepted under a digest it does not have".into());
    }
    Ok(())
}

/// Every file read is wanted, at a clean relative path, and within the size limit.
fn check_files(out: &ImageFiles) -> Outcome {
    for (path, content) in &out.files {
        let clean =
            !path.starts_with('/') && path.split('/').all(|part| !matches!(part, "" | "." | ".."));
        if !clean || Everything.file(path).is_none() {
            return Err(format!("read the file `{}`", path.escape_debug()));
        }
        if content
            .bytes()
            .is_some_and(|b| b.len() as u64 > LIMITS.max_file_bytes)
        {
            return Err(format!(
                "read {} bytes of `{path}`",
                content.bytes().map_or(0, <[u8]>::len)
            ));
        }
    }
    Ok(())
}

/// The blobs every manifest seed names: a layer and a configuration.
fn layout() -> (Memory, String, String) {
    let mut blobs = Memory::default();
    let layer = blobs.blob(layer_seeds().remove(1));
    let config = blobs.blob(br#"{"architecture":"amd64","os":"linux"}"#.to_vec());
    (blobs, layer, config)
}

fn manifest_seeds() -> Vec<Vec<u8>> {
    let (mut blobs, layer, config) = layout();
    let kind = "application/vnd.oci.image";
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{kind}.manifest.v1+json","config":{{"mediaType":"{kind}.config.v1+json","digest":"{config}","size":37}},"layers":[{{"mediaType":"{kind}.layer.v1.tar+gzip","digest":"{layer}","size":1}}]}}"#
    );
    let digest = blobs.blob(manifest.clone().into_bytes());
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{kind}.manifest.v1+json","digest":"{digest}","size":1}}]}}"#
    );
    let nested = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{kind}.index.v1+json","digest":"{}","size":1}}]}}"#,
        blobs.blob(index.clone().into_bytes())
    );
    let docker = format!(
        r#"[{{"Config":"blobs/sha256/{}","RepoTags":["x:1"],"Layers":["blobs/sha256/{}"]}}]"#,
        &config[7..],
        &layer[7..]
    );
    [manifest, index, nested, docker]
        .map(String::into_bytes)
        .to_vec()
}

/// The blobs of the manifest seeds and those they name.
fn seed_blobs() -> Memory {
    let (mut blobs, _, _) = layout();
    for seed in manifest_seeds() {
        blobs.blob(seed);
    }
    blobs
}

/// The input read as an image manifest (named by its own digest), as an OCI `index.json`, and as
/// a `docker save` `manifest.json`, over the seeds' `blobs`: no panic, and what is read is safe.
fn manifest_property(blobs: &Memory, input: &[u8]) -> Outcome {
    let mut blobs = blobs.clone();
    let digest = blobs.blob(input.to_vec());
    let index = format!(r#"{{"manifests":[{{"digest":"{digest}"}}]}}"#);
    blobs.0.insert("index.json".into(), index.into_bytes());
    let mut image = reader();
    if image.read_oci(&blobs).is_ok() {
        check_files(&image.out)?;
    }
    blobs.0.insert("index.json".into(), input.to_vec());
    let mut image = reader();
    if image.read_oci(&blobs).is_ok() {
        check_files(&image.out)?;
    }
    blobs.0.insert("manifest.json".into(), input.to_vec());
    let mut image = reader();
    if image.read_docker_archive(&blobs).is_ok() {
        check_files(&image.out)?;
    }
    Ok(())
}

#[test]
fn fuzz_image_layer() {
    fuzz::bytes("image-layer", layer_seeds(), DICTIONARY, layer_property);
}

#[test]
fn fuzz_image_manifest() {
    let blobs = seed_blobs();
    fuzz::bytes("image-manifest", manifest_seeds(), DICTIONARY, |input| {
        manifest_property(&blobs, input)
    });
}

#[test]
fn fuzz_regressions_replay() {
    fuzz::replay("image-layer", layer_property);
    let blobs = seed_blobs();
    fuzz::replay("image-manifest", |input| manifest_property(&blobs, input));
}
