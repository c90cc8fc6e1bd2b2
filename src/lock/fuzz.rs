//! Fuzz targets of the lock: mutated golden locks, and locks written from generated values
//! ([`Sketch`]: hostile names, versions, paths and URLs among plain ones). Whatever the text,
//! reading it never panics, and a lock it accepts renders to a lock that reads back equal (parse →
//! render → parse is the identity, up to the order [`render`] sorts into) and renders to the same
//! bytes again (render is a fixed point).

use std::fmt::Write;
use std::path::Path;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use super::fields::{list, quote};
use super::{Lock, render};
use crate::fuzz::{self, Outcome, seeds};
use crate::package::Ecosystem;

/// Tokens of the lock format.
const DICTIONARY: &[&str] = &[
    "[[layer]]\n",
    "[[layer.package]]\n",
    "[image]\n",
    "[resolution]\n",
    "name = ",
    "version = ",
    "ecosystem = ",
    "dependencies = []",
    "requested = true\n",
    "sha256 = ",
    "size = ",
    "\"",
    "\\u0000",
    "\\n",
    "'''",
    "\"\"\"",
    " = ",
    "[",
    "]",
    "{",
    "}",
    "#",
];

/// Values an attacker (or a damaged file) might put in a field; see also `tests/it/injection.rs`.
pub(crate) const HOSTILE: &[&str] = &[
    "x\nRUN touch /pwned",
    "x\r\nRUN touch /pwned",
    "x\\\nRUN touch /pwned",
    "x \\",
    "$(touch /pwned)",
    "`touch /pwned`",
    "x' ; touch /pwned ; '",
    "x\" ; touch /pwned ; \"",
    "x y",
    "x\\",
    "x\u{0}y",
    "<<EOF",
    "x\u{2028}RUN touch /pwned",
    "x\u{85}RUN touch /pwned",
    "--output=x",
    "-",
    "",
    "/opt/../etc",
    "relative/path",
    "/opt/with space",
    "é",
];

fn lock_seeds() -> Vec<Vec<u8>> {
    let mut seeds = seeds::read("lockfiles", |name| name.ends_with(".lock"), 16);
    seeds.extend(seeds::read(
        "fixtures/diff",
        |name| name.ends_with(".lock"),
        16,
    ));
    seeds
}

/// The lock as [`render`] orders it: packages by ecosystem and name, build packages by
/// ecosystem, name and version, each one's dependencies sorted without repeats.
fn normalized(lock: &Lock) -> Lock {
    let mut lock = lock.clone();
    for layer in &mut lock.layers {
        layer
            .packages
            .sort_by(|a, b| (&a.ecosystem, &a.name).cmp(&(&b.ecosystem, &b.name)));
        layer.build_packages.sort_by(|a, b| {
            (&a.ecosystem, &a.name, &a.version).cmp(&(&b.ecosystem, &b.name, &b.version))
        });
        for package in layer.packages.iter_mut().chain(&mut layer.build_packages) {
            package.dependencies.sort();
            package.dependencies.dedup();
        }
    }
    lock
}

/// Reading `text` never panics; a lock it accepts round-trips through [`render`].
pub(crate) fn round_trip(text: &str) -> Outcome {
    let path = Path::new("imglock.lock");
    let Ok(first) = Lock::parse(path, text) else {
        return Ok(());
    };
    let rendered = render(&first);
    let second = Lock::parse(path, &rendered)
        .map_err(|error| format!("the rendered lock does not read back: {error}"))?;
    if second != normalized(&first) {
        return Err(format!(
            "parse → render → parse changed the lock:\n{rendered}"
        ));
    }
    if render(&second) != rendered {
        return Err("render is not a fixed point".into());
    }
    Ok(())
}

fn text_property(input: &[u8]) -> Outcome {
    round_trip(&String::from_utf8_lossy(input))
}

/// One package of a generated lock.
#[derive(Debug, Clone)]
pub(crate) struct SketchPackage {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    pub url: String,
    pub sha256: String,
    pub requested: bool,
    /// Names of other packages (by position among all packages), or free text.
    pub dependencies: Vec<Result<Index, String>>,
    /// The ecosystem's own text field (`system-requirements`, a marker, a conda build, a
    /// Maven path), free text.
    pub detail: String,
}

/// One layer of a generated lock.
#[derive(Debug, Clone)]
pub(crate) struct SketchLayer {
    pub name: String,
    pub maven_target: String,
    pub packages: Vec<SketchPackage>,
}

/// A generated lock: every value that reaches a Dockerfile drawn from plain, hostile and
/// arbitrary text.
#[derive(Debug, Clone)]
pub(crate) struct Sketch {
    pub name: String,
    pub base: String,
    pub platform: String,
    pub r_library: Option<String>,
    pub conda_prefix: String,
    pub layers: Vec<SketchLayer>,
}

/// A value: mostly plain, often hostile, sometimes anything at all.
pub(crate) fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-z0-9._-]{0,10}",
        3 => proptest::sample::select(HOSTILE).prop_map(str::to_string),
        2 => ("[a-z]{1,4}", proptest::sample::select(HOSTILE)).prop_map(|(a, b)| a + b),
        1 => any::<String>(),
    ]
}

/// A path in the image: mostly absolute and plain.
fn image_path() -> impl Strategy<Value = String> {
    prop_oneof![3 => "/[a-z]{1,6}(/[a-z0-9._-]{1,6}){0,2}", 2 => value()]
}

/// 64 lowercase hex digits, now and then anything.
fn sha256() -> impl Strategy<Value = String> {
    prop_oneof![9 => "[0-9a-f]{64}", 1 => value()]
}

/// An image reference pinned by digest, now and then anything.
fn base() -> impl Strategy<Value = String> {
    let hex = "[0-9a-f]{64}";
    prop_oneof![
        6 => hex.prop_map(|hex| format!("docker.io/library/debian@sha256:{hex}")),
        1 => ("[a-z]{1,5}:[a-z0-9]{1,4}", hex).prop_map(|(name, hex)| format!("{name}@sha256:{hex}")),
        3 => value(),
    ]
}

fn url() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "https://repo\\.example/[a-z0-9._/-]{1,20}",
        1 => "file:[a-z0-9._/-]{1,20}",
        2 => value().prop_map(|v| format!("https://repo.example/{v}")),
        1 => value(),
    ]
}

fn package() -> impl Strategy<Value = SketchPackage> {
    let ecosystem = proptest::sample::select(vec![
        Ecosystem::Apt,
        Ecosystem::Cran,
        Ecosystem::Bioconductor,
        Ecosystem::Pypi,
        Ecosystem::Conda,
        Ecosystem::Maven,
    ]);
    let dependency = prop_oneof![4 => any::<Index>().prop_map(Ok), 1 => value().prop_map(Err)];
    (
        (ecosystem, value(), value(), url()),
        (sha256(), any::<bool>(), vec(dependency, 0..3), value()),
    )
        .prop_map(
            |((ecosystem, name, version, url), (sha256, requested, dependencies, detail))| {
                SketchPackage {
                    ecosystem,
                    name,
                    version,
                    url,
                    sha256,
                    requested,
                    dependencies,
                    detail,
                }
            },
        )
}

fn layer() -> impl Strategy<Value = SketchLayer> {
    let name = prop_oneof![3 => "[a-z][a-z0-9-]{0,8}", 1 => value()];
    (name, image_path(), vec(package(), 0..5)).prop_map(|(name, maven_target, packages)| {
        SketchLayer {
            name,
            maven_target,
            packages,
        }
    })
}

/// Generated locks.
pub(crate) fn sketch() -> impl Strategy<Value = Sketch> {
    let platform = prop_oneof![4 => Just("linux/amd64".to_string()), 1 => value()];
    (
        (value(), base(), platform),
        (proptest::option::of(image_path()), image_path()),
        vec(layer(), 1..4),
    )
        .prop_map(
            |((name, base, platform), (r_library, conda_prefix), layers)| Sketch {
                name,
                base,
                platform,
                r_library,
                conda_prefix,
                layers,
            },
        )
}

impl Sketch {
    /// Every package's name, in order, for dependencies to name.
    fn names(&self) -> Vec<&str> {
        self.layers
            .iter()
            .flat_map(|layer| layer.packages.iter().map(|p| p.name.as_str()))
            .collect()
    }

    /// The lock's text, every string quoted as TOML quotes it.
    pub(crate) fn text(&self) -> String {
        let mut out = format!("version = 1\nspec-hash = \"sha256:{}\"\n", "0".repeat(64));
        let _ = writeln!(out, "\n[image]\nname = {}", quote(&self.name));
        let _ = writeln!(out, "base = {}", quote(&self.base));
        let _ = writeln!(out, "platform = {}", quote(&self.platform));
        if let Some(library) = &self.r_library {
            let _ = writeln!(out, "r-library = {}", quote(library));
        }
        let conda = self.layers.iter().flat_map(|l| &l.packages);
        if conda.clone().any(|p| p.ecosystem == Ecosystem::Conda) {
            let _ = writeln!(
                out,
                "{}-prefix = {}",
                Ecosystem::Conda,
                quote(&self.conda_prefix)
            );
        }
        let names = self.names();
        for layer in &self.layers {
            let _ = writeln!(out, "\n[[layer]]\nname = {}", quote(&layer.name));
            if layer
                .packages
                .iter()
                .any(|p| p.ecosystem == Ecosystem::Maven)
            {
                let target = quote(&layer.maven_target);
                let _ = writeln!(out, "{}-target = {target}", Ecosystem::Maven);
            }
            for package in &layer.packages {
                package.write(&names, &mut out);
            }
        }
        out
    }
}

impl SketchPackage {
    fn write(&self, names: &[&str], out: &mut String) {
        let _ = writeln!(
            out,
            "\n[[layer.package]]\necosystem = \"{}\"",
            self.ecosystem
        );
        let _ = writeln!(out, "name = {}", quote(&self.name));
        let _ = writeln!(out, "version = {}", quote(&self.version));
        let _ = writeln!(out, "repository = \"https://repo.example\"");
        let _ = writeln!(out, "url = {}", quote(&self.url));
        let _ = writeln!(out, "sha256 = {}\nsize = 1", quote(&self.sha256));
        if self.requested {
            let _ = writeln!(out, "requested = true");
        }
        let dependencies: Vec<String> = self
            .dependencies
            .iter()
            .map(|d| match d {
                Ok(index) => names[index.index(names.len())].to_string(),
                Err(text) => text.clone(),
            })
            .collect();
        let _ = writeln!(out, "dependencies = {}", list(&dependencies));
        let detail = quote(&self.detail);
        let _ = match self.ecosystem {
            // (GitHub packages' own fields are checked by `cran::github`'s tests.)
            Ecosystem::Cran | Ecosystem::Bioconductor | Ecosystem::Github => {
                writeln!(
                    out,
                    "needs-compilation = true\nsystem-requirements = {detail}"
                )
            }
            Ecosystem::Pypi => writeln!(out, "markers = [{detail}]"),
            Ecosystem::Conda => writeln!(
                out,
                "build = {detail}\nbuild-number = 0\nsubdir = \"linux-64\"\ndepends = [{detail}]"
            ),
            Ecosystem::Maven => writeln!(out, "via = [{detail}]"),
            Ecosystem::File => writeln!(out, "target = {detail}\nmode = \"0644\""),
            Ecosystem::Apt => writeln!(
                out,
                "architecture = \"amd64\"\nsource = {detail}\nsuite = \"bookworm\"\nvia = [{detail}]"
            ),
        };
    }
}

#[test]
fn fuzz_lock() {
    fuzz::bytes("lock", lock_seeds(), DICTIONARY, text_property);
}

#[test]
fn fuzz_lock_values() {
    fuzz::run(
        "lock-values",
        sketch(),
        |sketch| sketch.text().into_bytes(),
        |sketch| round_trip(&sketch.text()),
    );
}

#[test]
fn fuzz_regressions_replay() {
    fuzz::replay("lock", text_property);
    fuzz::replay("lock-values", text_property);
}

#[test]
fn generated_locks_are_read() {
    // The generator is worth its time only if plain values make locks imglock reads.
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let read = (0..200)
        .filter(|_| {
            let sketch = sketch().new_tree(&mut runner).unwrap().current();
            Lock::parse(Path::new("imglock.lock"), &sketch.text()).is_ok()
        })
        .count();
    assert!(read >= 10, "only {read} of 200 generated locks are read");
}
