//! The committed R fixtures are what real R makes: the fixture script, run with the installed R
//! (`R CMD build` + `tools::write_PACKAGES`), produces repositories that imglock reads the same way.
//! Skipped without R, except under `CI=true`, where a missing R is a failure.

use std::path::Path;
use std::process::Command;

use imglock::cran::{RepoIndex, RepoKind};
use imglock::repository::Repository;

fn packages(root: &Path, repo: &str) -> Vec<(String, String, Option<bool>, Vec<String>)> {
    let text = std::fs::read_to_string(root.join(repo).join("src/contrib/PACKAGES")).unwrap();
    let repository =
        Repository::parse("https://fixtures.invalid", Path::new("/"), Path::new("/")).unwrap();
    let index = RepoIndex::parse(repository, RepoKind::Cran, &text).unwrap();
    let mut names: Vec<&str> = index.names().collect();
    names.sort_unstable();
    names
        .into_iter()
        .map(|name| {
            let entry = index.entry(name).unwrap().unwrap();
            let dependencies = entry.dependencies.iter().map(ToString::to_string).collect();
            (
                name.to_string(),
                entry.version.to_string(),
                entry.needs_compilation,
                dependencies,
            )
        })
        .collect()
}

#[test]
fn the_fixture_script_rebuilds_the_committed_repositories_with_real_r() {
    if !crate::support::available(
        crate::support::runs("R", &["--version"]),
        "R is not installed",
    ) {
        return;
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("bash")
        .arg(fixtures.join("make-r-fixtures.sh"))
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    for repo in [
        "cran",
        "cran-next",
        "cran-sys",
        "bioc/packages/3.16/bioc",
        "bioc/packages/3.16/data/annotation",
        "bioc/packages/3.16/data/experiment",
        "bioc/packages/3.16/workflows",
    ] {
        let rebuilt = packages(out.path(), repo);
        assert_eq!(
            rebuilt,
            packages(&fixtures, repo),
            "{repo} differs from what R builds"
        );
        if repo == "cran" {
            assert!(
                rebuilt
                    .iter()
                    .any(|(name, _, compiled, _)| name == "fastsum" && *compiled == Some(true))
            );
        }
    }
    assert!(
        out.path()
            .join("cran/src/contrib/Archive/corekit/corekit_1.0.0.tar.gz")
            .is_file()
    );
}

/// The conda fixture channels are what their script writes, byte for byte, and every repodata
/// record describes the package file beside it (size, sha256, md5).
#[test]
fn the_conda_fixture_script_rewrites_the_committed_channels() {
    if !crate::support::available(
        crate::support::runs("python3", &["-c", "import zstandard"]),
        "the zstandard Python module is not installed",
    ) {
        return;
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/conda");
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(fixtures.join("make-channels.py"))
        .arg("--out")
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let mut checked = 0;
    for channel in ["main", "forge"] {
        for subdir in ["linux-64", "noarch"] {
            let dir = format!("{channel}/{subdir}");
            let committed = fixtures.join("channels").join(&dir);
            let rebuilt = out.path().join(&dir);
            let repodata = std::fs::read(committed.join("repodata.json")).unwrap();
            assert_eq!(
                repodata,
                std::fs::read(rebuilt.join("repodata.json")).unwrap(),
                "{dir}/repodata.json differs from what the script writes"
            );
            let json: serde_json::Value = serde_json::from_slice(&repodata).unwrap();
            for key in ["packages", "packages.conda"] {
                for (file, record) in json[key].as_object().unwrap() {
                    let bytes = std::fs::read(committed.join(file)).unwrap();
                    assert_eq!(bytes, std::fs::read(rebuilt.join(file)).unwrap(), "{file}");
                    assert_eq!(record["size"].as_u64(), Some(bytes.len() as u64), "{file}");
                    assert_eq!(
                        record["sha256"].as_str().unwrap(),
                        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
                        "{file}"
                    );
                    assert_eq!(
                        record["md5"].as_str().unwrap(),
                        hex::encode(<md5::Md5 as md5::Digest>::digest(&bytes)),
                        "{file}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 20, "{checked} package files checked");
}
