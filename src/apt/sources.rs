//! apt repositories as apt's sources name them (sources.list(5)): the one-line form
//! `deb [options] URI SUITE COMPONENT…` (the spec's `[repositories] apt` strings, with or
//! without the leading `deb`) and deb822 `.sources` files (`Types`, `URIs`, `Suites`,
//! `Components`, `Signed-By`, `Architectures`, `Enabled`), as bookworm's
//! `/etc/apt/sources.list.d/debian.sources` is written. Each becomes one [`AptSource`] per URI
//! and suite. Source-package lines (`deb-src`) are skipped; `trusted=yes`, which turns off
//! signature checks, and flat repositories (a suite ending in `/`) are refused.

use url::Url;

use super::deb822::stanzas;
use super::error::AptError;

/// What a repository's Release must be signed with (`signed-by`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedBy {
    /// Keyring files (`/usr/share/keyrings/debian-archive-keyring.gpg`).
    Files(Vec<String>),
    /// Fingerprints of keys of the trusted keyrings.
    Fingerprints(Vec<String>),
    /// An armored key block written in the `.sources` stanza itself.
    Key(String),
}

/// One suite of one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptSource {
    /// The archive root (`https://deb.debian.org/debian/`), ending in `/`.
    pub uri: Url,
    /// The suite or codename (`bookworm`, `bookworm-security`).
    pub suite: String,
    /// The components (`main`, `contrib`).
    pub components: Vec<String>,
    /// The architectures the line restricts to (`arch=`), empty for the configured ones.
    pub architectures: Vec<String>,
    /// The keys its Release must be signed with, when named.
    pub signed_by: Option<SignedBy>,
    /// Whether a Release past its `Valid-Until` is refused (`check-valid-until=no` turns it off,
    /// as for snapshot.debian.org's archives, which are expired by design).
    pub check_valid_until: bool,
}

impl AptSource {
    /// The URL of a file of the suite (`InRelease`, `main/binary-amd64/Packages.xz`).
    pub fn suite_file(&self, path: &str) -> Url {
        let mut url = self.uri.clone();
        url.path_segments_mut()
            .expect("http(s) and file URLs have paths")
            .pop_if_empty()
            .push("dists")
            .extend(self.suite.split('/'))
            .extend(path.split('/'));
        url
    }
}

/// Parses one-line sources (`deb [opts] URI SUITE COMPONENT…`, the leading `deb` optional),
/// one per entry of `lines`, read from `file` (named in errors; line numbers are 1-based
/// positions in `lines`). Empty lines and `#` comments are skipped.
pub fn parse_one_line<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    file: &str,
) -> Result<Vec<AptSource>, AptError> {
    let mut sources = Vec::new();
    for (index, line) in lines.into_iter().enumerate() {
        let text = line.split('#').next().unwrap_or("").trim();
        if text.is_empty() {
            continue;
        }
        let error = |reason: &str| AptError::Source {
            file: file.to_string(),
            line: index + 1,
            text: text.to_string(),
            reason: format!("{reason} (the form is `deb [options] URI SUITE COMPONENT…`)"),
        };
        let (kind, rest) = match text.split_once(char::is_whitespace) {
            Some((kind @ ("deb" | "deb-src"), rest)) => (kind, rest.trim_start()),
            _ => ("deb", text),
        };
        if kind == "deb-src" {
            continue;
        }
        let (options, rest) = match rest.strip_prefix('[') {
            Some(after) => {
                let (inside, rest) = after
                    .split_once(']')
                    .ok_or_else(|| error("`[` is not closed"))?;
                (inside, rest)
            }
            None => ("", rest),
        };
        let words: Vec<&str> = rest.split_ascii_whitespace().collect();
        let [uri, suite, components @ ..] = &words[..] else {
            return Err(error("it needs a URI and a suite"));
        };
        let mut source = Options::default();
        for option in options.split_ascii_whitespace() {
            source.set(option).map_err(|reason| error(&reason))?;
        }
        sources.push(
            source
                .into_source(uri, suite, components)
                .map_err(|reason| error(&reason))?,
        );
    }
    Ok(sources)
}

/// Parses a deb822 `.sources` file's `text`, read from `file`.
pub fn parse_deb822(text: &str, file: &str) -> Result<Vec<AptSource>, AptError> {
    let mut sources = Vec::new();
    for stanza in stanzas(text) {
        let stanza = stanza.map_err(|source| AptError::Syntax {
            file: file.to_string(),
            source,
        })?;
        let error = |reason: String| AptError::Source {
            file: file.to_string(),
            line: stanza.line,
            text: stanza.get("URIs").unwrap_or("").to_string(),
            reason,
        };
        let words = |name| -> Vec<&str> {
            stanza
                .get(name)
                .map(|v| v.split_ascii_whitespace().collect())
                .unwrap_or_default()
        };
        if stanza.get("Enabled") == Some("no") || !words("Types").contains(&"deb") {
            continue;
        }
        let mut options = Options::default();
        if let Some(architectures) = stanza.get("Architectures") {
            options
                .set(&format!(
                    "arch={}",
                    architectures
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(",")
                ))
                .map_err(error)?;
        }
        if stanza.get("Trusted") == Some("yes") {
            options.set("trusted=yes").map_err(error)?;
        }
        if let Some(signed_by) = stanza.get("Signed-By") {
            options.signed_by = Some(parse_signed_by(signed_by));
        }
        if let Some(check) = stanza.get("Check-Valid-Until") {
            options.ignore_valid_until = is_no(check);
        }
        let components = words("Components");
        for uri in words("URIs") {
            for suite in words("Suites") {
                sources.push(
                    options
                        .clone()
                        .into_source(uri, suite, &components)
                        .map_err(error)?,
                );
            }
        }
    }
    Ok(sources)
}

/// `Signed-By`: an inline key block, fingerprints, or keyring paths.
fn parse_signed_by(value: &str) -> SignedBy {
    if value.contains("BEGIN PGP PUBLIC KEY BLOCK") {
        // Continuation lines carry a leading space and ` .` for empty lines.
        let key = value
            .lines()
            .map(|line| match line.trim() {
                "." => "",
                other => other,
            })
            .collect::<Vec<_>>()
            .join("\n");
        return SignedBy::Key(key);
    }
    let items: Vec<String> = value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect();
    if items.iter().all(|item| item.starts_with('/')) {
        SignedBy::Files(items)
    } else {
        SignedBy::Fingerprints(items)
    }
}

/// Whether an option's value is apt's no (`no`, `false`, `0`).
fn is_no(value: &str) -> bool {
    matches!(value.to_ascii_lowercase().as_str(), "no" | "false" | "0")
}

/// The options of a source line being read.
#[derive(Debug, Clone, Default)]
struct Options {
    architectures: Vec<String>,
    signed_by: Option<SignedBy>,
    ignore_valid_until: bool,
}

impl Options {
    /// Reads one `name=value` option.
    fn set(&mut self, option: &str) -> Result<(), String> {
        let (name, value) = option
            .split_once('=')
            .ok_or_else(|| format!("the option `{option}` is not `name=value`"))?;
        match name {
            "arch" => {
                self.architectures = value.split(',').map(str::to_string).collect();
            }
            "signed-by" => self.signed_by = Some(parse_signed_by(value)),
            "check-valid-until" => self.ignore_valid_until = is_no(value),
            "trusted" if value == "yes" => {
                return Err(
                    "`trusted=yes` turns off signature checks, which imglock never does; name the repository's keyring with `signed-by=`"
                        .to_string(),
                );
            }
            // Options that change nothing imglock reads (lang, target, pdiffs, by-hash, ...).
            _ => {}
        }
        Ok(())
    }

    fn into_source(self, uri: &str, suite: &str, components: &[&str]) -> Result<AptSource, String> {
        let mut url = Url::parse(uri).map_err(|e| format!("`{uri}` is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https" | "file") {
            return Err(format!("`{uri}` is not an http(s) or file URL"));
        }
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        if suite.ends_with('/') {
            return Err("flat repositories (a suite ending in `/`) are not supported".to_string());
        }
        let plain = |word: &str| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-._~/".contains(&b))
                && word.split('/').all(|part| !part.is_empty() && part != "..")
        };
        if !plain(suite) {
            return Err(format!("the suite `{suite}` is not a plain name"));
        }
        if components.is_empty() {
            return Err("it names no component (`main`)".to_string());
        }
        if let Some(bad) = components.iter().find(|c| !plain(c)) {
            return Err(format!("the component `{bad}` is not a plain name"));
        }
        Ok(AptSource {
            uri: url,
            suite: suite.to_string(),
            components: components.iter().map(|c| (*c).to_string()).collect(),
            architectures: self.architectures,
            signed_by: self.signed_by,
            check_valid_until: !self.ignore_valid_until,
        })
    }
}

#[cfg(test)]
#[path = "sources_tests.rs"]
mod tests;
