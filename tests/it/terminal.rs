//! `imglock resolve` on a real terminal: a pseudo-terminal made by `script` (util-linux), with
//! `CI` unset so progress is drawn, as when a user types the command. A resolve that does not
//! finish within the time limit (a deadlock on the terminal) fails the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Server, available, runs};

/// How long a resolve of a fixture spec may take on a terminal; they take about a second.
const LIMIT: Duration = Duration::from_secs(120);

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .join("imglock.toml")
}

/// Runs `imglock resolve --spec SPEC --lock LOCK` under `script`, and returns what the terminal
/// showed; fails the test when it hangs or fails.
fn resolve_on_a_terminal(spec: &Path) -> String {
    let work = tempfile::tempdir().unwrap();
    let lock = work.path().join("imglock.lock");
    let command = format!(
        "'{}' resolve --spec '{}' --lock '{}'",
        env!("CARGO_BIN_EXE_imglock"),
        spec.display(),
        lock.display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("CI")
        .env("IMGLOCK_CACHE_DIR", work.path().join("cache"))
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run script");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "`imglock resolve --spec {}` did not finish within {LIMIT:?} on a terminal; it showed:\n{}",
                spec.display(),
                String::from_utf8_lossy(&output.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(status.success(), "{}: {shown}", spec.display());
    assert!(
        lock.is_file(),
        "no lock written; the terminal showed:\n{shown}"
    );
    shown
}

fn has_script() -> bool {
    available(
        runs("script", &["--version"]),
        "`script` (util-linux) is not installed",
    )
}

#[test]
fn every_ecosystem_resolves_on_a_terminal() {
    if !has_script() {
        return;
    }
    for name in [
        "r-fixture",
        "conda-fixture",
        "maven-fixture",
        "mixed-fixture",
    ] {
        let shown = resolve_on_a_terminal(&example(name));
        assert!(shown.contains("Wrote"), "{name}: {shown}");
    }
}

/// PyPI over HTTP, where metadata comes from threads of their own while a bar is drawn: the
/// resolve that hung at "Fetching PyPI metadata 0/0".
#[test]
fn a_pypi_resolve_over_http_finishes_on_a_terminal() {
    if !has_script() {
        return;
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pypi");
    let server = Server::start(&fixtures);
    let work = tempfile::tempdir().unwrap();
    let spec = work.path().join("imglock.toml");
    std::fs::write(
        &spec,
        format!(
            "[image]\nname = \"py\"\nbase = \"docker.io/library/python@sha256:{}\"\npython = \"3.11\"\n\n\
             [repositories]\npypi = [\"{}/simple\"]\n\n\
             [[layer]]\nname = \"py\"\npypi = [\"requests[socks]==2.27.1\", \"certifi==2022.5.18.1\", \"charset-normalizer==2.0.12\", \"idna==3.3\", \"urllib3==1.26.9\"]\n",
            "a".repeat(64),
            server.url()
        ),
    )
    .unwrap();
    let shown = resolve_on_a_terminal(&spec);
    assert!(shown.contains("Wrote"), "{shown}");
}
