//! Where a test's tool or data is, and what its absence means: under `CI=true` a failure,
//! elsewhere a skip with a message. Shared by the integration tests (`tests/it/support`) and the
//! library's fuzz harness (`src/fuzz`, which includes this file by path), so both find
//! `../shared/corpora` and treat its absence the same way. Uses nothing but `std`.

use std::path::{Path, PathBuf};

/// Whether a test's tool or data is here. Under `CI=true` its absence fails the test, since CI
/// installs everything the tests need (scripts/test.sh); elsewhere the test is skipped with a
/// message saying what is missing.
pub fn available(present: bool, what: &str) -> bool {
    available_in(present, what, std::env::var("CI").as_deref() == Ok("true"))
}

/// [`available`], with whether this is CI given.
pub fn available_in(present: bool, what: &str, in_ci: bool) -> bool {
    if !present {
        assert!(
            !in_ci,
            "CI=true but {what} (scripts/test.sh installs the tools; ../shared must sit beside the repository)"
        );
        eprintln!("skipped: {what}");
    }
    present
}

/// A file or folder of the shared upstream corpora (`../shared/corpora/RELATIVE`), if present.
pub fn shared_corpus(relative: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora")
        .join(relative);
    available(path.exists(), &format!("{} is absent", path.display())).then_some(path)
}
