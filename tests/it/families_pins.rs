//! Image families in each ecosystem: a child's own layers resolve on its parent's pins (R's,
//! conda's), which they cannot move, and a child that would lock a parent's package again is
//! refused.

use crate::families::{base_r, family, lock_of, package_tables, resolve, resolve_ok, write};
use crate::support::{Project, Server, fixtures, output_text, stderr};

#[test]
fn an_r_child_resolves_on_its_parents_r_pins_and_cannot_move_them() {
    let project = family();
    let cran = Server::start(&fixtures());
    write(&project, "base-r/imglock.toml", &base_r(&cran));
    let parent = resolve_ok(&project, "base-r/imglock.toml");
    drop(cran);
    let cran = Server::start(&fixtures());
    let leaf = |packages: &str| {
        format!(
            "extends = \"../base-r/imglock.toml\"\n\n[image]\nname = \"leaf\"\n\n[repositories]\ncran = [\"{}/cran\"]\n\n[[layer]]\nname = \"r-leaf\"\ncran = [{packages}]\n",
            cran.url()
        )
    };
    write(&project, "leaf/imglock.toml", &leaf("\"leafy\""));
    let lock = resolve_ok(&project, "leaf/imglock.toml");
    for table in package_tables(&parent) {
        assert!(lock.contains(&table), "{table}\nnot in:\n{lock}");
    }
    let own = &lock[lock.find("name = \"r-leaf\"").unwrap()..];
    let names: Vec<&str> = own
        .lines()
        .filter_map(|line| line.strip_prefix("name = "))
        .collect();
    assert_eq!(names, ["\"r-leaf\"", "\"leafy\""], "{own}");
    assert!(
        lock.contains(&format!("cran-repositories = [\"{}/cran\"]", cran.url())),
        "the child's own repositories: {lock}"
    );
    // wantsnew needs corekit (>= 2.0); the parent pins corekit 1.1-2.
    write(&project, "leaf/imglock.toml", &leaf("\"wantsnew\""));
    let output = resolve(&project, "leaf/imglock.toml");
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    let error = stderr(&output);
    assert!(error.contains("corekit"), "{error}");
    assert!(
        error.contains("r-core"),
        "names the parent's layer: {error}"
    );
}

#[test]
fn a_conda_child_holds_its_parents_conda_pins_or_says_why_it_cannot() {
    use crate::support::conda::{conda_channels, conda_spec};
    // The conda fixtures' dates are later than the PyPI recording's cutoff: no cutoff here.
    let conda = |project: &Project, spec: &str| project.run(&["resolve", "--spec", spec]);
    let project = family();
    let parent_server = Server::start(&conda_channels());
    let parent = conda_spec(
        &[format!("{}/main", parent_server.url())],
        "",
        &[("conda-base", &["python 3.8.10", "libzed 1.5.0"])],
    );
    write(&project, "base/imglock.toml", &parent);
    let parent = lock_of(
        &project,
        "base/imglock.toml",
        conda(&project, "base/imglock.toml"),
    );
    drop(parent_server);
    let server = Server::start(&conda_channels());
    let leaf = |channel: &str, specs: &str| {
        format!(
            "extends = \"../base/imglock.toml\"\n\n[image]\nname = \"leaf\"\n\n[repositories]\nconda = [\"{}/{channel}\"]\n\n[[layer]]\nname = \"leaf\"\nconda = [{specs}]\n",
            server.url()
        )
    };
    // From the parent's channel: the parent's pins hold (lz4ish's build for the parent's
    // python 3.8); zedcli needs libzed >=2.0, which the parent pins at 1.5.0.
    write(&project, "leaf/imglock.toml", &leaf("main", "\"lz4ish\""));
    let lock = lock_of(
        &project,
        "leaf/imglock.toml",
        conda(&project, "leaf/imglock.toml"),
    );
    for table in package_tables(&parent) {
        assert!(lock.contains(&table), "{table}\nnot in:\n{lock}");
    }
    let own = &lock[lock.find("[[layer]]\nname = \"leaf\"\n").unwrap()..];
    assert!(
        own.contains("build = \"py38h295c915_0\"") && !own.contains("name = \"python\""),
        "{own}"
    );
    write(&project, "leaf/imglock.toml", &leaf("main", "\"zedcli\""));
    let output = conda(&project, "leaf/imglock.toml");
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    // From a channel without the parent's python: the child would lock python again; refused.
    write(&project, "leaf/imglock.toml", &leaf("forge", "\"python\""));
    let output = conda(&project, "leaf/imglock.toml");
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    let error = stderr(&output);
    assert!(
        error.contains("locks conda package `python` 3.10.4 in its layer `leaf`, but its parent's lock `base/imglock.lock` pins it (3.8.10, layer `conda-base`)"),
        "{error}"
    );
}
