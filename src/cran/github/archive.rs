//! A GitHub source archive (`GET /repos/{owner}/{repo}/tarball/{sha}`): a tar.gz whose entries
//! are all below one top folder (`owner-repo-<sha7>/`, after a pax global header naming the
//! commit). Its DESCRIPTION, below the package's subdirectory, is read as it streams, never run.

use std::io::Read;

use crate::cran::archive::find_description;
use crate::cran::error::DescriptionError;

/// What the decompression limit limits, as its error says.
const WHAT: &str = "the decompressed GitHub archive, before its DESCRIPTION,";

/// The text of `<top>/<subdir>/DESCRIPTION` in a GitHub archive, where `<top>` is the folder
/// every entry is below; an archive that expands past `limit` bytes before it is refused.
pub fn read_description(
    tar_gz: impl Read,
    subdir: Option<&str>,
    limit: u64,
) -> Result<String, DescriptionError> {
    let wanted = format!(
        "{}DESCRIPTION",
        subdir.map(|s| format!("{s}/")).unwrap_or_default()
    );
    let mut top: Option<String> = None;
    let found = find_description(tar_gz, limit, WHAT, |path, is_file| {
        let Some((first, rest)) = path.split_once('/') else {
            return Ok(false);
        };
        let top = top.get_or_insert_with(|| first.to_string());
        if first != top.as_str() {
            return Err(DescriptionError::NotOneFolder(
                top.clone(),
                first.to_string(),
            ));
        }
        Ok(is_file && rest == wanted)
    })?;
    found.ok_or_else(|| {
        DescriptionError::Missing(format!(
            "{}/{wanted}",
            top.as_deref().unwrap_or("<top folder>")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A tar.gz of `files` (path, contents), a pax global header first, as GitHub makes them.
    fn archive(files: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut global = tar::Header::new_ustar();
        global.set_entry_type(tar::EntryType::XGlobalHeader);
        let comment = format!("52 comment={}\n", "a".repeat(40));
        global.set_size(comment.len() as u64);
        builder
            .append_data(&mut global, "pax_global_header", comment.as_bytes())
            .unwrap();
        for (path, contents) in files {
            let mut header = tar::Header::new_ustar();
            header.set_size(contents.len() as u64);
            header.set_mode(0o644);
            builder
                .append_data(&mut header, path, contents.as_bytes())
                .unwrap();
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&builder.into_inner().unwrap()).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn reads_the_description_below_the_top_folder_and_the_subdirectory() {
        let bytes = archive(&[
            ("o-r-aaaaaaa/README.md", "x"),
            ("o-r-aaaaaaa/DESCRIPTION", "Package: top\n"),
            ("o-r-aaaaaaa/pkg/sub/DESCRIPTION", "Package: sub\n"),
        ]);
        let read = |subdir| read_description(bytes.as_slice(), subdir, 1 << 20);
        assert_eq!(read(None).unwrap(), "Package: top\n");
        assert_eq!(read(Some("pkg/sub")).unwrap(), "Package: sub\n");
        let missing = read(Some("pkg/none")).unwrap_err().to_string();
        assert!(
            missing.contains("o-r-aaaaaaa/pkg/none/DESCRIPTION"),
            "{missing}"
        );
    }

    #[test]
    fn refuses_an_archive_without_a_single_top_folder_or_too_large() {
        let two = archive(&[("a/x", "1"), ("b/DESCRIPTION", "Package: b\n")]);
        let error = read_description(two.as_slice(), None, 1 << 20).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("not all below one folder (`a/` and `b/`)"),
            "{error}"
        );
        let big = archive(&[
            ("t/big", &"x".repeat(100_000)),
            ("t/DESCRIPTION", "Package: t\n"),
        ]);
        let error = read_description(big.as_slice(), None, 10_000).unwrap_err();
        assert!(matches!(error, DescriptionError::TooLarge(_)), "{error}");
    }
}
