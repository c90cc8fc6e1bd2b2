//! The bundled examples' locks and Dockerfiles are golden files: resolve's and emit's output for
//! them must not drift, and every golden lock survives a parse → render round trip byte for byte.

use std::path::Path;

use imglock::emit::DockerfileOptions;
use imglock::lock::{Lock, render};

/// Every bundled example that resolves offline (`r-public` and `python-pypi` need the internet),
/// with its golden lock; its golden Dockerfile is the lock's name with `.Dockerfile`.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "examples/r-fixture/imglock.toml",
        "lockfiles/r-fixture.lock",
    ),
    (
        "examples/mixed-fixture/imglock.toml",
        "lockfiles/mixed-fixture.lock",
    ),
    (
        "examples/conda-fixture/imglock.toml",
        "lockfiles/conda-fixture.lock",
    ),
    (
        "examples/maven-fixture/imglock.toml",
        "lockfiles/maven-fixture.lock",
    ),
];

#[test]
fn resolving_the_examples_reproduces_the_golden_locks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cache = tempfile::tempdir().unwrap();
    for (spec, golden) in EXAMPLES {
        let spec = root.join(spec);
        // Written beside the spec, so relative repository paths come out as in a user's lock.
        let lock = spec.with_file_name(format!(".golden-test-{}.lock", std::process::id()));
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_imglock"))
            .args(["resolve", "--spec"])
            .arg(&spec)
            .arg("--lock")
            .arg(&lock)
            .env("IMGLOCK_CACHE_DIR", cache.path())
            .output()
            .unwrap();
        let produced = std::fs::read_to_string(&lock);
        let _ = std::fs::remove_file(&lock);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let expected = std::fs::read_to_string(root.join(golden)).unwrap();
        assert_eq!(
            produced.unwrap(),
            expected,
            "resolve's output for {} drifted from {golden}; if the change is intended, re-create the golden file and review its diff",
            spec.display()
        );
    }
}

#[test]
fn emitting_the_golden_locks_reproduces_the_golden_dockerfiles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (spec, golden) in EXAMPLES {
        let golden = root.join(golden);
        let bytes = std::fs::read(&golden).unwrap();
        // As if the lock were the example's `imglock.lock`: `file:` URLs are relative to it.
        let lock_path = root.join(spec).with_file_name("imglock.lock");
        let lock = Lock::parse(&lock_path, &String::from_utf8(bytes.clone()).unwrap()).unwrap();
        let dockerfile =
            imglock::emit::render(&lock, &lock_path, &bytes, &DockerfileOptions::default())
                .unwrap()
                .text();
        let expected_path = golden.with_extension("Dockerfile");
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", expected_path.display()));
        assert_eq!(
            dockerfile,
            expected,
            "emit's output for {} drifted from {}; if the change is intended, re-create the golden file and review its diff",
            golden.display(),
            expected_path.display()
        );
    }
}

#[test]
fn golden_locks_round_trip() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lockfiles");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "lock") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lock = Lock::parse(&path, &text).unwrap();
        assert!(!lock.layers.is_empty());
        assert_eq!(
            render(&lock),
            text,
            "{} does not round-trip",
            path.display()
        );
        count += 1;
    }
    assert!(count >= 1, "no golden locks found");
}

#[test]
fn locks_of_other_versions_and_tampered_locks_are_refused() {
    let path = Path::new("imglock.lock");
    let future = "version = 2\nspec-hash = \"x\"\n";
    let error = Lock::parse(path, future).unwrap_err().to_string();
    assert!(
        error.contains("has lock version 2") && error.contains("upgrade imglock"),
        "{error}"
    );
    let golden = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("lockfiles/r-fixture.lock"),
    )
    .unwrap();
    let bad_hash = golden.replacen("sha256 = \"", "sha256 = \"zz", 1);
    let error = Lock::parse(path, &bad_hash).unwrap_err().to_string();
    assert!(
        error.contains("not 64 lowercase hexadecimal digits"),
        "{error}"
    );
    let npm = golden.replacen("ecosystem = \"cran\"", "ecosystem = \"npm\"", 1);
    let error = Lock::parse(path, &npm).unwrap_err().to_string();
    assert!(
        error.contains("unknown variant `npm`") && error.contains("`cran`"),
        "{error}"
    );
    // Each package holds only its own ecosystem's fields.
    let foreign = golden.replacen(
        "needs-compilation = ",
        "build = \"h0_0\"\nneeds-compilation = ",
        1,
    );
    let error = Lock::parse(path, &foreign).unwrap_err().to_string();
    assert!(
        error.contains("cran package")
            && error.contains("has `build`, which its ecosystem does not have"),
        "{error}"
    );
    let unknown = golden.replacen("[image]", "[image]\ncolour = \"blue\"", 1);
    let error = Lock::parse(path, &unknown).unwrap_err().to_string();
    assert!(error.contains("unknown field `colour`"), "{error}");
}
