//! Seeds: real inputs the mutations start from. The project's own files (`fixtures/`,
//! `lockfiles/`, `examples/`) and small samples of the shared upstream corpora in
//! `../shared/corpora/`, read at test time and never copied into the repository; a missing
//! corpus fails under `CI=true` and is skipped elsewhere, as for every other test.

use std::path::{Path, PathBuf};

use crate::corpora;

/// The repository's root.
pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every file below `folder` (relative to the repository) whose name `keep` accepts, sorted.
pub(crate) fn files(folder: &str, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root().join(folder)];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(&keep)
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The bytes of every file below `folder` whose name `keep` accepts, at most `limit` of them.
pub(crate) fn read(folder: &str, keep: impl Fn(&str) -> bool, limit: usize) -> Vec<Vec<u8>> {
    files(folder, keep)
        .iter()
        .take(limit)
        .map(|path| std::fs::read(path).expect("read a seed"))
        .collect()
}

/// The shared corpus file or folder `relative` (below `../shared/corpora/`), if present.
pub(crate) fn corpus(relative: &str) -> Option<PathBuf> {
    corpora::shared_corpus(relative)
}

/// Up to `limit` bytes of the shared corpus file `relative`, cut after the last `cut` in them
/// (a record separator), if the corpus is present.
pub(crate) fn corpus_sample(relative: &str, limit: usize, cut: &[u8]) -> Option<Vec<u8>> {
    let bytes = std::fs::read(corpus(relative)?).expect("read a corpus file");
    let mut sample = bytes[..limit.min(bytes.len())].to_vec();
    if sample.len() < bytes.len()
        && let Some(at) = sample.windows(cut.len()).rposition(|w| w == cut)
    {
        sample.truncate(at + cut.len());
    }
    Some(sample)
}
