//! Metadata builds for real: buildah and the test base image (scripts/base-image.sh), the
//! recorded PyPI files (fixtures/pypi). Under `CI=true` a missing engine or image fails.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::*;

/// The image scripts/base-image.sh builds: Debian bookworm with its Python.
const BASE_IMAGE: &str = "localhost/imglock-test-base:bookworm-r-python-conda";

/// A builder in buildah containers of the base image, caching in `cache`; `None` (a skip; a
/// failure under `CI=true`) without buildah or the base image.
fn builder(cache: &Path) -> Option<MetadataBuilder> {
    let present = ContainerEngine::find() == Some(ContainerEngine::Buildah)
        && std::process::Command::new("buildah")
            .args(["inspect", "--type", "image", BASE_IMAGE])
            .output()
            .is_ok_and(|o| o.status.success());
    if !crate::corpora::available(
        present,
        &format!("buildah or {BASE_IMAGE} is missing (scripts/base-image.sh)"),
    ) {
        return None;
    }
    Some(MetadataBuilder {
        image: BASE_IMAGE.into(),
        engine: Some(ContainerEngine::Buildah),
        no_build: false,
        no_build_packages: BTreeSet::new(),
        cache: Cache::at(cache),
        stop: Arc::default(),
    })
}

/// The one recorded file named `name` in fixtures/pypi/files.
fn recorded(name: &str) -> PathBuf {
    fn find(dir: &Path, name: &str) -> Option<PathBuf> {
        std::fs::read_dir(dir).ok()?.find_map(|entry| {
            let path = entry.ok()?.path();
            if path.is_dir() {
                find(&path, name)
            } else {
                (path.file_name()? == name).then_some(path)
            }
        })
    }
    let files = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pypi/files");
    find(&files, name).unwrap_or_else(|| panic!("{name} is not recorded"))
}

fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// The locked build dependencies of a legacy sdist: setuptools and wheel.
fn setuptools_wheels() -> Vec<PathBuf> {
    vec![
        recorded("setuptools-51.1.1-py3-none-any.whl"),
        recorded("wheel-0.36.2-py2.py3-none-any.whl"),
    ]
}

/// An sdist `name-1.0.tar.gz` in `dir` holding `files` under `name-1.0/`.
fn sdist(dir: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let path = dir.join(format!("{name}-1.0.tar.gz"));
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    for (file, text) in files {
        // The name is written raw: the tar crate refuses to write a `..` a hostile sdist has.
        let member = format!("{name}-1.0/{file}");
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..member.len()].copy_from_slice(member.as_bytes());
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        tar.append(&header, text.as_bytes()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
    path
}

/// Builds the metadata of the legacy sdist `name-1.0.tar.gz` made in `dir` from `files`, with
/// the locked setuptools and wheel: the metadata's text, or why the build failed.
fn build_legacy(
    builder: &MetadataBuilder,
    dir: &Path,
    name: &str,
    files: &[(&str, &str)],
) -> Result<String, BuildError> {
    let path = sdist(dir, name, files);
    let sha256 = sha256_of(&path);
    let backend = BuildBackend::of(None);
    let wheels = setuptools_wheels();
    let filename = format!("{name}-1.0.tar.gz");
    let build = SdistBuild {
        filename: &filename,
        path: &path,
        sha256: &sha256,
        backend: &backend,
        wheels: &wheels,
    };
    builder.metadata(&PackageName::from_str(name).unwrap(), &build)
}

#[test]
fn pyyaml_5_3_1_metadata_is_built_in_the_image_and_cached_by_sha256() {
    let cache_dir = tempfile::tempdir().unwrap();
    let Some(builder) = builder(cache_dir.path()) else {
        return;
    };
    let path = recorded("PyYAML-5.3.1.tar.gz");
    let sha256 = sha256_of(&path);
    let backend = BuildBackend::of(None);
    assert_eq!(backend.object, LEGACY_BACKEND);
    let wheels = setuptools_wheels();
    let build = SdistBuild {
        filename: "PyYAML-5.3.1.tar.gz",
        path: &path,
        sha256: &sha256,
        backend: &backend,
        wheels: &wheels,
    };
    let name = PackageName::from_str("pyyaml").unwrap();
    let text = builder.metadata(&name, &build).unwrap();
    let built = crate::pypi::metadata::CoreMetadata::parse(&text);
    assert_eq!(
        (built.name.as_str(), built.version.as_str()),
        ("PyYAML", "5.3.1")
    );
    assert!(built.requires_dist.is_empty(), "{text}");

    // Cached: no engine is needed the second time.
    let without_engine = MetadataBuilder {
        engine: None,
        ..builder
    };
    assert_eq!(without_engine.metadata(&name, &build).unwrap(), text);
    // A damaged entry is not used: it would have to be built again.
    let entry = cache_dir
        .path()
        .join(format!("pypi-built-metadata/{sha256}.json"));
    let damaged = std::fs::read_to_string(&entry)
        .unwrap()
        .replacen("PyYAML", "PyYAMX", 1);
    std::fs::write(&entry, damaged).unwrap();
    let error = without_engine.metadata(&name, &build).unwrap_err();
    assert!(matches!(error, BuildError::NoEngine { .. }), "{error}");
}

#[test]
fn the_build_has_no_network_and_its_dependencies_come_from_setup_py() {
    let dir = tempfile::tempdir().unwrap();
    let Some(builder) = builder(&dir.path().join("cache")) else {
        return;
    };
    // A listener on the host's loopback: inside the container, no connection reaches it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let setup = format!(
        "import socket\nfrom setuptools import setup\n\
         try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n    reached = 'yes'\n\
         except OSError:\n    reached = 'no'\n\
         setup(name='probe', version='1.0', install_requires=['six>=1.10', 'reached-' + reached])\n"
    );
    let text = build_legacy(&builder, dir.path(), "probe", &[("setup.py", &setup)]).unwrap();
    let built = crate::pypi::metadata::CoreMetadata::parse(&text);
    assert_eq!(
        built.requires_dist,
        ["six (>=1.10)", "reached-no"],
        "{text}"
    );
    assert!(listener.accept().is_err(), "the build reached the host");
}

#[test]
fn the_build_unpacks_into_memory() {
    let dir = tempfile::tempdir().unwrap();
    let Some(builder) = builder(&dir.path().join("cache")) else {
        return;
    };
    // The sdist and the build dependencies are unpacked into the container's /tmp: a tmpfs,
    // as the container's own file system is slow to write many small files to.
    let setup = "import os\nfrom setuptools import setup\n\
                 mounts = [line.split() for line in open('/proc/self/mounts')]\n\
                 scratch = [m[2] for m in mounts if m[1] == '/tmp']\n\
                 setup(name='scratch', version='1.0', install_requires=['on-' + (scratch or ['disk'])[-1]])\n";
    let text = build_legacy(&builder, dir.path(), "scratch", &[("setup.py", setup)]).unwrap();
    let built = crate::pypi::metadata::CoreMetadata::parse(&text);
    assert_eq!(built.requires_dist, ["on-tmpfs"], "{text}");
}

#[test]
fn an_sdist_member_leaving_its_folder_fails_the_build_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let Some(builder) = builder(&dir.path().join("cache")) else {
        return;
    };
    let files = [
        (
            "setup.py",
            "from setuptools import setup\nsetup(name='escape', version='1.0')\n",
        ),
        ("../../../../tmp/planted", "x"),
    ];
    let error = build_legacy(&builder, dir.path(), "escape", &files)
        .unwrap_err()
        .to_string();
    assert!(error.contains("would land outside its folder"), "{error}");
    assert!(error.contains("escape-1.0.tar.gz"), "{error}");
}

#[test]
fn the_backend_is_read_from_the_build_system_table() {
    let flit = BuildBackend::of(Some(
        "[build-system]\nrequires = [\"flit_core>=3.2\"]\nbuild-backend = \"flit_core.buildapi\"\n",
    ));
    assert_eq!(flit.object, "flit_core.buildapi");
    let in_tree = BuildBackend::of(Some(
        "[build-system]\nbuild-backend = \"backend\"\nbackend-path = [\"_build\"]\n",
    ));
    assert_eq!(in_tree.path, ["_build"]);
    assert_eq!(
        BuildBackend::of(Some("[project]\nname = \"x\"\n")).object,
        LEGACY_BACKEND
    );
    assert_eq!(BuildBackend::of(Some("not toml [")).object, LEGACY_BACKEND);
}

#[test]
fn no_build_options_and_a_missing_engine_refuse_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = recorded("PyYAML-5.3.1.tar.gz");
    let backend = BuildBackend::of(None);
    let build = SdistBuild {
        filename: "PyYAML-5.3.1.tar.gz",
        path: &path,
        sha256: "0",
        backend: &backend,
        wheels: &[],
    };
    let name = PackageName::from_str("pyyaml").unwrap();
    let cache = Cache::at(dir.path());
    let image = "localhost/none@sha256:0";
    let builder = |all: bool, packages: &[String]| {
        MetadataBuilder::new(image, NoBuild { all, packages }, cache.clone())
    };
    let all = builder(true, &[]).metadata(&name, &build).unwrap_err();
    assert!(
        all.to_string().contains("`--no-build` forbids building it"),
        "{all}"
    );
    let named = builder(false, &["PyYAML".into()])
        .metadata(&name, &build)
        .unwrap_err();
    assert!(
        named
            .to_string()
            .contains("`--no-build-package pyyaml` forbids"),
        "{named}"
    );
    let without_engine = MetadataBuilder {
        engine: None,
        ..builder(false, &["other".into()])
    };
    let error = without_engine
        .metadata(&name, &build)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("none of buildah, podman or docker is on PATH")
            && error.contains("PyYAML-5.3.1.tar.gz holds no static metadata"),
        "{error}"
    );
}

#[test]
fn a_container_a_killed_build_left_is_removed_by_the_next_build() {
    let dir = tempfile::tempdir().unwrap();
    let Some(builder) = builder(&dir.path().join("cache")) else {
        return;
    };
    // A process that ran and is gone: the container of a build killed before its removal.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let leftover = format!("imglock-build-{pid}-0");
    let buildah = |args: &[&str]| {
        std::process::Command::new("buildah")
            .args(args)
            .output()
            .unwrap()
    };
    let made = buildah(&[
        "from",
        "--pull=never",
        "--quiet",
        "--name",
        &leftover,
        BASE_IMAGE,
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let setup = "from setuptools import setup\nsetup(name='leftover', version='1.0')\n";
    build_legacy(&builder, dir.path(), "leftover", &[("setup.py", setup)]).unwrap();
    let listed = buildah(&["containers", "--format", "{{.ContainerName}}"]);
    let names = String::from_utf8_lossy(&listed.stdout);
    assert!(
        !names.lines().any(|name| name.trim() == leftover),
        "{leftover} is still there:\n{names}"
    );
}
