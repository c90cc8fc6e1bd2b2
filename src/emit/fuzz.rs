//! The Dockerfile fuzz target: locks of generated values (the lock target's [`Sketch`]) are
//! either refused with an error, or emitted as a Dockerfile with exactly the instructions imglock
//! meant — `FROM`, then one `RUN` per step, read back with [`instructions`] — and whose shell
//! has the same structure (operators, expansions, comments outside quotes) as the Dockerfile of
//! the same lock with every value replaced by a plain word: no value is more than a word.

use std::collections::HashMap;
use std::path::Path;

use super::{DockerfileOptions, instructions, render};
use crate::fuzz::{self, Outcome};
use crate::lock::Lock;
use crate::lock::fuzz::{Sketch, sketch};

/// The steps of the Dockerfile of `text`, or `None` when the lock is refused (by the reader or
/// by emit): an error, as the user would see it, is a correct answer to a hostile value.
fn steps(text: &str) -> Result<Option<Vec<String>>, String> {
    let path = Path::new("imglock.lock");
    let Ok(lock) = Lock::parse(path, text) else {
        return Ok(None);
    };
    let Ok(dockerfile) = render(&lock, path, text.as_bytes(), &DockerfileOptions::default()) else {
        return Ok(None);
    };
    let found = instructions(&dockerfile.text());
    let meant: Vec<&str> = std::iter::once("FROM")
        .chain(dockerfile.steps.iter().skip(1).map(|_| "RUN"))
        .collect();
    if found != meant {
        return Err(format!(
            "the Dockerfile has the instructions {found:?}, not {meant:?}:\n{}",
            dockerfile.text()
        ));
    }
    Ok(Some(
        dockerfile.steps.iter().map(|s| s.text.clone()).collect(),
    ))
}

/// The shell structure of a step: every character outside quotes that the shell treats
/// specially, and every expansion inside double quotes; comment lines of the Dockerfile are
/// skipped, words and quoted text dropped.
fn structure(step: &str) -> String {
    let code: Vec<&str> = step
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .collect();
    let code = code.join("\n");
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\\') | (Some('"'), '\\') => {
                chars.next();
            }
            (None, '\'' | '"') => quote = Some(c),
            (None, ';' | '&' | '|' | '<' | '>' | '(' | ')' | '`' | '$' | '#' | '*' | '?' | '~') => {
                out.push(c)
            }
            (Some('"'), '$' | '`') => out.push(c),
            (Some(open), c) if c == open => quote = None,
            _ => {}
        }
    }
    out
}

/// `sketch` with every name, version, URL and path replaced by a plain word of the same kind (a
/// `file:` URL stays one). The words keep the values' equality and order (`w000003` for the
/// fourth value in sorted order): the R plan breaks a dependency cycle, which a lock from outside
/// may hold, by name. The base image, platform, digests and R's system requirements (looked up
/// in a table, never written) are kept.
fn tamed(sketch: &Sketch) -> Sketch {
    let mut values = std::collections::BTreeSet::new();
    let _ = rewrite(sketch, &mut |value| {
        values.insert(value.to_string());
        value.to_string()
    });
    let words: HashMap<String, String> = values
        .into_iter()
        .enumerate()
        .map(|(i, value)| (value, format!("w{i:06}")))
        .collect();
    rewrite(sketch, &mut |value| words[value].clone())
}

/// `sketch` with each of its names, versions, URLs' paths and paths in the image replaced by
/// what `word` makes of it.
fn rewrite(sketch: &Sketch, word: &mut dyn FnMut(&str) -> String) -> Sketch {
    let mut tamed = sketch.clone();
    tamed.name = word(&sketch.name);
    tamed.r_library = sketch.r_library.as_ref().map(|p| format!("/{}", word(p)));
    tamed.conda_prefix = format!("/{}", word(&sketch.conda_prefix));
    for layer in &mut tamed.layers {
        layer.name = word(&layer.name);
        layer.maven_target = format!("/{}", word(&layer.maven_target));
        for package in &mut layer.packages {
            package.name = word(&package.name);
            package.version = word(&package.version);
            package.url = match package.url.strip_prefix("file:") {
                Some(path) => format!("file:{}", word(path)),
                None => format!("https://repo.example/{}", word(&package.url)),
            };
            for dependency in &mut package.dependencies {
                if let Err(text) = dependency {
                    *text = word(text);
                }
            }
            if !package.ecosystem.is_r() {
                package.detail = word(&package.detail);
            }
        }
    }
    tamed
}

/// A lock of generated values is refused, or emitted with the instructions and shell structure
/// of the same lock with plain values.
fn property(sketch: &Sketch) -> Outcome {
    let Some(hostile) = steps(&sketch.text())? else {
        return Ok(());
    };
    let Some(plain) = steps(&tamed(sketch).text())? else {
        return Err("the lock with plain values is refused, the hostile one not".into());
    };
    if hostile.len() != plain.len() {
        return Err(format!(
            "{} steps, but {} with plain values:\n{}",
            hostile.len(),
            plain.len(),
            hostile.concat()
        ));
    }
    for (hostile, plain) in hostile.iter().zip(&plain) {
        if structure(hostile) != structure(plain) {
            return Err(format!(
                "a value changed the shell of a step:\n{hostile}\nwith plain values:\n{plain}"
            ));
        }
    }
    Ok(())
}

/// A regression input: a lock's text.
fn text_property(input: &[u8]) -> Outcome {
    steps(&String::from_utf8_lossy(input)).map(|_| ())
}

#[test]
fn fuzz_dockerfile() {
    fuzz::run(
        "dockerfile",
        sketch(),
        |sketch| sketch.text().into_bytes(),
        property,
    );
}

#[test]
fn fuzz_regressions_replay() {
    fuzz::replay("dockerfile", text_property);
}

#[test]
fn the_structure_sees_what_a_value_could_add() {
    assert_eq!(structure("RUN a 'x; y' \"$z\" && b"), "$&&");
    assert_eq!(structure("# a; b\nRUN a \\; b"), "");
    assert_ne!(structure("RUN a x"), structure("RUN a x$(id)"));
}
