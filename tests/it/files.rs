//! URL artifacts (a layer's `files`), served from a folder on 127.0.0.1 and from a `file:` path
//! relative to the spec: what the lock records, a given sha256 checked, the pin kept when the
//! upstream file changes (until `--upgrade-package`), the emitted step run for real in `sh` with
//! a folder standing in for the image's root, and `imglock verify` on that folder and on a
//! hand-made OCI layout.

use std::path::Path;
use std::process::Command;

use crate::support::oci_layout::write_oci_layout;
use crate::support::{Project, Server, output_text as text, sha256_hex, stderr};

const JAR: &[u8] = b"PK\x03\x04 a jar's bytes";
const CHAIN: &[u8] = b"chain 1000 chr1 248956422 + 0 248956422\n";
const TOOL: &[u8] = b"#!/bin/sh\necho tool\n";

/// A `.tar.gz` holding `bin/tool` and `README`.
fn tarball() -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(encoder);
    for (path, bytes) in [
        ("./tool-1.0/bin/tool", TOOL),
        ("tool-1.0/README", b"read me\n"),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o755);
        header.set_cksum();
        builder.append_data(&mut header, path, bytes).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// A served folder with the jar and the tarball, and a project whose spec installs them and a
/// chain file from `file:mirror/` beside the spec; `extra` is added to the first file's table.
fn served_project(extra: &str) -> (tempfile::TempDir, Server, Project) {
    let served = tempfile::tempdir().unwrap();
    std::fs::write(served.path().join("glow.jar"), JAR).unwrap();
    std::fs::write(served.path().join("tool-1.0.tar.gz"), tarball()).unwrap();
    let server = Server::start(served.path());
    let url = server.url();
    let project = Project::new(&format!(
        "[image]\nname = \"files\"\nbase = \"docker.io/library/ubuntu@sha256:{}\"\n\n\
         [[layer]]\nname = \"genomics\"\nfiles = [\n\
         {{ url = \"{url}/glow.jar\", target = \"/databricks/jars/\"{extra} }},\n\
         {{ url = \"{url}/tool-1.0.tar.gz\", target = \"/opt/tool\", extract = true }},\n\
         {{ url = \"file:mirror/hg19ToHg38.over.chain\", target = \"/opt/liftover/chain.txt\", mode = \"0600\" }},\n]\n",
        "e".repeat(64)
    ));
    std::fs::create_dir(project.path("mirror")).unwrap();
    std::fs::write(project.path("mirror/hg19ToHg38.over.chain"), CHAIN).unwrap();
    (served, server, project)
}

/// The lock's package tables.
fn packages(project: &Project) -> Vec<toml::Value> {
    let lock: toml::Value = toml::from_str(&project.lock().unwrap()).unwrap();
    lock["layer"][0]["package"].as_array().unwrap().clone()
}

fn package<'a>(packages: &'a [toml::Value], file: &str) -> &'a toml::Value {
    packages
        .iter()
        .find(|p| p["url"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("{file} is locked: {packages:?}"))
}

#[test]
fn files_are_pinned_with_their_target_mode_and_extraction() {
    let (_served, server, project) = served_project(", mode = \"0755\"");
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let packages = packages(&project);
    assert_eq!(packages.len(), 3);
    let jar = package(&packages, "glow.jar");
    let expected = toml::toml! {
        ecosystem = "file"
        target = "/databricks/jars/"
        mode = "0755"
    };
    for (key, value) in expected {
        assert_eq!(jar[&key], value, "{key}: {jar}");
    }
    assert_eq!(
        jar["url"].as_str(),
        Some(&*format!("{}/glow.jar", server.url()))
    );
    assert_eq!(jar["sha256"].as_str(), Some(&*sha256_hex(JAR)));
    assert_eq!(
        jar["version"], jar["sha256"],
        "a file's version is its sha256"
    );
    assert_eq!(jar["size"].as_integer(), Some(JAR.len() as i64));
    let tool = package(&packages, "tool-1.0.tar.gz");
    assert_eq!(tool["extract"].as_bool(), Some(true));
    assert_eq!(tool["sha256"].as_str(), Some(&*sha256_hex(&tarball())));
    assert!(tool.get("mode").is_none());
    assert_eq!(tool["member"].as_str(), Some("tool-1.0/bin/tool"));
    assert_eq!(tool["member-sha256"].as_str(), Some(&*sha256_hex(TOOL)));
    let chain = package(&packages, "hg19ToHg38.over.chain");
    assert_eq!(
        chain["url"].as_str(),
        Some("file:mirror/hg19ToHg38.over.chain")
    );
    assert_eq!(chain["sha256"].as_str(), Some(&*sha256_hex(CHAIN)));
    assert_eq!(chain["mode"].as_str(), Some("0600"));
    assert_eq!(project.run(&["check"]).status.code(), Some(0));
    let spec = std::fs::read_to_string(project.path("imglock.toml")).unwrap();
    project.write_spec(&spec.replace("\"0600\"", "\"0640\""));
    let output = project.run(&["check"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a changed mode makes the lock stale"
    );
    let lock = project.lock().unwrap();
    assert!(
        !lock.contains(project.dir.path().to_str().unwrap()),
        "no machine path: {lock}"
    );
}

#[test]
fn a_given_sha256_that_differs_fails_naming_the_url_and_both_hashes() {
    let wrong = "0".repeat(64);
    let (_served, server, project) = served_project(&format!(", sha256 = \"{wrong}\""));
    let output = project.run(&["resolve"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains(&format!("{}/glow.jar", server.url())),
        "{message}"
    );
    assert!(message.contains(&wrong), "{message}");
    assert!(message.contains(&sha256_hex(JAR)), "{message}");
    assert!(project.lock().is_none());

    let (_served, _server, project) = served_project(&format!(
        ", sha256 = \"{}\"",
        sha256_hex(JAR).to_uppercase()
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn a_changed_upstream_file_keeps_its_pin_until_upgraded() {
    let (served, server, project) = served_project("");
    assert!(project.run(&["resolve"]).status.success());
    let first = project.lock().unwrap();
    std::fs::write(served.path().join("glow.jar"), b"republished").unwrap();

    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(project.lock().unwrap(), first, "the pin is kept");
    let output = project.run(&["resolve", "--offline"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(project.lock().unwrap(), first);

    // Without the cached copy the changed bytes fail the resolve, naming both hashes.
    let empty = tempfile::tempdir().unwrap();
    let cache = empty.path().to_str().unwrap();
    let output = project.run_with(&["resolve"], &[("IMGLOCK_CACHE_DIR", cache)]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains(&sha256_hex(b"republished")), "{message}");
    assert!(message.contains(&sha256_hex(JAR)), "{message}");
    assert!(message.contains("--upgrade-package URL"), "{message}");
    assert_eq!(project.lock().unwrap(), first);

    let url = format!("{}/glow.jar", server.url());
    std::fs::write(project.path("first.lock"), &first).unwrap();
    let output = project.run(&["resolve", "--upgrade-package", &url]);
    assert!(output.status.success(), "{}", stderr(&output));
    let jar = package(&packages(&project), "glow.jar").clone();
    assert_eq!(jar["sha256"].as_str(), Some(&*sha256_hex(b"republished")));

    // By the URL's file name too.
    std::fs::write(project.path("imglock.lock"), &first).unwrap();
    let output = project.run(&["resolve", "--upgrade-package", "glow.jar"]);
    assert!(
        !stderr(&output).contains("no package of that name"),
        "{}",
        stderr(&output)
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let output = project.run(&["diff", "first.lock", "imglock.lock"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let diff = text(&output);
    assert!(diff.contains(&url), "{diff}");
    assert!(diff.contains(&sha256_hex(b"republished")[..12]), "{diff}");
    assert!(
        !diff.contains("hg19ToHg38"),
        "only the upgraded file changed: {diff}"
    );
    let packages = packages(&project);
    let jar = package(&packages, "glow.jar");
    assert_eq!(jar["sha256"].as_str(), Some(&*sha256_hex(b"republished")));
    let chain = package(&packages, "hg19ToHg38.over.chain");
    assert_eq!(chain["sha256"].as_str(), Some(&*sha256_hex(CHAIN)));
}

/// The files' `RUN` step of a Dockerfile as one shell command, its absolute paths under `root`
/// and the build context at `context`.
fn files_step(dockerfile: &str, root: &Path, context: &Path) -> String {
    let start = dockerfile.find("RUN").unwrap();
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
    let root = root.to_str().unwrap();
    command
        .replacen("RUN --mount=type=bind,target=/imglock-context", "", 1)
        .replace(
            "/imglock-context/",
            &format!("{}/", context.to_str().unwrap()),
        )
        .replace("/tmp/imglock-files", &format!("{root}/tmp/imglock-files"))
        .replace("/databricks/", &format!("{root}/databricks/"))
        .replace("/opt/", &format!("{root}/opt/"))
}

#[test]
fn the_emitted_step_installs_verified_files_and_verify_checks_them() {
    let (served, _server, project) = served_project("");
    assert!(project.run(&["resolve"]).status.success());
    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let packages = packages(&project);
    let jar = package(&packages, "glow.jar");
    assert_eq!(
        jar["mode"].as_str(),
        Some("0644"),
        "the default mode is locked"
    );
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    let step = &dockerfile[dockerfile.find("# layer `genomics`, files").unwrap()..];
    for part in [
        "curl -fsSL -o glow.jar",
        "sha256sum -c --quiet",
        "install -D -m 0644 glow.jar /databricks/jars/glow.jar",
        "install -D -m 0600 hg19ToHg38.over.chain /opt/liftover/chain.txt",
        "mkdir -p /opt/tool && tar -xf tool-1.0.tar.gz -C /opt/tool",
        "cp /imglock-context/imglock-artifacts/hg19ToHg38.over.chain hg19ToHg38.over.chain",
    ] {
        assert!(step.contains(part), "{part}:\n{step}");
    }
    let root = tempfile::tempdir().unwrap();
    let command = files_step(step, root.path(), &project.path("build"));
    let output = Command::new("sh").args(["-c", &command]).output().unwrap();
    assert!(output.status.success(), "{}\n{command}", text(&output));
    let installed = root.path().join("databricks/jars/glow.jar");
    assert_eq!(std::fs::read(&installed).unwrap(), JAR);
    assert!(root.path().join("opt/tool/tool-1.0/bin/tool").is_file());
    assert!(
        !root.path().join("tmp/imglock-files").exists(),
        "scratch removed"
    );
    project.verify_clean(root.path());

    std::fs::write(&installed, b"swapped").unwrap();
    let output = project.run(&["verify", root.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains("but the lock says"),
        "{}",
        text(&output)
    );

    // A file served with other bytes than were locked fails the step.
    std::fs::write(served.path().join("glow.jar"), b"replaced").unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let command = files_step(step, fresh.path(), &project.path("build"));
    let output = Command::new("sh").args(["-c", &command]).output().unwrap();
    assert!(!output.status.success());
    assert!(text(&output).contains("checksum mismatch for a file of layer `genomics`"));
    assert!(!fresh.path().join("databricks/jars/glow.jar").exists());
}

#[test]
fn verify_reads_the_files_of_an_oci_layout() {
    let (_served, _server, project) = served_project("");
    assert!(project.run(&["resolve"]).status.success());
    let image = project.path("image");
    let readme: &[u8] = b"read me\n";
    let mut files: Vec<(&str, &[u8])> = vec![
        ("databricks/jars/glow.jar", JAR),
        ("opt/liftover/chain.txt", CHAIN),
        ("opt/tool/tool-1.0/bin/tool", TOOL),
        ("opt/tool/tool-1.0/README", readme),
    ];
    write_oci_layout(&image, &files);
    project.verify_clean(&image);

    files[0].1 = b"swapped";
    files[2].1 = b"another tool";
    std::fs::remove_dir_all(&image).unwrap();
    write_oci_layout(&image, &files);
    let output = project.run(&["verify", image.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let report = text(&output);
    assert!(
        report.contains("/databricks/jars/glow.jar has sha256"),
        "{report}"
    );
    assert!(
        report.contains("/opt/tool/tool-1.0/bin/tool has sha256"),
        "{report}"
    );

    files.remove(2);
    std::fs::remove_dir_all(&image).unwrap();
    write_oci_layout(&image, &files);
    let output = project.run(&["verify", image.to_str().unwrap()]);
    let report = text(&output);
    assert!(
        report.contains("but its first file /opt/tool/tool-1.0/bin/tool is not in the image"),
        "{report}"
    );
}

#[test]
fn unsafe_values_are_refused_where_the_spec_writes_them() {
    for (entry, expected) in [
        (
            "url = \"https://x/a.jar\", target = \"jars/\"",
            "must be an absolute path",
        ),
        (
            "url = \"https://x/a.jar?v=1\", target = \"/j/\"",
            "plain file name",
        ),
        (
            "url = \"ftp://x/a.jar\", target = \"/j/\"",
            "not an `https://`",
        ),
        (
            "url = \"https://x/a.zip\", target = \"/j\", extract = true",
            "tar archives",
        ),
        (
            "url = \"https://x/a.jar\", target = \"/j/\", mode = \"rwx\"",
            "must be octal",
        ),
        ("url = \"https://x/a.jar\", target = \"/j/$(id)/\"", "quote"),
        (
            "url = \"https://x/a.jar\", target = \"/j/\", sha256 = \"abc\"",
            "64 hexadecimal",
        ),
    ] {
        let project = Project::new(&format!(
            "[image]\nname = \"f\"\nbase = \"docker.io/library/ubuntu@sha256:{}\"\n\n\
             [[layer]]\nname = \"l\"\nfiles = [{{ {entry} }}]\n",
            "e".repeat(64)
        ));
        let output = project.run(&["resolve"]);
        assert!(!output.status.success(), "{entry}");
        let message = stderr(&output);
        assert!(message.contains(expected), "{entry}: {message}");
        assert!(message.contains("imglock.toml:7"), "located: {message}");
    }
}

#[test]
fn a_file_beside_maven_jars_in_one_folder_is_not_an_unexpected_jar() {
    let served = tempfile::tempdir().unwrap();
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/maven/repo");
    crate::support::copy_dir(&repository, served.path());
    std::fs::write(served.path().join("glow.jar"), JAR).unwrap();
    let server = Server::start(served.path());
    let url = server.url();
    let project = Project::new(&format!(
        "[image]\nname = \"jars\"\nbase = \"docker.io/library/eclipse-temurin@sha256:{}\"\n\n\
         [repositories]\nmaven = [\"{url}\"]\n\n\
         [[layer]]\nname = \"jars\"\nmaven-target = \"/databricks/jars\"\n\
         maven = [\"org.imglock.fixture:nearest-user:1.0\"]\n\
         files = [{{ url = \"{url}/glow.jar\", target = \"/databricks/jars/\" }}]\n",
        "e".repeat(64)
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let root = tempfile::tempdir().unwrap();
    let jars = root.path().join("databricks/jars");
    std::fs::create_dir_all(&jars).unwrap();
    for package in packages(&project) {
        let locked = package["url"].as_str().unwrap();
        let relative = &locked[url.len() + 1..];
        let name = relative.rsplit('/').next().unwrap();
        std::fs::copy(served.path().join(relative), jars.join(name)).unwrap();
    }
    let report = project.verify_clean(root.path());
    assert!(report["checked"].as_array().unwrap().len() > 1, "{report}");
}

/// A real build: the emitted Dockerfile built by buildah on the test base image, the files
/// fetched from 127.0.0.1 and the build context, and `verify` clean on the pushed image.
#[test]
fn a_real_build_installs_the_files_and_verifies() {
    use crate::image_build::{Cleanup, base_digest, build, buildah};
    let Some(digest) = base_digest() else { return };
    let (served, _server, project) = served_project(", mode = \"0755\"");
    let spec = std::fs::read_to_string(project.path("imglock.toml")).unwrap();
    let base = format!("localhost/imglock-test-base@{digest}");
    let spec = spec.replace(
        &format!("docker.io/library/ubuntu@sha256:{}", "e".repeat(64)),
        &base,
    );
    project.write_spec(&spec);
    assert!(project.run(&["resolve"]).status.success());
    let output = project.run(&["emit", "--out", "build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let tag = format!("localhost/imglock-files-test-{}:1", std::process::id());
    let _cleanup = Cleanup(vec![tag.clone()]);
    let (output, seconds) = build(&project, "build", &tag, &[]);
    assert!(output.status.success(), "{}", text(&output));
    eprintln!("built in {seconds:.1} s");
    let images = tempfile::tempdir().unwrap();
    let oci = images.path().join("oci");
    let output = buildah(&["push", &tag, &format!("oci:{}", oci.display())]);
    assert!(output.status.success(), "{}", text(&output));
    let report = project.verify_clean(&oci);
    assert_eq!(report["checked"].as_array().unwrap().len(), 3, "{report}");

    // The jar re-published upstream fails the build rather than entering the image.
    std::fs::write(served.path().join("glow.jar"), b"re-published").unwrap();
    let other = format!("localhost/imglock-files-test-{}:2", std::process::id());
    let _cleanup_other = Cleanup(vec![other.clone()]);
    let (output, _) = build(&project, "build", &other, &["--no-cache"]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("checksum mismatch for a file of layer `genomics`"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_url_listed_by_two_layers_is_refused_before_a_lock_is_written() {
    let project = Project::new(&format!(
        "[image]\nname = \"f\"\nbase = \"docker.io/library/ubuntu@sha256:{}\"\n\n\
         [[layer]]\nname = \"one\"\nfiles = [{{ url = \"file:m/a.txt\", target = \"/opt/a/\" }}]\n\n\
         [[layer]]\nname = \"two\"\nfiles = [{{ url = \"file:m/a.txt\", target = \"/opt/b/\" }}]\n",
        "e".repeat(64)
    ));
    std::fs::create_dir(project.path("m")).unwrap();
    std::fs::write(project.path("m/a.txt"), b"a").unwrap();
    let output = project.run(&["resolve"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("`file:m/a.txt` is listed by layer `one` and again by layer `two`"),
        "{message}"
    );
    assert!(project.lock().is_none());
}

#[test]
fn a_file_to_extract_that_is_no_tar_archive_is_refused_at_resolve() {
    let (served, server, project) = served_project("");
    std::fs::write(served.path().join("fake.tar.gz"), b"not gzip").unwrap();
    let spec = std::fs::read_to_string(project.path("imglock.toml")).unwrap();
    project.write_spec(&spec.replace("tool-1.0.tar.gz", "fake.tar.gz"));
    let output = project.run(&["resolve"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    let url = format!("{}/fake.tar.gz", server.url());
    assert!(
        message.contains(&format!(
            "`{url}` has `extract = true` but is not a readable tar archive"
        )),
        "{message}"
    );
}
