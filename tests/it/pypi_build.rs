//! Locked build dependencies of PyPI sdists (issue 14, items 3 and 4): each locked sdist pins
//! its build environment (`build-requires`), whose wheels are the layer's
//! `[[layer.build-package]]` tables; the emitted step builds the sdist in the image from exactly
//! those files, keeps the wheel in a cache mount and installs it. The recorded index
//! (fixtures/pypi) serves real setuptools and wheel wheels; the sdists are the recording's
//! (alembic, databricks-cli) or written by hand.

use std::path::Path;
use std::process::Command;

use crate::pypi::{fixtures, python_spec, resolve_at, serve_edited, set, set_exclude_newer};
use crate::pypi_sdist::publish;
use crate::support::{self, Project, Server, stderr};

/// The date of the Databricks Runtime 10.4 set: setuptools 60.9.3 and wheel 0.37.1 are the
/// newest then, and both are recorded.
fn date() -> String {
    set_exclude_newer("databricks-10.4")
}

/// The lock's tables `table` (`package` or `build-package`) of its first layer.
fn tables(lock: &str, table: &str) -> Vec<toml::Value> {
    let value: toml::Value = toml::from_str(lock).unwrap();
    value["layer"][0]
        .get(table)
        .and_then(|t| t.as_array())
        .cloned()
        .unwrap_or_default()
}

/// The `build-requires` of the package `name` of the lock's first layer.
fn build_requires(lock: &str, name: &str) -> Vec<String> {
    let package = tables(lock, "package")
        .into_iter()
        .find(|p| p["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("{name} is not locked:\n{lock}"));
    package
        .get("build-requires")
        .and_then(|b| b.as_array())
        .map(|b| b.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// `name==version` of each build package, in the lock's order.
fn build_pins(lock: &str) -> Vec<String> {
    tables(lock, "build-package")
        .iter()
        .map(|p| {
            format!(
                "{}=={}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn the_databricks_sdists_lock_their_build_dependencies() {
    let server = Server::start(&fixtures());
    let requirements = set("databricks-10.4");
    let refs: Vec<&str> = requirements.iter().map(String::as_str).collect();
    let (project, output) = resolve_at(&server, &[("py", &refs)], &date(), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    let legacy = ["setuptools==60.9.3", "wheel==0.37.1"];
    for sdist in ["alembic", "databricks-cli"] {
        assert_eq!(build_requires(&lock, sdist), legacy, "{sdist}");
    }
    // A wheel builds nothing.
    assert!(build_requires(&lock, "numpy").is_empty());
    assert_eq!(build_pins(&lock), legacy);
    for package in tables(&lock, "build-package") {
        let sha256 = package["sha256"].as_str().unwrap();
        assert!(sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(
            package["url"].as_str().unwrap().ends_with(".whl"),
            "{package}"
        );
        assert!(package["size"].as_integer().unwrap() > 0);
    }
    assert!(
        lock.contains("\n[[layer.build-package]]\necosystem = \"pypi\"\nname = \"setuptools\"\n")
    );
    // Unchanged spec: up to date; resolving again writes the same bytes.
    let check = project.run(&["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let again = project.run(&["resolve", "--exclude-newer", &date()]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(project.lock().unwrap(), lock);
}

/// PKG-INFO 2.2 of a hand-written sdist with no dependencies.
fn pkg_info(project: &str) -> String {
    format!("Metadata-Version: 2.2\nName: {project}\nVersion: 1.0\n")
}

#[test]
fn build_requirements_come_from_the_build_system_or_pep_517s_defaults() {
    let (pinned_info, legacy_info) = (pkg_info("handmade-pinned"), pkg_info("handmade-legacy"));
    let (_copy, server) = serve_edited(|root| {
        publish(
            root,
            "handmade-pinned",
            &[
                ("PKG-INFO", &pinned_info),
                (
                    "pyproject.toml",
                    "[build-system]\nrequires = [\"setuptools==51.1.1\", \"wheel==0.36.2 ; python_version >= '3'\", \"docopt ; python_version < '3'\"]\nbuild-backend = \"setuptools.build_meta\"\n",
                ),
            ],
        );
        publish(root, "handmade-legacy", &[("PKG-INFO", &legacy_info)]);
    });
    let (project, output) = resolve_at(
        &server,
        &[("py", &["handmade-pinned", "handmade-legacy"])],
        &date(),
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert_eq!(
        build_requires(&lock, "handmade-pinned"),
        ["setuptools==51.1.1", "wheel==0.36.2"]
    );
    assert_eq!(
        build_requires(&lock, "handmade-legacy"),
        ["setuptools==60.9.3", "wheel==0.37.1"]
    );
    // One table per name and version, sorted; none is a package of the layer.
    assert_eq!(
        build_pins(&lock),
        [
            "setuptools==51.1.1",
            "setuptools==60.9.3",
            "wheel==0.36.2",
            "wheel==0.37.1"
        ]
    );
    let names: Vec<String> = tables(&lock, "package")
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["handmade-legacy", "handmade-pinned"]);
}

#[test]
fn an_sdist_among_build_dependencies_is_refused_by_name() {
    let (needs_info, tool_info) = (pkg_info("handmade-needs"), pkg_info("handmade-tool"));
    let (_copy, server) = serve_edited(|root| {
        publish(
            root,
            "handmade-needs",
            &[
                ("PKG-INFO", &needs_info),
                (
                    "pyproject.toml",
                    "[build-system]\nrequires = [\"handmade-tool\"]\n",
                ),
            ],
        );
        publish(root, "handmade-tool", &[("PKG-INFO", &tool_info)]);
    });
    let (project, output) = resolve_at(&server, &[("py", &["handmade-needs"])], &date(), &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    for part in [
        "resolving the build requirements of the sdist handmade-needs 1.0 in layer `py`",
        "the build dependency handmade-tool 1.0 has only a source distribution (handmade-tool-1.0.tar.gz)",
    ] {
        assert!(message.contains(part), "missing {part:?} in:\n{message}");
    }
    assert!(project.lock().is_none());
}

/// Where the step installs: a virtualenv, as on the Databricks images.
const PREFIX: &str = "/opt/py";

/// A buildable sdist: setup.py only, no pyproject.toml (a legacy sdist, built with setuptools
/// and wheel), and a module that says it was built.
fn publish_buildable(root: &Path) {
    let info = pkg_info("handmade-build");
    publish(
        root,
        "handmade-build",
        &[
            ("PKG-INFO", &info),
            (
                "setup.py",
                "from setuptools import setup\nsetup(name='handmade-build', version='1.0', py_modules=['handmade_build'])\n",
            ),
            ("handmade_build.py", "BUILT = True\n"),
        ],
    );
}

/// `imglock emit --out build`, which must succeed; the Dockerfile it wrote.
fn emit(project: &Project) -> String {
    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    std::fs::read_to_string(project.path("build/Dockerfile")).unwrap()
}

/// The commands of the emitted Dockerfile's sdist builder step and Python `RUN` (its mounts
/// left out), to run in that order.
fn run_command(dockerfile: &str) -> String {
    let builder = crate::pypi::run_after(dockerfile, "# imglock's Python sdist builder");
    let command = crate::pypi::python_step(dockerfile);
    let mut rest = command.trim_start();
    while let Some(after) = rest.strip_prefix("--mount=") {
        rest = after.split_once(' ').map_or("", |(_, r)| r).trim_start();
    }
    format!("{builder} && {rest}")
}

/// Runs the emitted steps with `root` standing for the image's `/` and `cache` for the cache
/// mount; gives what they printed.
fn run_step(command: &str, root: &Path, cache: &Path) -> String {
    run_step_with_path(command, root, cache, None)
}

/// [`run_step`], with `bin` first on the `PATH` when given.
fn run_step_with_path(command: &str, root: &Path, cache: &Path, bin: Option<&Path>) -> String {
    let command = command
        .replace(PREFIX, &root.join(&PREFIX[1..]).display().to_string())
        .replace("/var/cache/imglock/wheels", &cache.display().to_string())
        .replace(
            "/usr/local/",
            &root.join("usr/local/").display().to_string(),
        )
        .replace(
            "/tmp/imglock-",
            &root.join("tmp/imglock-").display().to_string(),
        );
    for folder in ["tmp", "usr/local/bin"] {
        std::fs::create_dir_all(root.join(folder)).unwrap();
    }
    let mut sh = Command::new("sh");
    sh.args(["-c", &command]);
    let path = std::env::var("PATH").unwrap_or_default();
    let builder = root.join("usr/local/bin");
    let path = match bin {
        Some(bin) => format!("{}:{}:{path}", bin.display(), builder.display()),
        None => format!("{}:{path}", builder.display()),
    };
    sh.env("PATH", path);
    let output = sh.output().unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    assert!(output.status.success(), "{command}\n{printed}");
    printed
}

/// A `python3` that, like Debian's without `python3-venv`, has no `ensurepip`: it refuses
/// `-m venv` unless given `--without-pip`, and runs this machine's Python otherwise.
fn python_without_ensurepip(bin: &Path) {
    let real = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap();
    let real = String::from_utf8(real.stdout).unwrap();
    let script = format!(
        "#!/bin/sh\ncase \" $* \" in *\" -m venv \"*) case \" $* \" in *\" --without-pip \"*) ;; *) echo 'Error: ensurepip is not available' >&2; exit 1;; esac;; esac\nexec {} \"$@\"\n",
        real.trim()
    );
    let path = bin.join("python3");
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn without_ensurepip_the_build_venv_gets_its_packages_from_the_images_pip() {
    if !support::python_venv_available() {
        return;
    }
    let (_copy, server) = serve_edited(publish_buildable);
    let project = locked_buildable(&server);
    let dockerfile = emit(&project);
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    // The layer's environment is there already (made by this machine's Python, with pip).
    let prefix = root.path().join(&PREFIX[1..]);
    let made = Command::new("python3")
        .args(["-m", "venv", prefix.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", stderr(&made));
    let bin = tempfile::tempdir().unwrap();
    python_without_ensurepip(bin.path());
    let printed = run_step_with_path(
        &run_command(&dockerfile),
        root.path(),
        cache.path(),
        Some(bin.path()),
    );
    assert!(
        printed.contains("imglock: built handmade-build 1.0 from its sdist"),
        "{printed}"
    );
    let report = project.verify_clean(root.path());
    assert_eq!(report["checked"].as_array().unwrap().len(), 2);
}

/// A project locking the buildable sdist and idna 3.3 into [`PREFIX`] as of [`date`].
fn locked_buildable(server: &Server) -> Project {
    let spec = python_spec(
        &format!("{}/simple", server.url()),
        &[("py", &["handmade-build", "idna==3.3"])],
    )
    .replacen(
        "python = \"3.8\"\n",
        &format!("python = \"3.8\"\npython-prefix = \"{PREFIX}\"\npython-venv = \"isolated\"\n"),
        1,
    );
    let project = Project::new(&spec);
    let output = project.run(&["resolve", "--exclude-newer", &date()]);
    assert!(output.status.success(), "{}", stderr(&output));
    project
}

/// The field `key` of the locked package `name`, if it has one.
fn package_field(lock: &str, name: &str, key: &str) -> Option<String> {
    tables(lock, "package")
        .into_iter()
        .find(|p| p["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("{name} is not locked:\n{lock}"))
        .get(key)
        .map(|value| value.as_str().unwrap().to_string())
}

/// The wheel sha256 that a run of the builder printed for `label` (`name version`).
fn built_wheel_sha256(printed: &str, label: &str) -> String {
    let marker = format!("imglock: built {label} from its sdist (wheel sha256 ");
    let start = printed
        .find(&marker)
        .unwrap_or_else(|| panic!("{label} was not built:\n{printed}"))
        + marker.len();
    printed[start..start + 64].to_string()
}

#[test]
fn the_emitted_step_builds_the_sdist_from_locked_wheels_and_reuses_the_cached_wheel() {
    if !support::python_venv_available() {
        return;
    }
    let (_copy, server) = serve_edited(publish_buildable);
    let project = locked_buildable(&server);
    let dockerfile = emit(&project);
    let lock = project.lock().unwrap();
    let sdist_sha256 = package_field(&lock, "handmade-build", "sha256").unwrap();
    for part in [
        "--mount=type=cache,target=/var/cache/imglock/wheels,sharing=locked".to_string(),
        format!(
            "imglock-build-sdist /opt/py/bin/python handmade-build 1.0 {sdist_sha256} - cp38-manylinux_2_17_x86_64/"
        ),
        "> /usr/local/bin/imglock-build-sdist && chmod 0755 /usr/local/bin/imglock-build-sdist"
            .into(),
    ] {
        assert!(
            dockerfile.contains(&part),
            "missing {part:?} in:\n{dockerfile}"
        );
    }
    for pin in build_pins(&lock) {
        let (name, _) = pin.split_once("==").unwrap();
        let sha256 = tables(&lock, "build-package")
            .into_iter()
            .find(|p| p["name"].as_str() == Some(name))
            .unwrap()["sha256"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            dockerfile.contains(&format!("--hash=sha256:{sha256}")),
            "{pin}"
        );
    }

    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let first = run_step(&run_command(&dockerfile), root.path(), cache.path());
    let wheel_sha256 = built_wheel_sha256(&first, "handmade-build 1.0");
    let leftovers: Vec<_> = std::fs::read_dir(root.path().join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(leftovers.is_empty(), "the build left {leftovers:?}");
    let builds = cache
        .path()
        .join("cp38-manylinux_2_17_x86_64")
        .read_dir()
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join(format!("handmade-build/1.0/{sdist_sha256}"));
    let cached = builds
        .join(&wheel_sha256)
        .join("handmade_build-1.0-py3-none-any.whl");
    assert!(cached.is_file(), "no {cached:?}");

    // The lock records no wheel sha256 yet: a second build builds again, and, its clock fixed,
    // makes the same wheel although time has passed (zip keeps times to two seconds).
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let second = run_step(&run_command(&dockerfile), root.path(), cache.path());
    assert!(
        second.contains("imglock: not installing the wheel cache's handmade-build 1.0: the lock records no wheel sha256 for it"),
        "{second}"
    );
    assert_eq!(
        built_wheel_sha256(&second, "handmade-build 1.0"),
        wheel_sha256
    );

    // Recorded from the image into the lock, the wheel is taken from the cache.
    let output = project.run(&["verify", root.path().to_str().unwrap(), "--record-binaries"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        support::output_text(&output)
    );
    let lock = project.lock().unwrap();
    assert_eq!(
        package_field(&lock, "handmade-build", "binary-sha256"),
        Some(wheel_sha256.clone())
    );
    let dockerfile = emit(&project);
    assert!(
        dockerfile.contains(&format!("1.0 {sdist_sha256} {wheel_sha256} ")),
        "{dockerfile}"
    );
    let third = run_step(&run_command(&dockerfile), root.path(), cache.path());
    assert!(
        third.contains("imglock: handmade-build 1.0: its wheel from the build cache"),
        "{third}"
    );
    assert!(!third.contains("from its sdist"), "{third}");

    // A wheel planted under the recorded name is refused and the sdist built again.
    std::fs::write(&cached, b"not the wheel the lock records").unwrap();
    let fourth = run_step(&run_command(&dockerfile), root.path(), cache.path());
    assert!(
        fourth.contains(&format!("imglock: not installing the wheel cache's handmade-build 1.0: its sha256 is {}, but the lock records {wheel_sha256}; building it from its sdist", crate::support::sha256_hex(b"not the wheel the lock records"))),
        "{fourth}"
    );
    assert_eq!(
        built_wheel_sha256(&fourth, "handmade-build 1.0"),
        wheel_sha256
    );

    assert_eq!(
        checked_names(&project.verify_clean(root.path())),
        ["handmade-build", "idna"]
    );
    // Recorded, the lock is not stale, and resolving again keeps the wheel sha256.
    let check = project.run(&["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let output = project.run(&["resolve", "--exclude-newer", &date()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(project.lock().unwrap(), lock);
}

/// The names of the packages a `verify --format json` report checked.
fn checked_names(report: &serde_json::Value) -> Vec<String> {
    report["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

/// [`publish_buildable`], uploaded early enough for the dask-worker set's date (2021-01-01) too.
fn publish_buildable_early(root: &Path) {
    publish_buildable(root);
    let page = root.join("simple/handmade-build/index.json");
    let text = std::fs::read_to_string(&page).unwrap();
    std::fs::write(
        &page,
        text.replace("2022-01-01T00:00:00Z", "2020-06-01T00:00:00Z"),
    )
    .unwrap();
}

#[test]
fn build_pins_are_kept_until_upgraded() {
    let (_copy, server) = serve_edited(publish_buildable_early);
    let (project, output) = resolve_at(
        &server,
        &[("py", &["handmade-build"])],
        &set_exclude_newer("dask-worker"),
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let old = ["setuptools==51.1.1", "wheel==0.36.2"];
    assert_eq!(build_pins(&project.lock().unwrap()), old);
    // Newer build dependencies are published: the lock keeps its pins.
    let output = project.run(&["resolve", "--exclude-newer", &date()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert_eq!(build_requires(&lock, "handmade-build"), old);
    assert_eq!(build_pins(&lock), old);
    // Until asked: only the named build dependency moves.
    let output = project.run(&[
        "resolve",
        "--upgrade-package",
        "setuptools",
        "--exclude-newer",
        &date(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    let upgraded = ["setuptools==60.9.3", "wheel==0.36.2"];
    assert_eq!(build_requires(&lock, "handmade-build"), upgraded);
    assert_eq!(build_pins(&lock), upgraded);
}

#[test]
fn diff_shows_build_dependency_and_build_requirement_changes() {
    let (_copy, server) = serve_edited(publish_buildable_early);
    let (project, output) = resolve_at(
        &server,
        &[("py", &["handmade-build"])],
        &set_exclude_newer("dask-worker"),
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let old = project.lock().unwrap();
    assert_eq!(build_pins(&old), ["setuptools==51.1.1", "wheel==0.36.2"]);
    std::fs::write(project.path("old.lock"), &old).unwrap();
    let output = project.run(&["resolve", "--upgrade", "--exclude-newer", &date()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = project.run(&["diff", "old.lock", "imglock.lock"]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{text}{}", stderr(&output));
    for line in [
        "~ handmade-build 1.0 build requirements changed (pypi; setuptools==51.1.1, wheel==0.36.2 → setuptools==60.9.3, wheel==0.37.1)",
        "↑ setuptools (build only) 51.1.1 → 60.9.3 (pypi; major)",
        "↑ wheel (build only) 0.36.2 → 0.37.1 (pypi; minor)",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    let output = project.run(&["diff", "old.lock", "imglock.lock", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let kinds: Vec<(&str, &str, bool)> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap(),
                c["name"].as_str().unwrap(),
                c.get("build_only").is_some_and(|b| b == true),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("build-requires-changed", "handmade-build", false),
            ("upgraded", "setuptools", true),
            ("upgraded", "wheel", true),
        ]
    );
}

#[test]
fn sdists_whose_metadata_was_built_lock_their_build_dependencies_too() {
    let Some(digest) = crate::image_build::base_digest() else {
        return;
    };
    let server = Server::start(&fixtures());
    let project = crate::pypi_metadata_build::project_on_base(&server, "dask-worker", &digest);
    let output = crate::pypi_metadata_build::resolve(&project, "dask-worker", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    // As of 2021-01-01: setuptools 51.1.1 and wheel 0.36.2, PEP 517's defaults for setup.py.
    let legacy = ["setuptools==51.1.1", "wheel==0.36.2"];
    for sdist in ["pyyaml", "locket"] {
        assert_eq!(build_requires(&lock, sdist), legacy, "{sdist}");
    }
    assert_eq!(build_pins(&lock), legacy);
}

/// The sdists of the Dask worker set (issue 14), which it builds in the image.
const DASK_SDISTS: [&str; 2] = ["pyyaml 5.3.1", "locket 0.2.0"];

#[test]
fn a_real_build_makes_the_dask_sets_wheels_in_the_image_and_the_next_build_takes_them_from_the_cache()
 {
    use crate::image_build::{Cleanup, base_digest, build, buildah};
    let Some(digest) = base_digest() else { return };
    let server = Server::start(&fixtures());
    // The set's sdists as of its date, for the test base image's Python (Debian 12's 3.11,
    // without python3-venv: the build venv takes the image's pip).
    let project = Project::new(&format!(
        "[image]\nname = \"sdist-build-test\"\nbase = \"localhost/imglock-test-base@{digest}\"\npython = \"3.11\"\n\n[repositories]\npypi = \"{}/simple\"\n\n[[layer]]\nname = \"py\"\npypi = [\"pyyaml==5.3.1\", \"locket==0.2.0\"]\n",
        server.url()
    ));
    let output = crate::pypi_metadata_build::resolve(&project, "dask-worker", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    for sdist in ["pyyaml", "locket"] {
        assert_eq!(
            build_requires(&lock, sdist),
            ["setuptools==51.1.1", "wheel==0.36.2"]
        );
    }
    emit(&project);
    let tag = format!("localhost/imglock-sdist-test-{}:1", std::process::id());
    let mut cleanup = Cleanup(vec![tag.clone()]);
    let (output, first) = build(&project, "build", &tag, &["--no-cache"]);
    let printed = crate::support::output_text(&output);
    assert!(output.status.success(), "{printed}");
    let built: Vec<String> = DASK_SDISTS
        .iter()
        .map(|label| built_wheel_sha256(&printed, label))
        .collect();

    // The image's records give the lock each wheel's sha256.
    let images = tempfile::tempdir().unwrap();
    let push = |tag: &str, name: &str| {
        let oci = images.path().join(name);
        let output = buildah(&["push", tag, &format!("oci:{}", oci.display())]);
        assert!(
            output.status.success(),
            "{}",
            crate::support::output_text(&output)
        );
        oci
    };
    let oci = push(&tag, "first");
    let output = project.run(&["verify", oci.to_str().unwrap(), "--record-binaries"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        crate::support::output_text(&output)
    );
    let lock = project.lock().unwrap();
    for (name, wheel) in ["pyyaml", "locket"].into_iter().zip(&built) {
        assert_eq!(
            package_field(&lock, name, "binary-sha256").as_ref(),
            Some(wheel),
            "{name}"
        );
    }

    // The next build, from scratch but on the same builder, takes both from the wheel cache.
    emit(&project);
    let again = format!("localhost/imglock-sdist-test-{}:2", std::process::id());
    cleanup.0.push(again.clone());
    let (output, second) = build(&project, "build", &again, &["--no-cache"]);
    let printed = crate::support::output_text(&output);
    assert!(output.status.success(), "{printed}");
    for label in DASK_SDISTS {
        assert!(
            printed.contains(&format!("imglock: {label}: its wheel from the build cache")),
            "{printed}"
        );
        assert!(
            !printed.contains(&format!("imglock: built {label}")),
            "{printed}"
        );
    }
    assert_eq!(
        checked_names(&project.verify_clean(&push(&again, "second"))),
        ["locket", "pyyaml"]
    );
    eprintln!("sdist layer build: {first:.1} s, again from the wheel cache: {second:.1} s");
}
