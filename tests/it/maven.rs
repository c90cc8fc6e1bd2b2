//! Maven layers over the hand-written repository of fixtures/maven (real POMs, jars and `.sha1`
//! files made by fixtures/maven/make-repo.py), served on 127.0.0.1: the lock, the emitted step run
//! for real in `sh` with a folder standing in for the image's root, and `imglock verify`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support;
use crate::support::{Project, Server, output_text as text, stderr};

pub(crate) fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/maven/repo")
}

pub(crate) fn spec(url: &str, maven: &str) -> String {
    format!(
        "[image]\nname = \"jars\"\nbase = \"docker.io/library/eclipse-temurin@sha256:{}\"\n\n\
         [repositories]\nmaven = [\"{url}\"]\n\n\
         [[layer]]\nname = \"jars\"\nmaven-target = \"/databricks/jars\"\n{maven}\n",
        "e".repeat(64)
    )
}

/// `name → version` of the lock's Maven artifacts.
fn locked(project: &Project) -> Vec<(String, String)> {
    let lock: toml::Value = toml::from_str(&project.lock().unwrap()).unwrap();
    let mut found: Vec<(String, String)> = lock["layer"][0]["package"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

/// The Maven `RUN` step of a Dockerfile as one shell command (without its mounts), its target
/// under `root`.
pub(crate) fn maven_step(dockerfile: &str, root: &Path) -> String {
    let start = dockerfile
        .find("set -e; mkdir -p /databricks/jars")
        .unwrap();
    let mut command = String::new();
    for line in dockerfile[start..].lines() {
        match line.strip_suffix('\\') {
            Some(continued) => command.push_str(continued),
            None => {
                command.push_str(line);
                break;
            }
        }
    }
    command.replace(
        "/databricks/jars",
        root.join("databricks/jars").to_str().unwrap(),
    )
}

#[test]
fn jars_are_locked_installed_by_the_emitted_step_and_verified() {
    let served = tempfile::tempdir().unwrap();
    support::copy_dir(&repository(), served.path());
    let server = Server::start(served.path());
    let project = Project::new(&spec(
        &server.url(),
        "maven = [\"org.imglock.fixture:nearest-user:1.0\"]",
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert!(
        lock.contains("maven-target = \"/databricks/jars\""),
        "{lock}"
    );
    assert!(
        !locked(&project).is_empty(),
        "the requested artifact is locked"
    );
    assert!(
        locked(&project)
            .iter()
            .any(|(name, _)| name == "org.imglock.fixture:nearest-user")
    );

    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    let root = tempfile::tempdir().unwrap();
    let output = Command::new("sh")
        .args(["-c", &maven_step(&dockerfile, root.path())])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let jars = std::fs::read_dir(root.path().join("databricks/jars"))
        .unwrap()
        .count();
    assert_eq!(jars, locked(&project).len(), "one jar per locked artifact");

    let report = project.verify_clean(root.path());
    assert_eq!(report["checked"].as_array().unwrap().len(), jars);

    // A jar with other bytes and a stray jar are found; the stray one is named by its
    // pom.properties.
    let target = root.path().join("databricks/jars");
    let first = std::fs::read_dir(&target)
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap();
    let stray = repository().join("org/imglock/fixture/leaf-k/1.0/leaf-k-1.0.jar");
    std::fs::copy(&stray, target.join("something.jar")).unwrap();
    std::fs::write(&first, b"other bytes").unwrap();
    let output = project.run(&["verify", root.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let report = text(&output);
    assert!(report.contains("but the lock says"), "{report}");
    assert!(
        report.contains("something.jar (org.imglock.fixture:leaf-k 1.0)"),
        "{report}"
    );

    // A jar replaced on the repository after locking fails the step.
    let url = toml::from_str::<toml::Value>(&lock).unwrap()["layer"][0]["package"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let path = url.split_once("127.0.0.1").unwrap().1;
    let path = &path[path.find('/').unwrap() + 1..];
    std::fs::write(served.path().join(path), b"replaced").unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let output = Command::new("sh")
        .args(["-c", &maven_step(&dockerfile, fresh.path())])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        text(&output).contains("checksum mismatch for a Maven artifact of layer `jars`"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_jar_whose_sha1_disagrees_fails_the_resolve() {
    let served = tempfile::tempdir().unwrap();
    support::copy_dir(&repository(), served.path());
    let jar = served
        .path()
        .join("org/imglock/fixture/leaf-k/1.0/leaf-k-1.0.jar");
    std::fs::write(&jar, b"not the published jar").unwrap();
    let server = Server::start(served.path());
    let project = Project::new(&spec(
        &server.url(),
        "maven = [\"org.imglock.fixture:leaf-k:1.0\"]",
    ));
    let output = project.run(&["resolve"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("leaf-k-1.0.jar") && message.contains("sha1"),
        "{message}"
    );
    assert!(project.lock().is_none());
}

#[test]
fn a_maven_layer_needs_a_target_and_valid_coordinates() {
    let project = Project::new(
        &spec("https://repo.example/maven2", "maven = [\"org.x:lib\"]")
            .replace("maven-target = \"/databricks/jars\"\n", ""),
    );
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("has no `maven-target`"),
        "{}",
        stderr(&output)
    );
    let project = Project::new(&spec(
        "https://repo.example/maven2",
        "maven = [\"org.x:lib\"]",
    ));
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("imglock.toml:") && message.contains("is not a Maven coordinate"),
        "{message}"
    );
}

#[test]
fn the_strongest_published_checksum_is_the_one_checked() {
    let served = tempfile::tempdir().unwrap();
    support::copy_dir(&repository(), served.path());
    let jar = served
        .path()
        .join("org/imglock/fixture/leaf-k/1.0/leaf-k-1.0.jar");
    // The .sha1 still matches; a published .sha256 that does not is what counts.
    std::fs::write(
        jar.with_file_name("leaf-k-1.0.jar.sha256"),
        format!("{}  leaf-k-1.0.jar\n", "0".repeat(64)),
    )
    .unwrap();
    let server = Server::start(served.path());
    let project = Project::new(&spec(
        &server.url(),
        "maven = [\"org.imglock.fixture:leaf-k:1.0\"]",
    ));
    let output = project.run(&["resolve"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("leaf-k-1.0.jar") && message.contains("sha256"),
        "{message}"
    );
    assert!(server.hits("/org/imglock/fixture/leaf-k/1.0/leaf-k-1.0.jar.sha256") >= 1);

    // A released file never changes, so the cached .sha256 is kept even once the repository
    // fixes it: the error says how to fetch it again, and `--refresh` does, resolving with the
    // right one, whose sha256 the lock has.
    let bytes = std::fs::read(&jar).unwrap();
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    std::fs::write(jar.with_file_name("leaf-k-1.0.jar.sha256"), &sha256).unwrap();
    let output = project.run(&["resolve"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--refresh"), "{}", stderr(&output));
    let output = project.run(&["resolve", "--refresh"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(project.lock().unwrap().contains(&sha256));
}

#[test]
fn provided_trees_stay_out_and_lower_layers_are_not_repeated() {
    let served = tempfile::tempdir().unwrap();
    support::copy_dir(&repository(), served.path());
    let server = Server::start(served.path());
    let alone = Project::new(&spec(
        &server.url(),
        "maven = [\"org.imglock.fixture:core:1.0\"]",
    ));
    assert!(alone.run(&["resolve"]).status.success());
    let core_tree = locked(&alone);
    assert!(core_tree.len() > 1, "{core_tree:?}");

    // The runtime ships core: the layer adds only what core's tree does not hold.
    let app = "maven = [\"org.imglock.fixture:app:1.0\"]";
    let with_app = Project::new(&spec(&server.url(), app));
    assert!(with_app.run(&["resolve"]).status.success());
    let provided = Project::new(&spec(
        &server.url(),
        &format!("{app}\nmaven-provided = [\"org.imglock.fixture:core:1.0\"]"),
    ));
    let output = provided.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let without_core = locked(&provided);
    assert!(
        without_core
            .iter()
            .all(|(name, _)| name != "org.imglock.fixture:core"),
        "{without_core:?}"
    );
    assert!(without_core.len() < locked(&with_app).len());

    // A higher layer does not lock again what a lower one did.
    let layered = Project::new(&format!(
        "{}\n[[layer]]\nname = \"more\"\nmaven-target = \"/databricks/jars\"\n{app}\n",
        spec(&server.url(), "maven = [\"org.imglock.fixture:core:1.0\"]")
    ));
    let output = layered.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock: toml::Value = toml::from_str(&layered.lock().unwrap()).unwrap();
    let names = |layer: usize| -> Vec<String> {
        lock["layer"][layer]["package"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (lower, higher) = (names(0), names(1));
    assert_eq!(lower.len(), core_tree.len());
    assert!(
        higher.iter().all(|name| !lower.contains(name)),
        "{higher:?}"
    );
    assert_eq!(lower.len() + higher.len(), locked(&with_app).len());
}

#[test]
fn a_parent_chain_too_deep_to_follow_is_called_that_not_unfetchable() {
    let served = tempfile::tempdir().unwrap();
    let depth = 40;
    for level in 0..=depth {
        let parent = if level < depth {
            format!(
                "<parent><groupId>org.deep</groupId><artifactId>level-{}</artifactId><version>1.0</version></parent>",
                level + 1
            )
        } else {
            String::new()
        };
        let folder = served.path().join(format!("org/deep/level-{level}/1.0"));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            folder.join(format!("level-{level}-1.0.pom")),
            format!(
                "<project><modelVersion>4.0.0</modelVersion>{parent}<groupId>org.deep</groupId><artifactId>level-{level}</artifactId><version>1.0</version><packaging>pom</packaging></project>"
            ),
        )
        .unwrap();
    }
    let server = Server::start(served.path());
    let project = Project::new(&spec(&server.url(), "maven = [\"org.deep:level-0:1.0\"]"));
    let output = project.run(&["resolve"]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(
        !message.contains("could not be fetched")
            && message.contains("org.deep:level-0:1.0")
            && message.contains("levels of parents"),
        "{message}"
    );
    assert!(project.lock().is_none());
}

#[test]
fn checksum_files_are_asked_for_with_the_jars_and_only_of_the_kind_the_repository_publishes() {
    let served = tempfile::tempdir().unwrap();
    support::copy_dir(&repository(), served.path());
    let server = Server::start(served.path());
    let latency = Duration::from_millis(100);
    server.set_latency(latency);
    let project = Project::new(&spec(
        &server.url(),
        "maven = [\"org.imglock.fixture:nearest-user:1.0\"]",
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let jars = locked(&project).len();
    assert!(jars > 2, "{jars} jars");
    let arrivals = server.arrivals();
    let hits = |suffix: &str| {
        arrivals
            .iter()
            .filter(|(path, _)| path.ends_with(suffix))
            .count()
    };
    // The repository publishes only .sha1 files: the first jar's probe learns so, and no other
    // jar asks for a .sha512 or .sha256.
    assert_eq!((hits(".jar.sha512"), hits(".jar.sha256")), (1, 1));
    // Every jar asked for (those of versions the resolution then passes over included: each
    // starts as its POM is read) is asked once, with its .sha1.
    assert!(hits(".jar") >= jars, "{} jars asked for", hits(".jar"));
    assert_eq!(hits(".jar.sha1"), hits(".jar"));
    // The checksums are no phase of their own: the jars are asked for with the first of them.
    let first = |suffix: &str| {
        arrivals
            .iter()
            .filter(|(path, _)| path.ends_with(suffix))
            .map(|(_, at)| *at)
            .min()
            .unwrap()
    };
    let (jar, checksum) = (first(".jar"), first(".jar.sha512"));
    assert!(
        jar < checksum + latency / 2,
        "the first jar was asked for {:?} after the first checksum file",
        jar - checksum
    );
}

#[test]
fn a_missing_jar_fails_at_once_without_waiting_for_its_checksum_files() {
    let served = tempfile::tempdir().unwrap();
    support::copy_dir(&repository(), served.path());
    let folder = "org/imglock/fixture/nearest-user/1.0";
    std::fs::remove_file(served.path().join(folder).join("nearest-user-1.0.jar")).unwrap();
    let server = Server::start(served.path());
    // The missing jar's .sha1 answers one byte a second: a download that waited for it would
    // take half a minute.
    let drip = Duration::from_secs(1);
    server.inject(
        &format!("/{folder}/nearest-user-1.0.jar.sha1"),
        vec![support::Fault::Drip {
            interval: drip,
            bytes: 30,
        }],
    );
    let project = Project::new(&spec(
        &server.url(),
        "maven = [\"org.imglock.fixture:nearest-user:1.0\"]",
    ));
    let started = std::time::Instant::now();
    let output = project.run(&["resolve"]);
    let took = started.elapsed();
    let message = stderr(&output);
    assert!(!output.status.success(), "{message}");
    assert!(
        message.contains("nearest-user-1.0.jar") && message.contains("404"),
        "{message}"
    );
    assert!(
        took < drip * 10,
        "the resolve took {took:?}: it waited for the missing jar's checksum file"
    );
    assert!(project.lock().is_none(), "no lock is written");
    // Asked again, the jar known to be missing needs none of its checksum files.
    let before = server.all_hits();
    let output = project.run(&["resolve"]);
    assert!(!output.status.success(), "{}", stderr(&output));
    let jar = format!("/{folder}/nearest-user-1.0.jar");
    let asked_again: Vec<(String, usize)> = crate::warm::asked_since(&server, &before)
        .into_iter()
        .filter(|(path, _)| path.starts_with(&jar))
        .collect();
    assert!(asked_again.is_empty(), "asked again: {asked_again:?}");
}

#[test]
fn jars_are_asked_for_while_the_walk_still_reads_poms() {
    let server = Server::start(&repository());
    server.set_latency(Duration::from_millis(100));
    let project = Project::new(&spec(
        &server.url(),
        "maven = [\"org.imglock.fixture:nearest-user:1.0\"]",
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let arrivals = server.arrivals();
    let times = |suffix: &'static str| {
        arrivals
            .iter()
            .filter(move |(path, _)| path.ends_with(suffix))
            .map(|(_, at)| *at)
    };
    let first_jar = times(".jar").min().unwrap();
    let last_pom = times(".pom").max().unwrap();
    assert!(
        first_jar < last_pom,
        "the first jar was asked for {:?} after the last POM",
        first_jar - last_pom
    );
}

#[test]
fn a_jar_without_the_kind_its_repository_publishes_is_checked_against_the_strongest_it_has() {
    let served = tempfile::tempdir().unwrap();
    support::copy_dir(&repository(), served.path());
    // Every jar gets a right .sha512 but nearest-user's, which has a wrong .sha256 instead:
    // whichever jar is asked first, that one must be found and fail the resolve.
    let root_jar = served
        .path()
        .join("org/imglock/fixture/nearest-user/1.0/nearest-user-1.0.jar");
    let mut folders = vec![served.path().to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "jar") && path != root_jar {
                let digest = <sha2::Sha512 as sha2::Digest>::digest(std::fs::read(&path).unwrap());
                let mut sha512 = path.clone().into_os_string();
                sha512.push(".sha512");
                std::fs::write(sha512, hex::encode(digest)).unwrap();
            }
        }
    }
    std::fs::write(
        root_jar.with_file_name("nearest-user-1.0.jar.sha256"),
        "0".repeat(64),
    )
    .unwrap();
    let server = Server::start(served.path());
    let project = Project::new(&spec(
        &server.url(),
        "maven = [\"org.imglock.fixture:nearest-user:1.0\"]",
    ));
    let output = project.run(&["resolve"]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(
        message.contains("nearest-user-1.0.jar") && message.contains("sha256"),
        "{message}"
    );
    assert!(
        !message.contains("leaf-"),
        "only nearest-user fails: {message}"
    );
}
