//! `imglock verify` on a root filesystem folder holding files that are not regular files where
//! wanted files may be: a FIFO named `DESCRIPTION` (whose opening would block for ever) is
//! skipped with a warning naming it.

use std::time::{Duration, Instant};

use super::*;

#[test]
fn a_fifo_where_a_description_may_be_is_skipped_with_a_warning() {
    let root = tempfile::tempdir().unwrap();
    for (name, version) in locked() {
        let path = root.path().join(SITE).join(name);
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join("DESCRIPTION"), description(name, version, "")).unwrap();
    }
    let folder = root.path().join("usr/lib/R/site-library/x");
    std::fs::create_dir_all(&folder).unwrap();
    let fifo = folder.join("DESCRIPTION");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_imglock"))
        .arg("verify")
        .arg(root.path())
        .arg("--lock")
        .arg(lock())
        .args(["--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("`verify` still runs after 30 s: it blocks on the FIFO");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("usr/lib/R/site-library/x/DESCRIPTION")
            && warnings.contains("not a regular file"),
        "{warnings}"
    );
}
