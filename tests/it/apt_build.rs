//! `imglock emit` for Debian packages: the step of a layer's .debs, on locks resolved from the
//! recorded bookworm indexes and .debs (fixtures/debian, `scripts/record-debs.sh`) served on
//! 127.0.0.1; a tampered lock refused or failing closed; `--apt` as a suggestion only. Then a real
//! buildah build: an apt layer (libzstd-dev, libsodium-dev) under an R layer whose compiled
//! package (fixtures/cran-sys, syslibs) needs their headers, the base image read from an OCI
//! layout of the shared test base, and `verify` of the image clean and tampered.

use std::path::Path;
use std::process::Command;

use crate::image_build::{Cleanup, base_digest, build, buildah};
use crate::support::oci_layout::write_oci_layout;
use crate::support::{Project, Server, TEST_BASE_IMAGE, fixtures, output_text as text, stderr};

/// The Debian packages the apt layer asks for; with what they pull in, four .debs.
const APT: &str = "apt = [\"libzstd-dev\", \"libsodium-dev\"]";

/// A spec on `base` with the recorded Debian sources and the cran-sys repository (all served by
/// `server`, rooted at fixtures/), and `layers`.
fn spec(base: &str, server: &Server, layers: &str) -> String {
    let url = server.url();
    format!(
        "[image]\nname = \"apt-build\"\nbase = \"{base}\"\n\n[repositories]\n\
         apt = [\"deb [check-valid-until=no] {url}/debian/debian bookworm main\", \
         \"deb [check-valid-until=no] {url}/debian/debian-security bookworm-security main\"]\n\
         apt-keyring = [\"{}\"]\ncran = [\"{url}/cran-sys\"]\n\n{layers}\n",
        fixtures()
            .join("debian/debian-archive-keyring.gpg")
            .display()
    )
}

/// An apt layer and an R layer above it.
fn layers(apt: &str) -> String {
    format!("[[layer]]\nname = \"system\"\n{apt}\n\n[[layer]]\nname = \"r\"\ncran = [\"syslibs\"]")
}

/// A small base image as an OCI layout in `dir`: R 4.2.2, and a dpkg status holding libc6 (with
/// what it depends on) and the bookworm libzstd1 that the security suite's libzstd-dev needs
/// upgraded, at the versions of the shared test base.
fn small_base(dir: &Path) -> String {
    let status: String = [
        ("libc6", "2.36-9+deb12u14"),
        ("libgcc-s1", "12.2.0-14+deb12u1"),
        ("gcc-12-base", "12.2.0-14+deb12u1"),
        ("libzstd1", "1.5.4+dfsg2-5"),
    ]
    .iter()
    .map(|(name, version)| {
        format!("Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\n\n")
    })
    .collect();
    write_oci_layout(
        dir,
        &[
            (
                "usr/lib/R/library/base/DESCRIPTION",
                b"Package: base\nVersion: 4.2.2\nPriority: base\n",
            ),
            ("var/lib/dpkg/status", status.as_bytes()),
        ],
    );
    format!("oci:{}", dir.display())
}

/// The lock's packages of `ecosystem`, as TOML tables.
fn locked(project: &Project, ecosystem: &str) -> Vec<toml::Value> {
    let lock: toml::Value = toml::from_str(&project.lock().unwrap()).unwrap();
    lock["layer"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|layer| layer["package"].as_array().cloned().unwrap_or_default())
        .filter(|p| p["ecosystem"].as_str() == Some(ecosystem))
        .collect()
}

fn field<'a>(package: &'a toml::Value, name: &str) -> &'a str {
    package[name].as_str().unwrap()
}

/// Resolves and emits into `out`; the Dockerfile's text.
fn resolve_and_emit(project: &Project, out: &str) -> String {
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = project.run(&["emit", "--out", out]);
    assert!(output.status.success(), "{}", stderr(&output));
    std::fs::read_to_string(project.path(out).join("Dockerfile")).unwrap()
}

/// The lock with `from` replaced by `to` once (it must be there).
fn tamper_lock(project: &Project, from: &str, to: &str) {
    let lock = project.lock().unwrap();
    assert!(lock.contains(from), "{from} is in the lock");
    std::fs::write(project.path("imglock.lock"), lock.replacen(from, to, 1)).unwrap();
}

#[test]
fn the_apt_step_fetches_verifies_and_installs_exactly_the_locked_debs() {
    let server = Server::start(&fixtures());
    let dir = tempfile::tempdir().unwrap();
    let project = Project::new(&spec(&small_base(dir.path()), &server, &layers(APT)));
    let dockerfile = resolve_and_emit(&project, "build");
    let debs = locked(&project, "apt");
    let names: Vec<&str> = debs.iter().map(|p| field(p, "name")).collect();
    assert_eq!(
        names,
        ["libsodium-dev", "libsodium23", "libzstd-dev", "libzstd1"]
    );
    let steps: Vec<&str> = dockerfile.split("\n\n").collect();
    let apt = steps
        .iter()
        .position(|s| s.contains("Debian packages:"))
        .expect("an apt step");
    let r = steps
        .iter()
        .position(|s| s.contains("imglock-r-install syslibs"))
        .expect("an R step");
    assert!(apt < r, "the apt layer comes first: {dockerfile}");
    let step = steps[apt];
    assert_eq!(dockerfile.matches("Debian packages:").count(), 1);
    for deb in &debs {
        let url = field(deb, "url");
        let file = url.rsplit('/').next().unwrap();
        assert!(
            step.contains(&format!("curl -fsSL -o {file} {url}")),
            "{step}"
        );
        assert!(
            step.contains(&format!("'{}  {file}'", field(deb, "sha256"))),
            "{step}"
        );
        assert!(step.contains(&format!("./{file} ")), "{step}");
        assert!(
            step.contains(&format!(
                "'{} {} {} installed'",
                field(deb, "name"),
                field(deb, "architecture"),
                field(deb, "version")
            )),
            "{step}"
        );
    }
    assert!(
        step.contains("sha256sum -c --quiet sha256sums.txt"),
        "{step}"
    );
    assert!(
        step.contains("install -y --no-install-recommends --no-remove"),
        "{step}"
    );
    assert!(
        step.contains("-o Dir::State::Lists=/tmp/imglock-apt/lists"),
        "no index but an empty one of its own: {step}"
    );
    assert!(!dockerfile.contains("apt-get update"), "{dockerfile}");
    assert!(
        step.contains("for name in libsodium23 libzstd1; do"),
        "what was pulled in is marked automatic: {step}"
    );
    assert!(
        step.ends_with("&& cd / && rm -rf /tmp/imglock-apt /var/cache/ldconfig/aux-cache"),
        "{step}"
    );

    // The same lock gives the same bytes.
    let output = project.run(&["emit", "--out", "again"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(project.path("again/Dockerfile")).unwrap(),
        dockerfile
    );
}

/// The apt step's download-and-check commands (from its first `curl` to the end of the
/// `sha256sum -c` check) of `dockerfile`, run by sh in `dir`.
fn run_downloads(dockerfile: &str, dir: &Path) -> std::process::Output {
    let step = &dockerfile[dockerfile.find("Debian packages:").expect("an apt step")..];
    let start = step.find("curl -fsSL").expect("a download");
    let check = step.find("sha256sum -c").expect("a check");
    let end = check + step[check..].find("}; }").expect("the check's end") + 4;
    Command::new("sh")
        .arg("-c")
        .arg(format!("set -e; {}", &step[start..end]))
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn a_tampered_lock_is_refused_or_fails_closed() {
    let server = Server::start(&fixtures());
    let dir = tempfile::tempdir().unwrap();
    let project = Project::new(&spec(&small_base(dir.path()), &server, &layers(APT)));
    let dockerfile = resolve_and_emit(&project, "build");
    let original = project.lock().unwrap();

    // The downloads as written succeed; with one sha256 changed in the lock they fail closed.
    let work = tempfile::tempdir().unwrap();
    let output = run_downloads(&dockerfile, work.path());
    assert!(output.status.success(), "{}", text(&output));
    let debs = locked(&project, "apt");
    let sodium = debs
        .iter()
        .find(|p| field(p, "name") == "libsodium23")
        .unwrap();
    tamper_lock(&project, field(sodium, "sha256"), &"0".repeat(64));
    let output = project.run(&["emit", "--out", "tampered"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let tampered = std::fs::read_to_string(project.path("tampered/Dockerfile")).unwrap();
    let work = tempfile::tempdir().unwrap();
    let output = run_downloads(&tampered, work.path());
    assert!(!output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains(
            "imglock: checksum mismatch for a Debian package of layer `system`: the archive serves other bytes than were locked"
        ),
        "{}",
        text(&output)
    );

    // A URL turned to another locked .deb of the layer is refused, naming the package and layer.
    std::fs::write(project.path("imglock.lock"), &original).unwrap();
    let url = field(sodium, "url");
    let dev = debs
        .iter()
        .find(|p| field(p, "name") == "libsodium-dev")
        .unwrap();
    tamper_lock(
        &project,
        &format!("url = \"{url}\""),
        &format!("url = \"{}\"", field(dev, "url")),
    );
    let output = project.run(&["emit", "--out", "refused"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("Debian package `libsodium23` of layer `system` has the file name `libsodium-dev_1.0.18-1+deb12u1_amd64.deb` of another package"),
        "{}",
        stderr(&output)
    );

    // A URL the archive does not serve fails the downloads.
    std::fs::write(project.path("imglock.lock"), &original).unwrap();
    tamper_lock(&project, url, &url.replace("1.0.18-1", "9.9-1"));
    let output = project.run(&["emit", "--out", "missing"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let missing = std::fs::read_to_string(project.path("missing/Dockerfile")).unwrap();
    let output = run_downloads(&missing, tempfile::tempdir().unwrap().path());
    assert!(!output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("404"), "{}", text(&output));

    // A URL with shell text in it reaches curl as one argument, and nothing of it runs.
    std::fs::write(project.path("imglock.lock"), &original).unwrap();
    hostile_url_reaches_curl_as_one_argument(&project, &server, url, work.path());
}

/// `url` in the lock replaced by one with shell text in it: emit quotes it, and the step's curl
/// line, run with a curl that prints its arguments, gets it as one argument and runs none of it.
fn hostile_url_reaches_curl_as_one_argument(
    project: &Project,
    server: &Server,
    url: &str,
    work: &Path,
) {
    let planted = work.join("planted");
    let hostile = format!(
        "{}/x/$(touch {});a b'c.deb",
        server.url(),
        planted.display()
    );
    tamper_lock(project, url, &hostile);
    let output = project.run(&["emit", "--out", "quoted"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let quoted = std::fs::read_to_string(project.path("quoted/Dockerfile")).unwrap();
    let line = quoted
        .lines()
        .find(|l| l.contains("curl") && l.contains("/x/"))
        .expect("the hostile download")
        .trim_start()
        .trim_start_matches("&& ")
        .trim_end_matches(" \\");
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("curl() {{ printf '%s\\n' \"$@\"; }}; {line}"))
        .current_dir(work)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let arguments: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(arguments.last().unwrap(), &hostile, "{line}");
    assert!(!planted.exists(), "the URL's shell text ran: {line}");
}

/// The apt step's check of dpkg's status (from writing the locked set to the end of the
/// comparison) of `dockerfile`, run by sh in `dir` with `before.txt` holding `before` and a
/// `dpkg-query` that prints `after`.
fn run_status_check(dockerfile: &str, dir: &Path, before: &[&str], after: &[&str]) -> String {
    let step = &dockerfile[dockerfile.find("Debian packages:").expect("an apt step")..];
    let locked = step.find("> locked.txt").expect("the locked set");
    let start = step[..locked].rfind("printf").unwrap();
    let end = locked
        + step[locked..]
            .find("exit 1; }; }")
            .expect("the check's end")
        + 12;
    let lines = |lines: &[&str]| {
        let mut sorted: Vec<String> = lines.iter().map(|l| format!("{l}\n")).collect();
        sorted.sort();
        sorted.concat()
    };
    std::fs::write(dir.join("before.txt"), lines(before)).unwrap();
    std::fs::write(dir.join("status"), lines(after)).unwrap();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("dpkg-query");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\ncat {}\n", dir.join("status").display()),
    )
    .unwrap();
    let executable = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(&fake, executable).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("set -e; {}", &step[start..end]))
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .unwrap();
    match output.status.success() {
        true => "ok".to_string(),
        false => text(&output),
    }
}

/// After the install, dpkg's status must be the one before with exactly the locked packages at
/// their versions: a package more, one removed, or one at another version fails the step.
#[test]
fn the_status_check_fails_on_anything_beyond_the_lock() {
    let server = Server::start(&fixtures());
    let dir = tempfile::tempdir().unwrap();
    let project = Project::new(&spec(&small_base(dir.path()), &server, &layers(APT)));
    let dockerfile = resolve_and_emit(&project, "build");
    let before = [
        "libc6 amd64 2.36-9+deb12u14 installed",
        "libzstd1 amd64 1.5.4+dfsg2-5 installed",
    ];
    let installed = [
        "libc6 amd64 2.36-9+deb12u14 installed",
        "libsodium-dev amd64 1.0.18-1+deb12u1 installed",
        "libsodium23 amd64 1.0.18-1+deb12u1 installed",
        "libzstd-dev amd64 1.5.4+dfsg2-5+deb12u1 installed",
        "libzstd1 amd64 1.5.4+dfsg2-5+deb12u1 installed",
    ];
    let check = |after: &[&str]| {
        let work = tempfile::tempdir().unwrap();
        run_status_check(&dockerfile, work.path(), &before, after)
    };
    assert_eq!(check(&installed), "ok");
    let message = "imglock: dpkg's status after layer `system` is not the lock's";
    let mut extra = installed.to_vec();
    extra.push("libzstd-tools amd64 1.0 installed");
    let shown = check(&extra);
    assert!(shown.contains(message), "{shown}");
    assert!(
        shown.contains("\n+libzstd-tools amd64 1.0 installed"),
        "{shown}"
    );
    let shown = check(&installed[1..]);
    assert!(
        shown.contains("\n-libc6 amd64 2.36-9+deb12u14 installed"),
        "{shown}"
    );
    let mut other = installed.to_vec();
    other[2] = "libsodium23 amd64 1.0.18-1 installed";
    let shown = check(&other);
    assert!(
        shown.contains("\n+libsodium23 amd64 1.0.18-1 installed"),
        "{shown}"
    );
    let mut unpacked = installed.to_vec();
    unpacked[3] = "libzstd-dev amd64 1.5.4+dfsg2-5+deb12u1 unpacked";
    let shown = check(&unpacked);
    assert!(
        shown.contains("\n-libzstd-dev amd64 1.5.4+dfsg2-5+deb12u1 installed"),
        "{shown}"
    );
}

/// `--apt` suggests the `apt` entries syslibs' SystemRequirements call for while no layer locks
/// them, and nothing once the apt layer below does.
#[test]
fn apt_suggests_what_no_layer_locks_yet() {
    let server = Server::start(&fixtures());
    let dir = tempfile::tempdir().unwrap();
    let base = small_base(dir.path());
    let project = Project::new(&spec(
        &base,
        &server,
        "[[layer]]\nname = \"r\"\ncran = [\"syslibs\"]",
    ));
    let dockerfile = resolve_and_emit(&project, "plain");
    let output = project.run(&["emit", "--out", "build", "--apt", "--verbose"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "layer `r`: the SystemRequirements of syslibs name Debian packages no layer up to it locks; unless the base image has them, add `apt = [\"libsodium-dev\", \"libzstd-dev\"]` to this layer or one below it in the spec"
        ),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(project.path("build/Dockerfile")).unwrap(),
        dockerfile,
        "--apt changes no step"
    );

    project.write_spec(&spec(&base, &server, &layers(APT)));
    resolve_and_emit(&project, "locked");
    let output = project.run(&["emit", "--out", "locked", "--apt", "--verbose"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stderr(&output).contains("apt = ["), "{}", stderr(&output));
}

/// `dpkg-query`'s `name version` of the locked Debian packages in `image`, syslibs' answer, the
/// packages apt marks automatic and what apt's lists and /tmp hold, as one text.
fn probe(image: &str, cleanup: &mut Cleanup) -> String {
    let container = format!("imglock-apt-probe-{}", std::process::id());
    let output = buildah(&["from", "--name", &container, image]);
    assert!(output.status.success(), "{}", text(&output));
    cleanup.0.push(container.clone());
    let script = "Rscript -e 'cat(syslibs::library_versions(), \"\\n\")' \
                  && dpkg-query -W -f '${Package}=${Version}\\n' libzstd-dev libzstd1 libsodium-dev libsodium23 \
                  && echo auto: $(apt-mark showauto | grep -E 'zstd|sodium') \
                  && echo lists: $(ls -A /var/lib/apt/lists) tmp: $(ls -A /tmp)";
    let output = buildah(&["run", &container, "--", "sh", "-c", script]);
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A temporary folder whose path is lowercase, removed when dropped, with the name buildah gives
/// the image it reads from `oci:FOLDER/base` (`localhost/FOLDER/base`, a second name of the shared
/// base image) taken off.
struct Lowercase(std::path::PathBuf);

impl Lowercase {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("imglock-apt-build-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Lowercase {
    fn drop(&mut self) {
        let _ = buildah(&["rmi", &format!("localhost{}/base", self.0.display())]);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An OCI layout of `image` at `dir`.
fn push(image: &str, dir: &Path) {
    let output = buildah(&["push", image, &format!("oci:{}", dir.display())]);
    assert!(output.status.success(), "{}", text(&output));
}

/// An image built `FROM image` whose one step purges libzstd-dev (tagged `tag`): `verify`
/// finds that package, and only it.
fn a_purged_package_is_the_finding(project: &Project, image: &str, tag: &str, work: &Path) {
    let tamper = work.join("tamper");
    std::fs::create_dir_all(&tamper).unwrap();
    std::fs::write(
        tamper.join("Dockerfile"),
        format!("FROM {image}\nRUN dpkg --purge --force-depends libzstd-dev\n"),
    )
    .unwrap();
    let output = buildah(&["bud", "-t", tag, tamper.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));
    let tampered = work.join("tampered");
    push(tag, &tampered);
    let output = project.run(&["verify", tampered.to_str().unwrap(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let findings: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["ecosystem"].as_str().unwrap(),
                f["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(findings, [("apt", "libzstd-dev")], "{report}");
}

/// The lock without its apt layer, emitted and built as `tag`: syslibs' C code finds no header.
fn without_the_apt_layer_syslibs_does_not_compile(project: &Project, tag: &str) {
    let original = project.lock().unwrap();
    let mut lock: toml::Value = toml::from_str(&original).unwrap();
    lock["layer"].as_array_mut().unwrap().remove(0);
    std::fs::write(
        project.path("imglock.lock"),
        toml::to_string(&lock).unwrap(),
    )
    .unwrap();
    let output = project.run(&["emit", "--out", "without"]);
    assert!(output.status.success(), "{}", stderr(&output));
    // A failing build keeps its container unless told not to.
    let (output, _) = build(project, "without", tag, &["--no-cache", "--force-rm"]);
    assert!(!output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("fatal error: sodium.h: No such file or directory"),
        "{}",
        text(&output)
    );
    std::fs::write(project.path("imglock.lock"), original).unwrap();
}

/// The real build: the shared test base read as an OCI layout, an apt layer and an R layer whose
/// package compiles against the apt layer's headers; the image holds exactly the lock's Debian
/// packages, verifies clean, and a purged locked package is a finding; a lock whose sha256 the
/// archive's bytes do not match fails the build.
#[test]
fn an_apt_layer_under_an_r_layer_builds_for_real_and_verifies() {
    if base_digest().is_none() {
        return;
    }
    // buildah reads `FROM oci:PATH` only for a lowercase PATH; a temporary folder's name is not.
    let started = std::time::Instant::now();
    let work = Lowercase::new();
    let base = work.path().join("base");
    push(TEST_BASE_IMAGE, &base);
    let server = Server::start(&fixtures());
    let project = Project::new(&spec(
        &format!("oci:{}", base.display()),
        &server,
        &layers(APT),
    ));
    resolve_and_emit(&project, "build");
    let tag = |n: u32| format!("localhost/imglock-apt-build-{}:{n}", std::process::id());
    let mut cleanup = Cleanup(vec![tag(1)]);
    // No layer of an earlier run is reused: the steps run as they would in CI.
    let (output, seconds) = build(&project, "build", &tag(1), &["--no-cache"]);
    assert!(output.status.success(), "{}", text(&output));

    let probed = probe(&tag(1), &mut cleanup);
    assert!(probed.contains("zstd 1.5.4 sodium 1.0.18"), "{probed}");
    for deb in locked(&project, "apt") {
        let installed = format!("{}={}\n", field(&deb, "name"), field(&deb, "version"));
        assert!(probed.contains(&installed), "{installed} in {probed}");
    }
    assert!(probed.contains("auto: libsodium23\n"), "{probed}");
    assert!(
        probed.contains("lists: tmp:\n"),
        "no apt list or work file stays: {probed}"
    );

    let image = work.path().join("image");
    push(&tag(1), &image);
    project.verify_clean(&image);

    // A later layer purges a locked package: verify names it.
    cleanup.0.push(tag(2));
    a_purged_package_is_the_finding(&project, &tag(1), &tag(2), work.path());

    // Without the apt layer (dropped from the lock), syslibs does not compile.
    cleanup.0.push(tag(4));
    without_the_apt_layer_syslibs_does_not_compile(&project, &tag(4));

    // The archive's bytes differ from a lock's sha256: the build fails at the check.
    let sodium = locked(&project, "apt")
        .into_iter()
        .find(|p| field(p, "name") == "libsodium23")
        .unwrap();
    tamper_lock(&project, field(&sodium, "sha256"), &"0".repeat(64));
    let output = project.run(&["emit", "--out", "tampered"]);
    assert!(output.status.success(), "{}", stderr(&output));
    cleanup.0.push(tag(3));
    let (output, _) = build(&project, "tampered", &tag(3), &["--force-rm"]);
    assert!(!output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("imglock: checksum mismatch for a Debian package of layer `system`"),
        "{}",
        text(&output)
    );
    eprintln!(
        "apt + R layer build: {seconds:.1} s (the whole test: {:.1} s)",
        started.elapsed().as_secs_f64()
    );
}
