//! A distribution's `RECORD` (the wheel spec, PEP 376/627): the CSV of every file pip installed
//! for it, each with `sha256=<urlsafe base64>` and its size. `verify` checks the files of each
//! locked distribution against it, so a file changed after the install is found.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// One line of a `RECORD` that carries a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedFile {
    /// The file's path in the image, relative to the root, with `..` resolved.
    pub path: String,
    /// The sha256 pip recorded, in lowercase hexadecimal.
    pub sha256: String,
}

/// The hashed files of the `RECORD` at `site/<name>.dist-info/RECORD`, its paths resolved
/// against `site` (a folder of the image, without a leading `/`). Lines without a sha256 (the
/// `RECORD` itself, byte-code pip compiled) or whose path leaves the image are skipped, as are
/// lines that are not CSV: this checks files, it does not judge the `RECORD`.
pub fn hashed_files(site: &str, text: &[u8]) -> Vec<RecordedFile> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|line| {
            let sha256 = sha256_hex(line.get(1)?)?;
            let path = resolve(site, line.get(0)?)?;
            Some(RecordedFile { path, sha256 })
        })
        .collect()
}

/// `sha256=<urlsafe base64, no padding>` as lowercase hexadecimal; `None` for another algorithm
/// or a malformed value.
fn sha256_hex(field: &str) -> Option<String> {
    let encoded = field.strip_prefix("sha256=")?;
    let bytes = URL_SAFE_NO_PAD.decode(encoded.trim_end_matches('=')).ok()?;
    (bytes.len() == 32).then(|| hex::encode(bytes))
}

/// `path` of a `RECORD` line as a path from the image's root: relative ones (`six.py`,
/// `../../../bin/x`) against `site`, absolute ones as they are; `None` if `..` leaves the root.
fn resolve(site: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = if path.starts_with('/') {
        Vec::new()
    } else {
        site.split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of six 1.16.0's real `RECORD`.
    const SIX: &str = "six.py,sha256=TOOfQi7nFGfMrIvtdr6wX4wyHH8M7aknmuLfo2cBBrM,34549\n\
six-1.16.0.dist-info/RECORD,,\n\
six-1.16.0.dist-info/METADATA,sha256=ZsJGTd6eI-nXVdbK6nEdiPFm7mZJALmv7hlfXJ2Eo2s,1795\n\
__pycache__/six.cpython-311.pyc,,\n\
../../../bin/six-script,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n\
\"odd,name.py\",sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n\
../../../../../../etc/passwd,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n\
bad.py,md5=abc,1\n";

    #[test]
    fn hashed_lines_are_read_and_resolved_against_the_site() {
        let site = "usr/local/lib/python3.11/site-packages";
        let files = hashed_files(site, SIX.as_bytes());
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "usr/local/lib/python3.11/site-packages/six.py",
                "usr/local/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA",
                "usr/local/bin/six-script",
                "usr/local/lib/python3.11/site-packages/odd,name.py",
            ]
        );
        assert_eq!(
            files[0].sha256,
            "4ce39f422ee71467ccac8bed76beb05f8c321c7f0ceda9279ae2dfa3670106b3"
        );
        // The sha256 of nothing, as pip writes it for an empty file.
        assert_eq!(
            files[2].sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
