//! Fuzz targets of the spec: mutated example specs, and specs written from generated values
//! (hostile base images, layer names, paths and requirements among plain ones). Reading never
//! panics; an error is located inside the text; an accepted spec holds only values the
//! Dockerfile can take (a base that is an image reference, plain layer names, absolute clean
//! paths) and has a hash.

use std::fmt::Write;
use std::path::Path;

use proptest::collection::vec;
use proptest::prelude::*;

use super::Spec;
use crate::dockerfile_values::{check_image_path, check_layer_name};
use crate::fuzz::{self, Outcome, seeds};
use crate::lock::fields::{list, quote};
use crate::lock::fuzz::value;
use crate::package::Ecosystem;

/// Tokens of the spec format.
const DICTIONARY: &[&str] = &[
    "[image]\n",
    "[repositories]\n",
    "[[layer]]\n",
    "name = ",
    "base = ",
    "platform = ",
    "@sha256:",
    " = [",
    "\"",
    "'",
    "{ coordinate = ",
    "exclude = [",
    "]",
    "}",
    ",",
    "\n",
    "#",
    "file:",
    "steps = [",
    "{ run = ",
    "{ env = { A = ",
    "{ workdir = ",
    "{ copy = ",
    ", to = ",
    "{ user = ",
    "entrypoint = [",
    "cmd = [",
];

fn spec_seeds() -> Vec<Vec<u8>> {
    let mut seeds = seeds::read("examples", |name| name.ends_with(".toml"), 16);
    seeds.extend(seeds::read(
        "tests/spec-hash",
        |name| name.ends_with(".toml"),
        16,
    ));
    seeds
}

/// Reading spec `text` never panics, and what it says holds.
fn property(text: &str) -> Outcome {
    match Spec::parse(Path::new("imglock.toml"), text) {
        Ok(spec) => accepted(&spec),
        Err(error) => {
            let lines = text.split('\n').count();
            match error.location {
                Some(at) if at.line == 0 || at.line > lines || at.column == 0 => {
                    Err(format!("the error is located outside the text: {error}"))
                }
                _ => Ok(()),
            }
        }
    }
}

/// An accepted spec's values reach a Dockerfile safely, and it hashes.
fn accepted(spec: &Spec) -> Outcome {
    crate::base::BaseReference::parse(&spec.image.base)?;
    let paths = [&spec.image.r.library, &spec.image.conda.prefix]
        .into_iter()
        .chain(spec.layers.iter().map(|layer| &layer.maven.target));
    for path in paths.flatten() {
        check_image_path(path)?;
    }
    for layer in &spec.layers {
        check_layer_name(&layer.name)?;
        for step in &layer.steps {
            step.check(crate::custom_steps::check_spec_source)?;
        }
    }
    spec.image.command.check()?;
    let _ = spec.hash();
    Ok(())
}

fn bytes_property(input: &[u8]) -> Outcome {
    property(&String::from_utf8_lossy(input))
}

/// The values of a generated spec, written into the template of [`text`].
#[derive(Debug, Clone)]
struct Values {
    base: String,
    platform: String,
    r_library: String,
    conda_prefix: String,
    layers: Vec<(String, String, Vec<String>)>,
}

fn values() -> impl Strategy<Value = Values> {
    let hex = "[0-9a-f]{64}";
    let base = prop_oneof![
        2 => hex.prop_map(|hex| format!("debian@sha256:{hex}")),
        2 => (value(), hex).prop_map(|(name, hex)| format!("{name}@sha256:{hex}")),
        1 => value(),
    ];
    let platform = prop_oneof![3 => Just("linux/amd64".to_string()), 1 => value()];
    let path = || prop_oneof![1 => "/[a-z]{1,6}", 2 => value()];
    let layer = (value(), path(), vec(value(), 0..3));
    ((base, platform), (path(), path()), vec(layer, 1..3)).prop_map(
        |((base, platform), (r_library, conda_prefix), layers)| Values {
            base,
            platform,
            r_library,
            conda_prefix,
            layers,
        },
    )
}

/// The spec's text: every value quoted as TOML quotes it, each layer's requirements listed for
/// every ecosystem.
fn text(values: &Values) -> String {
    let mut out = String::from("[image]\nname = \"fuzz\"\n");
    let _ = writeln!(out, "base = {}", quote(&values.base));
    let _ = writeln!(out, "platform = {}", quote(&values.platform));
    let _ = writeln!(
        out,
        "r = \"4.2.2\"\nr-library = {}",
        quote(&values.r_library)
    );
    let conda = Ecosystem::Conda;
    let _ = writeln!(out, "{conda}-prefix = {}", quote(&values.conda_prefix));
    let _ = writeln!(out, "\n[repositories]");
    for ecosystem in [Ecosystem::Cran, Ecosystem::Pypi, conda, Ecosystem::Maven] {
        let _ = writeln!(out, "{ecosystem} = \"https://repo.example/{ecosystem}\"");
    }
    for (name, target, requirements) in &values.layers {
        let _ = writeln!(out, "\n[[layer]]\nname = {}", quote(name));
        let _ = writeln!(out, "{}-target = {}", Ecosystem::Maven, quote(target));
        for ecosystem in [Ecosystem::Cran, Ecosystem::Pypi, conda, Ecosystem::Maven] {
            let _ = writeln!(out, "{ecosystem} = {}", list(requirements));
        }
    }
    out
}

#[test]
fn fuzz_spec() {
    fuzz::bytes("spec", spec_seeds(), DICTIONARY, bytes_property);
}

#[test]
fn fuzz_spec_values() {
    fuzz::run(
        "spec-values",
        values(),
        |values| text(values).into_bytes(),
        |values| property(&text(values)),
    );
}

#[test]
fn fuzz_regressions_replay() {
    fuzz::replay("spec", bytes_property);
    fuzz::replay("spec-values", bytes_property);
}
