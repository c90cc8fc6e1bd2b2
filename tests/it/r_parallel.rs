//! Parallel R package builds inside a step (issue 18, item 3), in real buildah builds: the step
//! installing `twinsum`, `fastsum` (both compiled, independent) and `usehdr` (compiled, needs
//! fastsum) runs twinsum and fastsum at once with `emit --jobs 2` and starts usehdr only after
//! fastsum is in; a package that does not compile stops its step with its log and name, and
//! nothing waiting starts; `--jobs 1` and `--jobs 2` give the same layers. twinsum and the broken
//! package are fastsum's real source renamed, made by `R CMD build` and indexed by
//! `tools::write_PACKAGES` into a copy of the fixture CRAN repository.

use std::path::Path;
use std::process::{Command, Output};

use crate::image_build::{base_digest, buildah};
use crate::support::{
    Project, Server, TEST_BASE_IMAGE, copy_dir, fixture_copy, fixtures, output_text as text, stderr,
};

/// Publishes fastsum's source renamed to `name` (its C code followed by `extra_c`) in the CRAN
/// repository `cran`.
fn publish_renamed_fastsum(cran: &Path, name: &str, extra_c: &str) {
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join(name);
    copy_dir(&fixtures().join("r-src/fastsum/0.3.1/fastsum"), &source);
    for file in ["DESCRIPTION", "NAMESPACE", "R/fastsum.R", "src/fastsum.c"] {
        let path = source.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut renamed = text.replace("fastsum", name).replace("fast_sum", "the_sum");
        if file.ends_with(".c") {
            renamed.push_str(extra_c);
        }
        std::fs::write(&path, renamed).unwrap();
    }
    std::fs::rename(
        source.join("src/fastsum.c"),
        source.join(format!("src/{name}.c")),
    )
    .unwrap();
    std::fs::rename(
        source.join("R/fastsum.R"),
        source.join(format!("R/{name}.R")),
    )
    .unwrap();
    let output = Command::new("R")
        .args(["CMD", "build", "--no-build-vignettes", "--no-manual", name])
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let contrib = cran.join("src/contrib");
    let tarball = format!("{name}_0.3.1.tar.gz");
    std::fs::copy(work.path().join(&tarball), contrib.join(&tarball)).unwrap();
    crate::support::write_packages(&contrib);
}

/// The Dockerfile folder `out` of `project`'s lock emitted with `--jobs jobs`.
fn emit(project: &Project, out: &str, jobs: &str) {
    let output = project.run(&["emit", "--out", out, "--jobs", jobs]);
    assert!(output.status.success(), "{}", stderr(&output));
}

/// Builds `project`'s folder `out` with fixed timestamps, a layer per step and no layer cache: the build's output
/// and, when it succeeded, the image's layer digests (removing the image).
fn build(project: &Project, out: &str) -> (Output, Vec<String>) {
    let tag = format!("localhost/imglock-parallel-{}-{out}", std::process::id());
    let context = project.path(out).to_string_lossy().into_owned();
    let output = buildah(&[
        "bud",
        "--layers",
        "--no-cache",
        "--timestamp",
        "0",
        "-t",
        &tag,
        &context,
    ]);
    if !output.status.success() {
        return (output, Vec::new());
    }
    let format = "{{range .OCIv1.RootFS.DiffIDs}}{{.}} {{end}}";
    let inspect = buildah(&["inspect", "--type", "image", "--format", format, &tag]);
    assert!(inspect.status.success(), "{}", text(&inspect));
    let _ = buildah(&["rmi", "--force", &tag]);
    let layers = String::from_utf8_lossy(&inspect.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    (output, layers)
}

/// The position in `log` of the first line starting with `prefix`, if any.
fn line(log: &str, prefix: &str) -> Option<usize> {
    log.lines().position(|l| l.starts_with(prefix))
}

/// A project whose only layer requests `packages` from a copy of the fixture CRAN repository
/// that also holds twinsum and broken; the server must outlive the builds.
fn project(packages: &str, digest: &str) -> (Project, Server, tempfile::TempDir) {
    let copy = fixture_copy();
    let cran = copy.path().join("cran");
    publish_renamed_fastsum(&cran, "twinsum", "");
    publish_renamed_fastsum(
        &cran,
        "broken",
        "\n#error imglock test: this does not compile\n",
    );
    let server = Server::start(copy.path());
    let base = TEST_BASE_IMAGE.split(':').next().unwrap();
    let spec = format!(
        "[image]\nname = \"parallel\"\nbase = \"{base}@{digest}\"\nr = \"4.2.2\"\n\n\
         [repositories]\ncran = [\"{}/cran\"]\n\n[[layer]]\nname = \"r\"\ncran = [{packages}]\n",
        server.url()
    );
    let project = Project::new(&spec);
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    (project, server, copy)
}

#[test]
fn independent_packages_build_at_once_dependents_after_and_the_layers_do_not_change() {
    let Some(digest) = base_digest() else { return };
    let (project, _server, _copy) = project("\"twinsum\", \"fastsum\", \"usehdr\"", &digest);
    emit(&project, "parallel", "2");
    let (output, parallel) = build(&project, "parallel");
    let log = text(&output);
    assert!(output.status.success(), "{log}");
    let started = |name: &str| line(&log, &format!("imglock: started R package {name} "));
    let finished = |name: &str| line(&log, &format!("imglock: finished R package {name}"));
    let (twinsum, fastsum, usehdr) = (started("twinsum"), started("fastsum"), started("usehdr"));
    let first_done = finished("twinsum").min(finished("fastsum"));
    assert!(
        twinsum.is_some() && fastsum.is_some() && first_done.is_some(),
        "{log}"
    );
    assert!(
        twinsum.max(fastsum) < first_done,
        "twinsum and fastsum build at once: {log}"
    );
    assert!(
        log.contains("imglock: started R package fastsum (2 of 2 jobs"),
        "{log}"
    );
    assert!(
        usehdr > finished("fastsum"),
        "usehdr starts after fastsum is in: {log}"
    );
    // Each package's log is printed whole, framed by its name, after it finishes.
    let frame = line(&log, "imglock: ---- the log of R package usehdr").unwrap();
    let report = line(&log, "imglock: R package usehdr 0.1.0 built from source").unwrap();
    let end = line(&log, "imglock: ---- end of the log of R package usehdr").unwrap();
    assert!(frame < report && report < end, "{log}");

    emit(&project, "serial", "1");
    let (output, serial) = build(&project, "serial");
    assert!(output.status.success(), "{}", text(&output));
    assert!(parallel.len() > 3, "{parallel:?}");
    assert_eq!(serial, parallel, "the layers of --jobs 1 and --jobs 2");
}

#[test]
fn a_package_that_does_not_compile_stops_its_step_with_its_log_and_name() {
    let Some(digest) = base_digest() else { return };
    // The final step: broken and fastsum at once; usehdr waits for fastsum.
    let (project, _server, _copy) = project("\"broken\", \"fastsum\", \"usehdr\"", &digest);
    emit(&project, "build", "2");
    let (output, _) = build(&project, "build");
    let log = text(&output);
    assert!(!output.status.success(), "{log}");
    assert!(
        log.contains("imglock test: this does not compile"),
        "the compiler's error: {log}"
    );
    assert!(
        log.contains("imglock: building R package broken 0.3.1 failed"),
        "{log}"
    );
    assert!(
        log.contains("imglock: the R step stopped: R package broken failed (its log is above)"),
        "{log}"
    );
    assert!(
        line(&log, "imglock: finished R package fastsum").is_some(),
        "the running build is waited for: {log}"
    );
    assert!(
        line(&log, "imglock: started R package usehdr").is_none(),
        "nothing starts after the failure: {log}"
    );
    assert!(log.contains("not started: usehdr"), "{log}");
}
