//! The human forms of a lock diff: plain text (coloured on a terminal), Markdown for a pull
//! request comment, and GitHub Actions annotations on the new lock's lines. The JSON form is the
//! serialised [`LockDiff`].

use std::fmt::Write;

use super::{CacheImpact, Change, ChangeKind, LockDiff, StepChange};
use crate::annotations::{Annotation, Level};
use crate::lock::PackageLines;

/// More rows than this in a layer's Markdown table are folded into a `<details>` section.
const FOLD_AFTER: usize = 10;

/// The diff as plain text; with `colour`, ANSI colours for additions, removals and warnings.
pub fn text(diff: &LockDiff, colour: bool) -> String {
    let paint = |code: &str, text: String| {
        if colour {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text
        }
    };
    let mut out = String::new();
    if diff.is_empty() {
        let _ = writeln!(out, "No differences between {} and {}.", diff.old, diff.new);
        return out;
    }
    let _ = writeln!(out, "{} → {}", diff.old, diff.new);
    for line in &diff.image {
        let _ = writeln!(out, "{}", paint("33", format!("image: {line}")));
    }
    for (layer, changes) in by_layer(&diff.changes) {
        let _ = writeln!(out, "\nlayer `{layer}`:");
        for change in changes {
            let (sign, code) = sign(change.kind);
            let _ = writeln!(
                out,
                "  {}",
                paint(code, format!("{sign} {}", describe(change)))
            );
        }
    }
    for (layer, steps) in steps_by_layer(diff) {
        let _ = writeln!(out, "\nlayer `{layer}` custom steps:");
        for step in steps {
            let _ = writeln!(out, "  {}", paint("35", format!("~ {}", step.describe())));
        }
    }
    if !diff.cache.is_empty() {
        let _ = writeln!(out, "\ncache impact:");
        for impact in &diff.cache {
            let _ = writeln!(out, "  {}", cache_line(impact));
        }
    }
    for warning in &diff.warnings {
        let _ = writeln!(out, "{}", paint("33;1", format!("warning: {warning}")));
    }
    out
}

/// The image, package and custom step changes of `diff` in [`text`]'s words, a line each with
/// its layer, uncoloured: what `imglock resolve` says of the lock it changes.
pub(super) fn change_lines(diff: &LockDiff) -> Vec<String> {
    let image = diff.image.iter().map(|line| format!("image: {line}"));
    let packages = diff.changes.iter().map(|change| {
        format!(
            "layer `{}`: {} {}",
            change.layer,
            sign(change.kind).0,
            describe(change)
        )
    });
    let steps = diff
        .steps
        .iter()
        .map(|step| format!("layer `{}`: ~ {}", step.layer, step.describe()));
    image.chain(packages).chain(steps).collect()
}

/// The diff as GitHub Actions workflow commands: a notice per image change, package change (on
/// its line of the new lock, found in `new_lines`, when it is there) and custom step change, one
/// for the cache impact, and a warning per warning.
pub fn github(diff: &LockDiff, new_lines: &PackageLines) -> String {
    if diff.is_empty() {
        return format!("No differences between {} and {}.\n", diff.old, diff.new);
    }
    let notice = |title: String, message: String| {
        Annotation::new(Level::Notice, format!("imglock diff: {title}"), message)
            .at(&diff.new, None)
    };
    let mut annotations: Vec<Annotation> = Vec::new();
    for line in &diff.image {
        annotations.push(notice("image".into(), line.clone()));
    }
    for change in &diff.changes {
        let line = Some(change)
            .filter(|c| !c.build_only)
            .and_then(|c| new_lines.line(&c.layer, c.ecosystem, &c.name));
        let title = format!(
            "{} {}",
            kind_word(change.kind).trim_matches('*'),
            change.name
        );
        let message = format!("layer `{}`: {}", change.layer, describe(change));
        annotations.push(Annotation {
            line,
            ..notice(title, message)
        });
    }
    for step in &diff.steps {
        let message = format!("layer `{}`: {}", step.layer, step.describe());
        annotations.push(notice("custom step".into(), message));
    }
    if !diff.cache.is_empty() {
        let lines: Vec<String> = diff.cache.iter().map(cache_line).collect();
        annotations.push(notice("Docker cache impact".into(), lines.join("\n")));
    }
    for warning in &diff.warnings {
        let warning = Annotation::new(Level::Warning, "imglock diff", warning.as_str());
        annotations.push(warning.at(&diff.new, None));
    }
    annotations.iter().map(|a| format!("{a}\n")).collect()
}

/// The sign a change is shown with, and its ANSI colour.
fn sign(kind: ChangeKind) -> (&'static str, &'static str) {
    match kind {
        ChangeKind::Added => ("+", "32"),
        ChangeKind::Removed => ("-", "31"),
        ChangeKind::Upgraded => ("↑", "36"),
        ChangeKind::Downgraded => ("↓", "33"),
        ChangeKind::ArtifactChanged => ("!", "31;1"),
        _ => ("~", "35"),
    }
}

/// The diff as Markdown: warnings first, then a table per layer and the cache impact.
pub fn markdown(diff: &LockDiff) -> String {
    let mut out = String::from("## imglock lock diff\n\n");
    if diff.is_empty() {
        let _ = writeln!(
            out,
            "No differences between `{}` and `{}`.",
            diff.old, diff.new
        );
        return out;
    }
    for warning in &diff.warnings {
        let _ = writeln!(out, "> **Warning:** {}\n", escape(warning));
    }
    for line in &diff.image {
        let _ = writeln!(out, "- Image: {}\n", escape(line));
    }
    for (layer, changes) in by_layer(&diff.changes) {
        let _ = writeln!(out, "### Layer `{layer}`\n");
        let fold = changes.len() > FOLD_AFTER;
        if fold {
            let _ = writeln!(
                out,
                "<details><summary>{} changes</summary>\n",
                changes.len()
            );
        }
        out.push_str(
            "| Change | Package | Ecosystem | Old | New | Note |\n|---|---|---|---|---|---|\n",
        );
        for change in changes {
            let _ = writeln!(
                out,
                "| {} | `{}`{} | {} | {} | {} | {} |",
                kind_word(change.kind),
                change.name,
                if change.build_only {
                    " (build only)".to_string()
                } else if !change.binaries.is_empty() {
                    format!(" (source of `{}`)", change.binaries.join("`, `"))
                } else {
                    String::new()
                },
                change.ecosystem,
                change.old_version.as_deref().unwrap_or(""),
                change.new_version.as_deref().unwrap_or(""),
                escape(&note(change))
            );
        }
        if fold {
            out.push_str("\n</details>\n");
        }
        out.push('\n');
    }
    for (layer, steps) in steps_by_layer(diff) {
        let _ = writeln!(out, "### Layer `{layer}`: custom steps\n");
        for step in steps {
            let _ = writeln!(out, "- {}", escape(&step.describe()));
        }
        out.push('\n');
    }
    if !diff.cache.is_empty() {
        out.push_str("### Docker cache impact\n\n");
        for impact in &diff.cache {
            let _ = writeln!(out, "- {}", cache_line(impact));
        }
    }
    out
}

/// The custom step changes, grouped by layer in their order.
fn steps_by_layer(diff: &LockDiff) -> Vec<(&str, Vec<&StepChange>)> {
    grouped(&diff.steps, |step| &step.layer)
}

fn by_layer(changes: &[Change]) -> Vec<(&str, Vec<&Change>)> {
    grouped(changes, |change| &change.layer)
}

/// `items` grouped by their layer, layers in the order they first appear.
fn grouped<'a, T>(items: &'a [T], layer: impl Fn(&'a T) -> &'a str) -> Vec<(&'a str, Vec<&'a T>)> {
    let mut layers: Vec<(&str, Vec<&T>)> = Vec::new();
    for item in items {
        match layers.iter_mut().find(|(name, _)| *name == layer(item)) {
            Some((_, list)) => list.push(item),
            None => layers.push((layer(item), vec![item])),
        }
    }
    layers
}

fn kind_word(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "added",
        ChangeKind::Removed => "removed",
        ChangeKind::Upgraded => "upgraded",
        ChangeKind::Downgraded => "**downgraded**",
        ChangeKind::Changed => "changed",
        ChangeKind::Rebuilt => "rebuilt",
        ChangeKind::Moved => "moved",
        ChangeKind::SourceChanged => "source changed",
        ChangeKind::ArtifactChanged => "**artifact changed**",
        ChangeKind::BuildRequiresChanged => "build requirements changed",
    }
}

/// What a reader needs besides the versions: the level, where from, which build, which bytes;
/// and a security update's suite.
fn note(change: &Change) -> String {
    let note = kind_note(change);
    match (&change.security_suite, note.is_empty()) {
        (None, _) => note,
        (Some(suite), true) => format!("security update from {suite}"),
        (Some(suite), false) => format!("{note}; security update from {suite}"),
    }
}

fn kind_note(change: &Change) -> String {
    match change.kind {
        ChangeKind::Upgraded | ChangeKind::Downgraded => change
            .level
            .map(|level| format!("{level:?}").to_lowercase())
            .unwrap_or_default(),
        ChangeKind::Moved => format!(
            "from layer `{}`",
            change.old_layer.as_deref().unwrap_or_default()
        ),
        ChangeKind::SourceChanged => format!(
            "{} → {}",
            change.old_url.as_deref().unwrap_or_default(),
            change.new_url.as_deref().unwrap_or_default()
        ),
        ChangeKind::Rebuilt => format!(
            "build {} → {}",
            change.old_build.as_deref().unwrap_or_default(),
            change.new_build.as_deref().unwrap_or_default()
        ),
        ChangeKind::ArtifactChanged => format!(
            "sha256 {} → {}",
            change.old_sha256.as_deref().unwrap_or_default(),
            change.new_sha256.as_deref().unwrap_or_default()
        ),
        ChangeKind::BuildRequiresChanged => format!(
            "{} → {}",
            pins(&change.old_build_requires),
            pins(&change.new_build_requires)
        ),
        _ => String::new(),
    }
}

/// Build pins as a reviewer reads them: `setuptools==60.9.3, wheel==0.37.1`, or `none`.
fn pins(pins: &Option<Vec<String>>) -> String {
    match pins.as_deref() {
        Some([]) | None => "none".into(),
        Some(pins) => pins.join(", "),
    }
}

/// The package as a change names it: a build package is marked as one, a Debian source package
/// lists its binaries.
fn package_name(change: &Change) -> String {
    if change.build_only {
        format!("{} (build only)", change.name)
    } else {
        change.subject()
    }
}

fn describe(change: &Change) -> String {
    let version = |v: &Option<String>| v.clone().unwrap_or_default();
    let note = note(change);
    let name = package_name(change);
    let (base, note) = match change.kind {
        ChangeKind::Added => (format!("{} {}", name, version(&change.new_version)), note),
        ChangeKind::Removed => (format!("{} {}", name, version(&change.old_version)), note),
        ChangeKind::Upgraded | ChangeKind::Downgraded | ChangeKind::Changed => (
            format!(
                "{} {} → {}",
                name,
                version(&change.old_version),
                version(&change.new_version)
            ),
            note,
        ),
        // The build change is the whole story: `zlib 1.2.13 build h166bdaf_4 → h166bdaf_5`.
        ChangeKind::Rebuilt => (
            format!("{} {} {note}", name, version(&change.new_version)),
            String::new(),
        ),
        ChangeKind::Moved
        | ChangeKind::SourceChanged
        | ChangeKind::ArtifactChanged
        | ChangeKind::BuildRequiresChanged => (
            format!(
                "{} {} {}",
                name,
                version(&change.new_version),
                kind_word(change.kind).trim_matches('*')
            ),
            note,
        ),
    };
    if note.is_empty() {
        format!("{base} ({})", change.ecosystem)
    } else {
        format!("{base} ({}; {note})", change.ecosystem)
    }
}

fn cache_line(impact: &CacheImpact) -> String {
    match impact.first_rebuilt_step {
        None => format!(
            "layer `{}`: all {} steps stay cached",
            impact.layer, impact.steps
        ),
        Some(first) if first == impact.steps => format!(
            "layer `{}`: step {first} of {} rebuilds, {} packages",
            impact.layer, impact.steps, impact.rebuilt_packages
        ),
        Some(first) => format!(
            "layer `{}`: steps {first}–{} of {} rebuild, {} packages",
            impact.layer, impact.steps, impact.steps, impact.rebuilt_packages
        ),
    }
}

/// Keeps table cells intact.
fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}
