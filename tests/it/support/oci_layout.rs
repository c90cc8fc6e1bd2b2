//! Small OCI image layouts written by hand (`oci-layout`, `index.json`, a manifest, a
//! configuration and one plain tar layer), for tests that need a base image with chosen files
//! and no tool to build it.

use std::path::Path;

use super::sha256_hex;

/// The files of an image: path, contents.
pub type Files<'a> = [(&'a str, &'a [u8])];

/// Writes an OCI layout at `dir` whose one image (for linux/amd64) holds `files` (path,
/// contents); returns the manifest's digest.
pub fn write_oci_layout(dir: &Path, files: &[(&str, &[u8])]) -> String {
    let (manifest, size) = image(dir, files);
    let entry = format!(
        r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{manifest}","size":{size},"platform":{{"architecture":"amd64","os":"linux"}}}}"#
    );
    write_index_json(dir, &entry);
    manifest
}

/// Writes an OCI layout at `dir` whose `index.json` names one image index (as `buildah manifest
/// push` writes a multi-platform image) listing an image per platform (`os/arch`, its files);
/// returns the index's digest.
pub fn write_multi_platform_layout(dir: &Path, images: &[(&str, &Files<'_>)]) -> String {
    let entries: Vec<String> = images
        .iter()
        .map(|(platform, files)| {
            let (manifest, size) = image(dir, files);
            let (os, arch) = platform.split_once('/').unwrap();
            format!(
                r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{manifest}","size":{size},"platform":{{"architecture":"{arch}","os":"{os}"}}}}"#
            )
        })
        .collect();
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#,
        entries.join(",")
    );
    let (index, size) = blob(dir, index.as_bytes());
    write_index_json(
        dir,
        &format!(
            r#"{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{index}","size":{size}}}"#
        ),
    );
    index
}

/// Writes `bytes` as the blob of their digest; returns the digest and size.
fn blob(dir: &Path, bytes: &[u8]) -> (String, usize) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let hex = sha256_hex(bytes);
    std::fs::write(blobs.join(&hex), bytes).unwrap();
    (format!("sha256:{hex}"), bytes.len())
}

/// Writes the blobs of an image holding `files` (one plain tar layer); returns its manifest's
/// digest and size.
fn image(dir: &Path, files: &[(&str, &[u8])]) -> (String, usize) {
    let mut layer = tar::Builder::new(Vec::new());
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        layer.append_data(&mut header, path, *bytes).unwrap();
    }
    let (layer, layer_size) = blob(dir, &layer.into_inner().unwrap());
    let config =
        r#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let (config, config_size) = blob(dir, config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":{config_size}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer}","size":{layer_size}}}]}}"#
    );
    blob(dir, manifest.as_bytes())
}

/// Writes `index.json` naming the one descriptor `entry`, and `oci-layout`.
fn write_index_json(dir: &Path, entry: &str) {
    let index = format!(r#"{{"schemaVersion":2,"manifests":[{entry}]}}"#);
    std::fs::write(dir.join("index.json"), index).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

/// The files of a base image with R `r_version` (its `base` package and the recommended
/// `Matrix`) and Python `python_version` (its standard library and `pip`), and a dpkg status of
/// two packages, one of them removed.
pub fn r_and_python_files(r_version: &str, python_version: &str) -> Vec<(String, Vec<u8>)> {
    vec![
        (
            "usr/lib/R/library/base/DESCRIPTION".into(),
            format!("Package: base\nVersion: {r_version}\nPriority: base\n").into_bytes(),
        ),
        (
            "usr/lib/R/library/Matrix/DESCRIPTION".into(),
            b"Package: Matrix\nVersion: 1.5-3\nPriority: recommended\n".to_vec(),
        ),
        (format!("usr/lib/python{python_version}/os.py"), b"# os\n".to_vec()),
        (
            "usr/lib/python3/dist-packages/pip-23.0.1.dist-info/METADATA".into(),
            b"Metadata-Version: 2.1\nName: pip\nVersion: 23.0.1\n".to_vec(),
        ),
        (
            "var/lib/dpkg/status".into(),
            b"Package: r-base-core\nStatus: install ok installed\nArchitecture: amd64\nVersion: 4.2.2-1\n\nPackage: old\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1\n".to_vec(),
        ),
    ]
}
