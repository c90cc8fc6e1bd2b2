//! Fuzz targets of PyPI's formats: project pages (PEP 691 JSON and PEP 503 HTML) and core
//! metadata (as served beside a wheel, and inside a wheel). Seeds: the recorded fixture index,
//! its `.metadata` files, small samples of the real pages in the shared corpus, and HTML pages
//! written from the JSON ones.

use std::io::Write;
use std::str::FromStr;

use url::Url;

use super::metadata::CoreMetadata;
use super::simple::{ProjectPage, parse_page};
use crate::fuzz::{self, Outcome, seeds};

/// Tokens of JSON, HTML and the metadata format.
const DICTIONARY: &[&str] = &[
    "{\"files\":[",
    "\"filename\":",
    "\"url\":",
    "\"hashes\":{\"sha256\":",
    "\"yanked\":",
    "\"core-metadata\":",
    "\"requires-python\":",
    "\"size\":",
    "\"upload-time\":",
    "<a href=\"",
    "#sha256=",
    "data-requires-python=\"",
    "data-yanked",
    "data-core-metadata=\"sha256=",
    "</a>",
    "&amp;",
    "&lt;",
    ".whl",
    ".tar.gz",
    "-py3-none-any",
    "Requires-Dist: ",
    "Requires-Python: ",
    "Metadata-Version: 2.2\n",
    "Dynamic: ",
    "; extra == \"",
    " and python_version < \"3.9\"",
    "[",
    "]",
    ">=",
    "==",
    "~=",
    "\"",
    ",",
    ":",
    "\n",
];

/// The fixture pages, the two smallest real pages, numpy's cut to twenty files, and each as
/// PEP 503 HTML.
fn page_seeds() -> Vec<Vec<u8>> {
    let mut json = seeds::read("fixtures/pypi/simple", |name| name == "index.json", 24);
    for name in [
        "snowballstemmer_simple.json",
        "pytest_simple.json",
        "numpy_simple.json",
    ] {
        let Some(path) = seeds::corpus(&format!("pypi/{name}")) else {
            continue;
        };
        let bytes = std::fs::read(path).expect("read a corpus page");
        let mut page: serde_json::Value = serde_json::from_slice(&bytes).expect("a JSON page");
        if let Some(files) = page.get_mut("files").and_then(|f| f.as_array_mut()) {
            files.truncate(20);
        }
        json.push(serde_json::to_vec(&page).expect("write a page"));
    }
    let html: Vec<Vec<u8>> = json.iter().filter_map(|page| html_of(page)).collect();
    json.into_iter().chain(html).collect()
}

/// A JSON page written as the HTML page an index would serve for it.
fn html_of(json: &[u8]) -> Option<Vec<u8>> {
    let page: serde_json::Value = serde_json::from_slice(json).ok()?;
    let mut html = String::from("<!DOCTYPE html>\n<html><body>\n");
    for file in page.get("files")?.as_array()? {
        let text = |key: &str| file.get(key).and_then(|v| v.as_str()).unwrap_or_default();
        let sha256 = file.pointer("/hashes/sha256").and_then(|v| v.as_str());
        html.push_str(&format!("<a href=\"{}", text("url")));
        if let Some(sha256) = sha256 {
            html.push_str(&format!("#sha256={sha256}"));
        }
        html.push('"');
        if !text("requires-python").is_empty() {
            let escaped = text("requires-python")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            html.push_str(&format!(" data-requires-python=\"{escaped}\""));
        }
        html.push_str(&format!(">{}</a><br/>\n", text("filename")));
    }
    html.push_str("</body></html>\n");
    Some(html.into_bytes())
}

/// The project a page is about: its `name`, or the first file's name up to a `-`.
fn project_of(input: &[u8]) -> String {
    let text = String::from_utf8_lossy(input);
    let from_json = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|page| page.get("name")?.as_str().map(str::to_string));
    let from_html = || {
        let (_, rest) = text.split_once("\">")?;
        Some(rest.split(['-', '<']).next()?.to_string())
    };
    let name = from_json.or_else(from_html).unwrap_or_else(|| "x".into());
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// A page is read, or refused, without a panic; every file it yields has a well-formed sha256
/// (when it has one) and a URL without a fragment.
fn page_property(input: &[u8]) -> Outcome {
    let page = Url::parse("https://pypi.example/simple/x/").map_err(|e| e.to_string())?;
    let Ok(ProjectPage { files, .. }) = parse_page(input, &page, &project_of(input)) else {
        return Ok(());
    };
    for file in files {
        let hex =
            |s: &str| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if file.sha256.as_deref().is_some_and(|s| !hex(s)) {
            return Err(format!(
                "{} has the sha256 {:?}",
                file.filename, file.sha256
            ));
        }
        if file.url.fragment().is_some() {
            return Err(format!("{} keeps a fragment: {}", file.filename, file.url));
        }
    }
    Ok(())
}

fn metadata_seeds() -> Vec<Vec<u8>> {
    seeds::read(
        "fixtures/pypi/files",
        |name| name.ends_with(".metadata"),
        48,
    )
}

/// Metadata is read without a panic, each `Requires-Dist` and `Requires-Python` parsed as the
/// resolver parses them; inside a wheel, the same metadata reads the same.
fn metadata_property(input: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(input);
    let metadata = CoreMetadata::parse(&text);
    for requirement in &metadata.requires_dist {
        let _ = super::requirement::parse(requirement);
    }
    if let Some(python) = &metadata.requires_python {
        let _ = pep440_rs::VersionSpecifiers::from_str(python);
    }
    let _ = metadata.has_static_dependencies();
    if let Ok(utf8) = std::str::from_utf8(input) {
        let wheel = wheel_with(utf8)?;
        let read = super::dist_metadata::metadata_in_wheel(&wheel, "x-1.0-py3-none-any.whl")
            .map_err(|e| format!("the wheel's METADATA is refused: {e}"))?;
        if read != metadata {
            return Err("the wheel's METADATA reads differently".into());
        }
    }
    Ok(())
}

/// A wheel (a zip) holding `x-1.0.dist-info/METADATA`.
fn wheel_with(metadata: &str) -> Result<Vec<u8>, String> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("x-1.0.dist-info/METADATA", options)
        .and_then(|()| zip.write_all(metadata.as_bytes()).map_err(Into::into))
        .and_then(|()| zip.finish())
        .map(|cursor| cursor.into_inner())
        .map_err(|e| format!("cannot write the wheel: {e}"))
}

#[test]
fn fuzz_pypi_page() {
    fuzz::bytes("pypi-page", page_seeds(), DICTIONARY, page_property);
}

#[test]
fn fuzz_core_metadata() {
    fuzz::bytes(
        "core-metadata",
        metadata_seeds(),
        DICTIONARY,
        metadata_property,
    );
}

#[test]
fn fuzz_regressions_replay() {
    fuzz::replay("pypi-page", page_property);
    fuzz::replay("core-metadata", metadata_property);
}
