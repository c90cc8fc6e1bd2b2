//! The spec hash, pinned: golden locks record it, so the JSON it hashes must not change; and
//! the spec's parts, which name what changed.

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

/// A family in a temporary folder: `parent/imglock.toml` is `parent`, `child/imglock.toml` is
/// `child`; the child read.
fn read_child(parent: &str, child: &str) -> Result<Spec, super::SpecError> {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("parent", parent), ("child", child)] {
        std::fs::create_dir_all(dir.path().join(name)).unwrap();
        std::fs::write(dir.path().join(name).join("imglock.toml"), text).unwrap();
    }
    Spec::read(&dir.path().join("child/imglock.toml"))
}

const PARENT: &str = "[image]\nname = \"parent\"\nbase = \"oci:../images/debian\"\nr = \"4.2.2\"\npython-prefix = \"/databricks/python3\"\nentrypoint = [\"tini\", \"--\"]\n\n[[layer]]\nname = \"r\"\ncran = [\"plotkit\"]\n";

#[test]
fn a_child_takes_the_image_keys_it_leaves_out_from_its_parent() {
    let child = read_child(
        PARENT,
        "extends = \"../parent/imglock.toml\"\n\n[image]\nname = \"child\"\ncmd = [\"bash\"]\n\n[[layer]]\nname = \"py\"\npypi = [\"idna\"]\n",
    )
    .unwrap();
    assert_eq!(child.image.name, "child");
    // The parent's local base, named from the child's folder (the same one here: a sibling).
    assert_eq!(child.image.base, "oci:../images/debian");
    assert_eq!(child.image.r.version.as_deref(), Some("4.2.2"));
    assert_eq!(
        child.image.pypi.prefix.as_deref(),
        Some("/databricks/python3")
    );
    assert_eq!(
        child.image.command.entrypoint.as_deref(),
        Some(&["tini".to_string(), "--".to_string()][..])
    );
    assert_eq!(
        child.image.command.cmd.as_deref(),
        Some(&["bash".to_string()][..])
    );
    assert_eq!(child.family_layer_names(), ["r", "py"]);
    let extends = child.extends.as_ref().unwrap();
    assert_eq!(extends.spec, "../parent/imglock.toml");
    assert_eq!(extends.parent.image.name, "parent");
}

#[test]
fn a_child_writing_another_value_of_a_parents_image_key_is_refused_at_it() {
    let error = read_child(
        PARENT,
        "extends = \"../parent/imglock.toml\"\n\n[image]\nname = \"child\"\nr = \"4.3.1\"\n\n[[layer]]\nname = \"py\"\npypi = [\"idna\"]\n",
    )
    .unwrap_err();
    assert_eq!(error.location.map(|at| at.line), Some(5));
    assert!(
        error
            .message
            .starts_with("image.r = `4.3.1` is not the parent's `4.2.2`"),
        "{}",
        error.message
    );
}

#[test]
fn a_spec_without_a_base_or_a_parent_says_what_to_write() {
    let error = Spec::parse(
        Path::new("imglock.toml"),
        "[image]\nname = \"x\"\n\n[[layer]]\nname = \"a\"\ncran = [\"plotkit\"]\n",
    )
    .unwrap_err();
    assert!(
        error.message.starts_with("image.base is missing"),
        "{}",
        error.message
    );
}

#[test]
fn extends_is_part_of_the_hash_and_specs_without_it_hash_as_before() {
    let child = |extends: &str| {
        read_child(
            PARENT,
            &format!("extends = {extends}\n\n[image]\nname = \"child\"\n\n[[layer]]\nname = \"py\"\npypi = [\"idna\"]\n"),
        )
        .unwrap()
        .hash()
    };
    assert_ne!(
        child("\"../parent/imglock.toml\""),
        child("{ spec = \"../parent/imglock.toml\", lock = \"../parent/other.lock\" }")
    );
}

#[test]
fn extends_names_a_lock_in_its_table_form_and_a_wrong_shape_shows_the_right_ones() {
    let body = "\n\n[image]\nname = \"child\"\n\n[[layer]]\nname = \"py\"\npypi = [\"idna\"]\n";
    let named = read_child(
        PARENT,
        &format!("extends = {{ spec = \"../parent/imglock.toml\", lock = \"../locks/parent.lock\" }}{body}"),
    )
    .unwrap();
    let extends = named.extends.unwrap();
    assert_eq!(extends.lock.as_deref(), Some("../locks/parent.lock"));
    let dir = Path::new("family/child");
    assert_eq!(
        extends.lock_path(dir, "imglock.lock"),
        Path::new("family/locks/parent.lock")
    );
    let beside = read_child(
        PARENT,
        &format!("extends = \"../parent/imglock.toml\"{body}"),
    )
    .unwrap();
    assert_eq!(
        beside.extends.unwrap().lock_path(dir, "imglock.lock"),
        Path::new("family/parent/imglock.lock")
    );
    for wrong in [
        "extends = 3",
        "extends = { path = \"../parent/imglock.toml\" }",
        "extends = { spec = \"../parent/imglock.toml\", lock = 1 }",
        "extends = \"\"",
    ] {
        let error = read_child(PARENT, &format!("{wrong}{body}")).unwrap_err();
        assert_eq!(error.location.map(|at| at.line), Some(1), "{wrong}");
        assert!(
            error
                .message
                .starts_with("`extends` names the parent spec: a path"),
            "{wrong}: {}",
            error.message
        );
    }
}

#[test]
fn a_parents_local_base_is_named_from_the_childs_folder() {
    let digest = format!("sha256:{}", "d".repeat(64));
    let rebase = |base: &str| {
        super::rebase_local(base, Path::new("/p/parent"), Path::new("/p/leaves/child"))
    };
    assert_eq!(
        rebase(&format!("oci:../images/debian@{digest}")),
        format!("oci:../../images/debian@{digest}")
    );
    assert_eq!(
        rebase("docker-archive:base.tar"),
        "docker-archive:../../parent/base.tar"
    );
    for kept in [
        "oci:/srv/images/debian".to_string(),
        format!("docker.io/rocker/r-ver:4.2.2@{digest}"),
    ] {
        assert_eq!(rebase(&kept), kept);
    }
}

#[test]
fn credentials_in_repository_urls_are_taken_out_and_not_hashed() {
    let with_credentials = EVERY_KEY
        .replace("https://cran.example.org", "https://u:one@cran.example.org")
        .replace(
            "https://pypi.example.org",
            "https://u:two%40x@pypi.example.org",
        )
        .replace(
            "https://repo.example.org/maven2",
            "https://:three@repo.example.org/maven2",
        );
    assert_ne!(with_credentials, EVERY_KEY);
    assert_eq!(hash(&with_credentials), hash(EVERY_KEY));
    let spec = Spec::parse(Path::new("imglock.toml"), &with_credentials).unwrap();
    assert_eq!(spec.repositories.r.cran[0], "https://cran.example.org");
    assert_eq!(
        spec.repositories.pypi.indexes[0],
        "https://pypi.example.org/simple"
    );
    let taken: Vec<String> = spec
        .credentials
        .iter()
        .map(|(url, _)| url.to_string())
        .collect();
    assert_eq!(
        taken,
        [
            "https://cran.example.org/",
            "https://pypi.example.org/simple",
            "https://repo.example.org/maven2"
        ]
    );
    assert!(!format!("{spec:?}").contains("two"));
}

/// The parts of spec `text`.
fn parts(text: &str) -> super::SpecParts {
    Spec::parse(Path::new("imglock.toml"), text)
        .expect("the spec parses")
        .parts()
}

#[test]
fn each_requirement_is_a_part_of_its_own_keyed_by_its_package() {
    let spec = "[image]\nname = \"p\"\nbase = \"debian@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"\n\n[[layer]]\nname = \"py\"\npypi = [\"Requests>=2\", \"idna\"]\n";
    let before = parts(spec);
    let keys: Vec<&str> = before.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "image/base",
            "image/name",
            "image/platform",
            "image/python",
            "image/r",
            "layer/py",
            "layer/py/requirement/pypi/idna",
            "layer/py/requirement/pypi/requests",
            "repositories/bioconductor",
            "repositories/cran",
        ]
    );
    // Formatting does not count; a changed requirement changes its own part only.
    let reformatted = parts(&spec.replace("pypi = [", "pypi   =   [ "));
    assert_eq!(reformatted, before);
    let changed = parts(&spec.replace("Requests>=2", "requests>=3"));
    let differ: Vec<&String> = before
        .keys()
        .filter(|key| before.get(*key) != changed.get(*key))
        .collect();
    assert_eq!(differ, ["layer/py/requirement/pypi/requests"]);
}
