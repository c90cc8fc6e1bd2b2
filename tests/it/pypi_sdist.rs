//! PyPI source distributions: their dependencies read from static sources (PKG-INFO 2.2+,
//! pyproject.toml `[project]`, `*.egg-info/requires.txt`, setup.cfg), never by running code;
//! the real sdists of the recording (alembic, databricks-cli, docopt, PyYAML) and hand-written
//! ones served from a copy of the fixture index; the two real sets against uv.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::Digest;

use crate::pypi::{assert_pins_match_uv, pins, resolve_at, serve_edited, set, set_exclude_newer};
use crate::support::{self, Server, stderr};

/// The date of the Databricks Runtime 10.4 set, whose recording holds alembic and databricks-cli.
fn databricks_date() -> String {
    set_exclude_newer("databricks-10.4")
}

#[test]
fn alembic_1_4_1_depends_on_what_its_egg_info_says() {
    let server = Server::start(&crate::pypi::fixtures());
    let (project, output) = resolve_at(
        &server,
        &[("py", &["alembic==1.4.1"])],
        &databricks_date(),
        &["--verbose"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let pins = pins(&project.lock().unwrap(), None);
    assert_eq!(pins["alembic"], "1.4.1");
    for dependency in ["sqlalchemy", "mako", "python-editor", "python-dateutil"] {
        assert!(pins.contains_key(dependency), "{dependency}: {pins:?}");
    }
    assert!(
        stderr(&output).contains(
            "alembic 1.4.1 is an sdist: its dependencies were read from *.egg-info/requires.txt"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn egg_info_marker_sections_and_an_egg_info_without_requires_txt() {
    let server = Server::start(&crate::pypi::fixtures());
    // databricks-cli 0.16.4: `[:python_version < "3.6"]` configparser does not apply on 3.8.
    let (project, output) = resolve_at(
        &server,
        &[("py", &["databricks-cli==0.16.4", "docopt==0.6.2"])],
        &databricks_date(),
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let pins = pins(&project.lock().unwrap(), None);
    for dependency in ["click", "requests", "tabulate", "six"] {
        assert!(pins.contains_key(dependency), "{dependency}: {pins:?}");
    }
    assert!(!pins.contains_key("configparser"), "{pins:?}");
    // docopt 0.6.2's egg-info has no requires.txt: no dependencies.
    let lock: toml::Value = toml::from_str(&project.lock().unwrap()).unwrap();
    let docopt = lock["layer"][0]["package"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str() == Some("docopt"))
        .unwrap()
        .clone();
    assert!(
        docopt
            .get("dependencies")
            .and_then(|d| d.as_array())
            .is_none_or(|d| d.is_empty()),
        "{docopt:?}"
    );
}

#[test]
fn an_sdist_with_no_static_source_is_named_with_the_sources_looked_at() {
    let server = Server::start(&crate::pypi::fixtures());
    let requirements = set("dask-worker");
    let refs: Vec<&str> = requirements.iter().map(String::as_str).collect();
    let (project, output) = resolve_at(
        &server,
        &[("py", &refs)],
        &set_exclude_newer("dask-worker"),
        &["--no-build"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    for part in [
        "pyyaml 5.3.1 has only a source distribution and no static source of its dependencies",
        "looked at: PKG-INFO (Metadata-Version 1.1; dependencies are static only from 2.2), pyproject.toml [project] (absent), *.egg-info/requires.txt (absent), setup.cfg [options] (no install_requires)",
        "PyYAML-5.3.1.tar.gz holds no static metadata, and `--no-build` forbids building it: pin a version of pyyaml that has a wheel",
    ] {
        assert!(message.contains(part), "missing {part:?} in:\n{message}");
    }
    assert!(project.lock().is_none());
}

/// A gzipped tar of `members` (paths and texts).
pub(crate) fn tar_gz(members: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (path, text) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, path, text.as_bytes())
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// Publishes the hand-written sdist `<project>-1.0.tar.gz` of `members` on the index at `root`:
/// its file under `files/hand/` and its project's page.
pub(crate) fn publish(root: &Path, project: &str, members: &[(&str, &str)]) {
    let top = format!("{project}-1.0");
    let members: Vec<(String, &str)> = members
        .iter()
        .map(|(path, text)| (format!("{top}/{path}"), *text))
        .collect();
    let refs: Vec<(&str, &str)> = members.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    let bytes = tar_gz(&refs);
    let filename = format!("{top}.tar.gz");
    std::fs::create_dir_all(root.join("files/hand")).unwrap();
    std::fs::write(root.join("files/hand").join(&filename), &bytes).unwrap();
    let page = serde_json::json!({
        "meta": {"api-version": "1.1"},
        "name": project,
        "files": [{
            "filename": filename,
            "hashes": {"sha256": hex::encode(sha2::Sha256::digest(&bytes))},
            "requires-python": null,
            "size": bytes.len(),
            "upload-time": "2022-01-01T00:00:00Z",
            "url": format!("../../files/hand/{filename}"),
            "yanked": false,
        }],
    });
    std::fs::create_dir_all(root.join("simple").join(project)).unwrap();
    std::fs::write(
        root.join("simple").join(project).join("index.json"),
        page.to_string(),
    )
    .unwrap();
}

/// PKG-INFO as setuptools writes it before Metadata 2.2 (no dependencies in it).
fn old_pkg_info(project: &str) -> String {
    format!("Metadata-Version: 1.2\nName: {project}\nVersion: 1.0\nRequires-Python: >=3.6\n")
}

#[test]
fn each_static_source_is_read_in_its_order_of_trust() {
    let pyproject_info = old_pkg_info("handmade-pyproject");
    let setup_cfg_info = old_pkg_info("handmade-setupcfg");
    let (_copy, server) = serve_edited(|root| {
        // pyproject.toml [project] wins over the egg-info (which would bring docopt).
        publish(
            root,
            "handmade-pyproject",
            &[
                ("PKG-INFO", &pyproject_info),
                (
                    "pyproject.toml",
                    "[project]\nname = \"handmade-pyproject\"\ndynamic = [\"version\"]\ndependencies = [\"attrs==21.4.0\"]\n\n[project.optional-dependencies]\nsocks = [\"PySocks>=1.5.6\"]\n",
                ),
                ("handmade_pyproject.egg-info/requires.txt", "docopt\n"),
            ],
        );
        // A pyproject.toml without [project], no egg-info: setup.cfg.
        publish(
            root,
            "handmade-setupcfg",
            &[
                ("PKG-INFO", &setup_cfg_info),
                (
                    "pyproject.toml",
                    "[build-system]\nrequires = [\"setuptools\"]\n",
                ),
                (
                    "setup.cfg",
                    "[metadata]\nname = handmade-setupcfg\n\n[options]\npython_requires = >=3.6\ninstall_requires =\n    idna==3.3\n    six; python_version < \"3\"\n",
                ),
            ],
        );
        // Metadata 2.2 PKG-INFO wins over everything else.
        publish(
            root,
            "handmade-pkginfo",
            &[
                (
                    "PKG-INFO",
                    "Metadata-Version: 2.2\nName: handmade-pkginfo\nVersion: 1.0\nDynamic: License\nRequires-Dist: certifi\n",
                ),
                ("handmade_pkginfo.egg-info/requires.txt", "six\n"),
            ],
        );
    });
    let (project, output) = resolve_at(
        &server,
        &[(
            "py",
            &[
                "handmade-pyproject[socks]",
                "handmade-setupcfg",
                "handmade-pkginfo",
            ],
        )],
        "2022-06-01T00:00:00Z",
        &["--verbose"],
    );
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    let pins: BTreeMap<String, String> = pins(&project.lock().unwrap(), None);
    let names: Vec<&str> = pins.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "attrs",
            "certifi",
            "handmade-pkginfo",
            "handmade-pyproject",
            "handmade-setupcfg",
            "idna",
            "pysocks"
        ]
    );
    assert_eq!(pins["attrs"], "21.4.0");
    assert_eq!(pins["idna"], "3.3");
    for (name, source) in [
        ("handmade-pyproject", "pyproject.toml [project]"),
        ("handmade-setupcfg", "setup.cfg [options]"),
        ("handmade-pkginfo", "PKG-INFO"),
    ] {
        let note = format!("{name} 1.0 is an sdist: its dependencies were read from {source}\n");
        assert!(text.contains(&note), "missing {note:?} in:\n{text}");
    }
}

#[test]
fn the_databricks_runtime_10_4_set_locks_as_uv_does() {
    if !support::available(support::runs("uv", &["--version"]), "uv is not installed") {
        return;
    }
    let server = Server::start(&crate::pypi::fixtures());
    assert_pins_match_uv(&format!("{}/simple", server.url()), "databricks-10.4");
}
