//! A locked artifact whose repository now serves other bytes under the same name, version and
//! URL (re-published, or tampered with) stops `imglock resolve`: exit 2, the lock untouched, the
//! package, URL and both digests named; `--upgrade-package NAME` is the explicit way to take it.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Output;

use sha2::Digest;

use crate::support::{Project, Server, fixture_copy, spec, stderr};

/// The package named `name` of a lock, as TOML.
fn locked(lock: &str, name: &str) -> toml::Value {
    let lock: toml::Value = toml::from_str(lock).unwrap();
    lock["layer"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|layer| layer["package"].as_array().unwrap().iter())
        .find(|package| package["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("{name} is not locked"))
        .clone()
}

/// Runs a resolve that must be refused for `name`: exit 2, the lock's bytes as they were, and
/// a message naming the package, its URL, both digests and the way to accept the change.
fn assert_refused(project: &Project, output: &Output, name: &str, old_sha256: &str, before: &str) {
    let message = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert_eq!(project.lock().unwrap(), before, "the lock must not change");
    let package = locked(before, name);
    for needle in [
        name,
        package["url"].as_str().unwrap(),
        old_sha256,
        &format!("imglock resolve --upgrade-package {name}"),
    ] {
        assert!(
            message.contains(needle),
            "`{needle}` missing from:\n{message}"
        );
    }
}

/// Gives a CRAN tarball other bytes (the same package, gzipped again with another header time)
/// and updates the repository's `PACKAGES` and `PACKAGES.gz` to match, as a re-publication does.
fn republish_cran_tarball(contrib: &Path, name: &str, version: &str) {
    let tarball = contrib.join(format!("{name}_{version}.tar.gz"));
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&tarball).unwrap())
        .read_to_end(&mut tar)
        .unwrap();
    let mut gzip = flate2::GzBuilder::new()
        .mtime(1_234_567)
        .write(Vec::new(), flate2::Compression::best());
    gzip.write_all(&tar).unwrap();
    let bytes = gzip.finish().unwrap();
    let old_md5 = hex::encode(md5::Md5::digest(std::fs::read(&tarball).unwrap()));
    let new_md5 = hex::encode(md5::Md5::digest(&bytes));
    assert_ne!(old_md5, new_md5);
    std::fs::write(&tarball, &bytes).unwrap();
    let index = std::fs::read_to_string(contrib.join("PACKAGES")).unwrap();
    assert!(index.contains(&old_md5));
    let index = index.replace(&old_md5, &new_md5);
    std::fs::write(contrib.join("PACKAGES"), &index).unwrap();
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(index.as_bytes()).unwrap();
    std::fs::write(contrib.join("PACKAGES.gz"), gzip.finish().unwrap()).unwrap();
}

#[test]
fn a_republished_cran_tarball_is_refused_until_upgraded_explicitly() {
    let repos = fixture_copy();
    let server = Server::start(repos.path());
    let project = Project::new(&spec(
        &format!("cran = [\"{}/cran\"]", server.url()),
        "[[layer]]\nname = \"r\"\ncran = [\"tinyleaf\"]\n",
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let before = project.lock().unwrap();
    let old_sha256 = locked(&before, "tinyleaf")["sha256"]
        .as_str()
        .unwrap()
        .to_string();

    republish_cran_tarball(&repos.path().join("cran/src/contrib"), "tinyleaf", "0.1.0");
    // The cache holds the old bytes under the URL: the index's new MD5 must send imglock back
    // to the repository, not let the cached copy hide the change.
    let output = project.run(&["resolve", "--verbose"]);
    assert_refused(&project, &output, "tinyleaf", &old_sha256, &before);

    let output = project.run(&["resolve", "--upgrade-package", "tinyleaf"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let after = project.lock().unwrap();
    let new_sha256 = locked(&after, "tinyleaf")["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_sha256, old_sha256);
    assert_eq!(
        locked(&after, "tinyleaf")["version"].as_str(),
        Some("0.1.0")
    );
}

#[test]
fn a_conda_record_with_another_sha256_is_refused() {
    let channels = tempfile::tempdir().unwrap();
    crate::support::copy_dir(
        &crate::support::fixtures().join("conda/channels"),
        channels.path(),
    );
    let spec = format!(
        "[image]\nname = \"t\"\nbase = \"docker.io/library/debian@sha256:{}\"\n\n\
         [repositories]\nconda = [\"file://{}/main\"]\n\n\
         [[layer]]\nname = \"env\"\nconda = [\"pyfoo\"]\n",
        "a".repeat(64),
        channels.path().display()
    );
    let project = Project::new(&spec);
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let before = project.lock().unwrap();
    let package = locked(&before, "pyfoo");
    let old_sha256 = package["sha256"].as_str().unwrap().to_string();

    // The channel now publishes another file under the same name, version, build and URL.
    let file = package["url"].as_str().unwrap().rsplit('/').next().unwrap();
    let repodata = channels.path().join("main/noarch/repodata.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&repodata).unwrap()).unwrap();
    let table = ["packages", "packages.conda"]
        .into_iter()
        .find(|table| json[*table].get(file).is_some())
        .expect("the locked record is in repodata");
    let record = &mut json[table][file];
    record["sha256"] = serde_json::Value::String("e".repeat(64));
    std::fs::write(&repodata, serde_json::to_vec(&json).unwrap()).unwrap();

    let output = project.run(&["resolve"]);
    assert_refused(&project, &output, "pyfoo", &old_sha256, &before);
    assert!(
        stderr(&output).contains(&"e".repeat(64)),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_republished_jar_is_refused() {
    let repo = tempfile::tempdir().unwrap();
    crate::support::copy_dir(&crate::support::fixtures().join("maven/repo"), repo.path());
    let server = Server::start(repo.path());
    let project = Project::new(&format!(
        "[image]\nname = \"t\"\nbase = \"docker.io/library/debian@sha256:{}\"\n\n\
         [repositories]\nmaven = [\"{}\"]\n\n\
         [[layer]]\nname = \"jars\"\nmaven = [\"org.imglock.fixture:leaf-a:1.0\"]\nmaven-target = \"/opt/jars\"\n",
        "a".repeat(64),
        server.url()
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let before = project.lock().unwrap();
    let name = "org.imglock.fixture:leaf-a";
    let old_sha256 = locked(&before, name)["sha256"]
        .as_str()
        .unwrap()
        .to_string();

    // New bytes, with the checksum file the repository publishes beside them.
    let jar = repo
        .path()
        .join("org/imglock/fixture/leaf-a/1.0/leaf-a-1.0.jar");
    let mut bytes = std::fs::read(&jar).unwrap();
    bytes.extend_from_slice(b"re-published");
    std::fs::write(&jar, &bytes).unwrap();
    let sha1 = hex::encode(sha1::Sha1::digest(&bytes));
    std::fs::write(jar.with_extension("jar.sha1"), sha1).unwrap();

    // A released jar and its checksum files never change, so a warm resolve trusts the cached
    // ones; `--refresh` (or a cold cache, as in CI) asks the repository again and sees the change.
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(project.lock().unwrap(), before);
    let output = project.run(&["resolve", "--refresh"]);
    assert_refused(&project, &output, name, &old_sha256, &before);
}

#[test]
fn a_wheel_whose_index_publishes_another_sha256_is_refused() {
    let index = tempfile::tempdir().unwrap();
    crate::support::copy_dir(&crate::support::fixtures().join("pypi"), index.path());
    let server = Server::start(index.path());
    let project = Project::new(&format!(
        "[image]\nname = \"t\"\nbase = \"docker.io/library/python@sha256:{}\"\npython = \"3.11\"\n\n\
         [repositories]\npypi = [\"{}/simple\"]\n\n\
         [[layer]]\nname = \"py\"\npypi = [\"idna==3.3\"]\n",
        "a".repeat(64),
        server.url()
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let before = project.lock().unwrap();
    let old_sha256 = locked(&before, "idna")["sha256"]
        .as_str()
        .unwrap()
        .to_string();

    let page = index.path().join("simple/idna/index.json");
    let text = std::fs::read_to_string(&page).unwrap();
    assert!(text.contains(&old_sha256));
    std::fs::write(&page, text.replace(&old_sha256, &"f".repeat(64))).unwrap();

    let output = project.run(&["resolve"]);
    assert_refused(&project, &output, "idna", &old_sha256, &before);
}
