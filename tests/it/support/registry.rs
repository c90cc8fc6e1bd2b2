//! A real OCI registry on loopback for the tests that read images over the distribution API:
//! Debian's `docker-registry` (the CNCF distribution registry), started on a free 127.0.0.1
//! port with a configuration and storage in a temporary folder, stopped (its own process, by its
//! handle) when dropped. Images are put in it with `skopeo copy`. [`Registry::start_with_token`]
//! makes it ask for a bearer token, which a token server of the test hands to anyone
//! (`token.rs`), as Docker Hub does for public images.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::token::TokenServer;

/// A running registry.
pub struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
    /// The token server, when the registry asks for tokens.
    pub token: Option<TokenServer>,
}

/// The registry program Debian's `docker-registry` package installs.
const PROGRAM: &str = "docker-registry";

impl Registry {
    /// Starts a registry, or `None` (a skip; a failure under CI) when `docker-registry` is
    /// missing.
    pub fn start() -> Option<Self> {
        Self::start_with(None)
    }

    /// [`Registry::start`], for a registry that answers only requests with a bearer token, and
    /// a token server that gives one to anyone for `repositories`.
    pub fn start_with_token(repositories: &[&str]) -> Option<Self> {
        Self::start_with(Some(repositories))
    }

    /// [`Registry::start`], for a registry that answers only requests with HTTP basic
    /// authentication as `user` with `password` (an htpasswd file, its bcrypt hash made by
    /// Python's `crypt`).
    pub fn start_with_basic_auth(user: &str, password: &str) -> Option<Self> {
        let hash = Command::new("python3")
            .args(["-W", "ignore", "-c"])
            .arg("import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))")
            .arg(password)
            .output()
            .ok()
            .filter(|o| o.status.success() && o.stdout.starts_with(b"$2"));
        let Some(hash) = hash else {
            super::available(
                false,
                "python3 (its crypt module) makes the registry's htpasswd",
            );
            return None;
        };
        let hash = String::from_utf8(hash.stdout).unwrap();
        let line = format!("{user}:{}\n", hash.trim().replacen("$2b$", "$2a$", 1));
        Self::start_with_config(None, Some(line))
    }

    fn start_with(token_for: Option<&[&str]>) -> Option<Self> {
        Self::start_with_config(token_for, None)
    }

    /// A registry asking for a token (`token_for`) or basic authentication (`htpasswd`, the
    /// line of its htpasswd file), or neither.
    fn start_with_config(token_for: Option<&[&str]>, htpasswd: Option<String>) -> Option<Self> {
        let present = Command::new(PROGRAM)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !super::available(present, "docker-registry is not installed") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let token = token_for.map(|repositories| TokenServer::start(dir.path(), repositories));
        let auth = token
            .as_ref()
            .map(TokenServer::registry_config)
            .unwrap_or_default();
        let mut config = config_text(&dir.path().join("storage"), port) + &auth;
        if let Some(line) = htpasswd {
            let path = dir.path().join("htpasswd");
            std::fs::write(&path, line).unwrap();
            config += &format!(
                "auth:\n  htpasswd:\n    realm: imglock-test\n    path: {}\n",
                path.display()
            );
        }
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let registry = Self {
            child: spawn(dir.path()),
            port,
            _dir: dir,
            token,
        };
        registry.wait_ready();
        Some(registry)
    }

    /// Where it keeps what is pushed (`docker/registry/v2/blobs/sha256/<ab>/<hex>/data`).
    pub fn storage(&self) -> std::path::PathBuf {
        self._dir.path().join("storage")
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Copies the image `source` (a skopeo reference, like `containers-storage:NAME`) to
    /// `REPOSITORY:TAG` of this registry and returns the digest of its manifest there.
    pub fn push(&self, source: &str, repository_and_tag: &str) -> String {
        self.push_with(source, repository_and_tag, &[])
    }

    /// [`Registry::push`] with more `skopeo copy` options (`--all`: every platform of an index).
    pub fn push_with(&self, source: &str, repository_and_tag: &str, options: &[&str]) -> String {
        let digest_file = self._dir.path().join("digest");
        let output = Command::new("skopeo")
            .args(["copy", "--quiet", "--dest-tls-verify=false"])
            .args(options)
            .arg("--digestfile")
            .arg(&digest_file)
            .arg(source)
            .arg(format!("docker://{}/{repository_and_tag}", self.host()))
            .env("STORAGE_DRIVER", "vfs")
            .output()
            .expect("run skopeo");
        assert!(
            output.status.success(),
            "skopeo copy failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::read_to_string(digest_file)
            .unwrap()
            .trim()
            .to_string()
    }

    /// Waits until the registry accepts connections (a few seconds at most).
    fn wait_ready(&self) {
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "docker-registry did not start: {}",
                std::fs::read_to_string(self._dir.path().join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the registry of the configuration in `dir`.
fn spawn(dir: &Path) -> Child {
    Command::new(PROGRAM)
        .arg("serve")
        .arg(dir.join("config.yml"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("registry.log")).unwrap())
        .spawn()
        .expect("start docker-registry")
}

/// A port nothing listens on now.
pub(super) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A registry configuration: filesystem storage in `storage`, HTTP on 127.0.0.1:`port`, no
/// authentication.
fn config_text(storage: &Path, port: u16) -> String {
    format!(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
        storage.display()
    )
}
