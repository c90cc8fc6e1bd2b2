//! Test support: a real HTTP/1.1 server on 127.0.0.1 that serves a fixture folder, with faults
//! (status codes, truncated bodies, resets, latency) injected per path; and helpers to run the
//! `imglock` binary against it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

pub mod mixed;
pub mod pypi_sets;
mod server;
// Benches include this module too and use no faults.
#[allow(unused_imports)]
pub use server::{Fault, Server};

/// The project's fixture folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A copy of the fixture repositories in a temporary folder, for tests that change them.
pub fn fixture_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for repo in ["cran", "cran-next", "bioc"] {
        copy_dir(&fixtures().join(repo), &dir.path().join(repo));
    }
    dir
}

/// Every regular file below `directory`.
pub fn walk(directory: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A working folder with a spec, its own cache, and the binary to run in it.
pub struct Project {
    pub dir: tempfile::TempDir,
    pub cache: tempfile::TempDir,
}

impl Project {
    /// A project whose `imglock.toml` is `spec`.
    pub fn new(spec: &str) -> Self {
        let project = Self {
            dir: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
        };
        project.write_spec(spec);
        project
    }

    pub fn write_spec(&self, spec: &str) {
        std::fs::write(self.dir.path().join("imglock.toml"), spec).unwrap();
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The lock's text, if one was written.
    pub fn lock(&self) -> Option<String> {
        std::fs::read_to_string(self.path("imglock.lock")).ok()
    }

    /// Runs `imglock ARGS` in the project with its cache.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    /// Runs `imglock ARGS` with extra environment variables.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(args, env).output().expect("run imglock")
    }

    /// The command `imglock ARGS` in the project with its cache and extra environment variables,
    /// not started.
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_imglock"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("IMGLOCK_CACHE_DIR", self.cache.path())
            .env_remove("RAYON_NUM_THREADS")
            // A developer's GitHub token is never sent to a test server.
            .env_remove("GITHUB_TOKEN")
            .env_remove("GITHUB_PAT")
            // Nor their netrc's or environment's credentials (an empty netrc hides ~/.netrc).
            .env("NETRC", "/dev/null")
            .env_remove("IMGLOCK_KEYRING_PROVIDER");
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("IMGLOCK_AUTH_") {
                command.env_remove(key);
            }
        }
        for (key, value) in env {
            command.env(key, value);
        }
        command
    }

    /// `imglock verify IMAGE --format json`, which must find the image clean: its report.
    pub fn verify_clean(&self, image: &Path) -> serde_json::Value {
        let output = self.run(&["verify", image.to_str().unwrap(), "--format", "json"]);
        assert_eq!(output.status.code(), Some(0), "{}", output_text(&output));
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

/// Runs `command` to its end and returns what it printed; kills it (and gives `None`) when it
/// has not finished within `limit`, so that a hang fails a test instead of stalling it.
pub fn output_within(mut command: std::process::Command, limit: Duration) -> Option<Output> {
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the command");
    // Both pipes are read meanwhile, so a chatty child never blocks on a full pipe.
    let read = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    status.map(|status| Output {
        status,
        stdout,
        stderr,
    })
}

/// A gzip stream that expands to `expanded` zero bytes: a compression bomb (about a
/// thousandth of its expanded size).
pub fn gzip_bomb(expanded: usize) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..expanded / zeros.len() {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.write_all(&zeros[..expanded % zeros.len()]).unwrap();
    encoder.finish().unwrap()
}

/// A zstd frame that expands to `expanded` zero bytes: a compression bomb (far smaller than
/// gzip's).
pub fn zstd_bomb(expanded: usize) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 19).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..expanded / zeros.len() {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.write_all(&zeros[..expanded % zeros.len()]).unwrap();
    encoder.finish().unwrap()
}

/// The sha256 of `bytes`, in lowercase hexadecimal.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// stdout then stderr of a run, as text.
pub fn output_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Compares `produced` with the golden file tests/golden/`name` (re-creates it under
/// `IMGLOCK_BLESS`, for review).
pub fn golden(name: &str, produced: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("IMGLOCK_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, produced).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no golden file {}: IMGLOCK_BLESS=1 creates it",
            path.display()
        )
    });
    assert_eq!(
        produced,
        expected,
        "output drifted from {}; if intended, re-create it with IMGLOCK_BLESS=1 and review the diff",
        path.display()
    );
}

/// stderr of a run, as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A spec with the standard image section, the given repositories and layers.
pub fn spec(repositories: &str, layers: &str) -> String {
    format!(
        "[image]\nname = \"test\"\nbase = \"docker.io/rocker/r-ver:4.2.2@sha256:{}\"\nr = \"4.2.2\"\n\n[repositories]\n{repositories}\n\n{layers}\n",
        "a".repeat(64)
    )
}

/// `to` relative to the folder `from` (both absolute), with `/` separators.
pub fn relative_path(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

pub mod cold_caches;
pub mod conda;
pub mod github;
pub mod locks;
pub mod maven_central;
pub mod oci_layout;
pub mod pki;
pub mod registry;
pub mod token;

mod corpora;
pub use corpora::{available, shared_corpus};

/// The test base image scripts/base-image.sh builds into buildah's storage.
pub const TEST_BASE_IMAGE: &str = "localhost/imglock-test-base:bookworm-r-python-conda";

/// The digest of [`TEST_BASE_IMAGE`], when buildah has it.
pub fn test_base_digest() -> Option<String> {
    let output = std::process::Command::new("buildah")
        .args([
            "inspect",
            "--type",
            "image",
            "--format",
            "{{.FromImageDigest}}",
        ])
        .arg(TEST_BASE_IMAGE)
        .env("STORAGE_DRIVER", "vfs")
        .output()
        .ok()?;
    let digest = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (output.status.success() && digest.starts_with("sha256:")).then_some(digest)
}

/// Whether this machine's `python3` makes virtualenvs (the Python install tests stand one in for
/// the image's environment); under `CI=true` its absence fails.
pub fn python_venv_available() -> bool {
    available(
        runs("python3", &["-m", "venv", "--help"]),
        "python3 -m venv is not available",
    )
}

#[test]
fn a_missing_tool_or_corpus_fails_under_ci_and_skips_elsewhere() {
    use corpora::available_in;
    assert!(available_in(true, "here", true));
    assert!(!available_in(false, "R is not installed", false));
    let failed = std::panic::catch_unwind(|| available_in(false, "R is not installed", true));
    assert!(
        failed.is_err(),
        "under CI a missing tool must fail the test"
    );
}

/// An error and all its causes, one line each.
pub fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!("\n  {cause}"));
        source = cause.source();
    }
    text
}

/// Whether `program ARGS…` runs and exits 0.
pub fn runs(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Indexes the source tarballs of the CRAN-like `contrib` folder (`src/contrib`) as CRAN does,
/// with real R's `tools::write_PACKAGES`.
pub fn write_packages(contrib: &Path) {
    let index = format!(
        "invisible(tools::write_PACKAGES('{}', type = 'source'))",
        contrib.display()
    );
    let output = std::process::Command::new("Rscript")
        .args(["-e", &index])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

/// Runs `imglock ARGS` in `dir`, with its cache in `dir/cache`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_imglock"))
        .args(args)
        .current_dir(dir)
        .env("IMGLOCK_CACHE_DIR", dir.join("cache"))
        .output()
        .expect("run imglock")
}

/// A work folder holding `imglock.lock`, resolved from the mixed example
/// (examples/mixed-fixture: every ecosystem, through `file:` paths).
pub fn resolved_mixed_example() -> tempfile::TempDir {
    let spec = mixed::example_spec();
    let work = tempfile::tempdir().unwrap();
    let output = run_in(
        work.path(),
        &[
            "resolve",
            "--spec",
            spec.to_str().unwrap(),
            "--lock",
            "imglock.lock",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    work
}

/// The library's resolve of `spec` (no progress), its lock beside it (a lock already there is
/// preferred, as `imglock resolve` does), with the cache in `cache` and, when given,
/// `--exclude-newer`: how the benches resolve in-process.
pub fn library_resolve(
    spec: &Path,
    cache: &Path,
    exclude_newer: Option<&str>,
) -> imglock::resolve::ResolveReport {
    let lock = spec.with_file_name("imglock.lock");
    imglock::resolve::resolve(&imglock::resolve::ResolveOptions {
        spec: spec.to_path_buf(),
        lock: Some(lock),
        offline: false,
        refresh: false,
        upgrade: false,
        upgrade_packages: Vec::new(),
        exclude_newer: exclude_newer.map(|instant| instant.parse().expect("a valid instant")),
        no_build: false,
        no_build_packages: Vec::new(),
        cache: imglock::fetch::Cache::at(cache),
        progress: imglock::progress::Progress::hidden(),
        write: imglock::resolve::LockWrite::Write,
    })
    .unwrap()
}

/// [`library_resolve`] with no lock beside the spec: a first resolve, as `uv pip compile` or
/// py-rattler's solve make.
pub fn first_resolve(
    spec: &Path,
    cache: &Path,
    exclude_newer: Option<&str>,
) -> imglock::resolve::ResolveReport {
    let _ = std::fs::remove_file(spec.with_file_name("imglock.lock"));
    library_resolve(spec, cache, exclude_newer)
}

/// The library's fetcher over the cache folder `cache`, online, with no progress and the
/// default limits: for tests and benches that drive an ecosystem's store directly.
pub fn library_fetcher(cache: &Path) -> imglock::fetch::Fetcher {
    imglock::fetch::Fetcher::new(imglock::fetch::FetchOptions {
        cache: imglock::fetch::Cache::at(cache),
        offline: false,
        refresh: false,
        progress: imglock::progress::Progress::hidden(),
        limits: Default::default(),
    })
    .unwrap()
}

/// Of `arrivals` (what was asked and when), those asked a whole `latency` or more after the
/// earliest, each with how long after: what did not go out in the first round of requests.
pub fn after_first_round(arrivals: &[(String, Instant)], latency: Duration) -> Vec<String> {
    let Some(first) = arrivals.iter().map(|(_, at)| *at).min() else {
        return Vec::new();
    };
    arrivals
        .iter()
        .filter(|(_, at)| at.duration_since(first) >= latency)
        .map(|(what, at)| format!("{what} after {:?}", at.duration_since(first)))
        .collect()
}
