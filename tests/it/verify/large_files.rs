//! `imglock verify` on files larger than any text file: jars of megabytes hashed while they
//! stream past (never held in memory), and conda-meta records of megabytes read whole.

use std::path::Path;

use super::*;

const JARS: &str = "databricks/jars";

/// A jar of at least `size` bytes with a `pom.properties` naming `org.example:<artifact>` 1.0 and
/// a stored (uncompressed) member of pseudo-random bytes.
fn jar(artifact: &str, size: usize) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file(
        format!("META-INF/maven/org.example/{artifact}/pom.properties"),
        stored,
    )
    .unwrap();
    write!(
        zip,
        "groupId=org.example\nartifactId={artifact}\nversion=1.0\n"
    )
    .unwrap();
    zip.start_file("data.bin", stored).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ artifact.len() as u64;
    let mut data = Vec::with_capacity(size);
    while data.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data.extend_from_slice(&state.to_le_bytes());
    }
    zip.write_all(&data).unwrap();
    zip.finish().unwrap().into_inner()
}

/// A lock with one Maven layer whose target is `/databricks/jars`, locking `jar` as
/// org.example:big 1.0 (`big-1.0.jar`).
fn jar_lock(dir: &Path, jar: &[u8]) -> std::path::PathBuf {
    let text = format!(
        r#"version = 1
spec-hash = "sha256:{spec}"

[image]
name = "jars"
base = "docker.io/library/eclipse-temurin@sha256:{base}"
platform = "linux/amd64"

[[layer]]
name = "spark"
maven-target = "/{JARS}"

[[layer.package]]
ecosystem = "maven"
name = "org.example:big"
version = "1.0"
repository = "https://repo.example.invalid/maven2"
url = "https://repo.example.invalid/maven2/org/example/big/1.0/big-1.0.jar"
sha256 = "{sha256}"
size = {size}
"#,
        spec = "0".repeat(64),
        base = "e".repeat(64),
        sha256 = digest(jar),
        size = jar.len(),
    );
    let path = dir.join("imglock.lock");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn jars_larger_than_any_text_file_are_hashed_while_streaming() {
    let dir = tempfile::tempdir().unwrap();
    let big = jar("big", 5 << 19);
    assert!(big.len() > 2 << 20, "larger than the old 1 MiB cap, twice");
    let mut tampered = big.clone();
    tampered[big.len() / 2] ^= 1;
    let stranger = jar("stranger", 5 << 19);
    let lock = jar_lock(dir.path(), &big);
    let check = |image: &Path, expected: &[(&str, &str)]| {
        let output = verify_against(image, &lock, "json");
        let mut found = findings(&output);
        found.sort();
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(kind, name)| (kind.to_string(), name.to_string()))
            .collect();
        assert_eq!(found, expected, "{}", image.display());
        let code = if expected.is_empty() { 0 } else { 1 };
        assert_eq!(output.status.code(), Some(code), "{}", stderr(&output));
    };

    // A root filesystem folder: hashed in place; a stranger is named by its pom.properties.
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join(JARS)).unwrap();
    std::fs::write(root.join(JARS).join("big-1.0.jar"), &big).unwrap();
    check(&root, &[]);
    std::fs::write(root.join(JARS).join("big-1.0.jar"), &tampered).unwrap();
    std::fs::write(root.join(JARS).join("extra.jar"), &stranger).unwrap();
    check(
        &root,
        &[
            ("unexpected", "org.example:stranger"),
            ("wrong-source", "org.example:big"),
        ],
    );

    // An OCI archive with a gzip layer.
    let tarball = dir.path().join("oci.tar");
    let locked_path = format!("{JARS}/big-1.0.jar");
    let stranger_path = format!("{JARS}/extra.jar");
    let good = files_layer(&[(&locked_path, &big)]);
    oci(
        &[(gzip(&good), "application/vnd.oci.image.layer.v1.tar+gzip")],
        &tarball,
        true,
    );
    check(&tarball, &[]);

    // docker save tars: a later layer's jar replaces an earlier one's, whichever is right; a
    // stranger in a layer is named by its pom.properties.
    let bad = files_layer(&[(&locked_path, &tampered), (&stranger_path, &stranger)]);
    let fixed = dir.path().join("fixed.tar");
    docker_archive(&[bad.clone(), good.clone()], &fixed);
    check(&fixed, &[("unexpected", "org.example:stranger")]);
    let broken = dir.path().join("broken.tar");
    docker_archive(&[good.clone(), bad], &broken);
    check(
        &broken,
        &[
            ("unexpected", "org.example:stranger"),
            ("wrong-source", "org.example:big"),
        ],
    );

    // An OCI layout folder whose upper layer deletes the jar.
    let deleted = dir.path().join("deleted");
    let whiteout = files_layer(&[(&format!("{JARS}/.wh.big-1.0.jar"), b"")]);
    oci(
        &[
            (good, "application/vnd.oci.image.layer.v1.tar"),
            (whiteout, "application/vnd.oci.image.layer.v1.tar"),
        ],
        &deleted,
        false,
    );
    check(&deleted, &[("missing", "org.example:big")]);
}

/// A conda-meta record lists every file of its package, so a big package's runs to megabytes
/// (pytorch's); it is read, not skipped and then reported missing.
#[test]
fn a_conda_meta_record_of_megabytes_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let sha256 = "c".repeat(64);
    let lock = dir.path().join("imglock.lock");
    std::fs::write(
        &lock,
        format!(
            r#"version = 1
spec-hash = "sha256:{spec}"

[image]
name = "torch"
base = "docker.io/library/debian@sha256:{base}"
platform = "linux/amd64"
conda-prefix = "/opt/conda"
conda-installer = "micromamba"

[[layer]]
name = "ml"

[[layer.package]]
ecosystem = "conda"
name = "bigpkg"
version = "2.0.1"
repository = "https://conda.example.invalid/main"
url = "https://conda.example.invalid/main/linux-64/bigpkg-2.0.1-h0_0.conda"
sha256 = "{sha256}"
size = 1
build = "h0_0"
build-number = 0
subdir = "linux-64"
dependencies = []
"#,
            spec = "0".repeat(64),
            base = "e".repeat(64),
        ),
    )
    .unwrap();
    let files: Vec<String> = (0..60_000)
        .map(|i| format!("lib/python3.11/site-packages/bigpkg/module_{i:05}.py"))
        .collect();
    let record = serde_json::json!({
        "name": "bigpkg", "version": "2.0.1", "build": "h0_0", "build_number": 0,
        "sha256": sha256, "files": files,
    });
    let text = serde_json::to_vec(&record).unwrap();
    assert!(text.len() > 2 << 20, "the record is {} bytes", text.len());
    let meta = dir.path().join("root/opt/conda/conda-meta");
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(meta.join("bigpkg-2.0.1-h0_0.json"), text).unwrap();

    let output = verify_against(&dir.path().join("root"), &lock, "json");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        crate::support::output_text(&output)
    );
}
