//! A Maven repository laid out as Maven Central's: the shared corpus's POMs (symbolic links,
//! never copied) and, for each artifact a recorded resolution took, a file and its `.sha1`
//! written for it, since the corpus holds POMs only. Without the files, a resolve would ask for
//! each artifact and every checksum kind in vain, which no real repository makes it do.

use std::path::Path;

use sha1::Digest;

/// The corpus `corpus` (../shared/corpora/maven/central) in a new folder's `repo`, beside the
/// artifacts of each recorded resolution named in `resolutions`
/// (`fixtures/maven/corpus-expected/NAME.json`, e.g. `org.apache.spark_spark-core_2.12_3.5.3`).
pub fn with_artifacts(corpus: &Path, resolutions: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .arg("-as")
        .arg(corpus.canonicalize().unwrap())
        .arg(dir.path().join("repo"))
        .status()
        .unwrap();
    assert!(status.success(), "cp -as of the Maven corpus");
    for resolution in resolutions {
        let expected = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("fixtures/maven/corpus-expected/{resolution}.json"));
        let artifacts: Vec<serde_json::Value> =
            serde_json::from_slice(&std::fs::read(expected).unwrap()).unwrap();
        for artifact in &artifacts {
            write_artifact(&dir.path().join("repo"), artifact);
        }
    }
    dir
}

/// Writes the file of `artifact` (a recorded resolution's entry: group, artifact, version,
/// classifier, type) and its `.sha1` below `repo`.
fn write_artifact(repo: &Path, artifact: &serde_json::Value) {
    let text = |key: &str| artifact[key].as_str().unwrap().to_string();
    let (group, name, version) = (text("group"), text("artifact"), text("version"));
    let classifier = match text("classifier").as_str() {
        "" => String::new(),
        classifier => format!("-{classifier}"),
    };
    let folder = repo
        .join(group.replace('.', "/"))
        .join(&name)
        .join(&version);
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join(format!("{name}-{version}{classifier}.{}", text("type")));
    let bytes = format!("{group}:{name}:{version}{classifier}").into_bytes();
    let sha1 = hex::encode(sha1::Sha1::digest(&bytes));
    std::fs::write(&file, bytes).unwrap();
    std::fs::write(file.with_extension(format!("{}.sha1", text("type"))), sha1).unwrap();
}
