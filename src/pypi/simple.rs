//! A project's page of a Python package index: PEP 691 JSON, or PEP 503 HTML as a fallback.
//!
//! Each file becomes a [`DistFile`] with its absolute URL (relative URLs are resolved against the
//! page's), version (from the file name), sha256, size, `requires-python`, yanked flag, upload
//! time (PEP 700) and whether PEP 658/714 metadata is served beside it.

use std::str::FromStr;

use crate::index_digest::{MalformedDigest, normalized};

use pep440_rs::{Version, VersionSpecifiers};
use serde::Deserialize;
use url::Url;

/// One distribution file of a project.
#[derive(Debug, Clone)]
pub struct DistFile {
    pub filename: String,
    pub url: Url,
    pub version: Version,
    pub is_wheel: bool,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    pub requires_python: Option<VersionSpecifiers>,
    pub yanked: bool,
    /// When it was uploaded, if the index says (a time it gives that is not RFC 3339 counts as
    /// unknown).
    pub upload_time: Option<jiff::Timestamp>,
    /// Whether `<url>.metadata` serves the core metadata (PEP 658/714).
    pub core_metadata: MetadataFile,
}

/// Whether the index serves a file's core metadata beside it, at `<url>.metadata` (PEP 658/714).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataFile {
    NotOffered,
    /// Offered, with the sha256 of the metadata file when the index gives it.
    Offered {
        sha256: Option<String>,
    },
}

impl MetadataFile {
    /// From an HTML `data-core-metadata` value: `true` or `<hash name>=<hex>`.
    fn from_attribute(value: Option<String>) -> Self {
        match value.as_deref() {
            None | Some("false") => Self::NotOffered,
            Some(value) => Self::Offered {
                sha256: value.strip_prefix("sha256=").map(str::to_lowercase),
            },
        }
    }
}

#[derive(Deserialize)]
struct JsonPage {
    files: Vec<JsonFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
    requires_python: Option<String>,
    size: Option<u64>,
    upload_time: Option<String>,
    #[serde(default)]
    yanked: Yanked,
    core_metadata: Option<MetadataFlag>,
    dist_info_metadata: Option<MetadataFlag>,
}

#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Yanked {
    #[default]
    No,
    Flag(bool),
    /// Yanked, with the reason.
    Reason(#[allow(dead_code)] String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum MetadataFlag {
    Flag(bool),
    /// Offered, with its hashes.
    Hashes(std::collections::BTreeMap<String, String>),
}

impl From<Option<MetadataFlag>> for MetadataFile {
    fn from(flag: Option<MetadataFlag>) -> Self {
        match flag {
            None | Some(MetadataFlag::Flag(false)) => Self::NotOffered,
            Some(MetadataFlag::Flag(true)) => Self::Offered { sha256: None },
            Some(MetadataFlag::Hashes(mut hashes)) => Self::Offered {
                sha256: hashes.remove("sha256").map(|hash| hash.to_lowercase()),
            },
        }
    }
}

/// Why a project page cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("not a PEP 691 page")]
    Json(#[from] serde_json::Error),

    #[error("neither a PEP 691 (JSON) nor a PEP 503 (HTML) page: it starts with {start:?}")]
    NotAPage { start: String },

    #[error(
        "it gives the file `{filename}` the {digest}; the index serves a malformed digest: ask its maintainers to fix the page, or use another index"
    )]
    Digest {
        filename: String,
        digest: MalformedDigest,
    },
}

/// What a project page lists: the distribution files of the project, and the names of the other
/// files it lists (eggs, installers, files of other projects), kept to explain a page that
/// offers nothing usable.
#[derive(Debug, Default)]
pub struct ProjectPage {
    pub files: Vec<DistFile>,
    pub unusable: Vec<String>,
}

/// Parses a project page served at `page_url` for `project` (normalised name). Every digest
/// the page gives a file of the project (the file's and its metadata's) must be well formed.
pub fn parse_page(body: &[u8], page_url: &Url, project: &str) -> Result<ProjectPage, PageError> {
    let text = String::from_utf8_lossy(body);
    let files = if text.trim_start().starts_with('{') {
        let page: JsonPage = serde_json::from_str(&text)?;
        page.files
            .into_iter()
            .map(|file| RawFile {
                sha256: file.hashes.get("sha256").cloned(),
                digests: file
                    .hashes
                    .clone()
                    .into_iter()
                    .chain(metadata_hashes(&file.core_metadata))
                    .chain(metadata_hashes(&file.dist_info_metadata))
                    .collect(),
                yanked: !matches!(file.yanked, Yanked::No | Yanked::Flag(false)),
                core_metadata: file.core_metadata.or(file.dist_info_metadata).into(),
                filename: file.filename,
                href: file.url,
                requires_python: file.requires_python,
                size: file.size,
                upload_time: file.upload_time,
            })
            .collect()
    } else if text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<')
    {
        parse_html(&text)
    } else {
        // Not markup at all (a damaged body, an error text): no page, rather than a project
        // without files.
        let start: String = text.trim_start().chars().take(40).collect();
        return Err(PageError::NotAPage { start });
    };
    let mut page = ProjectPage::default();
    for mut file in files {
        let digests = std::mem::take(&mut file.digests);
        let filename = file.filename.clone();
        let Some(dist) = file.into_dist(page_url, project) else {
            page.unusable.push(filename);
            continue;
        };
        for (algorithm, value) in digests {
            normalized(&algorithm, &value).map_err(|digest| PageError::Digest {
                filename: filename.clone(),
                digest,
            })?;
        }
        page.files.push(dist);
    }
    Ok(page)
}

/// The hashes a JSON page gives a file's metadata.
fn metadata_hashes(flag: &Option<MetadataFlag>) -> Vec<(String, String)> {
    match flag {
        Some(MetadataFlag::Hashes(hashes)) => hashes.clone().into_iter().collect(),
        _ => Vec::new(),
    }
}

/// The `name=value` digests of an HTML page's `href` fragment and `data-core-metadata` value.
fn html_digests(href: &str, metadata: Option<&str>) -> Vec<(String, String)> {
    let pair = |text: &str| {
        text.split_once('=')
            .map(|(algorithm, value)| (algorithm.to_string(), value.to_string()))
    };
    let fragment = href
        .split_once('#')
        .and_then(|(_, fragment)| pair(fragment));
    fragment
        .into_iter()
        .chain(metadata.and_then(pair))
        .collect()
}

struct RawFile {
    filename: String,
    href: String,
    sha256: Option<String>,
    /// Every digest the page gives the file and its metadata, by algorithm, as written.
    digests: Vec<(String, String)>,
    requires_python: Option<String>,
    size: Option<u64>,
    upload_time: Option<String>,
    yanked: bool,
    core_metadata: MetadataFile,
}

impl RawFile {
    fn into_dist(self, page_url: &Url, project: &str) -> Option<DistFile> {
        let url = page_url.join(&self.href).ok()?;
        let (version, is_wheel) = version_of(&self.filename, project)?;
        let requires_python = self
            .requires_python
            .as_deref()
            .filter(|text| !text.trim().is_empty())
            .and_then(|text| VersionSpecifiers::from_str(text).ok());
        let mut url = url;
        url.set_fragment(None);
        Some(DistFile {
            filename: self.filename,
            url,
            version,
            is_wheel,
            sha256: self.sha256.map(|s| s.to_ascii_lowercase()),
            size: self.size,
            requires_python,
            yanked: self.yanked,
            upload_time: self.upload_time.and_then(|at| at.parse().ok()),
            core_metadata: self.core_metadata,
        })
    }
}

/// The version in a distribution file name, and whether it is a wheel; `None` for files that
/// are neither a wheel nor an sdist of `project`.
pub(super) fn version_of(filename: &str, project: &str) -> Option<(Version, bool)> {
    let normalize = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if matches!(c, '_' | '.') {
                    '-'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    };
    if let Some(stem) = filename.strip_suffix(".whl") {
        let mut parts = stem.split('-');
        let name = parts.next()?;
        let version = parts.next()?;
        return (normalize(name) == project).then_some((Version::from_str(version).ok()?, true));
    }
    let stem = filename
        .strip_suffix(".tar.gz")
        .or_else(|| filename.strip_suffix(".zip"))?;
    // The project name may itself contain `-`: the version follows the normalised name.
    let normalized = normalize(stem);
    let rest = normalized.strip_prefix(project)?.strip_prefix('-')?;
    let version = &stem[stem.len() - rest.len()..];
    Some((Version::from_str(version).ok()?, false))
}

/// PEP 503: `<a href="URL#sha256=..." data-requires-python="..." data-yanked
/// data-core-metadata="...">filename</a>`.
fn parse_html(text: &str) -> Vec<RawFile> {
    let mut files = Vec::new();
    for anchor in text.split("<a ").skip(1) {
        let Some((attributes, rest)) = anchor.split_once('>') else {
            continue;
        };
        let filename = rest
            .split("</a>")
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let attribute = |name: &str| -> Option<String> {
            let start = attributes.find(&format!("{name}=\""))? + name.len() + 2;
            let end = attributes[start..].find('"')? + start;
            Some(html_unescape(&attributes[start..end]))
        };
        let Some(href) = attribute("href") else {
            continue;
        };
        let metadata =
            attribute("data-core-metadata").or_else(|| attribute("data-dist-info-metadata"));
        // The file's sha256 is the fragment's, read as the digests checked are: the first `#`
        // starts the fragment, `<name>=<value>` (so `##sha256=…` names no sha256).
        let sha256 = href
            .split_once('#')
            .and_then(|(_, fragment)| fragment.split_once('='))
            .filter(|(algorithm, _)| *algorithm == "sha256")
            .map(|(_, hash)| hash.to_string());
        files.push(RawFile {
            filename,
            sha256,
            digests: html_digests(&href, metadata.as_deref()),
            requires_python: attribute("data-requires-python"),
            size: None,
            upload_time: None,
            yanked: attributes.contains("data-yanked"),
            core_metadata: MetadataFile::from_attribute(metadata),
            href,
        });
    }
    files
}

fn html_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_and_html_pages() {
        let page = Url::parse("https://pypi.example/simple/docopt/").unwrap();
        let json = br#"{"files":[{"filename":"docopt-0.6.2.tar.gz","url":"../../files/ab/docopt-0.6.2.tar.gz","hashes":{"sha256":"ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB"},"requires-python":null,"size":25901,"upload-time":"2014-06-16T11:18:57Z","yanked":false},
            {"filename":"x-1.0-py3-none-any.whl","url":"https://f.example/x-1.0-py3-none-any.whl","hashes":{},"yanked":"broken","core-metadata":{"sha256":"1111111111111111111111111111111111111111111111111111111111111111"}}]}"#;
        let files = parse_page(json, &page, "docopt").unwrap().files;
        assert_eq!(files.len(), 1, "the wheel of another project is dropped");
        let unusable = parse_page(json, &page, "docopt").unwrap().unusable;
        assert_eq!(unusable, ["x-1.0-py3-none-any.whl"], "and kept as unusable");
        assert_eq!(
            files[0].url.as_str(),
            "https://pypi.example/files/ab/docopt-0.6.2.tar.gz"
        );
        assert_eq!(files[0].sha256.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(files[0].version.to_string(), "0.6.2");
        let files = parse_page(json, &page, "x").unwrap().files;
        assert!(files[0].yanked && files[0].is_wheel);
        assert_eq!(
            files[0].core_metadata,
            MetadataFile::Offered {
                sha256: Some("1".repeat(64))
            }
        );

        let html = br#"<html><body><a href="/files/python-dateutil-2.8.2.tar.gz#sha256=0123012301230123012301230123012301230123012301230123012301230123" data-requires-python="&gt;=2.7">python-dateutil-2.8.2.tar.gz</a>
            <a href="python_dateutil-2.8.2-py2.py3-none-any.whl#sha256=9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f" data-yanked="">python_dateutil-2.8.2-py2.py3-none-any.whl</a></body></html>"#;
        let files = parse_page(html, &page, "python-dateutil").unwrap().files;
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[0].requires_python.as_ref().unwrap().to_string(),
            ">=2.7"
        );
        assert_eq!(files[0].sha256.as_deref(), Some("0123".repeat(16).as_str()));
        assert!(files[1].yanked && files[1].url.fragment().is_none());
    }

    #[test]
    fn malformed_digests_are_refused_naming_the_file() {
        let page = Url::parse("https://pypi.example/simple/x/").unwrap();
        let refused = |body: &str| {
            parse_page(body.as_bytes(), &page, "x")
                .unwrap_err()
                .to_string()
        };
        let json = r#"{"files":[{"filename":"x-1.0.tar.gz","url":"x-1.0.tar.gz","hashes":{"sha256":"abc"}}]}"#;
        let message = refused(json);
        assert!(
            message.contains("`x-1.0.tar.gz`") && message.contains("sha256 `abc`"),
            "{message}"
        );
        let json =
            r#"{"files":[{"filename":"x-1.0.tar.gz","url":"x-1.0.tar.gz","hashes":{"md5":"zz"}}]}"#;
        assert!(refused(json).contains("md5 `zz`"));
        let json = r#"{"files":[{"filename":"x-1.0-py3-none-any.whl","url":"x.whl","hashes":{},"core-metadata":{"sha256":"1"}}]}"#;
        assert!(refused(json).contains("sha256 `1`"));
        assert!(
            refused(r#"<a href="x-1.0.tar.gz#sha256=0123">x-1.0.tar.gz</a>"#).contains("`0123`")
        );
        let html = r#"<a href="x-1.0.tar.gz" data-core-metadata="sha256=9">x-1.0.tar.gz</a>"#;
        assert!(refused(html).contains("`9`"));
        // A file of another project is dropped, whatever its digest; other algorithms pass.
        let json = r#"{"files":[{"filename":"y-1.0.tar.gz","url":"y-1.0.tar.gz","hashes":{"sha256":"abc"}},
            {"filename":"x-1.0.tar.gz","url":"x-1.0.tar.gz","hashes":{"blake2b_256":"q"}}]}"#;
        assert_eq!(
            parse_page(json.as_bytes(), &page, "x").unwrap().files.len(),
            1
        );
    }
}
