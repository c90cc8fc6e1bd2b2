//! Recorded R binaries (issue 13, item 4): the lock's `binary-sha256` of an R package (read,
//! validated and written back byte for byte), passed by `emit` to the installer, which refuses
//! a bad one; kept by `resolve` while the package, R version, platform and base image are
//! unchanged; and no reason for `check` to call a lock stale. (`verify --record-binaries` is
//! tested in `verify/record_binaries.rs`, the installer in a real build in `image_build.rs`.)

use std::path::Path;

use imglock::emit::DockerfileOptions;
use imglock::lock::{Lock, render};

use crate::support::{Project, Server, fixtures, locks, spec, stderr};

/// A binary digest the tests record (any 64 lowercase hex digits).
fn digest(seed: char) -> String {
    seed.to_string().repeat(64)
}

/// `lock` with `binary-sha256 = "<digest>"` after the `size` of each named package, as the
/// canonical writer places it, and no other.
pub(crate) fn with_binaries(lock: &str, recorded: &[(&str, String)]) -> String {
    let mut out = String::new();
    let mut current = String::new();
    for line in lock.lines().filter(|l| !l.starts_with("binary-sha256 = ")) {
        out.push_str(line);
        out.push('\n');
        if let Some(name) = line.strip_prefix("name = ") {
            current = name.trim_matches('"').to_string();
        }
        if line.starts_with("size = ")
            && let Some((_, digest)) = recorded.iter().find(|(name, _)| *name == current)
        {
            out.push_str(&format!("binary-sha256 = \"{digest}\"\n"));
        }
    }
    out
}

fn golden(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("lockfiles")
            .join(name),
    )
    .unwrap()
}

#[test]
fn the_lock_keeps_binary_digests_and_refuses_bad_ones_with_their_line() {
    let path = Path::new("imglock.lock");
    let text = with_binaries(
        &golden("r-fixture.lock"),
        &[("plotkit", digest('a')), ("SeqTools", digest('b'))],
    );
    assert_eq!(text.matches("binary-sha256").count(), 2);
    let lock = Lock::parse(path, &text).unwrap();
    assert_eq!(render(&lock), text, "parse → render is the identity");

    for bad in [
        "A".repeat(64),
        "a".repeat(63),
        format!("{}g", "a".repeat(63)),
        String::new(),
    ] {
        let broken = text.replacen(&digest('b'), &bad, 1);
        let line = broken
            .lines()
            .position(|l| l == format!("binary-sha256 = \"{bad}\""))
            .unwrap()
            + 1;
        let error = Lock::parse(path, &broken).unwrap_err().to_string();
        assert!(
            error.contains(&format!("line {line}"))
                && error.contains("SeqTools")
                && error.contains("binary-sha256")
                && error.contains("not 64 lowercase hexadecimal digits"),
            "{bad:?}: {error}"
        );
    }
    let number = text.replacen(&format!("\"{}\"", digest('b')), "12", 1);
    let error = Lock::parse(path, &number).unwrap_err().to_string();
    assert!(
        error.contains("binary-sha256") && error.contains("SeqTools"),
        "{error}"
    );

    // Only R packages have one.
    let mixed = golden("mixed-fixture.lock");
    let conda = mixed.replacen(
        "ecosystem = \"conda\"",
        "ecosystem = \"conda\"\nbinary-sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"",
        1,
    );
    let error = Lock::parse(path, &conda).unwrap_err().to_string();
    assert!(
        error.contains("has `binary-sha256`, which its ecosystem does not have"),
        "{error}"
    );
}

/// The installer lines of a Dockerfile, by package name.
fn installer_lines(dockerfile: &str) -> Vec<(String, String)> {
    dockerfile
        .lines()
        .filter_map(|line| line.trim().strip_prefix("imglock-r-install "))
        .map(|rest| {
            let rest = rest.trim_end_matches(" \\").trim_end_matches(" &&");
            (
                rest.split(' ').next().unwrap().to_string(),
                rest.to_string(),
            )
        })
        .collect()
}

fn emitted(text: &str) -> String {
    let lock_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/r-fixture/imglock.lock");
    let lock = Lock::parse(&lock_path, text).unwrap();
    imglock::emit::render(
        &lock,
        &lock_path,
        text.as_bytes(),
        &DockerfileOptions::default(),
    )
    .unwrap()
    .text()
}

#[test]
fn emit_hands_the_recorded_digest_or_a_dash_to_the_installer() {
    let plain = golden("r-fixture.lock");
    let recorded = with_binaries(&plain, &[("plotkit", digest('c'))]);
    let before = emitted(&plain);
    let after = emitted(&recorded);
    let lines = installer_lines(&after);
    assert!(lines.len() >= 8, "{after}");
    for (name, line) in &lines {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 6, "{line}");
        let expected = if name == "plotkit" {
            digest('c')
        } else {
            "-".into()
        };
        assert_eq!(fields[4], expected, "{line}");
    }
    // Only the step that installs plotkit changes (and the header, which names the lock's sha256).
    let steps = |dockerfile: &str| -> Vec<String> {
        dockerfile
            .split("\n# ")
            .skip(1)
            .map(str::to_string)
            .collect()
    };
    let changed: Vec<String> = steps(&before)
        .into_iter()
        .zip(steps(&after))
        .filter(|(a, b)| a != b)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(
        changed[0].contains("imglock-r-install plotkit "),
        "{changed:?}"
    );
}

/// Runs the installer with these arguments, as a build would, far enough to refuse them.
fn installer(args: &[&str]) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cran/emit/imglock-r-install.sh");
    std::process::Command::new("sh")
        .arg(&script)
        .args(args)
        .env("IMGLOCK_R_KEY", "4.2.2/linux-amd64/test")
        .output()
        .unwrap()
}

/// The installer refuses a fifth argument that is neither `-` nor a sha256, and a sixth (the
/// linked packages' key) that is not a sha256, before it does anything.
#[test]
fn the_installer_refuses_a_malformed_binary_digest_or_linked_key() {
    let source = "8".repeat(64);
    let fixed = [
        "corekit",
        "1.1-2",
        &source,
        "context:imglock-artifacts/nowhere.tar.gz",
    ];
    let bad_values = [
        "",
        "abc",
        &"A".repeat(64),
        &format!("{} ", "a".repeat(64)),
        "--",
    ];
    let linked = "a".repeat(64);
    for bad in bad_values {
        let output = installer(&[&fixed[..], &[bad, &linked]].concat());
        assert_eq!(output.status.code(), Some(1), "{bad:?}");
        assert!(
            stderr(&output).contains(&format!(
                "imglock: R package corekit 1.1-2: the binary sha256 `{bad}` is neither `-` nor 64 lowercase hexadecimal digits"
            )),
            "{bad:?}: {}",
            stderr(&output)
        );
    }
    for bad in bad_values.iter().chain(&["-"]) {
        let output = installer(&[&fixed[..], &["-", bad]].concat());
        assert_eq!(output.status.code(), Some(1), "{bad:?}");
        assert!(
            stderr(&output).contains(&format!(
                "imglock: R package corekit 1.1-2: the linked-packages key `{bad}` is not 64 lowercase hexadecimal digits"
            )),
            "{bad:?}: {}",
            stderr(&output)
        );
    }
    let output = installer(&fixed);
    assert!(
        stderr(&output)
            .contains("imglock-r-install takes NAME VERSION SHA256 SOURCE BINARY_SHA256 LINKED"),
        "{}",
        stderr(&output)
    );
}

fn recorded_digests(lock: &str) -> Vec<(String, String)> {
    locks::binary_digests(lock).into_iter().collect()
}

#[test]
fn resolve_keeps_recorded_digests_while_package_r_platform_and_base_hold() {
    let server = Server::start(&fixtures());
    let repos = |repo: &str| format!("cran = [\"{}/{repo}\"]", server.url());
    let layers = "[[layer]]\nname = \"r\"\ncran = [\"fastsum\"]";
    let project = Project::new(&spec(&repos("cran"), layers));
    let resolve = |args: &[&str]| {
        let output = project.run(args);
        assert!(output.status.success(), "{}", stderr(&output));
        output
    };
    resolve(&["resolve"]);
    let both = [("corekit", digest('1')), ("fastsum", digest('2'))];
    let record = || {
        let text = with_binaries(&project.lock().unwrap(), &both);
        std::fs::write(project.path("imglock.lock"), &text).unwrap();
        text
    };
    let text = record();
    let expected: Vec<(String, String)> = both
        .iter()
        .map(|(n, d)| (n.to_string(), d.clone()))
        .collect();

    // Unchanged: the same bytes, and `check` is content.
    let output = resolve(&["resolve"]);
    assert!(stderr(&output).contains("Unchanged"), "{}", stderr(&output));
    assert_eq!(project.lock().unwrap(), text);
    assert_eq!(project.run(&["check"]).status.code(), Some(0));
    resolve(&["resolve", "--upgrade"]);
    assert_eq!(project.lock().unwrap(), text, "the same packages keep them");

    // Another package added, another repository with the same fastsum: both kept.
    project.write_spec(&spec(
        &repos("cran-next"),
        "[[layer]]\nname = \"r\"\ncran = [\"fastsum\", \"headerlib\"]",
    ));
    resolve(&["resolve"]);
    assert_eq!(recorded_digests(&project.lock().unwrap()), expected);

    // corekit upgraded (1.1-2 → 1.2.0): its digest goes, fastsum's stays.
    resolve(&["resolve", "--upgrade-package", "corekit"]);
    assert_eq!(
        recorded_digests(&project.lock().unwrap()),
        [("fastsum".to_string(), digest('2'))]
    );

    // The same version with other source bytes: its digest goes.
    project.write_spec(&spec(&repos("cran"), layers));
    resolve(&["resolve", "--upgrade"]);
    let text = record();
    let corekit = "8bc98d3957baa36fb17264bf2136d250564a2795fe69afe4eb33a8eb453454eb";
    std::fs::write(
        project.path("imglock.lock"),
        text.replace(corekit, &digest('9')),
    )
    .unwrap();
    resolve(&["resolve", "--upgrade-package", "corekit"]);
    assert_eq!(
        recorded_digests(&project.lock().unwrap()),
        [("fastsum".to_string(), digest('2'))]
    );

    // Another R version, platform or base image: every digest goes.
    let base = spec(&repos("cran"), layers);
    for changed in [
        base.replace("r = \"4.2.2\"", "r = \"4.2.3\""),
        base.replace("r = \"4.2.2\"", "r = \"4.2.2\"\nplatform = \"linux/arm64\""),
        base.replace(&"a".repeat(64), &"b".repeat(64)),
    ] {
        project.write_spec(&base);
        resolve(&["resolve"]);
        record();
        project.write_spec(&changed);
        resolve(&["resolve"]);
        assert_eq!(recorded_digests(&project.lock().unwrap()), [], "{changed}");
    }
}
