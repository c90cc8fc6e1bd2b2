//! A bearer-token server for the loopback registry: the `realm` a registry's
//! `WWW-Authenticate: Bearer` challenge names. It hands anyone a JWT (RS256, signed with
//! `openssl` by a key whose self-signed certificate the registry trusts, sent in the token's
//! `x5c` header) granting pull and push on the repositories it was started for, as a public
//! registry's token service grants anonymous pulls. It counts the tokens it gave.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::pki::{openssl, self_signed};

/// The service and issuer names the registry and its tokens agree on.
const SERVICE: &str = "imglock-registry";
const ISSUER: &str = "imglock-token";

/// A running token server (its thread ends with the test process).
pub struct TokenServer {
    port: u16,
    certificate: PathBuf,
    given: Arc<AtomicUsize>,
}

impl TokenServer {
    /// Makes a key and certificate in `dir` and starts serving tokens for `repositories`.
    pub fn start(dir: &Path, repositories: &[&str]) -> Self {
        let key = dir.join("token-key.pem");
        let certificate = dir.join("token-cert.pem");
        self_signed(&key, &certificate, "/CN=imglock-token");
        let token = signed_token(dir, &key, &certificate, repositories);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let given = Arc::new(AtomicUsize::new(0));
        let counter = given.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let body =
                    format!(r#"{{"token":"{token}","access_token":"{token}","expires_in":3600}}"#);
                let mut stream = &stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        Self {
            port,
            certificate,
            given,
        }
    }

    /// The registry configuration's `auth` section that sends clients here.
    pub fn registry_config(&self) -> String {
        format!(
            "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
            self.port,
            self.certificate.display()
        )
    }

    /// How many tokens it gave.
    pub fn given(&self) -> usize {
        self.given.load(Ordering::SeqCst)
    }
}

/// A JWT granting pull and push on `repositories`, signed with `key`, carrying `certificate`.
fn signed_token(dir: &Path, key: &Path, certificate: &Path, repositories: &[&str]) -> String {
    let pem = std::fs::read_to_string(certificate).unwrap();
    let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(der).unwrap();
    let header = format!(
        r#"{{"typ":"JWT","alg":"RS256","x5c":["{}"]}}"#,
        STANDARD.encode(der)
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let access: Vec<String> = repositories
        .iter()
        .map(|name| format!(r#"{{"type":"repository","name":"{name}","actions":["pull","push"]}}"#))
        .collect();
    let claims = format!(
        r#"{{"iss":"{ISSUER}","sub":"","aud":"{SERVICE}","exp":{},"nbf":{},"iat":{},"jti":"imglock-test","access":[{}]}}"#,
        now + 3600,
        now - 60,
        now - 60,
        access.join(",")
    );
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let input = dir.join("token-input");
    std::fs::write(&input, &signing_input).unwrap();
    let signature = openssl(&[
        "dgst",
        "-sha256",
        "-sign",
        &key.to_string_lossy(),
        &input.to_string_lossy(),
    ]);
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}
