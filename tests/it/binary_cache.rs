//! The shared R binary cache in an OCI registry (issue 18, items 4 and 5), against a real
//! `docker-registry` on loopback that asks for HTTP basic authentication: the client the emitted
//! steps run (`imglock-r-cache.sh`) pushes and pulls one artifact per cache entry and refuses a
//! binary whose digest does not match; `imglock cache list|prune` find and delete exactly the
//! entries the steps use; and two real buildah builds of a lock with one compiled package, the
//! first pushing, the second (no build cache) installing from the registry without compiling,
//! the credentials never in the Dockerfile, the log or the image.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::image_build::{Cleanup, base_digest, build};
use crate::support::registry::Registry;
use crate::support::{Project, Server, fixture_copy, locks, output_text as text, stderr};

const USER: &str = "ci";

/// A password no file of the repository holds, so finding it anywhere means it leaked.
fn password() -> String {
    format!("imglock-secret-{}-{}", std::process::id(), line!())
}

/// The client's source, as the Dockerfile embeds it.
fn client() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cran/emit/imglock-r-cache.sh")
}

/// `imglock-r-cache ACTION NAME VERSION SHA256 - BINARY FILE` for the cache `location` and key
/// `key`, with the credentials file `secret` (or none).
fn run_client(location: &str, key: &str, secret: Option<&Path>, args: &[&str]) -> Output {
    Command::new("sh")
        .arg(client())
        .args(args)
        .env("IMGLOCK_R_CACHE", location)
        .env("IMGLOCK_R_PACKAGE_KEY", key)
        .env(
            "IMGLOCK_R_CACHE_SECRET",
            secret.unwrap_or(Path::new("/nonexistent")),
        )
        .output()
        .unwrap()
}

/// The golden R lock, placed where its relative `file:` repositories reach the fixtures.
fn golden_lock(dir: &Path) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::os::unix::fs::symlink(manifest.join("fixtures"), dir.join("fixtures")).unwrap();
    let lock = dir.join("examples/r-fixture/imglock.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::copy(manifest.join("lockfiles/r-fixture.lock"), &lock).unwrap();
    lock
}

/// The `imglock-r-install` arguments of `name` in `dockerfile`.
fn installer_args(dockerfile: &str, name: &str) -> Vec<String> {
    let line = dockerfile
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("imglock-r-install {name} ")))
        .unwrap();
    line.trim_end_matches(" \\")
        .trim_end_matches(" &&")
        .split(' ')
        .map(str::to_string)
        .collect()
}

/// `imglock cache list --format json`: its exit code and `name → present`.
fn listed(project: &Project, args: &[&str]) -> (Option<i32>, Vec<(String, bool)>) {
    let mut all = vec!["cache", "list", "--format", "json"];
    all.extend_from_slice(args);
    let output = project.run(&all);
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{}", text(&output)));
    let entries = json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["present"].as_bool().unwrap(),
            )
        })
        .collect();
    (output.status.code(), entries)
}

#[test]
fn the_client_and_imglock_cache_agree_on_entries_and_refuse_bad_binaries() {
    let password = password();
    let Some(registry) = Registry::start_with_basic_auth(USER, &password) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lock = golden_lock(dir.path());
    let secret = dir.path().join("credentials");
    std::fs::write(&secret, format!("{USER}:{password}\n")).unwrap();
    let location = format!("oci://{}/team/r-binaries", registry.host());
    let project = Project::new("");
    let lock_arg = lock.to_str().unwrap();
    let output = project.run(&[
        "emit",
        "--lock",
        lock_arg,
        "--out",
        "out",
        "--binary-cache",
        &location,
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let dockerfile = std::fs::read_to_string(project.path("out/Dockerfile")).unwrap();
    let steps: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("RUN --mount=type=cache,target=/var/cache/imglock"))
        .collect();
    assert!(steps.len() >= 4, "{dockerfile}");
    for step in steps {
        assert!(
            step.contains(
                " --mount=type=secret,id=imglock-cache,target=/run/secrets/imglock-cache"
            ),
            "{step}"
        );
    }
    assert!(dockerfile.contains(&format!("IMGLOCK_R_CACHE={location} ")));
    assert!(dockerfile.contains("> /usr/local/bin/imglock-r-cache && chmod 0755"));
    let key = locks::r_package_keys(&dockerfile)["plotkit"].clone();
    let args = installer_args(&dockerfile, "plotkit");
    let (version, sha256) = (args[0].as_str(), args[1].as_str());
    let binary = dir.path().join("plotkit.tgz");
    std::fs::write(
        &binary,
        b"a built binary of plotkit, as far as the cache can tell",
    )
    .unwrap();
    let binary_sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        std::fs::read(&binary).unwrap(),
    ));
    let file = binary.to_str().unwrap();
    let client = |secret: Option<&Path>, action: &str, recorded: &str, file: &str| {
        run_client(
            &location,
            &key,
            secret,
            &[action, "plotkit", version, sha256, "-", recorded, file],
        )
    };
    let cache_args = ["--binary-cache", &location, "--lock", lock_arg];
    let with_credentials = [
        &cache_args[..],
        &["--credentials", secret.to_str().unwrap()],
    ]
    .concat();

    // Without credentials nothing is pushed, and the registry lets nobody list.
    let output = client(None, "push", "-", file);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(stderr(&output).contains("not pushed to the shared binary cache"));
    let output = project.run(&[&["cache", "list"][..], &cache_args].concat());
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(stderr(&output).contains("HTTP 401"), "{}", stderr(&output));
    let (code, entries) = listed(&project, &with_credentials);
    assert_eq!(code, Some(1));
    assert!(entries.len() >= 8 && entries.iter().all(|(_, p)| !p));

    // With them it is, and `cache list` finds exactly that entry.
    let output = client(Some(&secret), "push", "-", file);
    assert!(
        stderr(&output).contains(&format!(
            "R package plotkit {version} pushed to the shared binary cache {location} (binary sha256 {binary_sha256})"
        )),
        "{}",
        text(&output)
    );
    let (code, entries) = listed(&project, &with_credentials);
    assert_eq!(code, Some(1));
    let present: Vec<&str> = entries
        .iter()
        .filter(|(_, p)| *p)
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(present, ["plotkit"]);

    // Pulled: the same bytes; refused when the lock records another binary.
    let pulled = dir.path().join("pulled.tgz");
    let pulled_arg = pulled.to_str().unwrap();
    let output = client(Some(&secret), "pull", &binary_sha256, pulled_arg);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(
        std::fs::read(&pulled).unwrap(),
        std::fs::read(&binary).unwrap()
    );
    let other = "e".repeat(64);
    let output = client(Some(&secret), "pull", &other, pulled_arg);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(&format!(
            "its sha256 is {binary_sha256}, but the lock records {other}"
        )),
        "{}",
        stderr(&output)
    );
    // A blob changed in the registry's storage is refused by its digest.
    let blob = registry.storage().join(format!(
        "docker/registry/v2/blobs/sha256/{}/{binary_sha256}/data",
        &binary_sha256[..2]
    ));
    std::fs::write(&blob, b"a binary swapped in the registry").unwrap();
    let output = client(Some(&secret), "pull", "-", pulled_arg);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        stderr(&output).contains(&format!("not the {binary_sha256} its manifest names")),
        "{}",
        stderr(&output)
    );
    assert!(!pulled.exists());

    // Pruning keeps what a given lock needs, and what is younger than the age given.
    let prune = |extra: &[&str]| {
        let all = [
            &["cache", "prune", "--binary-cache", &location][..],
            &["--credentials", secret.to_str().unwrap()],
            extra,
        ]
        .concat();
        let output = project.run(&all);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(prune(&["--keep", lock_arg]), "");
    assert_eq!(prune(&["--older-than", "1"]), "");
    let tag = dockerfile_tag(&key, "plotkit", version, sha256);
    assert_eq!(prune(&["--dry-run"]), format!("would delete {tag}\n"));
    assert_eq!(prune(&[]), format!("deleted {tag}\n"));
    let (_, entries) = listed(&project, &with_credentials);
    assert!(entries.iter().all(|(_, p)| !p));
    assert_eq!(prune(&[]), "");
}

/// The tag of an entry, as the client derives it: the sha256 of `KEY/NAME_VERSION_SHA256`.
fn dockerfile_tag(key: &str, name: &str, version: &str, sha256: &str) -> String {
    let id = format!("{key}/{name}_{version}_{sha256}");
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(id.as_bytes()))
}

/// A project named `name` on the test base image `digest` whose one R layer asks for fastsum
/// (compiled code; corekit comes with it) from the CRAN fixture `server` serves, resolved.
fn fastsum_project(name: &str, digest: &str, server: &Server) -> Project {
    let project = Project::new(&format!(
        "[image]\nname = \"{name}\"\nbase = \"localhost/imglock-test-base@{digest}\"\nr = \"4.2.2\"\n\n\
         [repositories]\ncran = [\"{}/cran\"]\n\n[[layer]]\nname = \"r\"\ncran = [\"fastsum\"]\n",
        server.url()
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    project
}

#[test]
fn a_second_builder_installs_the_first_builders_binaries_from_the_registry() {
    let Some(digest) = base_digest() else { return };
    let password = password();
    let Some(registry) = Registry::start_with_basic_auth(USER, &password) else {
        return;
    };
    let copy = fixture_copy();
    let server = Server::start(copy.path());
    let project = fastsum_project("cache-test", &digest, &server);
    let location = format!("oci://{}/team/r-binaries", registry.host());
    let output = project.run(&["emit", "--out", "build", "--binary-cache", &location]);
    assert!(output.status.success(), "{}", stderr(&output));
    let secrets = tempfile::tempdir().unwrap();
    let secret = secrets.path().join("credentials");
    std::fs::write(&secret, format!("{USER}:{password}\n")).unwrap();
    let secret_arg = format!("id=imglock-cache,src={}", secret.display());
    let tag = |n: u32| format!("localhost/imglock-cache-test-{}:{n}", std::process::id());
    let mut cleanup = Cleanup(vec![tag(1), tag(2)]);
    let reports = |output: &Output| -> Vec<String> {
        text(output)
            .lines()
            .filter(|l| l.starts_with("imglock: R package "))
            .map(str::to_string)
            .collect()
    };

    // Builder A compiles both packages and pushes them.
    let (output, a_seconds) = build(
        &project,
        "build",
        &tag(1),
        &["--no-cache", "--secret", &secret_arg],
    );
    assert!(output.status.success(), "{}", text(&output));
    let a = reports(&output);
    for name in ["corekit", "fastsum"] {
        assert!(
            a.iter()
                .any(|r| r.starts_with(&format!("imglock: R package {name} "))
                    && r.contains(" pushed to the shared binary cache ")),
            "{a:?}"
        );
        assert!(
            a.iter()
                .any(|r| r.starts_with(&format!("imglock: R package {name} "))
                    && r.contains(" built from source ")),
            "{a:?}"
        );
    }
    let credentials = ["--credentials", secret.to_str().unwrap()];
    let (code, entries) = listed(
        &project,
        &[&["--binary-cache", &location][..], &credentials].concat(),
    );
    assert_eq!(code, Some(0), "{entries:?}");
    assert_eq!(entries.len(), 2);

    // Builder B, with no build cache and no local binary the lock trusts, compiles nothing.
    let (output, b_seconds) = build(
        &project,
        "build",
        &tag(2),
        &["--no-cache", "--secret", &secret_arg],
    );
    assert!(output.status.success(), "{}", text(&output));
    let b = reports(&output);
    assert_eq!(
        b.iter()
            .filter(|r| r.ends_with(" installed from the shared binary cache"))
            .count(),
        2,
        "{b:?}"
    );
    assert!(!b.iter().any(|r| r.contains("built from source")), "{b:?}");
    eprintln!("builder A (compiles, pushes): {a_seconds:.1}s; builder B (pulls): {b_seconds:.1}s");

    // The password is in no Dockerfile, log, image history or file of the image.
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    assert!(!dockerfile.contains(&password) && !text(&output).contains(&password));
    for image in [tag(1), tag(2)] {
        let inspect = crate::image_build::buildah(&["inspect", &image]);
        assert!(!text(&inspect).contains(&password));
    }
    let container = format!("imglock-cache-test-{}", std::process::id());
    let output = crate::image_build::buildah(&["from", "--name", &container, &tag(2)]);
    assert!(output.status.success(), "{}", text(&output));
    cleanup.0.push(container.clone());
    let output = crate::image_build::buildah(&["mount", &container]);
    assert!(output.status.success(), "{}", text(&output));
    let root = String::from_utf8(output.stdout).unwrap().trim().to_string();
    let output = Command::new("grep")
        .args([
            "-rlF",
            "--exclude-dir=proc",
            "--exclude-dir=sys",
            &password,
            &root,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    builder_b_holds_the_cached_binaries(&project, &root, &location, &credentials);
    let _ = crate::image_build::buildah(&["umount", &container]);
}

/// `verify --binary-cache`: builder B's image (its root filesystem at `root`) holds exactly the
/// binaries the cache at `location` holds; against an empty repository, or once a record of the
/// image names another binary, each such package is a finding.
fn builder_b_holds_the_cached_binaries(
    project: &Project,
    root: &str,
    location: &str,
    credentials: &[&str],
) {
    let verify = |location: &str| {
        let args = [
            &["verify", root, "--binary-cache", location][..],
            credentials,
        ]
        .concat();
        let output = project.run(&args);
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr(&output),
        )
    };
    let (code, stdout, errors) = verify(location);
    assert_eq!(code, Some(0), "{stdout}{errors}");

    let empty = location.replace("/team/r-binaries", "/team/empty");
    let (code, stdout, _) = verify(&empty);
    assert_eq!(code, Some(1), "{stdout}");
    for name in ["corekit", "fastsum"] {
        assert!(
            stdout.contains(&format!("not the cached binary: R package {name} ")),
            "{stdout}"
        );
    }
    assert!(stdout.contains("has no binary of it"), "{stdout}");

    let record = std::path::Path::new(root).join("usr/local/share/imglock/r-binaries/fastsum");
    let text = std::fs::read_to_string(&record).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("binary-sha256 "))
        .unwrap();
    std::fs::write(
        &record,
        text.replace(line, &format!("binary-sha256 {}", "e".repeat(64))),
    )
    .unwrap();
    let (code, stdout, _) = verify(location);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "R package fastsum 0.3.1: the image's binary (sha256 {})",
            "e".repeat(64)
        )),
        "{stdout}"
    );
    assert!(!stdout.contains("R package corekit"), "{stdout}");
}

/// A registry asking for bearer tokens (as Docker Hub, GHCR and Harbor do): the client gets one
/// from the token service its challenge names, pushes with credentials and pulls without.
#[test]
fn the_client_logs_in_to_a_registry_that_asks_for_tokens() {
    let Some(registry) = Registry::start_with_token(&["team/r-binaries"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("credentials");
    std::fs::write(&secret, "anyone:anything\n").unwrap();
    let location = format!("oci://{}/team/r-binaries", registry.host());
    let key = "4.2.2/linux-amd64/test";
    let binary = dir.path().join("built.tgz");
    std::fs::write(&binary, b"a built binary of corekit").unwrap();
    let sha256 = "8".repeat(64);
    let args = |action: &str, file: &Path| -> Vec<String> {
        [
            action,
            "corekit",
            "1.1-2",
            &sha256,
            "-",
            "-",
            file.to_str().unwrap(),
        ]
        .map(str::to_string)
        .to_vec()
    };
    let run = |secret: Option<&Path>, args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_client(&location, key, secret, &args)
    };
    let output = run(Some(&secret), args("push", &binary));
    assert!(
        stderr(&output).contains("R package corekit 1.1-2 pushed to the shared binary cache"),
        "{}",
        text(&output)
    );
    let pulled = dir.path().join("pulled.tgz");
    let output = run(None, args("pull", &pulled));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(
        std::fs::read(&pulled).unwrap(),
        std::fs::read(&binary).unwrap()
    );
    assert!(registry.token.as_ref().unwrap().given() >= 2);

    // `imglock cache` logs in the same way (listing tags and reading manifests: a pull token).
    let given = registry.token.as_ref().unwrap().given();
    let output =
        Project::new("").run(&["cache", "prune", "--binary-cache", &location, "--dry-run"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!(
            "would delete {}\n",
            dockerfile_tag(key, "corekit", "1.1-2", &sha256)
        )
    );
    assert!(registry.token.as_ref().unwrap().given() > given);
}

/// What the test's own buildah runs with (see `image_build::buildah`), for the one `cache warm`
/// runs.
const BUILDAH_ENV: &[(&str, &str)] = &[("STORAGE_DRIVER", "vfs"), ("BUILDAH_ISOLATION", "chroot")];

/// `imglock cache warm`: without credentials it refuses (it must push); with them it builds the
/// lock's image once, every package compiled and pushed, and lists every entry present; a second
/// warm finds the cache complete and builds nothing.
#[test]
fn cache_warm_builds_and_pushes_what_the_cache_lacks_once() {
    let Some(digest) = base_digest() else { return };
    // Its first build shares the base and installer steps with other tests' builds, and failed
    // (in CI, and once here) when another test removed them meanwhile ("layer not known").
    let _alone = crate::image_build::alone();
    let password = password();
    let Some(registry) = Registry::start_with_basic_auth(USER, &password) else {
        return;
    };
    let copy = fixture_copy();
    let server = Server::start(copy.path());
    let project = fastsum_project("warm-test", &digest, &server);
    let location = format!("oci://{}/team/warm", registry.host());
    let output = project.run(&["cache", "warm", "--binary-cache", &location]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        stderr(&output).contains("--credentials FILE"),
        "{}",
        stderr(&output)
    );

    // The image was built before, without credentials (nothing pushed), its layers kept: warming
    // still runs every step, and pushes.
    let output = project.run(&["emit", "--out", "build", "--binary-cache", &location]);
    assert!(output.status.success(), "{}", stderr(&output));
    let tag = format!("localhost/imglock-warm-test-{}:1", std::process::id());
    let _cleanup = Cleanup(vec![tag.clone()]);
    let (output, _) = build(&project, "build", &tag, &[]);
    assert!(output.status.success(), "{}", text(&output));
    let log = text(&output);
    assert!(
        log.contains("not pushed to the shared binary cache"),
        "{log}"
    );
    assert!(
        !log.contains("1.1-2 pushed to the shared binary cache"),
        "{log}"
    );

    let secret = project.path("credentials");
    std::fs::write(&secret, format!("{USER}:{password}\n")).unwrap();
    let warm = [
        "cache",
        "warm",
        "--binary-cache",
        &location,
        "--credentials",
        secret.to_str().unwrap(),
    ];
    let output = {
        let _building = crate::image_build::building();
        project.run_with(&warm, BUILDAH_ENV)
    };
    let log = text(&output);
    assert_eq!(output.status.code(), Some(0), "{log}");
    for (name, version) in [("corekit", "1.1-2"), ("fastsum", "0.3.1")] {
        let pushed =
            format!("imglock: R package {name} {version} pushed to the shared binary cache");
        assert!(log.contains(&pushed), "{log}");
        assert!(log.contains(&format!("present {name} {version} ")), "{log}");
    }

    let output = project.run_with(&warm, BUILDAH_ENV);
    let log = text(&output);
    assert_eq!(output.status.code(), Some(0), "{log}");
    assert!(!log.contains("Building the image"), "{log}");
    assert_eq!(log.matches("present ").count(), 2, "{log}");
}
