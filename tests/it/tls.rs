//! HTTPS repositories: a conda channel served over TLS on 127.0.0.1 (Python's `ssl` over
//! `http.server`) with a certificate of a test CA made by `openssl`. The fetcher checks the
//! server's chain against the platform's trust store (read in the background, see
//! `src/fetch/tls.rs`): a resolve trusts the server only when the CA is in that store
//! (`SSL_CERT_FILE`, which the platform store honours), and says why when it is not.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::support::conda::{conda_channels, conda_spec};
use crate::support::pki::{openssl, self_signed};
use crate::support::{Project, available, copy_dir, runs, stderr};

/// An HTTPS file server on 127.0.0.1 for `root`, killed when dropped.
struct TlsServer {
    child: Child,
    port: u16,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves `root` over HTTPS with `cert`/`key`; the server prints its port once it listens.
const SERVER: &str = r#"
import functools, http.server, ssl, sys
cert, key, root = sys.argv[1:4]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
handler.func.log_message = lambda *args: None
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

fn serve_tls(root: &Path, cert: &Path, key: &Path) -> TlsServer {
    let mut child = Command::new("python3")
        .args(["-c", SERVER])
        .args([cert, key, root])
        .stdout(Stdio::piped())
        // Clients that drop a connection (a form of the repodata no longer needed) make it print
        // a traceback.
        .stderr(Stdio::null())
        .spawn()
        .expect("start python3's HTTPS server");
    let mut line = String::new();
    let stdout = child.stdout.take().unwrap();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
    let port = line.trim().parse().expect("the server prints its port");
    TlsServer { child, port }
}

/// A test CA named `ca_name` (`ca.pem`) and a certificate it signed for 127.0.0.1
/// (`server.pem`, `server.key`), in `dir`.
fn make_certificates(dir: &Path, ca_name: &str) {
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    self_signed(
        &dir.join("ca.key"),
        &dir.join("ca.pem"),
        &format!("/CN={ca_name}"),
    );
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        &path("server.key"),
        "-out",
        &path("server.csr"),
    ]);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        &path("server.csr"),
        "-CA",
        &path("ca.pem"),
        "-CAkey",
        &path("ca.key"),
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        &path("san.ext"),
        "-out",
        &path("server.pem"),
    ]);
}

#[test]
fn an_https_channel_is_trusted_only_through_the_platform_trust_store() {
    let tools = runs("openssl", &["version"]) && runs("python3", &["--version"]);
    if !available(tools, "openssl and python3 (for the HTTPS server)") {
        return;
    }
    let pki = tempfile::tempdir().unwrap();
    make_certificates(pki.path(), "imglock test CA");
    let root = tempfile::tempdir().unwrap();
    copy_dir(&conda_channels(), root.path());
    let server = serve_tls(
        root.path(),
        &pki.path().join("server.pem"),
        &pki.path().join("server.key"),
    );
    let channel = format!("https://127.0.0.1:{}/main", server.port);
    let project = Project::new(&conda_spec(
        std::slice::from_ref(&channel),
        "",
        &[("env", &["dualfmt"])],
    ));

    // Only another CA trusted: the server is refused, and the error says why.
    let other = pki.path().join("other");
    std::fs::create_dir(&other).unwrap();
    make_certificates(&other, "another CA");
    let other_ca = other.join("ca.pem");
    let output = project.run_with(
        &["resolve"],
        &[("SSL_CERT_FILE", other_ca.to_str().unwrap())],
    );
    assert!(!output.status.success(), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("127.0.0.1"), "{message}");
    assert!(
        message.contains("invalid peer certificate: UnknownIssuer"),
        "{message}"
    );
    assert!(project.lock().is_none());

    // The test CA trusted: the channel resolves over HTTPS and the lock names its URLs.
    let ca = pki.path().join("ca.pem");
    let output = project.run_with(&["resolve"], &[("SSL_CERT_FILE", ca.to_str().unwrap())]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert!(
        lock.contains(&format!(
            "{channel}/linux-64/dualfmt-1.0.0-h5eee18b_0.conda"
        )),
        "{lock}"
    );
}
