//! `imglock init`, `import`, `add` and `remove`, run as a user runs them. Each format's manifest
//! (tests/import/<format>/) imports into a golden spec and a golden list of what was left out
//! (tests/golden/import/); the real images' manifests in examples/ import into hand-written
//! starting specs (comments kept) whose layers resolve against the fixtures once the real
//! repositories are pointed at them; add and remove keep a spec's comments and layout (golden),
//! re-resolve, and put the spec back when resolving fails. `IMGLOCK_BLESS=1` re-creates the
//! golden files (review their diff).

use std::path::PathBuf;

use crate::support::github::GithubServer;
use crate::support::{Project, copy_dir, fixtures, output_text, stderr};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compares `produced` with the golden file `name` (re-creates it under `IMGLOCK_BLESS`).
fn golden(name: &str, produced: &str) {
    crate::support::golden(&root().join("tests/golden/import").join(name), produced);
}

/// A project holding a copy of tests/import/<case>/ and no spec yet.
fn case_project(case: &str) -> Project {
    let project = Project::new("");
    std::fs::remove_file(project.path("imglock.toml")).unwrap();
    copy_dir(&root().join("tests/import").join(case), project.dir.path());
    project
}

#[test]
fn each_format_imports_into_its_golden_spec_and_lists_what_it_left_out() {
    let cases = [
        ("requirements", "requirements.txt"),
        ("environment", "environment.yml"),
        ("renv", "renv.lock"),
        ("description", "DESCRIPTION"),
        ("pom", "pom.xml"),
        ("cluster", "cluster.json"),
        ("dockerfile", "Dockerfile"),
    ];
    for (case, file) in cases {
        // In a folder of the case's name, which a new spec's image is named after.
        let project = Project::new("");
        copy_dir(&root().join("tests/import").join(case), &project.path(case));
        let spec = format!("{case}/imglock.toml");
        let output = project.run(&["import", &format!("{case}/{file}"), "--spec", &spec]);
        assert!(output.status.success(), "{case}: {}", output_text(&output));
        let spec = std::fs::read_to_string(project.path(&spec)).unwrap();
        golden(&format!("{case}.toml"), &spec);
        golden(&format!("{case}.notes"), &stderr(&output));
    }
}

/// A real image's manifest, the spec a user starts from (its settings and the real
/// repositories) and how the test points those repositories at the fixtures.
struct RealImage {
    name: &'static str,
    manifest: &'static str,
    starting_spec: &'static str,
    fixtures: &'static [(&'static str, &'static str)],
    resolve_args: &'static [&'static str],
}

const REAL_IMAGES: [RealImage; 4] = [
    RealImage {
        name: "databricks-python",
        manifest: "examples/databricks/python/requirements.txt",
        starting_spec: "# Databricks Runtime 10.4's python image: its settings, by hand.\n\
            [image]\nname = \"databricks-python\"\n\
            base = \"docker.io/databricksruntime/minimal@sha256:0000000000000000000000000000000000000000000000000000000000000004\"\n\
            python = \"3.8\"  # the runtime's CPython\n\
            python-prefix = \"/databricks/python3\"\npython-venv = \"system-site-packages\"\n\n\
            [repositories]\npypi = [\"https://pypi.org/simple\"]\n",
        fixtures: &[("https://pypi.org/simple", "pypi/simple")],
        resolve_args: &["--exclude-newer", "2022-03-01T00:00:00Z"],
    },
    RealImage {
        name: "databricks-r",
        manifest: "examples/databricks/r/Dockerfile",
        starting_spec: "# Databricks Runtime 10.4's R image: its settings, by hand.\n\
            [image]\nname = \"databricks-r\"\n\
            base = \"docker.io/databricksruntime/python@sha256:0000000000000000000000000000000000000000000000000000000000000005\"\n\
            r = \"4.1.2\"\nr-library = \"/usr/local/lib/R/site-library\"\n\n\
            [repositories]\ncran = [\"https://cloud.r-project.org\"]  # CRAN itself\n",
        fixtures: &[
            ("https://cloud.r-project.org", "examples/cran"),
            (
                "https://mran.microsoft.com/snapshot/2017-08-01",
                "examples/mran-2017-08-01",
            ),
            ("http://rforge.net", "examples/rforge"),
        ],
        resolve_args: &[],
    },
    RealImage {
        name: "dask-chtc",
        manifest: "examples/dask-chtc/Dockerfile",
        starting_spec: "# The Dask-CHTC worker: its settings, by hand.\n\
            [image]\nname = \"dask-chtc-worker\"\n\
            base = \"docker.io/pytorch/pytorch@sha256:0000000000000000000000000000000000000000000000000000000000000003\"\n\
            glibc = \"2.17\"\n\n\
            [repositories]\n\
            conda = [\"https://repo.anaconda.com/pkgs/main\",   # the image's `defaults`\n\
            \x20        \"https://conda.anaconda.org/conda-forge\"]\n",
        fixtures: &[
            ("https://repo.anaconda.com/pkgs/main", "examples/conda/main"),
            (
                "https://conda.anaconda.org/conda-forge",
                "examples/conda/conda-forge",
            ),
        ],
        resolve_args: &[],
    },
    RealImage {
        name: "doazureparallel",
        manifest: "examples/doazureparallel/cluster.json",
        starting_spec: "# A doAzureParallel node: its settings, by hand.\n\
            [image]\nname = \"doazureparallel-node\"\n\
            base = \"docker.io/rocker/r-ver:3.4.2@sha256:0000000000000000000000000000000000000000000000000000000000000002\"\n\n\
            [repositories]\ncran = [\"https://cloud.r-project.org\"]\n\
            bioconductor = \"https://bioconductor.org\"  # a mirror: packages/<release>/bioc below it\n\
            github = \"https://api.github.com\"\n",
        fixtures: &[
            ("https://cloud.r-project.org", "examples/cran"),
            ("https://bioconductor.org", "examples/bioc"),
        ],
        resolve_args: &[],
    },
];

#[test]
fn the_real_images_manifests_import_into_specs_that_resolve_against_the_fixtures() {
    let github = GithubServer::start();
    github.publish("Azure", "rAzureBatch", &"1".repeat(40), &["v0.6.2"], &[]);
    github.publish(
        "Azure",
        "doAzureParallel",
        &"2".repeat(40),
        &["v0.6.3"],
        &[],
    );
    for image in &REAL_IMAGES {
        let project = Project::new(image.starting_spec);
        let manifest = root().join(image.manifest);
        let file_name = manifest.file_name().unwrap().to_str().unwrap();
        std::fs::copy(&manifest, project.path(file_name)).unwrap();
        let output = project.run(&["import", file_name]);
        assert!(
            output.status.success(),
            "{}: {}",
            image.name,
            output_text(&output)
        );
        let spec = std::fs::read_to_string(project.path("imglock.toml")).unwrap();
        golden(&format!("real-{}.toml", image.name), &spec);
        golden(&format!("real-{}.notes", image.name), &stderr(&output));
        let mut pointed = spec.clone();
        for (real, fixture) in image.fixtures {
            let url = url::Url::from_directory_path(fixtures().join(fixture)).unwrap();
            let url = url.as_str().trim_end_matches('/').to_string();
            pointed = pointed.replace(&format!("\"{real}\""), &format!("\"{url}\""));
        }
        pointed = pointed.replace(
            "\"https://api.github.com\"",
            &format!("\"{}\"", github.api()),
        );
        project.write_spec(&pointed);
        let mut args = vec!["resolve"];
        args.extend(image.resolve_args);
        let output = project.run(&args);
        assert!(
            output.status.success(),
            "{}: {}\n{pointed}",
            image.name,
            output_text(&output)
        );
        let lock = project.lock().unwrap();
        for wanted in wanted_in_lock(image.name) {
            assert!(
                lock.contains(wanted),
                "{}: the lock lacks {wanted}:\n{lock}",
                image.name
            );
        }
    }
}

/// What each real image's lock must hold: its requests, from where the manifest said.
fn wanted_in_lock(image: &str) -> &'static [&'static str] {
    match image {
        "databricks-python" => &[
            "name = \"mlflow\"",
            "version = \"1.19.0\"",
            "name = \"alembic\"",
        ],
        "databricks-r" => &[
            "mran-2017-08-01/src/contrib/hwriterPlus_",
            "rforge/src/contrib/Rserve_",
            "examples/cran/src/contrib/htmltools_",
        ],
        "dask-chtc" => &[
            "conda/conda-forge/noarch/skorch-",
            "conda/main/linux-64/tini-0.18.0",
        ],
        _ => &[
            "1111111111111111111111111111111111111111",
            "3.6/bioc/src/contrib/IRanges_",
            "foreach_1.5.2.tar.gz",
        ],
    }
}

#[test]
fn init_writes_a_commented_starter_spec_and_never_overwrites_one() {
    let project = Project::new("");
    std::fs::remove_file(project.path("imglock.toml")).unwrap();
    let args = [
        "init",
        "--base",
        "docker.io/rocker/r-ver:4.4.1",
        "--name",
        "analysis",
    ];
    let output = project.run(&args);
    assert!(output.status.success(), "{}", output_text(&output));
    let written = std::fs::read_to_string(project.path("imglock.toml")).unwrap();
    golden("init.toml", &written);
    let again = project.run(&args);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("exists already"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        std::fs::read_to_string(project.path("imglock.toml")).unwrap(),
        written
    );
    // A starter is where imports go: below its comments.
    copy_dir(
        &root().join("tests/import/requirements"),
        project.dir.path(),
    );
    let output = project.run(&["import", "base.txt"]);
    assert!(output.status.success(), "{}", output_text(&output));
    golden(
        "init-then-import.toml",
        &std::fs::read_to_string(project.path("imglock.toml")).unwrap(),
    );
}

#[test]
fn add_and_remove_keep_the_specs_comments_and_layout() {
    let project = case_project("edit");
    let steps: [&[&str]; 4] = [
        &[
            "add",
            "--no-resolve",
            "--layer",
            "python",
            "six==1.16.0",
            "numpy==1.18.5",
        ],
        &[
            "add",
            "--no-resolve",
            "--layer",
            "r",
            "--ecosystem",
            "cran",
            "digest (>= 0.6)",
        ],
        &[
            "add",
            "--no-resolve",
            "--layer",
            "jobs",
            "--ecosystem",
            "maven",
            "org.jdbi:jdbi:2.78",
        ],
        &["remove", "--no-resolve", "scipy", "Digest"],
    ];
    let mut said = String::new();
    for args in steps {
        let output = project.run(args);
        said.push_str(&format!(
            "$ imglock {}\n{}",
            args.join(" "),
            stderr(&output)
        ));
        if args[0] == "remove" {
            // R names are case-sensitive: `Digest` is not `digest`.
            assert_eq!(output.status.code(), Some(2), "{said}");
            continue;
        }
        assert!(output.status.success(), "{said}");
    }
    let output = project.run(&["remove", "--no-resolve", "scipy"]);
    said.push_str(&format!(
        "$ imglock remove --no-resolve scipy\n{}",
        stderr(&output)
    ));
    assert!(output.status.success(), "{said}");
    golden(
        "edit.toml",
        &std::fs::read_to_string(project.path("imglock.toml")).unwrap(),
    );
    golden("edit.out", &said);
}

#[test]
fn add_and_remove_refuse_what_they_cannot_do_and_leave_the_spec_as_it_was() {
    let project = case_project("edit");
    let before = std::fs::read_to_string(project.path("imglock.toml")).unwrap();
    let refused: [(&[&str], &str); 5] = [
        (
            &["remove", "--no-resolve", "pandas", "sipy"],
            "requests no package `sipy`; did you mean `scipy`?",
        ),
        (
            &["remove", "--no-resolve", "--layer", "pyton", "six"],
            "no layer `pyton`; did you mean `python`?",
        ),
        (
            &["add", "--no-resolve", "--layer", "mixed", "requests"],
            "it has cran, pypi): say `--ecosystem KIND`",
        ),
        (
            &["add", "--no-resolve", "--layer", "python", "numpy=="],
            "`numpy==` is not a valid pypi request",
        ),
        (
            &["add", "--no-resolve", "--layer", "new", "x"],
            "it has none yet",
        ),
    ];
    for (args, message) in refused {
        assert_refused(&project, args, message);
        let after = std::fs::read_to_string(project.path("imglock.toml")).unwrap();
        assert_eq!(after, before, "{args:?} changed the spec");
    }
}

#[test]
fn add_resolves_the_spec_and_puts_it_back_when_the_resolve_fails() {
    let cran = url::Url::from_directory_path(fixtures().join("cran")).unwrap();
    let spec = format!(
        "# fixture CRAN\n[image]\nname = \"t\"\nbase = \"docker.io/rocker/r-ver:4.2.2@sha256:{}\"\nr = \"4.2.2\"\n\n\
         [repositories]\ncran = [\"{}\"]\n\n[[layer]]\nname = \"r\"\ncran = [\"usehdr\"]\n",
        "a".repeat(64),
        cran.as_str().trim_end_matches('/')
    );
    let project = Project::new(&spec);
    let output = project.run(&["add", "plotkit (>= 3.0)"]);
    assert!(output.status.success(), "{}", output_text(&output));
    let lock = project.lock().unwrap();
    assert!(lock.contains("name = \"plotkit\""), "{lock}");
    let edited = std::fs::read_to_string(project.path("imglock.toml")).unwrap();
    assert!(
        edited.contains("cran = [\"usehdr\", \"plotkit (>= 3.0)\"]"),
        "{edited}"
    );
    let output = project.run(&["add", "notapackage"]);
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    assert!(
        stderr(&output).contains("put back as it was"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(project.path("imglock.toml")).unwrap(),
        edited
    );
    assert_eq!(project.lock().unwrap(), lock);
    let output = project.run(&["remove", "plotkit"]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert!(!project.lock().unwrap().contains("name = \"plotkit\""));
}

/// Runs `imglock ARGS`, which must fail (exit 2) saying `message`.
fn assert_refused(project: &Project, args: &[&str], message: &str) {
    let output = project.run(args);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{args:?}: {}",
        output_text(&output)
    );
    assert!(
        stderr(&output).contains(message),
        "{args:?}: {}",
        stderr(&output)
    );
}

#[test]
fn import_errors_say_which_file_and_what_to_do() {
    let project = case_project("errors");
    let failures: [(&[&str], &str); 4] = [
        (
            &["import", "notes.md"],
            "cannot tell what kind of manifest `notes.md` is",
        ),
        (
            &["import", "empty.txt"],
            "nothing in `empty.txt` could be imported",
        ),
        (
            &["import", "cycle-a.txt"],
            "includes itself through `-r`/`-c`",
        ),
        (
            &["import", "renv.lock"],
            "`renv.lock` is not a valid renv.lock",
        ),
    ];
    for (args, message) in failures {
        assert_refused(&project, args, message);
        assert!(
            !project.path("imglock.toml").exists(),
            "{args:?} wrote a spec"
        );
    }
    let output = project.run(&["import", "empty.txt"]);
    assert!(
        stderr(&output).contains("note: empty.txt:2: `--no-binary :all:`"),
        "{}",
        stderr(&output)
    );
    let output = project.run(&["import", "--from", "requirements", "notes.md"]);
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    assert!(
        stderr(&output).contains("note: notes.md:1: `Some notes.`: not a PEP 508"),
        "{}",
        stderr(&output)
    );
}
