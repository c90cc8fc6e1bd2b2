//! `imglock verify` on images whose bytes do not match their digests: a layer with one flipped
//! byte (read by the layer's tar reader, or after the end-of-archive marker it stops at), a
//! manifest or configuration altered after it was named, and a `docker save` tar whose layer is
//! named by a digest it does not have. Each is an error naming the blob and both digests.

use std::path::Path;

use super::*;

/// An OCI layout folder holding the locked packages and an unwanted file, in one plain layer.
fn layout(dir: &Path) -> (std::path::PathBuf, Vec<u8>) {
    let mut entries = vec![Entry::File("etc/motd", b"welcome\n".to_vec())];
    let descriptions: Vec<(String, Vec<u8>)> = locked()
        .iter()
        .map(|(name, version)| {
            (
                format!("{SITE}/{name}/DESCRIPTION"),
                description(name, version, ""),
            )
        })
        .collect();
    entries.extend(descriptions.iter().map(|(p, b)| Entry::File(p, b.clone())));
    let blob = layer(&entries);
    let image = dir.join("layout");
    oci(
        &[(blob.clone(), "application/vnd.oci.image.layer.v1.tar")],
        &image,
        false,
    );
    (image, blob)
}

/// The blob the first descriptor of `index.json` names, and that manifest.
fn manifest(image: &Path) -> (String, serde_json::Value) {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(image.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let hex = digest.strip_prefix("sha256:").unwrap();
    let bytes = std::fs::read(image.join("blobs/sha256").join(hex)).unwrap();
    (digest, serde_json::from_slice(&bytes).unwrap())
}

fn assert_damaged(output: &Output, expected: &str) {
    let err = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "stdout: {}\nstderr: {err}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(err.contains(expected), "{err}");
    assert!(err.contains("does not match"), "{err}");
}

#[test]
fn a_layer_with_one_flipped_byte_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (image, blob) = layout(dir.path());
    let file = image.join("blobs/sha256").join(digest(&blob));
    assert_eq!(verify(&image, "text").status.code(), Some(0));
    // A byte of a file verification does not read, and the last byte of the end-of-archive
    // marker, after which the tar reader stops.
    let motd = blob.windows(8).position(|w| w == b"welcome\n").unwrap();
    for at in [motd, blob.len() - 1] {
        let mut damaged = blob.clone();
        damaged[at] ^= 0x01;
        std::fs::write(&file, &damaged).unwrap();
        let output = verify(&image, "text");
        assert_damaged(&output, &format!("sha256:{}", digest(&blob)));
        assert!(
            stderr(&output).contains(&format!("sha256:{}", digest(&damaged))),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn an_altered_manifest_or_configuration_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (image, _) = layout(dir.path());
    let (manifest_digest, manifest) = manifest(&image);
    let config_digest = manifest["config"]["digest"].as_str().unwrap().to_string();
    let config = image
        .join("blobs/sha256")
        .join(config_digest.strip_prefix("sha256:").unwrap());
    let original = std::fs::read(&config).unwrap();
    std::fs::write(&config, [original.as_slice(), b" "].concat()).unwrap();
    assert_damaged(&verify(&image, "text"), &config_digest);
    std::fs::write(&config, &original).unwrap();

    let file = image
        .join("blobs/sha256")
        .join(manifest_digest.strip_prefix("sha256:").unwrap());
    let text = std::fs::read(&file).unwrap();
    std::fs::write(&file, [text.as_slice(), b"\n"].concat()).unwrap();
    assert_damaged(&verify(&image, "text"), &manifest_digest);
}

#[test]
fn a_docker_save_layer_named_by_a_digest_it_does_not_have_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let blob = packages_layer(&locked());
    let name = format!("blobs/sha256/{}", digest(&blob));
    let config = b"{}".to_vec();
    let config_name = format!("blobs/sha256/{}", digest(&config));
    let manifest =
        format!(r#"[{{"Config":"{config_name}","RepoTags":["t:1"],"Layers":["{name}"]}}]"#);
    let image = dir.path().join("image.tar");
    let mut damaged = blob.clone();
    *damaged.last_mut().unwrap() ^= 0x01;
    for (layer_bytes, code) in [(blob.clone(), 0), (damaged, 2)] {
        let files = vec![
            ("manifest.json".to_string(), manifest.clone().into_bytes()),
            (config_name.clone(), config.clone()),
            (name.clone(), layer_bytes),
        ];
        write_files(&files, &image, true);
        let output = verify(&image, "text");
        assert_eq!(output.status.code(), Some(code), "{}", stderr(&output));
    }
    assert_damaged(&verify(&image, "text"), &digest(&blob));
}
