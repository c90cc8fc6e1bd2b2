//! Fuzz targets of R's formats: `PACKAGES` indexes (cut into records in parallel, then each
//! record read on demand) and `DESCRIPTION` files (as text, and inside a source tarball). Seeds:
//! the fixture repositories' indexes and packages, and samples of the CRAN and Bioconductor
//! indexes in the shared corpus, one of them past the size where the index is cut in parallel.

use std::io::Write;
use std::path::Path;

use super::dcf;
use super::index::{PackageEntry, RepoIndex, RepoKind};
use crate::fuzz::{self, Outcome, seeds};
use crate::repository::Repository;

/// Tokens of the DCF format and R's dependency fields.
const DICTIONARY: &[&str] = &[
    "Package: ",
    "Version: ",
    "Depends: ",
    "Imports: ",
    "LinkingTo: ",
    "NeedsCompilation: yes",
    "MD5sum: ",
    "File: ",
    "R (>= 4.0)",
    " (>= ",
    " (== ",
    ", ",
    ")",
    "\n\n",
    "\n  ",
    "\n\t",
    ":",
    "-",
    ".",
];

fn index_seeds() -> Vec<Vec<u8>> {
    let mut seeds = seeds::read("fixtures", |name| name == "PACKAGES", 16);
    let cut = b"\n\n";
    seeds.extend(seeds::corpus_sample(
        "cran-2025-01-macos-binary.PACKAGES",
        16 << 10,
        cut,
    ));
    seeds.extend(seeds::corpus_sample(
        "bioc-3.21-container-binaries.PACKAGES",
        16 << 10,
        cut,
    ));
    // Past the parallel threshold, so the parallel cut is fuzzed too.
    seeds.extend(seeds::corpus_sample(
        "cran-2025-01-macos-binary.PACKAGES",
        300 << 10,
        cut,
    ));
    seeds
}

fn description_seeds() -> Vec<Vec<u8>> {
    seeds::read("fixtures/r-src", |name| name == "DESCRIPTION", 64)
}

/// A `PACKAGES` text: cut into records in parallel as in sequence alike, every record read
/// without a panic, and a text without records refused only when it is not blank.
fn index_property(input: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(input);
    let sequential = dcf::spans_of_chunk(&text, 0, 1).0;
    for count in [2, 7] {
        if dcf::spans_in_chunks(&text, count) != sequential {
            return Err(format!("cut in {count} chunks, the records differ"));
        }
    }
    let repository = Repository::parse("https://cran.example", Path::new("/"), Path::new("/"))
        .map_err(|e| e.to_string())?;
    match RepoIndex::parse(repository, RepoKind::Cran, &text) {
        Ok(index) => {
            let names: Vec<String> = index.names().map(str::to_string).collect();
            for name in names {
                if index.entry(&name).is_none() {
                    return Err(format!("`{name}` is listed but has no entry"));
                }
            }
        }
        Err(_) if sequential.iter().any(|span| span.package.is_some()) => {
            return Err("refused as not an index, though it has records".into());
        }
        Err(_) => {}
    }
    let _ = dcf::parse(&text);
    Ok(())
}

/// A `DESCRIPTION`: read as text, and from a tarball holding it, where a UTF-8 one must read
/// back the same.
fn description_property(input: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(input);
    let _ = super::dcf_fields(&text);
    if let Ok(records) = dcf::parse(&text)
        && let Some(record) = records.first()
    {
        let _ = PackageEntry::from_record(record, None);
    }
    let tarball = tarball("pkg/DESCRIPTION", input)?;
    match (
        super::read_description(tarball.as_slice(), "pkg", 1 << 30),
        std::str::from_utf8(input),
    ) {
        (Ok(read), Ok(written)) if read != written => {
            Err("the tarball's DESCRIPTION reads back changed".into())
        }
        (Err(error), Ok(_)) => Err(format!("the tarball's DESCRIPTION is refused: {error}")),
        _ => Ok(()),
    }
}

/// A `.tar.gz` holding one file.
fn tarball(path: &str, bytes: &[u8]) -> Result<Vec<u8>, String> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    builder
        .append_data(&mut header, path, bytes)
        .and_then(|()| builder.into_inner())
        .and_then(|mut gz| gz.flush().and_then(|()| gz.finish()))
        .map_err(|e| format!("cannot write the tarball: {e}"))
}

#[test]
fn fuzz_dcf() {
    fuzz::bytes("dcf", index_seeds(), DICTIONARY, index_property);
}

#[test]
fn fuzz_description() {
    fuzz::bytes(
        "description",
        description_seeds(),
        DICTIONARY,
        description_property,
    );
}

#[test]
fn fuzz_regressions_replay() {
    fuzz::replay("dcf", index_property);
    fuzz::replay("description", description_property);
}
