//! A GitHub source archive (`GET /repos/{owner}/{repo}/tarball/{sha}`): a tar.gz whose entries
//! are all below one top folder (`owner-repo-<sha7>/`, after a pax global header naming the
//! commit). Its DESCRIPTION, below the package's subdirectory, is read as it streams, never run.

use std::io::Read;

use crate::cran::error::DescriptionError;
use crate::fetch::{Capped, is_too_large};

/// The largest DESCRIPTION read; real ones are a few kilobytes.
const MAX_DESCRIPTION_BYTES: u64 = 1 << 20;

/// What the decompression limit limits, as its error says.
const WHAT: &str = "the decompressed GitHub archive, before its DESCRIPTION,";

/// The text of `<top>/<subdir>/DESCRIPTION` in a GitHub archive, where `<top>` is the folder
/// every entry is below; an archive that expands past `limit` bytes before it is refused.
pub fn read_description(
    tar_gz: impl Read,
    subdir: Option<&str>,
    limit: u64,
) -> Result<String, DescriptionError> {
    let gunzipped = Capped::new(flate2::read::GzDecoder::new(tar_gz), limit, WHAT);
    let mut archive = tar::Archive::new(gunzipped);
    let corrupt = |error: std::io::Error| match is_too_large(&error) {
        true => DescriptionError::TooLarge(error),
        false => DescriptionError::Corrupt(error),
    };
    let below = subdir.map(|s| format!("{s}/")).unwrap_or_default();
    let mut top: Option<String> = None;
    let entries = archive.entries().map_err(DescriptionError::NotTarGz)?;
    for entry in entries {
        let entry = entry.map_err(corrupt)?;
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        let path = entry
            .path()
            .map_err(DescriptionError::Corrupt)?
            .to_string_lossy()
            .into_owned();
        let path = path.trim_start_matches("./");
        let Some((first, rest)) = path.split_once('/') else {
            continue;
        };
        let top = top.get_or_insert_with(|| first.to_string());
        if first != top.as_str() {
            return Err(DescriptionError::Missing(format!(
                "single top folder (it has `{top}/` and `{first}/`)"
            )));
        }
        if kind.is_file() && rest == format!("{below}DESCRIPTION") {
            let mut text = String::new();
            entry
                .take(MAX_DESCRIPTION_BYTES)
                .read_to_string(&mut text)
                .map_err(DescriptionError::Unreadable)?;
            return Ok(text);
        }
    }
    Err(DescriptionError::Missing(format!(
        "{}/{below}DESCRIPTION",
        top.as_deref().unwrap_or("<top folder>")
    )))
}
