//! Bad specs get errors that name the file, line and column and say what to do.

use crate::support::{Project, spec, stderr};

fn resolve_error(text: &str) -> String {
    let project = Project::new(text);
    let output = project.run(&["resolve"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "expected an error for:\n{text}"
    );
    assert!(
        project.lock().is_none(),
        "no lock is written for a bad spec"
    );
    stderr(&output)
}

const REPOS: &str = "cran = [\"https://cran.example.invalid\"]";

#[test]
fn a_base_image_with_a_malformed_digest_is_refused_with_the_reason() {
    let text = "[image]\nname = \"x\"\nbase = \"rocker/r-ver:4.2.2@sha256:abc\"\nr = \"4.2.2\"\n\n[[layer]]\nname = \"r\"\n";
    let message = resolve_error(text);
    assert!(
        message.contains(
            "imglock.toml:3:8: image.base `rocker/r-ver:4.2.2@sha256:abc` has a malformed digest"
        ),
        "{message}"
    );
}

#[test]
fn unknown_keys_are_errors_with_line_and_column() {
    let text = spec(REPOS, "[[layer]]\nname = \"r\"\ncrna = [\"x\"]");
    let message = resolve_error(&text);
    assert!(message.contains("imglock.toml:11:1"), "{message}");
    assert!(message.contains("unknown field `crna`"), "{message}");
}

#[test]
fn a_malformed_github_entry_names_its_place() {
    let text = spec(
        REPOS,
        "[[layer]]\nname = \"gh\"\ngithub = [\"tidyverse/ggplot2@v3.4.0\", \"tidyverse/ggplot2@$(id)\"]",
    );
    let message = resolve_error(&text);
    assert!(
        message.contains("imglock.toml:11:39: in layer `gh`: `tidyverse/ggplot2@$(id)` is not a GitHub package reference: the ref (after `@`)"),
        "{message}"
    );
    let text = spec(
        &format!("{REPOS}\ngithub = \"ftp://ghe.example\""),
        "[[layer]]\nname = \"gh\"\ngithub = [\"tidyverse/ggplot2\"]",
    );
    assert!(
        resolve_error(&text)
            .contains("repositories.github `ftp://ghe.example` is not a GitHub API URL"),
        "{}",
        resolve_error(&text)
    );
}

#[test]
fn a_malformed_requirement_names_its_place() {
    let text = spec(
        REPOS,
        "[[layer]]\nname = \"r\"\ncran = [\"ggplot2\", \"scales (>= 1.0\"]",
    );
    let message = resolve_error(&text);
    assert!(
        message.contains("imglock.toml:11:20: in layer `r`: `scales (>= 1.0` has an unclosed `(`"),
        "{message}"
    );
}

#[test]
fn layers_need_unique_names() {
    // (R layers on a base without R need `image.r`: tests/it/base_spec.rs.)
    let text = spec(REPOS, "[[layer]]\nname = \"r\"\n\n[[layer]]\nname = \"r\"");
    assert!(resolve_error(&text).contains("two layers are named `r`"));
    let text = spec(REPOS, "");
    assert!(resolve_error(&text).contains("the spec has no `[[layer]]`"));
}

#[test]
fn a_bioconductor_release_must_match_the_image_r() {
    let text = spec(
        &format!("{REPOS}\nbioconductor = \"3.18\""),
        "[[layer]]\nname = \"r\"\nbioconductor = [\"DESeq2\"]",
    );
    let message = resolve_error(&text);
    assert!(
        message.contains("Bioconductor 3.18 is built for R 4.3, but the image has R 4.2.2"),
        "{message}"
    );
}

#[test]
fn bad_repositories_and_platforms_are_explained() {
    let text = spec(
        "cran = [\"cran.r-project.org\"]",
        "[[layer]]\nname = \"r\"\ncran = [\"x\"]",
    );
    assert!(resolve_error(&text).contains("is not a valid URL"));
    let text = spec(REPOS, "[[layer]]\nname = \"r\"").replace(
        "r = \"4.2.2\"",
        "r = \"4.2.2\"\nplatform = \"windows/amd64\"",
    );
    assert!(resolve_error(&text).contains("is not a Linux image platform"));
}

#[test]
fn a_python_environment_is_an_absolute_path_and_a_known_kind_of_virtualenv() {
    let with = |keys: &str| {
        spec(REPOS, "[[layer]]\nname = \"py\"\n").replacen(
            "r = \"4.2.2\"\n",
            &format!("r = \"4.2.2\"\n{keys}\n"),
            1,
        )
    };
    for (keys, expected) in [
        (
            "python-prefix = \"databricks/python3\"",
            "imglock.toml:5:17: image.python-prefix: `databricks/python3` must be an absolute path; give an absolute path in the image, like `/databricks/python3`",
        ),
        (
            "python-venv = \"isolated\"",
            "imglock.toml:5:15: image.python-venv needs `python-prefix`",
        ),
        (
            "python-prefix = \"/venv\"\npython-venv = \"conda\"",
            "imglock.toml:6:15: image.python-venv `conda` must be `system-site-packages`",
        ),
    ] {
        let message = resolve_error(&with(keys));
        assert!(message.contains(expected), "{expected}\nnot in: {message}");
    }
}

#[test]
fn a_value_nested_thousands_deep_is_refused_at_its_place_not_crashing() {
    let deep = format!("{}1{}", "[{b = ".repeat(5_000), "}]".repeat(5_000));
    let text = spec(REPOS, &format!("[[layer]]\nname = \"r\"\nx = {deep}"));
    let line = text.lines().position(|l| l.starts_with("x = ")).unwrap() + 1;
    let message = resolve_error(&text);
    assert!(
        message.contains(&format!(
            "imglock.toml:{line}:197: arrays and inline tables are nested more than 64 levels deep here"
        )),
        "{message}"
    );
}
