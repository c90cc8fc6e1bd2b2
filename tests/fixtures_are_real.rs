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
    if Command::new("R").arg("--version").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "R is not installed, and CI needs it: run scripts/test.sh"
        );
        eprintln!("skipped: R is not installed (scripts/test.sh installs it)");
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
