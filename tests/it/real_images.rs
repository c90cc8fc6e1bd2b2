//! The real images' examples (issue 17): the Databricks 10.4 family (`examples/databricks/*`,
//! each spec extending its parent), a doAzureParallel cluster image and a Dask-CHTC worker.
//! Each is run as a user runs it, from a copy of its folder beside a copy of
//! `fixtures/examples` (the `file:` repositories the specs name): parents before children,
//! every spec resolves, and again to the same bytes with its lock removed, `check` finds its
//! lock fresh and `emit` writes its Dockerfile; the family's leaves share their parents' pins.
//! PyPI's recording is served on loopback (it keeps PyPI's metadata, not the wheels `emit` would
//! copy from a `file:` index), and so is a GitHub-style API for the doAzureParallel image.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::families::package_tables;
use crate::support::github::GithubServer;
use crate::support::{Project, Server, copy_dir, fixtures, output_text};

/// The examples' folders holding real images' specs (a family: one spec per subfolder).
const REAL_IMAGES: [&str; 4] = [
    "databricks",
    "databricks-conda-poc",
    "doazureparallel",
    "dask-chtc",
];

/// How a real image's spec names the PyPI recording (from `examples/<image>/<member>/`).
const PYPI_RECORDING: &str = "file:../../../fixtures/pypi/simple";

/// Every `imglock.toml` below `folder`, sorted.
pub(crate) fn specs_below(folder: &Path) -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = crate::support::walk(folder)
        .into_iter()
        .filter(|path| path.file_name().is_some_and(|name| name == "imglock.toml"))
        .collect();
    specs.sort();
    specs
}

/// Whether `spec` (below `examples/`) is one of a real image's.
pub(crate) fn is_real_image(spec: &Path) -> bool {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let relative = spec.strip_prefix(&examples).unwrap_or(spec);
    REAL_IMAGES.iter().any(|image| relative.starts_with(image))
}

/// The extra flags a spec's header comment resolves it with, on the line
/// `imglock resolve --spec examples/<path> FLAGS…` (none when it names none).
fn header_flags(spec: &str, path: &str) -> Vec<String> {
    let command = format!("imglock resolve --spec examples/{path}");
    spec.lines()
        .take_while(|line| line.starts_with('#'))
        .find_map(|line| line.split_once(&command).map(|(_, flags)| flags))
        .map(|flags| flags.split_whitespace().map(String::from).collect())
        .unwrap_or_default()
}

/// The parent spec a spec names with `extends` (a path from its folder), if any.
fn parent_of(spec: &str) -> Option<String> {
    let table: toml::Table = spec.parse().expect("a spec in TOML");
    table
        .get("extends")
        .map(|extends| extends.as_str().expect("`extends` as a path").to_string())
}

/// A working copy of the example folder `image` (like `databricks`) and of `fixtures/examples`,
/// each spec with the repositories of `served` (as written, and the URL that serves them)
/// replaced: each spec's path from `examples/` and its text.
struct Workspace {
    project: Project,
    specs: BTreeMap<String, String>,
}

impl Workspace {
    fn new(image: &str, served: &[(&str, String)]) -> Self {
        let project = Project::new("");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        copy_dir(
            &fixtures().join("examples"),
            &project.path("fixtures/examples"),
        );
        copy_dir(
            &root.join("examples").join(image),
            &project.path(&format!("examples/{image}")),
        );
        // A lock left by resolving the examples in place would be kept from: start without.
        for file in crate::support::walk(&project.path("examples")) {
            if file.file_name().is_some_and(|name| name == "imglock.lock") {
                std::fs::remove_file(file).unwrap();
            }
        }
        let mut specs = BTreeMap::new();
        for spec in specs_below(&root.join("examples").join(image)) {
            let path = spec.strip_prefix(root.join("examples")).unwrap();
            let path = path.to_str().unwrap().to_string();
            let mut text = std::fs::read_to_string(&spec).unwrap();
            for (written, url) in served {
                text = text.replace(written, url);
            }
            let written = project.path(&format!("examples/{path}"));
            std::fs::create_dir_all(written.parent().unwrap()).unwrap();
            std::fs::write(&written, &text).unwrap();
            specs.insert(path, text);
        }
        Self { project, specs }
    }

    /// The specs' paths, each after its parent's.
    fn parents_first(&self) -> Vec<String> {
        let mut ordered: Vec<String> = Vec::new();
        while ordered.len() < self.specs.len() {
            let before = ordered.len();
            for (path, text) in &self.specs {
                let parent = parent_of(text).map(|parent| {
                    let folder = Path::new(path).parent().unwrap();
                    normalized(&folder.join(parent))
                });
                let ready = parent.is_none_or(|parent| ordered.contains(&parent));
                if ready && !ordered.contains(path) {
                    ordered.push(path.clone());
                }
            }
            assert!(
                ordered.len() > before,
                "a spec names a parent not among {ordered:?}"
            );
        }
        ordered
    }

    /// Runs `imglock ARGS` in the workspace's top folder.
    fn run(&self, args: &[&str]) -> std::process::Output {
        self.project.run(args)
    }

    /// The lock of the spec at `path` (from `examples/`).
    fn lock(&self, path: &str) -> String {
        let lock = Path::new("examples")
            .join(path)
            .with_file_name("imglock.lock");
        std::fs::read_to_string(self.project.path(lock.to_str().unwrap())).unwrap()
    }
}

/// `path` without its `..` and `.` components.
fn normalized(path: &Path) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.iter().map(|part| part.to_str().unwrap()) {
        match part {
            ".." => {
                parts.pop();
            }
            "." => {}
            part => parts.push(part),
        }
    }
    parts.join("/")
}

/// Resolves every spec of `workspace`, parents first: each twice (the second time with its lock
/// removed) to the same bytes, then `check` and `emit`. Its locks by spec path.
fn resolve_all(workspace: &Workspace) -> BTreeMap<String, String> {
    let mut locks = BTreeMap::new();
    for path in workspace.parents_first() {
        let spec = format!("examples/{path}");
        let lock = Path::new(&spec).with_file_name("imglock.lock");
        let lock = lock.to_str().unwrap();
        let mut resolve = vec!["resolve".to_string(), "--spec".into(), spec.clone()];
        resolve.extend(header_flags(&workspace.specs[&path], &path));
        let resolve: Vec<&str> = resolve.iter().map(String::as_str).collect();
        let output = workspace.run(&resolve);
        assert!(output.status.success(), "{spec}: {}", output_text(&output));
        let first = workspace.lock(&path);
        std::fs::remove_file(workspace.project.path(lock)).unwrap();
        let output = workspace.run(&resolve);
        assert!(
            output.status.success(),
            "{spec} again: {}",
            output_text(&output)
        );
        assert_eq!(
            workspace.lock(&path),
            first,
            "{spec}: resolved twice, two locks"
        );
        let output = workspace.run(&["check", "--spec", &spec, "--lock", lock]);
        assert!(
            output.status.success(),
            "check {spec}: {}",
            output_text(&output)
        );
        let out = workspace.project.path(&format!("emitted/{path}"));
        let output = workspace.run(&["emit", "--lock", lock, "--out", out.to_str().unwrap()]);
        assert!(
            output.status.success(),
            "emit {spec}: {}",
            output_text(&output)
        );
        let dockerfile = std::fs::read_to_string(out.join("Dockerfile")).unwrap();
        assert!(dockerfile.contains("FROM "), "{spec}: {dockerfile}");
        locks.insert(path, first);
    }
    locks
}

#[test]
fn the_databricks_family_resolves_parents_first_and_its_leaves_share_their_parents_pins() {
    let pypi = Server::start(&fixtures().join("pypi"));
    let workspace = Workspace::new(
        "databricks",
        &[(PYPI_RECORDING, format!("{}/simple", pypi.url()))],
    );
    let order = workspace.parents_first();
    let members = [
        "minimal",
        "python",
        "r",
        "genomics",
        "genomics-with-glow",
        "genomics-with-hail",
    ];
    let expected: Vec<String> = members
        .iter()
        .map(|member| format!("databricks/{member}/imglock.toml"))
        .collect();
    assert_eq!(order, expected, "the family, parents first");
    let locks = resolve_all(&workspace);
    let lock = |member: &str| &locks[&format!("databricks/{member}/imglock.toml")];
    // Each image holds its parent's packages exactly, so both leaves hold the genomics image's.
    for (parent, child) in members.iter().zip(&members[1..4]) {
        for table in package_tables(lock(parent)) {
            assert!(
                lock(child).contains(&table),
                "{child} lacks {parent}'s {table}"
            );
        }
    }
    let genomics = package_tables(lock("genomics"));
    for leaf in ["genomics-with-glow", "genomics-with-hail"] {
        for table in &genomics {
            assert!(lock(leaf).contains(table), "{leaf} lacks genomics' {table}");
        }
        assert!(
            package_tables(lock(leaf)).len() > genomics.len(),
            "{leaf} adds nothing"
        );
    }
    // Each package from its own repository, and the leaves' own packages.
    for (member, needle) in [
        ("r", "mran-2017-08-01/src/contrib/hwriterPlus_1.0-3.tar.gz"),
        ("r", "rforge/src/contrib/Rserve_1.8-11.tar.gz"),
        ("r", "examples/cran/src/contrib/htmltools_0.5.2.tar.gz"),
        ("genomics", "samtools-1.9.tar.bz2"),
        ("genomics-with-glow", "glow-spark3_2.12-1.1.2.jar"),
        ("genomics-with-glow", "glow_py-1.1.2-py3-none-any.whl"),
        ("genomics-with-hail", "hail-0.2.85-py3-none-any.whl"),
    ] {
        assert!(
            lock(member).contains(needle),
            "{member}'s lock lacks {needle}"
        );
    }
}

#[test]
fn the_doazureparallel_image_locks_r_3_4_with_cran_github_and_bioconductor_3_6() {
    let github = GithubServer::start();
    let published = [
        (
            "rAzureBatch",
            "v0.6.2",
            "1f3d59a1c2b6e0d4a8f7c5b3e9d2a6c4b8e0f1a2",
        ),
        (
            "doAzureParallel",
            "v0.6.3",
            "7c9e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a3c5e",
        ),
    ];
    for (repo, tag, commit) in published {
        github.publish("Azure", repo, commit, &[tag], &[]);
    }
    let workspace = Workspace::new(
        "doazureparallel",
        &[("https://api.github.com", github.api())],
    );
    let locks = resolve_all(&workspace);
    let lock = &locks["doazureparallel/imglock.toml"];
    for (_, _, commit) in published {
        assert!(lock.contains(&format!("commit = \"{commit}\"")), "{lock}");
    }
    for needle in [
        "bioc/packages/3.6/bioc/src/contrib/IRanges_2.12.0.tar.gz",
        "bioc/packages/3.6/bioc/src/contrib/S4Vectors_0.16.0.tar.gz",
        "examples/cran/src/contrib/foreach_1.5.2.tar.gz",
    ] {
        assert!(lock.contains(needle), "the lock lacks {needle}:\n{lock}");
    }
}

#[test]
fn the_dask_chtc_worker_takes_skorch_alone_from_conda_forge_and_ends_with_tini() {
    let workspace = Workspace::new("dask-chtc", &[]);
    let locks = resolve_all(&workspace);
    let lock: toml::Table = locks["dask-chtc/imglock.toml"].parse().unwrap();
    let packages = lock["layer"][0]["package"].as_array().unwrap();
    let channels: BTreeMap<&str, &str> = packages
        .iter()
        .map(|package| {
            let url = package["url"].as_str().unwrap();
            let channel = url.split("/conda/").nth(1).unwrap().split('/').next();
            (package["name"].as_str().unwrap(), channel.unwrap())
        })
        .collect();
    assert_eq!(channels.len(), 8, "{channels:?}");
    for (name, channel) in &channels {
        let expected = if *name == "skorch" {
            "conda-forge"
        } else {
            "main"
        };
        assert_eq!(*channel, expected, "{name}'s channel");
    }
    let emitted = workspace
        .project
        .path("emitted/dask-chtc/imglock.toml/Dockerfile");
    let dockerfile = std::fs::read_to_string(emitted).unwrap();
    let instructions: Vec<&str> = dockerfile
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    let end = [
        "ENV LANG=\"C.UTF-8\" LC_ALL=\"C.UTF-8\" PATH=\"/opt/conda/bin:$PATH\"",
        "RUN useradd --create-home --uid 1000 dask",
        "WORKDIR /home/dask",
        "USER dask",
        "ENTRYPOINT [\"tini\",\"--\"]",
        "CMD [\"dask-worker\"]",
    ];
    assert!(instructions.ends_with(&end), "{dockerfile}");
}

#[test]
fn the_databricks_conda_poc_takes_each_package_from_any_channel_with_priority_disabled() {
    let pypi = Server::start(&fixtures().join("pypi"));
    let workspace = Workspace::new(
        "databricks-conda-poc",
        &[(
            "file:../../fixtures/pypi/simple",
            format!("{}/simple", pypi.url()),
        )],
    );
    let locks = resolve_all(&workspace);
    let lock = &locks["databricks-conda-poc/imglock.toml"];
    for needle in [
        "conda/conda-forge/linux-64/lz4-3.1.10-py38h4c1c2b5_0.tar.bz2",
        "conda/main/linux-64/python-blosc-1.10.2-py38h2531618_0.tar.bz2",
        "requests-2.27.1-py2.py3-none-any.whl",
    ] {
        assert!(lock.contains(needle), "the lock lacks {needle}:\n{lock}");
    }
    // The copied configuration is pinned by its bytes.
    let conf = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/databricks-conda-poc/spark-defaults.conf"),
    )
    .unwrap();
    assert!(lock.contains(&crate::support::sha256_hex(&conf)), "{lock}");
}
