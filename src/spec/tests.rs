//! The spec hash, pinned: golden locks record it, so the JSON it hashes must not change.

use std::path::Path;

use super::Spec;

/// A spec that sets every key the spec knows.
const EVERY_KEY: &str = include_str!("../../tests/spec-hash/every-key.toml");

/// A spec that leaves every optional key out.
const DEFAULTS: &str = include_str!("../../tests/spec-hash/defaults.toml");

/// Bioconductor from a mirror, and a single CRAN mirror.
const MIRROR: &str = include_str!("../../tests/spec-hash/bioconductor-mirror.toml");

/// The hash of spec `text`. The expected values below were computed by the code before each
/// ecosystem's keys moved into its folder (commit ca6aa9a).
fn hash(text: &str) -> String {
    Spec::parse(Path::new("imglock.toml"), text)
        .expect("the spec parses")
        .hash()
}

#[test]
fn hash_of_every_key_is_unchanged() {
    assert_eq!(
        hash(EVERY_KEY),
        "sha256:e1785d2c1c9f457b53438523be74c51dfd1b48debe94c175c6df1e871e7c69fa"
    );
}

#[test]
fn hash_of_defaults_is_unchanged() {
    assert_eq!(
        hash(DEFAULTS),
        "sha256:45fc25eb430438136912e557dc8be950ae5ff82791a274022641a100f5d59265"
    );
}

#[test]
fn hash_of_bioconductor_mirror_is_unchanged() {
    assert_eq!(
        hash(MIRROR),
        "sha256:81f8e2ca951257362f120cadd24d374e29c7b7eb69986166ce3a23332ca6a9ac"
    );
}

#[test]
fn the_python_environment_is_part_of_the_hash() {
    let prefix = DEFAULTS.replacen(
        "[image]\n",
        "[image]\npython-prefix = \"/databricks/python3\"\n",
        1,
    );
    let venv = prefix.replacen(
        "[image]\n",
        "[image]\npython-venv = \"system-site-packages\"\n",
        1,
    );
    let hashes = [hash(DEFAULTS), hash(&prefix), hash(&venv)];
    assert_ne!(hashes[0], hashes[1]);
    assert_ne!(hashes[1], hashes[2]);
}
