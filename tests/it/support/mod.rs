//! Test support: a real HTTP/1.1 server on 127.0.0.1 that serves a fixture folder, with faults
//! (status codes, truncated bodies, resets, latency) injected per path; and helpers to run the
//! `imglock` binary against it.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A fault served instead of (or on top of) the file, once per request, in order.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and no body.
    Status(u16),
    /// Announce the full length (and the full body's ETag) but send only half the body, then
    /// close.
    Truncate,
    /// Announce the full length, then send one byte every `interval`, at most `bytes` of them,
    /// then close.
    Drip { interval: Duration, bytes: usize },
    /// Close the connection without answering.
    Reset,
    /// Answer 200 without a `Content-Length` and send zeros until the client hangs up.
    Endless,
}

#[derive(Default)]
struct State {
    faults: HashMap<String, VecDeque<Fault>>,
    hits: HashMap<String, usize>,
    range_hits: HashMap<String, usize>,
    latency: Duration,
}

/// A file server on a free loopback port, stopped when dropped.
pub struct Server {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    /// Serves `root` on 127.0.0.1.
    pub fn start(root: &Path) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let root = root.to_path_buf();
        let thread = {
            let (state, stop) = (state.clone(), stop.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (state, root) = (state.clone(), root.clone());
                    thread::spawn(move || handle(stream, &root, &state));
                }
            })
        };
        Self {
            port,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// The server's base URL, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Queues faults for requests of `path` (like `/cran/src/contrib/PACKAGES.gz`).
    pub fn inject(&self, path: &str, faults: Vec<Fault>) {
        self.state
            .lock()
            .unwrap()
            .faults
            .entry(path.to_string())
            .or_default()
            .extend(faults);
    }

    /// Delays every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.state.lock().unwrap().latency = latency;
    }

    /// How many requests `path` received.
    pub fn hits(&self, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// How many requests for a byte range of `path` it received.
    pub fn range_hits(&self, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .range_hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// How many requests all paths received.
    pub fn total_hits(&self) -> usize {
        self.state.lock().unwrap().hits.values().sum()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn handle(mut stream: TcpStream, root: &Path, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut if_none_match = None;
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("if-none-match")
        {
            if_none_match = Some(value.trim().to_string());
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("range")
        {
            range = value.trim().strip_prefix("bytes=").map(str::to_string);
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let (fault, latency) = {
        let mut state = state.lock().unwrap();
        *state.hits.entry(path.clone()).or_default() += 1;
        let fault = state.faults.get_mut(&path).and_then(VecDeque::pop_front);
        (fault, state.latency)
    };
    if !latency.is_zero() {
        thread::sleep(latency);
    }
    let mut file = root.join(path.trim_start_matches('/'));
    // A folder is served by its PEP 691 page, as a Python package index serves a project.
    if file.is_dir() {
        file = file.join("index.json");
    }
    let body = if file.is_file() {
        std::fs::read(&file).ok()
    } else {
        None
    };
    let content_type = if file.ends_with("index.json") {
        "application/vnd.pypi.simple.v1+json"
    } else {
        "application/octet-stream"
    };
    match (fault, body) {
        (Some(Fault::Reset), _) => {
            let _ = stream.shutdown(Shutdown::Both);
        }
        (Some(Fault::Status(code)), _) => respond(&mut stream, code, None, "text/plain", &[]),
        (Some(Fault::Endless), _) => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let zeros = vec![0u8; 1 << 16];
            while stream.write_all(&zeros).is_ok() {}
        }
        (_, None) => respond(&mut stream, 404, None, "text/plain", b"not found"),
        (Some(Fault::Truncate), Some(body)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: {}\r\nConnection: close\r\n\r\n",
                body.len(),
                etag_of(&body)
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body[..body.len() / 2]);
            let _ = stream.flush();
            let _ = stream.shutdown(Shutdown::Both);
        }
        (Some(Fault::Drip { interval, bytes }), Some(body)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            for byte in body.iter().take(bytes) {
                let _ = stream.flush();
                thread::sleep(interval);
                if stream.write_all(&[*byte]).is_err() {
                    break;
                }
            }
            let _ = stream.flush();
            let _ = stream.shutdown(Shutdown::Both);
        }
        (None, Some(body)) if range.is_some() => {
            state
                .lock()
                .unwrap()
                .range_hits
                .entry(path.clone())
                .and_modify(|n| *n += 1)
                .or_insert(1);
            let spec = range.unwrap_or_default();
            let length = body.len();
            let (start, end) = match spec.split_once('-') {
                Some(("", suffix)) => (
                    length.saturating_sub(suffix.parse().unwrap_or(0)),
                    length - 1,
                ),
                Some((start, "")) => (start.parse().unwrap_or(0), length - 1),
                Some((start, end)) => (
                    start.parse().unwrap_or(0),
                    end.parse::<usize>().unwrap_or(0).min(length - 1),
                ),
                None => (0, length - 1),
            };
            let head = format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{end}/{length}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                end + 1 - start
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body[start..=end]);
            let _ = stream.flush();
        }
        (None, Some(body)) => {
            let etag = etag_of(&body);
            if if_none_match.as_deref() == Some(etag.as_str()) {
                respond(&mut stream, 304, Some(&etag), content_type, &[]);
            } else {
                respond(&mut stream, 200, Some(&etag), content_type, &body);
            }
        }
    }
    // Drain anything left so the client sees a clean close.
    let mut rest = Vec::new();
    let _ = stream.set_read_timeout(Some(Duration::from_millis(1)));
    let _ = reader.read_to_end(&mut rest);
}

fn respond(stream: &mut TcpStream, code: u16, etag: Option<&str>, content_type: &str, body: &[u8]) {
    let reason = match code {
        200 => "OK",
        304 => "Not Modified",
        404 => "Not Found",
        _ => "Error",
    };
    let mut head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        if code == 304 { 0 } else { body.len() }
    );
    if let Some(etag) = etag {
        head.push_str(&format!("ETag: {etag}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    if code != 304 {
        let _ = stream.write_all(body);
    }
    let _ = stream.flush();
}

/// The ETag the server gives a body.
fn etag_of(body: &[u8]) -> String {
    format!("\"{:x}-{}\"", fnv(body), body.len())
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

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
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_imglock"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("IMGLOCK_CACHE_DIR", self.cache.path())
            .env_remove("RAYON_NUM_THREADS");
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().expect("run imglock")
    }

    /// `imglock verify IMAGE --format json`, which must find the image clean: its report.
    pub fn verify_clean(&self, image: &Path) -> serde_json::Value {
        let output = self.run(&["verify", image.to_str().unwrap(), "--format", "json"]);
        assert_eq!(output.status.code(), Some(0), "{}", output_text(&output));
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

/// stdout then stderr of a run, as text.
pub fn output_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
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

pub mod conda;
pub mod locks;

mod corpora;
pub use corpora::{available, shared_corpus};

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

/// Whether `program ARGS…` runs and exits 0.
pub fn runs(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
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
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mixed-fixture/imglock.toml");
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
