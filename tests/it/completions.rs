//! `imglock completions SHELL` and `imglock man`: the script bash runs completes imglock's own
//! commands and options, and `man` renders the pages, both read from the parser's definitions.

use std::process::Command;

use crate::support::stderr;

/// What bash's completion of `words` (the last one being completed) offers, with the script
/// `imglock completions bash` prints loaded.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let script = Command::new(env!("CARGO_BIN_EXE_imglock"))
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(script.status.success(), "{}", stderr(&script));
    let words_array: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "{}\nCOMP_WORDS=({})\nCOMP_CWORD={}\n_imglock imglock '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        String::from_utf8(script.stdout).unwrap(),
        words_array.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let output = Command::new("bash")
        .args(["--norc", "-c", &program])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_commands_and_their_options() {
    assert_eq!(bash_completes(&["imglock", "res"]), ["resolve"]);
    let options = bash_completes(&["imglock", "resolve", "--upgrade-"]);
    assert_eq!(options, ["--upgrade-package"]);
    let shells = bash_completes(&["imglock", "completions", "z"]);
    assert_eq!(shells, ["zsh"]);
}

#[test]
fn every_shell_gets_a_script() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = Command::new(env!("CARGO_BIN_EXE_imglock"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.contains("resolve"), "{shell}: {script}");
    }
    let output = Command::new(env!("CARGO_BIN_EXE_imglock"))
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

/// `imglock man` and `imglock man COMMAND` print manual pages `man` renders, the top page naming
/// every command's page and each command's page its options; an unknown command is refused.
#[test]
fn man_pages_render_for_imglock_and_each_command() {
    let page = |args: &[&str]| {
        let roff = Command::new(env!("CARGO_BIN_EXE_imglock"))
            .args(args)
            .output()
            .unwrap();
        assert!(roff.status.success(), "{}", stderr(&roff));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("page.1");
        std::fs::write(&file, roff.stdout).unwrap();
        let rendered = Command::new("man")
            .arg("-l")
            .arg(&file)
            .env("MANWIDTH", "200")
            .env("MANPAGER", "cat")
            .output()
            .unwrap();
        assert!(rendered.status.success(), "{}", stderr(&rendered));
        String::from_utf8(rendered.stdout).unwrap()
    };
    let top = page(&["man"]);
    for command in [
        "resolve",
        "emit",
        "diff",
        "verify",
        "check",
        "cache",
        "completions",
    ] {
        assert!(top.contains(&format!("imglock-{command}(1)")), "{top}");
    }
    let resolve = page(&["man", "resolve"]);
    assert!(
        resolve.contains("imglock-resolve - Resolve the spec"),
        "{resolve}"
    );
    assert!(resolve.contains("--upgrade-package"), "{resolve}");
    let output = Command::new(env!("CARGO_BIN_EXE_imglock"))
        .args(["man", "resolv"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("did you mean `resolve`?"),
        "{}",
        stderr(&output)
    );
}
