//! Hostile text in the spec and the lock never becomes a Dockerfile instruction: every value
//! either reaches the Dockerfile quoted, so the Dockerfile holds exactly the `FROM` and `RUN`
//! instructions imglock meant, or is refused with an error naming the file and the field.

use std::path::Path;

use imglock::emit::instructions;

use crate::support::{self, stderr};

/// Values an attacker (or a damaged file) might put in a field.
const HOSTILE: &[&str] = &[
    "x\nRUN touch /pwned",
    "x\r\nRUN touch /pwned",
    "x\\\nRUN touch /pwned",
    "$(touch /pwned)",
    "`touch /pwned`",
    "x' ; touch /pwned ; '",
    "x\" ; touch /pwned ; \"",
    "x y",
    "x\\",
    "x\u{0}y",
];

/// Emits the lock `text` in `work`: the Dockerfile, or the error.
fn emit(work: &Path, text: &str) -> Result<String, String> {
    let _ = std::fs::remove_dir_all(work.join("out"));
    std::fs::write(work.join("hostile.lock"), text).unwrap();
    let output = support::run_in(work, &["emit", "--lock", "hostile.lock", "--out", "out"]);
    if output.status.success() {
        Ok(std::fs::read_to_string(work.join("out/Dockerfile")).unwrap())
    } else {
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(!work.join("out/Dockerfile").exists());
        Err(stderr(&output))
    }
}

/// A TOML basic string holding `value`.
fn toml_string(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}

/// Lock fields to replace: the start of the line the value replaces, the field an error names,
/// and the key as the line spells it.
const FIELDS: &[(&str, &str, &str)] = &[
    ("name = \"mixed-analysis\"", "image.name", "name = "),
    (
        "base = \"docker.io/library/debian@",
        "image.base",
        "base = ",
    ),
    (
        "platform = \"linux/amd64\"",
        "image.platform",
        "platform = ",
    ),
    (
        "conda-prefix = \"/opt/conda\"",
        "conda-prefix",
        "conda-prefix = ",
    ),
    (
        "maven-target = \"/opt/jars\"",
        "maven-target",
        "maven-target = ",
    ),
    ("name = \"r-core\"", "layer", "name = "),
    ("name = \"corekit\"", "name", "name = "),
    ("version = \"1.1-2\"", "version", "version = "),
    ("repository = \"file:", "repository", "repository = "),
    ("url = \"file:", "url", "url = "),
    ("sha256 = \"8bc98d", "sha256", "sha256 = "),
    (
        "dependencies = [\"corekit\"]",
        "dependencies",
        "dependencies = ",
    ),
    (
        "system-requirements = \"zlib\"",
        "system-requirements",
        "system-requirements = ",
    ),
];

#[test]
fn hostile_lock_values_are_refused_or_quoted() {
    let work = support::resolved_mixed_example();
    let text = std::fs::read_to_string(work.path().join("imglock.lock")).unwrap();
    let intended = instructions(&emit(work.path(), &text).unwrap());
    assert!(intended.len() > 5, "{intended:?}");
    assert!(intended.iter().all(|i| i == "FROM" || i == "RUN"));
    assert_eq!(intended.iter().filter(|i| *i == "FROM").count(), 1);
    let lines: Vec<&str> = text.lines().collect();
    for (start, field, key) in FIELDS {
        let at = lines
            .iter()
            .position(|l| l.starts_with(start))
            .expect(start);
        for value in HOSTILE {
            let quoted = if *key == "dependencies = " {
                format!("[{}]", toml_string(value))
            } else {
                toml_string(value)
            };
            let mut changed = lines.clone();
            let line = format!("{key}{quoted}");
            changed[at] = &line;
            let mut hostile = changed.join("\n") + "\n";
            if *field == "name" {
                // Renamed wherever the lock names it, so the install plan stays the same.
                hostile = hostile.replace("\"corekit\"", &quoted);
            }
            match emit(work.path(), &hostile) {
                // A dependency that is not locked may regroup the R steps: the shape must hold.
                Ok(dockerfile) if *field == "dependencies" => {
                    let found = instructions(&dockerfile);
                    assert!(
                        found[0] == "FROM" && found[1..].iter().all(|i| i == "RUN"),
                        "{field} = {value:?} changed the instructions:\n{dockerfile}"
                    );
                }
                Ok(dockerfile) => assert_eq!(
                    instructions(&dockerfile),
                    intended,
                    "{field} = {value:?} changed the instructions:\n{dockerfile}"
                ),
                Err(message) => assert!(
                    message.contains("hostile.lock") && message.contains(field),
                    "{field} = {value:?}: the error names neither the lock nor the field: {message}"
                ),
            }
        }
    }
}

#[test]
fn a_hostile_base_image_in_the_spec_is_refused() {
    let digest = "0".repeat(64);
    for base in [
        format!("alpine:latest\nRUN touch /pwned\n#@sha256:{digest}"),
        format!("alpine:latest\\\nRUN touch /pwned @sha256:{digest}"),
        format!("alpine$(touch /pwned)@sha256:{digest}"),
        format!("alpine `id`@sha256:{digest}"),
        format!("al'pine@sha256:{digest}"),
        format!("al\"pine@sha256:{digest}"),
        format!("Alpine@sha256:{digest}"),
        format!("alpine:@sha256:{digest}"),
        format!("alpine@sha256:{digest}\n"),
        format!("//alpine@sha256:{digest}"),
        format!("docker.io/library/alpine@sha256:{digest}x"),
    ] {
        let text = format!(
            "[image]\nname = \"x\"\nbase = {}\n\n[[layer]]\nname = \"l\"\n",
            toml_string(&base)
        );
        let project = support::Project::new(&text);
        let output = project.run(&["resolve"]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{base:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("imglock.toml:3:") && stderr(&output).contains("image.base"),
            "{base:?}: {}",
            stderr(&output)
        );
        assert!(project.lock().is_none());
    }
    // References as registries write them still pass.
    for base in [
        format!("alpine@sha256:{digest}"),
        format!("localhost:5000/my_team/app-1.2:v1.0_rc-2@sha256:{digest}"),
        format!("registry.example.com/a/b__c/d.e@sha256:{digest}"),
        format!("[::1]:5000/app:latest@sha256:{digest}"),
    ] {
        let text = format!(
            "[image]\nname = \"x\"\nbase = {}\n\n[[layer]]\nname = \"l\"\n",
            toml_string(&base)
        );
        let project = support::Project::new(&text);
        let output = project.run(&["resolve"]);
        assert!(output.status.success(), "{base:?}: {}", stderr(&output));
        let dockerfile_from = format!("FROM {base}");
        let output = project.run(&["emit", "--out", "out"]);
        assert!(output.status.success(), "{base:?}: {}", stderr(&output));
        let dockerfile = std::fs::read_to_string(project.path("out/Dockerfile")).unwrap();
        assert!(dockerfile.contains(&dockerfile_from), "{dockerfile}");
        assert_eq!(instructions(&dockerfile), ["FROM"]);
    }
}

/// A package locked twice (in one layer, or in two) is refused, naming the lock and the package.
#[test]
fn a_package_locked_twice_is_refused() {
    let work = support::resolved_mixed_example();
    let text = std::fs::read_to_string(work.path().join("imglock.lock")).unwrap();
    let start = text
        .find("[[layer.package]]\necosystem = \"cran\"\nname = \"corekit\"")
        .unwrap();
    let end = start + text[start..].find("\n\n").unwrap() + 2;
    let table = &text[start..end];
    let same_layer = text.replacen(table, &format!("{table}{table}"), 1);
    let message = emit(work.path(), &same_layer).unwrap_err();
    assert!(
        message.contains("hostile.lock")
            && message.contains("cran package `corekit` is locked twice in layer `r-core`"),
        "{message}"
    );
    let python = text.find("[[layer]]\nname = \"python\"\n").unwrap();
    let mut two_layers = text.clone();
    two_layers.insert_str(
        python + "[[layer]]\nname = \"python\"\n".len(),
        &format!("\n{table}"),
    );
    let message = emit(work.path(), &two_layers).unwrap_err();
    assert!(
        message.contains("hostile.lock")
            && message.contains(
                "cran package `corekit` is locked in layer `r-core` and again in layer `python`"
            ),
        "{message}"
    );
}
