//! conda test support: the fixture channels and a spec over them, the corpus channels, the
//! py-rattler oracle, and reading a lock's conda packages.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use sha2::{Digest, Sha256};

use super::{Project, Server, fixtures, stderr};

/// The hand-written conda fixture channels (`fixtures/conda/channels/{main,forge}`).
pub fn conda_channels() -> PathBuf {
    fixtures().join("conda/channels")
}

/// A conda spec: a micromamba base image on linux/amd64, `image_extra` lines added to `[image]`
/// (like `glibc = "2.28"`), the channels in priority order, one layer per `layers` entry.
pub fn conda_spec(channels: &[String], image_extra: &str, layers: &[(&str, &[&str])]) -> String {
    let channels: Vec<String> = channels.iter().map(|c| format!("{c:?}")).collect();
    let mut text = format!(
        "[image]\nname = \"conda-test\"\nbase = \"docker.io/mambaorg/micromamba@sha256:{}\"\nplatform = \"linux/amd64\"\n{image_extra}\n\n[repositories]\nconda = [{}]\n",
        "0".repeat(64),
        channels.join(", ")
    );
    for (name, specs) in layers {
        let quoted: Vec<String> = specs.iter().map(|s| format!("{s:?}")).collect();
        text.push_str(&format!(
            "\n[[layer]]\nname = \"{name}\"\nconda = [{}]\n",
            quoted.join(", ")
        ));
    }
    text
}

/// The real conda metadata in `../shared/corpora/conda` (beside the repository), if present.
pub fn conda_corpus() -> Option<PathBuf> {
    let dir = super::shared_corpus("conda")?;
    super::available(
        dir.join("channels/index4/linux-64/repodata.json").is_file(),
        "../shared/corpora/conda has no channels/index4",
    )
    .then_some(dir)
}

/// A folder serving the corpus as three channels, `index4`, `pytorch` and `r` (symbolic links to
/// the corpus files, plus an empty `noarch` for the single-file ones), for `Server::start`.
pub fn conda_corpus_channels(corpus: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let link = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(from.canonicalize().unwrap(), to).unwrap();
    };
    for subdir in ["linux-64", "noarch"] {
        link(
            &corpus.join(format!("channels/index4/{subdir}/repodata.json")),
            &dir.path().join(format!("index4/{subdir}/repodata.json")),
        );
    }
    for (channel, file) in [
        ("pytorch", "pytorch_linux-64_repodata.json"),
        ("r", "r_linux-64.json"),
    ] {
        link(
            &corpus.join(file),
            &dir.path().join(format!("{channel}/linux-64/repodata.json")),
        );
        std::fs::create_dir_all(dir.path().join(format!("{channel}/noarch"))).unwrap();
        std::fs::write(
            dir.path().join(format!("{channel}/noarch/repodata.json")),
            r#"{"info":{"subdir":"noarch"},"packages":{},"packages.conda":{}}"#,
        )
        .unwrap();
    }
    dir
}

/// Whether `python3` can import py-rattler (and zstandard), which `scripts/conda-oracle.py` needs.
pub fn py_rattler_available() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import rattler, zstandard"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `python3 scripts/conda-oracle.py` for linux-64 over `channels` (priority order), with the
/// virtual packages given as `name=version=build`, `extra` arguments, and `specs`.
pub fn conda_oracle_command(
    channels: &[String],
    virtual_packages: &[String],
    extra: &[&str],
    specs: &[&str],
) -> std::process::Command {
    let mut command = std::process::Command::new("python3");
    command.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/conda-oracle.py"));
    for channel in channels {
        command.args(["--channel", channel]);
    }
    command.args(["--platform", "linux-64"]);
    for package in virtual_packages {
        command.args(["--virtual", package]);
    }
    command.args(extra).args(specs);
    command
}

/// The virtual packages imglock stands in for the default image (glibc 2.17, no CUDA).
pub const DEFAULT_VIRTUAL: [&str; 4] = [
    "__unix=0=0",
    "__linux=4.18=0",
    "__glibc=2.17=0",
    "__archspec=1=x86_64",
];

/// One conda package of a lock.
#[derive(Debug, Clone)]
pub struct Locked {
    pub layer: String,
    pub name: String,
    pub version: String,
    pub build: String,
    pub build_number: i64,
    pub subdir: String,
    pub repository: String,
    pub url: String,
    pub sha256: String,
    pub size: i64,
    pub md5: String,
    pub requested: bool,
    pub dependencies: Vec<String>,
    pub depends: Vec<String>,
}

impl Locked {
    pub fn file_name(&self) -> &str {
        self.url.rsplit('/').next().unwrap()
    }
}

pub fn strings(value: Option<&toml::Value>) -> Vec<String> {
    value
        .and_then(toml::Value::as_array)
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// Every conda package of a lock, layer by layer.
pub fn lock_packages(lock: &str) -> Vec<Locked> {
    let value: toml::Value = toml::from_str(lock).unwrap();
    let mut out = Vec::new();
    for layer in value["layer"].as_array().unwrap() {
        let Some(packages) = layer.get("package").and_then(|p| p.as_array()) else {
            continue;
        };
        for p in packages
            .iter()
            .filter(|p| p["ecosystem"].as_str() == Some("conda"))
        {
            let text = |key: &str| {
                p.get(key)
                    .and_then(toml::Value::as_str)
                    .unwrap_or_else(|| panic!("`{key}` missing in {p:?}"))
                    .to_string()
            };
            out.push(Locked {
                layer: layer["name"].as_str().unwrap().to_string(),
                name: text("name"),
                version: text("version"),
                build: text("build"),
                build_number: p["build-number"].as_integer().unwrap(),
                subdir: text("subdir"),
                repository: text("repository"),
                url: text("url"),
                sha256: text("sha256"),
                size: p["size"].as_integer().unwrap(),
                md5: text("md5"),
                requested: p.get("requested").and_then(toml::Value::as_bool) == Some(true),
                dependencies: strings(p.get("dependencies")),
                depends: strings(p.get("depends")),
            });
        }
    }
    out
}

pub fn find<'a>(packages: &'a [Locked], name: &str) -> &'a Locked {
    packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{name} is not in the lock: {packages:#?}"))
}

/// `name version build` of every package, sorted.
pub fn triples(packages: &[Locked]) -> BTreeSet<(String, String, String)> {
    packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.build.clone()))
        .collect()
}

pub fn expected(list: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
    list.iter()
        .map(|(n, v, b)| (n.to_string(), v.to_string(), b.to_string()))
        .collect()
}

/// `[resolution] conda-virtual-packages` of a lock.
pub fn virtual_packages(lock: &str) -> Vec<String> {
    let value: toml::Value = toml::from_str(lock).unwrap();
    strings(value["resolution"].get("conda-virtual-packages"))
}

pub fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// The fixture channels served on 127.0.0.1.
pub fn serve_fixtures() -> Server {
    Server::start(&conda_channels())
}

/// Resolves one or more layers over the served fixture channels `names` (priority order).
pub fn resolve_http(
    server: &Server,
    names: &[&str],
    image_extra: &str,
    layers: &[(&str, &[&str])],
    args: &[&str],
) -> (Project, Output) {
    let channels: Vec<String> = names
        .iter()
        .map(|n| format!("{}/{n}", server.url()))
        .collect();
    let project = Project::new(&conda_spec(&channels, image_extra, layers));
    let mut all = vec!["resolve"];
    all.extend_from_slice(args);
    let output = project.run(&all);
    (project, output)
}

/// Resolves `specs` in one layer over `[main, forge]` served on 127.0.0.1 and returns the lock's
/// packages.
pub fn solve_ok(specs: &[&str], image_extra: &str, args: &[&str]) -> Vec<Locked> {
    let server = serve_fixtures();
    let (project, output) = resolve_http(
        &server,
        &["main", "forge"],
        image_extra,
        &[("env", specs)],
        args,
    );
    assert!(output.status.success(), "{specs:?}: {}", stderr(&output));
    lock_packages(&project.lock().unwrap())
}

/// Resolves `specs` expecting no solution; returns stderr after checking the common shape.
pub fn solve_fails(names: &[&str], specs: &[&str], image_extra: &str, args: &[&str]) -> String {
    let server = serve_fixtures();
    let (project, output) = resolve_http(&server, names, image_extra, &[("env", specs)], args);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{specs:?}: {}",
        stderr(&output)
    );
    assert!(project.lock().is_none(), "no lock is written for {specs:?}");
    let message = stderr(&output);
    assert!(
        message.contains("cannot resolve the conda packages of layer `env`:"),
        "{message}"
    );
    message
}

/// The Dask-worker-like set of the fixture channels.
pub const DASK: [&str; 4] = ["python 3.8.*", "daskish", "lz4ish", "tini"];
