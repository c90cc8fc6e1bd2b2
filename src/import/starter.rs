//! `imglock init`'s starter spec: the `[image]` table for a base image, and every other key
//! commented out with what it does, so a new user edits rather than looks up.

/// The base image of a spec when neither `--base` nor an imported file names one.
pub const DEFAULT_BASE: &str = "docker.io/library/python:3.12-slim-bookworm";

/// The base image of a new spec for R packages with no R version known.
pub const R_BASE: &str = "docker.io/rocker/r-ver:4.4.1";

/// The starter spec for an image called `name` on `base` (written as TOML strings): every
/// comment above the tables, so what is added later goes below them, and one empty layer.
pub fn starter_spec(name: &str, base: &str) -> String {
    let mut text = header(name, base);
    text.push_str("\n[[layer]]\nname = \"main\"                        # `imglock add PACKAGE` adds to the top layer\n");
    text
}

/// The starter's comments and `[image]` table, without a layer (an import brings its own).
pub fn header(name: &str, base: &str) -> String {
    format!(
        r#"# imglock spec: `imglock resolve` locks it into imglock.lock, `imglock emit` writes the
# Dockerfile; `imglock add PACKAGE` and `imglock import FILE` edit it, keeping comments.
#
# [image] may also say (defaults: read from the base image):
#   platform = "linux/amd64", r = "4.4.1", python = "3.12", python-prefix = "/opt/venv",
#   conda-prefix = "/opt/conda", entrypoint = ["tini", "--"], cmd = ["python3"]
# [repositories] (each ecosystem's, first listed wins; the defaults):
#   cran = ["https://cloud.r-project.org"], bioconductor = "auto",
#   pypi = ["https://pypi.org/simple"], conda = ["https://conda.anaconda.org/conda-forge"],
#   maven = ["https://repo1.maven.org/maven2"]
# [[layer]] (ordered: each is a layer of the image), for example:
#   name = "python"
#   pypi = ["numpy==1.26.4", "pandas>=2"]
#   steps = [{{ env = {{ PYTHONUNBUFFERED = "1" }} }}, {{ workdir = "/app" }}]
[image]
name = {name}
base = {base}
"#,
        name = quoted(name),
        base = quoted(base),
    )
}

/// `text` as a TOML basic string.
fn quoted(text: &str) -> String {
    toml_edit::Value::from(text).to_string()
}
