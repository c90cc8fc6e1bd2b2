//! The forms of a verification report: text for people and JUnit XML for CI dashboards (one
//! test case per locked package, and one per unexpected package). JSON is the serialised report.

use std::fmt::Write;

use super::{FindingKind, VerifyReport};

/// The report as text.
pub fn text(report: &VerifyReport) -> String {
    let mut out = String::new();
    for warning in &report.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    if report.matches() {
        let _ = writeln!(
            out,
            "{} matches {}: {} locked packages verified",
            report.image.display(),
            report.lock.display(),
            report.checked.len()
        );
        return out;
    }
    let _ = writeln!(
        out,
        "{} does not match {}: {} finding(s)",
        report.image.display(),
        report.lock.display(),
        report.findings.len()
    );
    for finding in &report.findings {
        let kind = match finding.kind {
            FindingKind::Missing => "missing",
            FindingKind::WrongVersion => "wrong version",
            FindingKind::WrongSource => "wrong source",
            FindingKind::Unexpected => "unexpected",
            FindingKind::ChangedFile => "changed files",
            FindingKind::WrongArchitecture => "wrong architecture",
            FindingKind::NotCached => "not the cached binary",
        };
        let _ = writeln!(out, "  {kind}: {}", finding.message);
    }
    out
}

/// The report as JUnit XML.
pub fn junit(report: &VerifyReport) -> String {
    let unexpected: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Unexpected)
        .collect();
    let failures = report
        .checked
        .iter()
        .filter(|p| {
            report
                .findings
                .iter()
                .any(|f| f.name == p.name && f.kind != FindingKind::Unexpected)
        })
        .count()
        + unexpected.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuite name=\"imglock verify {}\" tests=\"{}\" failures=\"{failures}\">",
        escape(&report.image.display().to_string()),
        report.checked.len() + unexpected.len()
    );
    for package in &report.checked {
        let _ = write!(
            out,
            "  <testcase classname=\"{}.{}\" name=\"{} {}\"",
            escape(&package.layer),
            escape(package.ecosystem.as_str()),
            escape(&package.name),
            escape(&package.version)
        );
        let problems: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.name == package.name && f.kind != FindingKind::Unexpected)
            .collect();
        if problems.is_empty() {
            out.push_str("/>\n");
        } else {
            out.push_str(">\n");
            for problem in problems {
                let _ = writeln!(
                    out,
                    "    <failure message=\"{}\"/>",
                    escape(&problem.message)
                );
            }
            out.push_str("  </testcase>\n");
        }
    }
    for finding in unexpected {
        let _ = writeln!(
            out,
            "  <testcase classname=\"unexpected.{}\" name=\"{} {}\">\n    <failure message=\"{}\"/>\n  </testcase>",
            escape(finding.ecosystem.as_str()),
            escape(&finding.name),
            escape(finding.found.as_deref().unwrap_or_default()),
            escape(&finding.message)
        );
    }
    out.push_str("</testsuite>\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
