//! URL artifacts' part of the spec: a layer's `files = [{ url, sha256?, target, mode?,
//! extract? }]`, each entry checked here so every value that reaches the Dockerfile is known
//! safe: the URL (`http`, `https`, `file:` absolute or relative to the spec) ends in a plain
//! file name, the target is an absolute path in the image, the mode is octal, a given sha256 is
//! 64 hex digits, and an extracted file is a tar archive.
//!
//! A leaf below the spec: it imports nothing of [`crate::spec`]. Each check returns the span it
//! is about and a message, which the spec locates at file, line and column.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::dockerfile_values::{SpanProblem, check_image_path, is_sha256};

/// One entry of a layer's `files` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    url: String,
    sha256: Option<String>,
    target: String,
    mode: Option<String>,
    #[serde(default)]
    extract: bool,
}

/// One checked entry of a layer's `files`: a file downloaded from `url` into the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRequest {
    /// The URL as written (a relative `file:` path is relative to the spec).
    pub url: String,
    /// The sha256 the spec requires, lowercase, when it gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Where it goes: a folder when it ends with `/` (the URL's file name is kept), else the
    /// file's path; for an extracted archive, the folder it is unpacked into.
    pub target: String,
    /// Its permissions, octal (`0644` when not given); never set for an extracted archive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Whether it is a tar archive unpacked into `target`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub extract: bool,
}

/// The archive suffixes `extract` unpacks, as `tar -xf` reads them.
pub const ARCHIVE_SUFFIXES: [&str; 6] = [".tar.gz", ".tgz", ".tar.xz", ".tar.bz2", ".tbz2", ".tar"];

/// The last part of a URL's path: the file name the download keeps.
pub fn url_file_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or_default()
}

/// Whether `name` is a plain file name: letters, digits, `.`, `_`, `-`, `+`, not only dots.
pub fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.bytes().all(|b| b == b'.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
}

/// Whether `mode` is a file mode in octal: three or four digits 0–7.
pub fn is_mode(mode: &str) -> bool {
    (3..=4).contains(&mode.len()) && mode.bytes().all(|b| (b'0'..=b'7').contains(&b))
}

/// Checks `target` (absolute, for an extracted archive a folder) and the URL's file name.
pub fn check_target(url: &str, target: &str, extract: bool) -> Result<(), String> {
    check_image_path(target).map_err(|problem| format!("target {problem}"))?;
    if target.contains(['\'', '"', '\\', '$', '`']) {
        return Err(format!(
            "target `{}` holds a quote, `\\`, `$` or a backquote",
            target.escape_debug()
        ));
    }
    let name = url_file_name(url);
    if !is_plain_file_name(name) {
        return Err(format!(
            "the URL `{}` must end in a plain file name (letters, digits, `.`, `_`, `-`, `+`; no query)",
            url.escape_debug()
        ));
    }
    if extract && !ARCHIVE_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return Err(format!(
            "`extract = true` unpacks tar archives, but `{name}` does not end in {}",
            ARCHIVE_SUFFIXES.join(", ")
        ));
    }
    Ok(())
}

impl FileRequest {
    /// The entry written at `entry`'s span, checked.
    pub fn parse(entry: &Spanned<FileEntry>) -> Result<Self, SpanProblem> {
        let span = entry.span();
        let at = |message: String| (span.clone(), format!("files: {message}"));
        let FileEntry {
            url,
            sha256,
            target,
            mode,
            extract,
        } = entry.get_ref().clone();
        let url = url.trim().to_string();
        let scheme_ok = ["https://", "http://", "file:"]
            .iter()
            .any(|scheme| url.starts_with(scheme));
        if !scheme_ok || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(at(format!(
                "`{}` is not an `https://`, `http://` or `file:` URL on one line",
                url.escape_debug()
            )));
        }
        check_target(&url, &target, extract).map_err(at)?;
        let sha256 = sha256.map(|s| s.trim().to_ascii_lowercase());
        if let Some(sha256) = sha256.as_deref().filter(|s| !is_sha256(s)) {
            return Err(at(format!(
                "sha256 `{}` of `{url}` must be 64 hexadecimal digits",
                sha256.escape_debug()
            )));
        }
        match mode.as_deref() {
            Some(_) if extract => Err(at(format!(
                "`{url}` is extracted: `mode` applies to a file kept whole, remove it"
            ))),
            Some(m) if !is_mode(m) => Err(at(format!(
                "mode `{}` of `{url}` must be octal, like \"0644\" or \"0755\"",
                m.escape_debug()
            ))),
            _ => Ok(Self {
                url,
                sha256,
                target,
                mode,
                extract,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_names_that_could_break_the_step_are_refused() {
        assert!(check_target("https://x/a.jar", "/databricks/jars/", false).is_ok());
        assert!(check_target("https://x/a.tar.gz", "/opt/a", true).is_ok());
        assert!(check_target("https://x/a.zip", "/opt/a", true).is_err());
        assert!(check_target("https://x/samtools-1.9.tar.bz2", "/opt/a", true).is_ok());
        assert!(check_target("https://x/a.jar?x=1", "/j/", false).is_err());
        assert!(check_target("https://x/", "/j/", false).is_err());
        assert!(check_target("https://x/a.jar", "j/", false).is_err());
        assert!(check_target("https://x/a.jar", "/j/$(id)/", false).is_err());
        assert!(is_mode("0755") && !is_mode("8") && !is_mode("0x1"));
    }
}
