//! What imglock gives CI: `verify --format junit` (checked against the JUnit schema CI servers
//! read, fixtures/junit/junit-10.xsd, with xmllint, and attribute by attribute with quick-xml),
//! `--format github` of `verify`, `check` and `diff` (golden files in tests/golden/ci/;
//! `IMGLOCK_BLESS=1` re-creates them), and the README's CI recipes ([`readme`]). The times in a
//! JUnit report differ from run to run, so the golden report has them replaced by `…`, each
//! checked to be a number of seconds first.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use quick_xml::events::Event;

use crate::support::{available, golden, runs, stderr};

mod readme;

const SITE: &str = "usr/local/lib/R/site-library";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn imglock(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imglock"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// A folder holding fixtures/diff/old.lock and a root filesystem `image/` that differs from it:
/// `leafy` missing, `plotkit` at another version, `stray` not locked; the other R packages as
/// locked.
fn mismatching_image() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("fixtures/diff/old.lock"),
        dir.path().join("imglock.lock"),
    )
    .unwrap();
    let installed = [
        ("corekit", "1.1-2"),
        ("fastsum", "0.3.1"),
        ("headerlib", "2.0.0"),
        ("wantsnew", "1.0.0"),
        ("plotkit", "3.4.2"),
        ("usehdr", "0.1.0"),
        ("SeqTools", "1.4.0"),
        ("stray", "1.0"),
    ];
    for (name, version) in installed {
        let package = dir.path().join("image").join(SITE).join(name);
        std::fs::create_dir_all(&package).unwrap();
        std::fs::write(
            package.join("DESCRIPTION"),
            format!("Package: {name}\nVersion: {version}\n"),
        )
        .unwrap();
    }
    dir
}

fn verify(dir: &Path, format: &str) -> Output {
    let output = imglock(dir, &["verify", "image", "--format", format]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    output
}

/// `xml` with every `time="…"` value replaced by `…`, once each is checked to be seconds.
fn without_times(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(at) = rest.find(" time=\"") {
        let (before, after) = rest.split_at(at + " time=\"".len());
        let end = after.find('"').unwrap();
        let seconds: f64 = after[..end]
            .parse()
            .unwrap_or_else(|_| panic!("time {:?} is no number of seconds", &after[..end]));
        assert!((0.0..600.0).contains(&seconds), "time {seconds}");
        out.push_str(before);
        out.push('…');
        rest = &after[end..];
    }
    out + rest
}

#[test]
fn verify_junit_has_a_timed_case_per_package_and_matches_its_golden_report() {
    let dir = mismatching_image();
    let xml = String::from_utf8(verify(dir.path(), "junit").stdout).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 9, "{xml}");
    assert_eq!(xml.matches(" time=\"").count(), 10, "{xml}");
    golden("ci/verify.junit.xml", &without_times(&xml));
    check_junit_attributes(&xml);
}

#[test]
fn verify_junit_validates_against_the_junit_schema() {
    if !available(runs("xmllint", &["--version"]), "xmllint is not installed") {
        return;
    }
    let dir = mismatching_image();
    let report = dir.path().join("report.xml");
    std::fs::write(&report, verify(dir.path(), "junit").stdout).unwrap();
    let schema = root().join("fixtures/junit/junit-10.xsd");
    let validate = |file: &Path| {
        Command::new("xmllint")
            .args(["--noout", "--schema"])
            .arg(&schema)
            .arg(file)
            .output()
            .unwrap()
    };
    let output = validate(&report);
    assert!(output.status.success(), "{}", stderr(&output));
    // The schema has teeth: the same report without a case's time is refused.
    let xml = std::fs::read_to_string(&report).unwrap();
    let case = xml.find("<testcase ").unwrap();
    let untimed = xml[..case].to_string() + &xml[case..].replacen(" time=\"", " duration=\"", 1);
    std::fs::write(&report, untimed).unwrap();
    let output = validate(&report);
    assert!(!output.status.success(), "{}", stderr(&output));
}

/// The attributes a CI server needs of each element of a JUnit report, and that the counts add
/// up: the suite's name, tests, failures, errors and time; each case's name, classname and time;
/// each failure's message.
fn check_junit_attributes(xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut cases, mut failed, mut suite) = (0, 0, None);
    loop {
        let element = match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => e,
            Event::Eof => break,
            _ => continue,
        };
        let attributes: std::collections::BTreeMap<String, String> = element
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                let value = a.normalized_value(quick_xml::XmlVersion::Implicit1_0);
                (
                    AsRef::<str>::as_ref(&a.key).to_string(),
                    value.unwrap().into_owned(),
                )
            })
            .collect();
        let name = AsRef::<str>::as_ref(&element.name()).to_string();
        let required: &[&str] = match name.as_str() {
            "testsuite" => &["name", "tests", "failures", "errors", "time"],
            "testcase" => &["name", "classname", "time"],
            "failure" => &["message", "type"],
            other => panic!("unexpected element <{other}>"),
        };
        for key in required {
            assert!(
                attributes.contains_key(*key),
                "<{name}> has no {key}: {xml}"
            );
        }
        if let Some(time) = attributes_time(&name, &attributes) {
            assert!(time >= 0.0, "{xml}");
        }
        match name.as_str() {
            "testsuite" => suite = Some(attributes),
            "testcase" => cases += 1,
            _ => failed += 1,
        }
    }
    let suite = suite.expect("a <testsuite>");
    assert_eq!(suite["tests"], cases.to_string());
    assert_eq!(suite["failures"], failed.to_string());
}

fn attributes_time(
    element: &str,
    attributes: &std::collections::BTreeMap<String, String>,
) -> Option<f64> {
    let time = attributes.get("time")?;
    Some(
        time.parse()
            .unwrap_or_else(|_| panic!("<{element}> time {time:?} is no number")),
    )
}

#[test]
fn verify_github_annotates_each_finding_at_its_lock_line() {
    let dir = mismatching_image();
    let text = String::from_utf8(verify(dir.path(), "github").stdout).unwrap();
    golden("ci/verify.github", &text);
    let lock = std::fs::read_to_string(dir.path().join("imglock.lock")).unwrap();
    let lines: Vec<&str> = lock.lines().collect();
    let line = |name: &str| {
        let marker = text
            .lines()
            .find(|l| l.contains(&format!("%3A wrong version {name}")))
            .unwrap_or_else(|| panic!("{text}"));
        let number = marker.split(",line=").nth(1).unwrap().split(',').next();
        number.unwrap().parse::<usize>().unwrap()
    };
    assert_eq!(lines[line("plotkit") - 1], "name = \"plotkit\"");
}

#[test]
fn check_github_annotates_the_changed_spec() {
    let dir = tempfile::tempdir().unwrap();
    let spec = std::fs::read_to_string(root().join("examples/r-fixture/imglock.toml")).unwrap();
    let lock = root().join("lockfiles/r-fixture.lock");
    std::fs::copy(lock, dir.path().join("imglock.lock")).unwrap();
    std::fs::write(dir.path().join("imglock.toml"), &spec).unwrap();
    let fresh = imglock(dir.path(), &["check", "--format", "github"]);
    assert_eq!(fresh.status.code(), Some(0), "{}", stderr(&fresh));
    assert_eq!(
        String::from_utf8_lossy(&fresh.stdout),
        "imglock.lock is up to date with imglock.toml\n"
    );
    let changed = spec.replace("cran = [\"leafy\"]", "cran = [\"leafy (>= 0.1)\"]");
    assert_ne!(changed, spec);
    std::fs::write(dir.path().join("imglock.toml"), &changed).unwrap();
    let stale = imglock(dir.path(), &["check", "--format", "github"]);
    assert_eq!(stale.status.code(), Some(1), "{}", stderr(&stale));
    // The error is on the changed requirement's line, where the pull request shows it.
    let leafy = changed.lines().position(|l| l.contains("leafy")).unwrap() + 1;
    let shown = String::from_utf8_lossy(&stale.stdout);
    assert!(
        shown.starts_with(&format!("::error file=imglock.toml,line={leafy},")),
        "{shown}"
    );
    golden("ci/check.github", &shown);
}

#[test]
fn diff_github_annotates_each_change_at_its_new_lock_line() {
    let output = imglock(
        &root(),
        &[
            "diff",
            "fixtures/diff/old.lock",
            "fixtures/diff/new.lock",
            "--format",
            "github",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    golden("ci/diff.github", &String::from_utf8_lossy(&output.stdout));
}
