//! The README's CI recipes cannot rot: every imglock command line of its ```yaml blocks (the
//! GitHub Actions workflow and the GitLab CI jobs) is parsed by imglock itself, with `--help`
//! added so nothing runs: a subcommand, flag or format value that does not exist is refused by
//! clap (exit 2) before the help is printed.

use std::path::Path;

use super::{imglock, root};
use crate::support::stderr;

/// The ```yaml blocks of `markdown`, each as its lines.
fn yaml_blocks(markdown: &str) -> Vec<Vec<&str>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start()) {
            (None, fence) if fence.starts_with("```yaml") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => block.push(line),
            (None, _) => {}
        }
    }
    blocks
}

/// The arguments of each imglock command in a YAML block's line: a shell command (after a
/// `- ` or `run: `, `&&`, `||`, `;` or `|`) whose program is `imglock` or `…/imglock`, up to the
/// first redirection or the end of the command. Quotes are dropped; `$VARIABLES` stay as values.
fn imglock_commands(line: &str) -> Vec<Vec<String>> {
    let line = line.trim_start();
    let line = line.strip_prefix("- ").unwrap_or(line);
    let line = line.strip_prefix("run: ").unwrap_or(line);
    let words = line.split_whitespace().map(|w| w.trim_matches(['"', '\'']));
    let mut commands = Vec::new();
    let mut current: Option<Vec<String>> = None;
    let mut at_start = true;
    for word in words {
        if ["&&", "||", ";", "|", "then"].contains(&word) {
            commands.extend(current.take());
            at_start = true;
            continue;
        }
        if word.starts_with('>') || word.starts_with("2>") || word.starts_with('<') {
            commands.extend(current.take());
            at_start = false;
            continue;
        }
        match &mut current {
            Some(args) => args.push(word.to_string()),
            None if at_start && (word == "imglock" || word.ends_with("/imglock")) => {
                current = Some(Vec::new());
            }
            None => at_start = false,
        }
    }
    commands.extend(current);
    commands
}

/// Every imglock command of the README's YAML blocks.
fn readme_commands(readme: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(readme).unwrap();
    yaml_blocks(&text)
        .iter()
        .flatten()
        .flat_map(|line| imglock_commands(line))
        .collect()
}

/// Whether imglock parses `args` (with `--help`, so nothing runs); else what it said.
fn parses(args: &[String]) -> Result<(), String> {
    let mut with_help: Vec<&str> = args.iter().map(String::as_str).collect();
    with_help.push("--help");
    let output = imglock(&root(), &with_help);
    match output.status.code() {
        Some(0) => Ok(()),
        _ => Err(format!("`imglock {}`: {}", args.join(" "), stderr(&output))),
    }
}

#[test]
fn every_imglock_command_of_the_readmes_ci_recipes_parses() {
    let commands = readme_commands(&root().join("README.md"));
    for needed in ["check", "emit", "verify", "diff"] {
        assert!(
            commands
                .iter()
                .any(|c| c.first().map(String::as_str) == Some(needed)),
            "the README's CI recipes run no `imglock {needed}`: {commands:?}"
        );
    }
    for format in ["junit", "github", "markdown"] {
        assert!(
            commands.iter().any(|c| c.iter().any(|a| a == format)),
            "the README's CI recipes use no `--format {format}`: {commands:?}"
        );
    }
    let refused: Vec<String> = commands.iter().filter_map(|c| parses(c).err()).collect();
    assert!(refused.is_empty(), "{}", refused.join("\n"));
}

#[test]
fn a_flag_or_format_imglock_does_not_have_is_caught() {
    let yaml = "```yaml\nrun: |\n  imglock check --format github\n  \
                bin/imglock verify image.tar --format junit > report.xml || status=$?\n  \
                imglock verify image.tar --frmat junit\n  imglock diff --format junit\n\
                cargo install imglock\n```\n";
    let dir = tempfile::tempdir().unwrap();
    let readme = dir.path().join("README.md");
    std::fs::write(&readme, yaml).unwrap();
    let commands = readme_commands(&readme);
    let words = |c: &str| c.split(' ').map(String::from).collect::<Vec<_>>();
    assert_eq!(
        commands,
        [
            words("check --format github"),
            words("verify image.tar --format junit"),
            words("verify image.tar --frmat junit"),
            words("diff --format junit"),
        ]
    );
    let verdicts: Vec<bool> = commands.iter().map(|c| parses(c).is_ok()).collect();
    assert_eq!(verdicts, [true, true, false, false]);
}
