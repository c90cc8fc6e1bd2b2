//! Keys, certificates and signatures made with the `openssl` command, for the tests' loopback
//! servers: the registry's token signer and the HTTPS server's test CA.

use std::path::Path;
use std::process::Command;

/// Runs `openssl ARGS` and returns its output; it must succeed.
pub fn openssl(args: &[&str]) -> Vec<u8> {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A new RSA key (`key`) and a certificate for it signed by itself (`certificate`), valid for a
/// day, of the subject `subject` (`/CN=…`).
pub fn self_signed(key: &Path, certificate: &Path, subject: &str) {
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        subject,
        "-keyout",
        &key.to_string_lossy(),
        "-out",
        &certificate.to_string_lossy(),
    ]);
}
