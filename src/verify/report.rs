//! The forms of a verification report: text for people, JUnit XML for CI dashboards (one test
//! case per locked package, classed by layer and ecosystem, and one per unexpected package) and
//! GitHub Actions annotations (`--format github`, one per finding, at the package's line of the
//! lock). JSON is the serialised report.

use std::fmt::Write;

use super::{Finding, FindingKind, VerifyReport};
use crate::annotations::{Annotation, Level};
use crate::lock::PackageLines;
use crate::package::Ecosystem;

/// The report as text.
pub fn text(report: &VerifyReport) -> String {
    let mut out = String::new();
    for warning in &report.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    let _ = writeln!(out, "{}", summary(report));
    for finding in &report.findings {
        let _ = writeln!(out, "  {}: {}", kind_words(finding.kind), finding.message);
    }
    out
}

/// The report's first line: whether the image matches, and how many packages or findings.
fn summary(report: &VerifyReport) -> String {
    if report.matches() {
        format!(
            "{} matches {}: {} locked packages verified",
            report.image.display(),
            report.lock.display(),
            report.checked.len()
        )
    } else {
        format!(
            "{} does not match {}: {} finding(s)",
            report.image.display(),
            report.lock.display(),
            report.findings.len()
        )
    }
}

/// What a kind of finding is called in text.
fn kind_words(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Missing => "missing",
        FindingKind::WrongVersion => "wrong version",
        FindingKind::WrongSource => "wrong source",
        FindingKind::Unexpected => "unexpected",
        FindingKind::ChangedFile => "changed files",
        FindingKind::WrongArchitecture => "wrong architecture",
        FindingKind::NotCached => "not the cached binary",
    }
}

/// One JUnit test case: a locked package, or a package the lock does not name.
struct Case<'a> {
    classname: String,
    name: String,
    ecosystem: Ecosystem,
    failures: Vec<&'a Finding>,
}

/// The test cases of `report`: each locked package with its findings, then each unexpected one.
fn cases(report: &VerifyReport) -> Vec<Case<'_>> {
    let locked = report.checked.iter().map(|package| Case {
        classname: format!("{}.{}", package.layer, package.ecosystem.as_str()),
        name: format!("{} {}", package.name, package.version),
        ecosystem: package.ecosystem,
        failures: report
            .findings
            .iter()
            .filter(|f| {
                f.kind != FindingKind::Unexpected
                    && (&f.layer, f.ecosystem, &f.name)
                        == (&package.layer, package.ecosystem, &package.name)
            })
            .collect(),
    });
    let unexpected = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Unexpected)
        .map(|finding| Case {
            classname: format!("unexpected.{}", finding.ecosystem.as_str()),
            name: format!(
                "{} {}",
                finding.name,
                finding.found.as_deref().unwrap_or_default()
            ),
            ecosystem: finding.ecosystem,
            failures: vec![finding],
        });
    locked.chain(unexpected).collect()
}

/// The seconds a test case of `ecosystem` is given: its share of the comparison of that
/// ecosystem folder's packages (which are compared together, not one by one).
fn case_seconds(report: &VerifyReport, cases: &[Case<'_>], ecosystem: Ecosystem) -> f64 {
    let (took, served) = report.timing.check_of(ecosystem);
    let sharing = cases
        .iter()
        .filter(|case| served.contains(&case.ecosystem))
        .count()
        .max(1);
    took.as_secs_f64() / sharing as f64
}

/// The report as JUnit XML (the Jenkins xUnit plugin's junit-10 dialect, which GitLab and the
/// GitHub test-report actions read): `time` in seconds on the suite (the whole verification)
/// and on each case.
pub fn junit(report: &VerifyReport) -> String {
    let cases = cases(report);
    let failures = cases.iter().filter(|c| !c.failures.is_empty()).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuite name=\"imglock verify {}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" \
         skipped=\"0\" time=\"{:.3}\">",
        escape(&report.image.display().to_string()),
        cases.len(),
        report.timing.total.as_secs_f64()
    );
    for case in &cases {
        let _ = write!(
            out,
            "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            escape(&case.classname),
            escape(&case.name),
            case_seconds(report, &cases, case.ecosystem)
        );
        if case.failures.is_empty() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        for failure in &case.failures {
            let message = escape(&failure.message);
            let _ = writeln!(
                out,
                "    <failure type=\"{}\" message=\"{message}\">{message}</failure>",
                kind_words(failure.kind)
            );
        }
        out.push_str("  </testcase>\n");
    }
    out.push_str("</testsuite>\n");
    out
}

/// The report as GitHub Actions workflow commands: an error per finding, on the lock's line of
/// its package when the lock has it (`lines`), a warning per skipped entry, then the summary.
pub fn github(report: &VerifyReport, lines: &PackageLines) -> String {
    let lock = report.lock.display().to_string();
    let mut out = String::new();
    for warning in &report.warnings {
        let annotation = Annotation::new(Level::Warning, "imglock verify", warning.as_str());
        let _ = writeln!(out, "{annotation}");
    }
    for finding in &report.findings {
        let line = lines.line(&finding.layer, finding.ecosystem, &finding.name);
        let title = format!(
            "imglock verify: {} {}",
            kind_words(finding.kind),
            finding.name
        );
        let annotation =
            Annotation::new(Level::Error, title, finding.message.as_str()).at(&lock, line);
        let _ = writeln!(out, "{annotation}");
    }
    let _ = writeln!(out, "{}", summary(report));
    out
}

/// `text` as an XML attribute value or text: markup escaped, and the control characters
/// XML 1.0 cannot hold (a hostile image's package name may have them) replaced by U+FFFD.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 => '\u{fffd}',
            c => c,
        })
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::verify::{CheckedPackage, Timing};

    fn package(layer: &str, ecosystem: Ecosystem, name: &str) -> CheckedPackage {
        CheckedPackage {
            layer: layer.into(),
            ecosystem,
            name: name.into(),
            version: "1.0".into(),
        }
    }

    /// A report with a fixed clock: the suite took 1.5 s, R's comparison 9 ms (three cases),
    /// Python's 2 ms (one case).
    fn report() -> VerifyReport {
        VerifyReport {
            image: PathBuf::from("image.tar"),
            lock: PathBuf::from("imglock.lock"),
            checked: vec![
                package("r", Ecosystem::Cran, "a"),
                package("r", Ecosystem::Bioconductor, "b"),
                package("py", Ecosystem::Pypi, "a"),
            ],
            findings: vec![Finding {
                kind: FindingKind::Unexpected,
                layer: String::new(),
                ecosystem: Ecosystem::Cran,
                name: "x<\u{1}".into(),
                expected: None,
                found: Some("2.0".into()),
                message: "x is \"there\" & not locked".into(),
            }],
            warnings: Vec::new(),
            recorded: None,
            timing: Timing {
                total: Duration::from_millis(1500),
                checks: vec![
                    (
                        &[Ecosystem::Cran, Ecosystem::Bioconductor, Ecosystem::Github],
                        Duration::from_millis(9),
                    ),
                    (&[Ecosystem::Pypi], Duration::from_millis(2)),
                ],
            },
        }
    }

    #[test]
    fn each_case_gets_its_share_of_its_ecosystems_comparison_and_the_suite_the_whole() {
        let xml = junit(&report());
        let times: Vec<&str> = xml
            .split(" time=\"")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').unwrap()])
            .collect();
        assert_eq!(
            times,
            ["1.500", "0.003", "0.003", "0.002", "0.003"],
            "{xml}"
        );
        assert!(xml.contains(r#"failures="1" errors="0""#), "{xml}");
        assert!(
            xml.contains("name=\"x&lt;\u{fffd} 2.0\""),
            "markup escaped and control characters replaced: {xml}"
        );
        assert!(xml.contains("message=\"x is &quot;there&quot; &amp; not locked\""));
    }
}
