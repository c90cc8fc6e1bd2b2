//! Image families: a spec that `extends` a parent takes the parent's layers as its lock pins
//! them (never resolved again), resolves only its own on top, and its lock holds the whole
//! image; `check` notices a parent lock that moved; loops, layer names shared with a parent and
//! another base image are refused.

use crate::support::{Project, Server, fixtures, output_text, sha256_hex, stderr};

/// The `--exclude-newer` of the PyPI recording.
const EXCLUDE_NEWER: &str = crate::pypi::EXCLUDE_NEWER;

/// The grandparent: R's plotkit on the base image, and a config file copied from its folder.
pub(crate) fn base_r(cran: &Server) -> String {
    format!(
        "[image]\nname = \"base-r\"\nbase = \"docker.io/rocker/r-ver:4.2.2@sha256:{}\"\nr = \"4.2.2\"\npython = \"3.8\"\n\n[repositories]\ncran = [\"{}/cran\"]\n\n[[layer]]\nname = \"r-core\"\ncran = [\"plotkit\"]\nsteps = [{{ copy = \"conf/r.conf\", to = \"/etc/r/\" }}]\n",
        "a".repeat(64),
        cran.url()
    )
}

/// A child of `parent` (a path from its folder) named `name` with one PyPI layer `layer`.
fn child(parent: &str, name: &str, pypi: &Server, layer: &str, requirements: &str) -> String {
    format!(
        "extends = \"{parent}\"\n\n[image]\nname = \"{name}\"\n\n[repositories]\npypi = \"{}/simple\"\n\n[[layer]]\nname = \"{layer}\"\npypi = [{requirements}]\n",
        pypi.url()
    )
}

/// A folder of specs, one per image, sharing a cache.
pub(crate) fn family() -> Project {
    let project = Project::new("");
    std::fs::create_dir_all(project.path("base-r/conf")).unwrap();
    std::fs::write(project.path("base-r/conf/r.conf"), "threads = 2\n").unwrap();
    project
}

pub(crate) fn write(project: &Project, path: &str, text: &str) {
    let path = project.path(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

pub(crate) fn resolve(project: &Project, spec: &str) -> std::process::Output {
    project.run(&["resolve", "--spec", spec, "--exclude-newer", EXCLUDE_NEWER])
}

pub(crate) fn resolve_ok(project: &Project, spec: &str) -> String {
    lock_of(project, spec, resolve(project, spec))
}

/// The lock a successful resolve of `spec` wrote.
pub(crate) fn lock_of(project: &Project, spec: &str, output: std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{spec}: {}\n{}",
        output_text(&output),
        std::fs::read_to_string(project.path(spec)).unwrap()
    );
    let lock = std::path::Path::new(spec).with_file_name("imglock.lock");
    std::fs::read_to_string(project.path(lock.to_str().unwrap())).unwrap()
}

/// The `[[layer]]` sections of a lock, from the first on.
fn layers(lock: &str) -> &str {
    &lock[lock.find("\n[[layer]]\n").expect("a layer")..]
}

/// The `[[layer.package]]` tables of a lock, each whole.
pub(crate) fn package_tables(lock: &str) -> Vec<String> {
    layers(lock)
        .split("\n[[")
        .filter(|table| table.starts_with("layer.package]]"))
        .map(|table| format!("\n[[{table}"))
        .collect()
}

/// base-r ← python (urllib3) ← app (requests) and ← tools (idna), each resolved with the
/// repositories of its own layers only: each parent's server is stopped before its children
/// resolve (the children's stays up).
struct Chain {
    project: Project,
    /// The children's PyPI server (the ancestors' are stopped).
    pypi: Server,
    base_r: String,
    python: String,
    app: String,
    tools: String,
}

fn chain() -> Chain {
    let project = family();
    let cran = Server::start(&fixtures());
    write(&project, "base-r/imglock.toml", &base_r(&cran));
    let base_r = resolve_ok(&project, "base-r/imglock.toml");
    drop(cran);
    let pypi = Server::start(&crate::pypi::fixtures());
    let python = child(
        "../base-r/imglock.toml",
        "python",
        &pypi,
        "py-base",
        "\"urllib3==1.26.5\"",
    );
    write(&project, "python/imglock.toml", &python);
    let python = resolve_ok(&project, "python/imglock.toml");
    drop(pypi);
    let pypi = Server::start(&crate::pypi::fixtures());
    let app = child(
        "../python/imglock.toml",
        "app",
        &pypi,
        "py-app",
        "\"requests==2.27.1\"",
    );
    write(&project, "app/imglock.toml", &app);
    let tools = child(
        "../python/imglock.toml",
        "tools",
        &pypi,
        "py-tools",
        "\"idna==3.3\"",
    );
    write(&project, "tools/imglock.toml", &tools);
    let app = resolve_ok(&project, "app/imglock.toml");
    let tools = resolve_ok(&project, "tools/imglock.toml");
    Chain {
        project,
        pypi,
        base_r,
        python,
        app,
        tools,
    }
}

#[test]
fn children_take_their_parents_layers_as_locked_and_resolve_only_their_own() {
    let Chain {
        project,
        pypi: _pypi,
        base_r,
        python,
        app,
        tools,
    } = chain();
    // Every pin of every ancestor, byte for byte, in each descendant's lock.
    for (parent, children) in [
        (&base_r, [&python, &app, &tools]),
        (&python, [&app, &tools, &python]),
    ] {
        for table in package_tables(parent) {
            for child in children {
                assert!(child.contains(&table), "{table}\nnot in:\n{child}");
            }
        }
    }
    // The leaves sharing `python` share its layers exactly: the same text up to their own.
    let shared = |lock: &str| {
        let from = layers(lock);
        from[..from.find("name = \"py-").unwrap()].to_string()
    };
    assert_eq!(shared(&app), shared(&tools));
    let names = |lock: &str| -> Vec<String> {
        let value: toml::Value = toml::from_str(lock).unwrap();
        value["layer"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&app), ["r-core", "py-base", "py-app"]);
    assert_eq!(names(&tools), ["r-core", "py-base", "py-tools"]);
    // urllib3, which requests needs, is the parent's pin: not locked again in the child.
    let own = &app[app.find("name = \"py-app\"").unwrap()..];
    assert!(
        own.contains("name = \"requests\"") && !own.contains("name = \"urllib3\""),
        "{own}"
    );
    assert!(
        app.contains(&format!(
            "\n[parent]\nspec = \"../python/imglock.toml\"\nlock = \"../python/imglock.lock\"\nlock-sha256 = \"{}\"\n",
            sha256_hex(python.as_bytes())
        )),
        "{app}"
    );
    // The parent's `copy` names its file from the child's lock: emit finds it.
    assert!(app.contains("copy = \"../base-r/conf/r.conf\""), "{app}");
    for spec in ["base-r", "python", "app", "tools"] {
        let output = project.run(&["check", "--spec", &format!("{spec}/imglock.toml")]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{spec}: {}",
            output_text(&output)
        );
    }
    let output = project.run(&["emit", "--lock", "app/imglock.lock", "--out", "build"]);
    assert!(output.status.success(), "{}", output_text(&output));
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    let at = |text: &str| {
        dockerfile
            .find(text)
            .unwrap_or_else(|| panic!("no `{text}` in:\n{dockerfile}"))
    };
    assert!(
        at("plotkit") < at("/etc/r/")
            && at("/etc/r/") < at("urllib3")
            && at("urllib3") < at("requests"),
        "{dockerfile}"
    );
    assert_eq!(
        std::fs::read(project.path(&format!(
            "build/imglock-artifacts/{}/r.conf",
            sha256_hex(b"threads = 2\n")
        )))
        .unwrap(),
        b"threads = 2\n"
    );
    // Resolving a child again changes nothing, with the parent's servers still gone.
    let again = resolve_ok(&project, "app/imglock.toml");
    assert_eq!(again, app);
}

#[test]
fn check_notices_a_parent_lock_that_moved_and_a_stale_parent_stops_the_childs_resolve() {
    let Chain { project, pypi, .. } = chain();
    let check = |spec: &str| {
        let output = project.run(&["check", "--spec", spec, "--format", "json"]);
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        (
            output.status.code(),
            report["parent"].as_str().unwrap_or_default().to_string(),
        )
    };
    // The parent's spec changes: its lock is stale, and so is every child's.
    write(
        &project,
        "python/imglock.toml",
        &child(
            "../base-r/imglock.toml",
            "python",
            &pypi,
            "py-base",
            "\"urllib3==1.26.5\", \"idna==3.3\"",
        ),
    );
    let (code, parent) = check("app/imglock.toml");
    assert_eq!(code, Some(1));
    assert!(
        parent.contains("parent lock ../python/imglock.lock is stale"),
        "{parent}"
    );
    let output = resolve(&project, "app/imglock.toml");
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    assert!(
        stderr(&output).contains(
            "is stale (`python/imglock.toml` changed since it was resolved): run `imglock resolve --spec python/imglock.toml` first"
        ),
        "{}",
        stderr(&output)
    );
    // Re-resolved, the parent's lock moved: the child says so until it is resolved again.
    resolve_ok(&project, "python/imglock.toml");
    let (code, parent) = check("app/imglock.toml");
    assert_eq!(code, Some(1));
    assert!(
        parent == "parent lock ../python/imglock.lock changed: re-resolve",
        "{parent}"
    );
    let text = project.run(&["check", "--spec", "app/imglock.toml"]);
    assert!(
        output_text(&text).contains("changed: re-resolve"),
        "{}",
        output_text(&text)
    );
    let before = project.path("app-before.lock");
    std::fs::copy(project.path("app/imglock.lock"), &before).unwrap();
    let app = resolve_ok(&project, "app/imglock.toml");
    assert!(
        package_tables(&app)
            .iter()
            .any(|t| t.contains("name = \"idna\""))
    );
    // diff shows the parent's move with the packages it brought.
    let diff = project.run(&["diff", before.to_str().unwrap(), "app/imglock.lock"]);
    let shown = output_text(&diff);
    assert_eq!(diff.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("parent: ../python/imglock.toml (lock sha256 "),
        "{shown}"
    );
    assert!(shown.contains("idna"), "{shown}");
    assert_eq!(check("app/imglock.toml").0, Some(0));
    // A parent without a lock.
    std::fs::remove_file(project.path("python/imglock.lock")).unwrap();
    let output = resolve(&project, "tools/imglock.toml");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("whose lock `python/imglock.lock` cannot be read: run `imglock resolve --spec python/imglock.toml` first"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_loop_of_parents_is_refused_naming_its_files() {
    let project = family();
    let server = Server::start(&crate::pypi::fixtures());
    write(
        &project,
        "a/imglock.toml",
        &child("../b/imglock.toml", "a", &server, "la", "\"idna==3.3\""),
    );
    write(
        &project,
        "b/imglock.toml",
        &child("../c/imglock.toml", "b", &server, "lb", "\"idna==3.3\""),
    );
    write(
        &project,
        "c/imglock.toml",
        &child("../a/imglock.toml", "c", &server, "lc", "\"idna==3.3\""),
    );
    let output = resolve(&project, "a/imglock.toml");
    assert_eq!(output.status.code(), Some(2));
    let error = stderr(&output);
    assert!(error.contains("image families cannot loop"), "{error}");
    for file in ["a/imglock.toml", "b/imglock.toml", "c/imglock.toml"] {
        assert!(error.contains(file), "{file}: {error}");
    }
    write(
        &project,
        "a/imglock.toml",
        &child("imglock.toml", "a", &server, "la", "\"idna==3.3\""),
    );
    let error = stderr(&resolve(&project, "a/imglock.toml"));
    assert!(error.contains("image families cannot loop"), "{error}");
}

#[test]
fn a_child_keeps_its_parents_layer_names_and_base_image_apart() {
    let project = family();
    let cran = Server::start(&fixtures());
    let pypi = Server::start(&crate::pypi::fixtures());
    write(&project, "base-r/imglock.toml", &base_r(&cran));
    resolve_ok(&project, "base-r/imglock.toml");
    // A layer named like the grandparent's, two generations down.
    write(
        &project,
        "python/imglock.toml",
        &child(
            "../base-r/imglock.toml",
            "python",
            &pypi,
            "py-base",
            "\"idna==3.3\"",
        ),
    );
    write(
        &project,
        "app/imglock.toml",
        &child(
            "../python/imglock.toml",
            "app",
            &pypi,
            "r-core",
            "\"idna==3.3\"",
        ),
    );
    let error = stderr(&resolve(&project, "app/imglock.toml"));
    assert!(
        error.contains(
            "app/imglock.toml:10:8: layer `r-core` is already a layer of the parent image"
        ),
        "{error}"
    );
    // Another base image.
    let other = child(
        "../base-r/imglock.toml",
        "python",
        &pypi,
        "py-base",
        "\"idna==3.3\"",
    )
    .replace(
        "name = \"python\"\n",
        &format!(
            "name = \"python\"\nbase = \"docker.io/library/python:3.8-slim@sha256:{}\"\n",
            "b".repeat(64)
        ),
    );
    write(&project, "python/imglock.toml", &other);
    let output = resolve(&project, "python/imglock.toml");
    assert_eq!(output.status.code(), Some(2));
    let error = stderr(&output);
    assert!(
        error.contains("image.base = `docker.io/library/python:3.8-slim@sha256:"),
        "{error}"
    );
    assert!(
        error.contains("is not the parent's `docker.io/rocker/r-ver:4.2.2@sha256:"),
        "{error}"
    );
    // The parent's own base, written again, is the parent's.
    let same = other.replace(
        "library/python:3.8-slim@sha256:bbbb",
        "rocker/r-ver:4.2.2@sha256:aaaa",
    );
    let same = same.replace(&"b".repeat(60), &"a".repeat(60));
    write(&project, "python/imglock.toml", &same);
    resolve_ok(&project, "python/imglock.toml");
}

#[test]
fn a_parents_file_repositories_are_named_from_the_childs_lock_and_emit_finds_them() {
    let project = family();
    crate::support::copy_dir(&fixtures().join("cran"), &project.path("mirror/cran"));
    let cran = Server::start(&fixtures());
    let grandparent = base_r(&cran)
        .replace(&format!("{}/cran", cran.url()), "file:../mirror/cran")
        .replace(
            "steps = [",
            "files = [{ url = \"file:conf/tool.txt\", target = \"/opt/tool/\" }]\nsteps = [",
        );
    std::fs::write(project.path("base-r/conf/tool.txt"), "tool\n").unwrap();
    write(&project, "base-r/imglock.toml", &grandparent);
    let parent = resolve_ok(&project, "base-r/imglock.toml");
    assert!(
        parent.contains("url = \"file:../mirror/cran/src/contrib/plotkit_3.4.1.tar.gz\""),
        "{parent}"
    );
    write(
        &project,
        "leaves/app/imglock.toml",
        "extends = \"../../base-r/imglock.toml\"\n\n[image]\nname = \"app\"\n\n[[layer]]\nname = \"app\"\nsteps = [{ run = \"echo ready\" }]\n",
    );
    let app = resolve_ok(&project, "leaves/app/imglock.toml");
    for line in [
        "repository = \"file:../../mirror/cran\"\n",
        "url = \"file:../../mirror/cran/src/contrib/plotkit_3.4.1.tar.gz\"\n",
        "cran-repositories = [\"file:../../mirror/cran\"]\n",
        "copy = \"../../base-r/conf/r.conf\"\n",
        "url = \"file:../../base-r/conf/tool.txt\"\n",
        "\n[parent]\nspec = \"../../base-r/imglock.toml\"\nlock = \"../../base-r/imglock.lock\"\n",
    ] {
        assert!(app.contains(line), "{line}\nnot in:\n{app}");
    }
    let output = project.run(&[
        "emit",
        "--lock",
        "leaves/app/imglock.lock",
        "--out",
        "build",
    ]);
    assert!(output.status.success(), "{}", output_text(&output));
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("plotkit") && dockerfile.contains("RUN echo ready"),
        "{dockerfile}"
    );
    let tarball = std::fs::read(fixtures().join("cran/src/contrib/plotkit_3.4.1.tar.gz")).unwrap();
    let copied = crate::support::walk(&project.path("build/imglock-artifacts"))
        .into_iter()
        .any(|file| std::fs::read(file).unwrap() == tarball);
    assert!(copied, "plotkit's tarball is in the build context");
    let copied = crate::support::walk(&project.path("build/imglock-artifacts"))
        .into_iter()
        .any(|file| std::fs::read(file).unwrap() == b"tool\n");
    assert!(copied, "the parent's file is in the build context");
}

#[test]
fn a_parent_lock_named_in_the_table_form_is_the_one_read_and_checked() {
    let project = family();
    let cran = Server::start(&fixtures());
    write(&project, "base-r/imglock.toml", &base_r(&cran));
    let output = project.run(&[
        "resolve",
        "--spec",
        "base-r/imglock.toml",
        "--lock",
        "locks/base-r.lock",
    ]);
    assert!(output.status.success(), "{}", output_text(&output));
    drop(cran);
    write(
        &project,
        "leaf/imglock.toml",
        "extends = { spec = \"../base-r/imglock.toml\", lock = \"../locks/base-r.lock\" }\n\n[image]\nname = \"leaf\"\n\n[[layer]]\nname = \"leaf\"\nsteps = [{ run = \"echo leaf\" }]\n",
    );
    let leaf = resolve_ok(&project, "leaf/imglock.toml");
    assert!(
        leaf.contains(
            "\n[parent]\nspec = \"../base-r/imglock.toml\"\nlock = \"../locks/base-r.lock\"\n"
        ),
        "{leaf}"
    );
    let parent = std::fs::read_to_string(project.path("locks/base-r.lock")).unwrap();
    for table in package_tables(&parent) {
        assert!(leaf.contains(&table), "{table}\nnot in:\n{leaf}");
    }
    // The parent's copy file, named from the parent's lock folder there, from the child's here.
    assert!(
        parent.contains("copy = \"../base-r/conf/r.conf\""),
        "{parent}"
    );
    assert!(leaf.contains("copy = \"../base-r/conf/r.conf\""), "{leaf}");
    let check = project.run(&["check", "--spec", "leaf/imglock.toml"]);
    assert_eq!(check.status.code(), Some(0), "{}", output_text(&check));
    // No lock beside the parent spec is needed: none was written there.
    assert!(!project.path("base-r/imglock.lock").exists());
}
