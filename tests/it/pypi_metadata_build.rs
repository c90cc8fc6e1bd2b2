//! Sdists that hold no static metadata (PyYAML 5.3.1 and locket 0.2.0 in the Dask worker set)
//! get it from their PEP 517 hook, run by `imglock resolve` in a buildah container of the spec's
//! base image (scripts/base-image.sh) with no network, their build dependencies resolved and
//! downloaded from the recorded index: the set then locks as uv locks it.

use crate::image_build::base_digest;
use crate::pypi::{fixtures, pins, python_spec, set, set_exclude_newer, uv_pins};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sha2::Digest;

use crate::pypi_sdist::publish;
use crate::support::{self, Project, Server, stderr};

/// A project whose spec locks the recorded set `name` on `server`'s index, on the test base
/// image pinned by `digest`.
pub(crate) fn project_on_base(server: &Server, name: &str, digest: &str) -> Project {
    project_on_base_at(&format!("{}/simple", server.url()), name, digest)
}

/// [`project_on_base`] with the index at `index`.
pub(crate) fn project_on_base_at(index: &str, name: &str, digest: &str) -> Project {
    let requirements = set(name);
    let refs: Vec<&str> = requirements.iter().map(String::as_str).collect();
    project_of_on_base(index, &refs, digest)
}

/// A project whose spec locks `requirements` on the index at `index`, on the test base image
/// pinned by `digest`.
fn project_of_on_base(index: &str, requirements: &[&str], digest: &str) -> Project {
    let spec = python_spec(index, &[("py", requirements)]);
    let base_line = spec
        .lines()
        .find(|l| l.starts_with("base = "))
        .unwrap()
        .to_string();
    Project::new(&spec.replacen(
        &base_line,
        &format!("base = \"localhost/imglock-test-base@{digest}\""),
        1,
    ))
}

/// `imglock resolve` with buildah's settings on this machine.
pub(crate) fn resolve(project: &Project, name: &str, flags: &[&str]) -> std::process::Output {
    let exclude_newer = set_exclude_newer(name);
    let mut args = vec!["resolve", "--verbose", "--exclude-newer", &exclude_newer];
    args.extend(flags);
    project.run_with(
        &args,
        &[("STORAGE_DRIVER", "vfs"), ("BUILDAH_ISOLATION", "chroot")],
    )
}

#[test]
fn the_dask_worker_set_locks_as_uv_does_with_two_metadata_builds() {
    let Some(digest) = base_digest() else { return };
    if !support::available(support::runs("uv", &["--version"]), "uv is not installed") {
        return;
    }
    let server = Server::start(&fixtures());
    let project = project_on_base(&server, "dask-worker", &digest);
    let output = resolve(&project, "dask-worker", &[]);
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    for name in ["pyyaml 5.3.1", "locket 0.2.0"] {
        let note = format!(
            "{name} is an sdist: its dependencies were read from its PEP 517 metadata hook, run in a container of the base image"
        );
        assert!(text.contains(&note), "missing {note:?} in:\n{text}");
    }
    let ours = pins(&project.lock().unwrap(), None);
    assert_eq!(
        ours,
        uv_pins(&format!("{}/simple", server.url()), "dask-worker")
    );

    // The second resolve builds nothing: the results are cached by each sdist's sha256, so an
    // engine is not even needed.
    let again = project.run_with(
        &[
            "resolve",
            "--exclude-newer",
            &set_exclude_newer("dask-worker"),
            "--upgrade",
        ],
        &[("PATH", "/nonexistent")],
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(pins(&project.lock().unwrap(), None), ours);
}

#[test]
fn no_build_package_refuses_that_build_by_name() {
    let Some(digest) = base_digest() else { return };
    let server = Server::start(&fixtures());
    let project = project_on_base(&server, "dask-worker", &digest);
    let output = resolve(&project, "dask-worker", &["--no-build-package", "locket"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("locket-0.2.0.tar.gz holds no static metadata, and `--no-build-package locket` forbids building it"),
        "{text}"
    );
    assert!(project.lock().is_none());
}

#[test]
fn sdists_an_index_gives_no_digest_for_are_not_confused_in_the_build_cache() {
    let Some(digest) = base_digest() else { return };
    // PEP 691 makes a file's hashes optional: strip those of both sdists that need a build.
    let (_copy, server) = crate::pypi::serve_edited(|root| {
        for (project, sdist) in [
            ("pyyaml", "PyYAML-5.3.1.tar.gz"),
            ("locket", "locket-0.2.0.tar.gz"),
        ] {
            let page = root.join(format!("simple/{project}/index.json"));
            let mut json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&page).unwrap()).unwrap();
            for file in json["files"].as_array_mut().unwrap() {
                if file["filename"] == sdist {
                    file["hashes"] = serde_json::json!({});
                }
            }
            std::fs::write(&page, json.to_string()).unwrap();
        }
    });
    let project = project_on_base(&server, "dask-worker", &digest);
    let output = resolve(&project, "dask-worker", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let pins = pins(&project.lock().unwrap(), None);
    assert_eq!(
        (pins["pyyaml"].as_str(), pins["locket"].as_str()),
        ("5.3.1", "0.2.0")
    );
}

/// The ids of the running metadata hooks (`python3 /imglock/hook.py ...`, seen from this
/// machine's `/proc`) one of whose arguments mentions `marker`.
fn running_hooks(marker: &str) -> BTreeSet<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return BTreeSet::new();
    };
    entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let args: Vec<String> = cmdline
                .split(|byte| *byte == 0)
                .map(|arg| String::from_utf8_lossy(arg).into_owned())
                .collect();
            // The hook itself, not the engine's processes that carry its command line.
            let hook = args.len() > 2
                && args[0].rsplit('/').next()?.starts_with("python")
                && args[1] == "/imglock/hook.py";
            (hook && args.iter().any(|arg| arg.contains(marker))).then_some(pid)
        })
        .collect()
}

#[test]
fn the_metadata_builds_of_a_resolve_run_at_once() {
    let Some(digest) = base_digest() else { return };
    // Two hand-made sdists with no static metadata (PKG-INFO 1.2, setup.py only) whose setup.py
    // takes 4 s, both required by the layer: their metadata hooks are watched from /proc.
    let (_copy, server) = crate::pypi::serve_edited(|root| {
        for project in ["handmade-slow-a", "handmade-slow-b"] {
            let info = format!("Metadata-Version: 1.2\nName: {project}\nVersion: 1.0\n");
            let setup = format!(
                "import time\ntime.sleep(4)\nfrom setuptools import setup\nsetup(name='{project}', version='1.0', install_requires=['idna'])\n"
            );
            publish(root, project, &[("PKG-INFO", &info), ("setup.py", &setup)]);
        }
    });
    let project = project_of_on_base(
        &format!("{}/simple", server.url()),
        &["handmade-slow-a", "handmade-slow-b"],
        &digest,
    );
    let done = AtomicBool::new(false);
    let (output, most_at_once) = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut most = 0;
            while !done.load(Ordering::Relaxed) {
                most = most.max(running_hooks("handmade-slow-").len());
                std::thread::sleep(Duration::from_millis(50));
            }
            most
        });
        let output = resolve(&project, "databricks-10.4", &[]);
        done.store(true, Ordering::Relaxed);
        (output, watcher.join().unwrap())
    });
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    // Their dependencies come from the builds.
    let pins = pins(&project.lock().unwrap(), None);
    assert!(pins.contains_key("idna"), "{pins:?}");
    assert_eq!(
        most_at_once, 2,
        "the two builds ran one after the other:\n{text}"
    );
}

#[test]
fn a_build_of_a_version_resolution_does_not_take_is_stopped_and_its_failure_not_reported() {
    let Some(digest) = base_digest() else { return };
    // handmade-b-fallback 2.0 looks likely (its project is required with no range) and its
    // build takes a minute, then fails; handmade-a-pin, decided first, allows only 1.0, which
    // has static metadata.
    let (_copy, server) = crate::pypi::serve_edited(|root| {
        let pin = "Metadata-Version: 2.2\nName: handmade-a-pin\nVersion: 1.0\nRequires-Dist: handmade-b-fallback<2\n";
        publish(root, "handmade-a-pin", &[("PKG-INFO", pin)]);
        let project = "handmade-b-fallback";
        let old = format!("Metadata-Version: 2.2\nName: {project}\nVersion: 1.0\n");
        publish(root, project, &[("PKG-INFO", &old)]);
        let new = format!("Metadata-Version: 1.2\nName: {project}\nVersion: 2.0\n");
        let bytes = crate::pypi_sdist::tar_gz(&[
            (&format!("{project}-2.0/PKG-INFO"), &new),
            (
                &format!("{project}-2.0/setup.py"),
                "import time\ntime.sleep(60)\nraise SystemExit('this build fails')\n",
            ),
        ]);
        let filename = format!("{project}-2.0.tar.gz");
        std::fs::write(root.join("files/hand").join(&filename), &bytes).unwrap();
        let page = root.join(format!("simple/{project}/index.json"));
        let mut json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&page).unwrap()).unwrap();
        let mut file = json["files"][0].clone();
        file["filename"] = filename.clone().into();
        file["url"] = format!("../../files/hand/{filename}").into();
        file["size"] = bytes.len().into();
        file["hashes"]["sha256"] = hex::encode(sha2::Sha256::digest(&bytes)).into();
        json["files"].as_array_mut().unwrap().push(file);
        std::fs::write(&page, json.to_string()).unwrap();
    });
    let project = project_of_on_base(
        &format!("{}/simple", server.url()),
        &["handmade-a-pin", "handmade-b-fallback"],
        &digest,
    );
    let started = std::time::Instant::now();
    let output = resolve(&project, "databricks-10.4", &[]);
    let took = started.elapsed();
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    assert!(!text.contains("this build fails"), "{text}");
    // Not waited for: the resolve is done in seconds, not the build's minute.
    assert!(took < Duration::from_secs(30), "the resolve took {took:?}");
    let pins = pins(&project.lock().unwrap(), None);
    assert_eq!(pins["handmade-b-fallback"], "1.0", "{pins:?}");
}
