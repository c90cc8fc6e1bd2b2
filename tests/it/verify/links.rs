//! The symbolic links every Debian image has where Python files may be (`usr/bin/python3 →
//! python3.11`, `usr/bin/X11 → .`, the standard library's `sitecustomize.py`) are not warned of,
//! in an OCI layout or a root filesystem folder: a real image's verify would otherwise list
//! a hundred of them (found building the whole image of `whole_image.rs`). A link where a
//! DESCRIPTION may be still is (`hostile_entries_are_skipped_with_warnings_and_nothing_is_written`).

use super::*;

/// The links, as (path, target).
const LINKS: &[(&str, &str)] = &[
    ("usr/bin/python3", "python3.11"),
    ("usr/bin/X11", "."),
    ("usr/local/bin/cc", "/usr/bin/gcc"),
    (
        "usr/lib/python3.11/sitecustomize.py",
        "/etc/python3.11/sitecustomize.py",
    ),
];

fn warnings(output: &Output) -> Vec<String> {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn debians_links_where_python_files_may_be_are_not_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    let entries: Vec<Entry<'_>> = LINKS
        .iter()
        .map(|(path, target)| Entry::Symlink(path, target))
        .collect();
    let layers = vec![
        (
            packages_layer(&locked()),
            "application/vnd.oci.image.layer.v1.tar",
        ),
        (layer(&entries), "application/vnd.oci.image.layer.v1.tar"),
    ];
    let image = dir.path().join("image");
    oci(&layers, &image, false);
    assert_eq!(warnings(&verify(&image, "json")), Vec::<String>::new());

    let root = dir.path().join("root");
    for (name, version) in locked() {
        let folder = root.join(SITE).join(name);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("DESCRIPTION"), description(name, version, "")).unwrap();
    }
    for (path, target) in LINKS {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, path).unwrap();
    }
    assert_eq!(warnings(&verify(&root, "json")), Vec::<String>::new());
}
