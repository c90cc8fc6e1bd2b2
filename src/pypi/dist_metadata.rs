//! Core metadata read from downloaded distributions: a wheel's `*.dist-info/METADATA`, or an
//! sdist's `PKG-INFO` when that is static metadata. Read from the archive in memory; nothing is
//! unpacked or run.

use std::io::Read;
use std::sync::Arc;

use pep508_rs::PackageName;

use super::index_error::IndexError;
use super::metadata::CoreMetadata;
use super::simple::DistFile;

/// Core metadata read from a downloaded wheel (`*.dist-info/METADATA`) or sdist (`PKG-INFO`).
pub(super) fn metadata_from_file(
    file: &DistFile,
    bytes: &[u8],
    name: &PackageName,
) -> Result<CoreMetadata, IndexError> {
    let filename = || file.filename.clone();
    if file.is_wheel {
        return metadata_in_wheel(bytes, &file.filename);
    }
    let pkg_info = sdist_pkg_info(&file.filename, bytes).ok_or_else(|| IndexError::NoPkgInfo {
        filename: filename(),
    })?;
    let metadata = CoreMetadata::parse(&pkg_info);
    if metadata.has_static_dependencies() {
        Ok(metadata)
    } else {
        Err(IndexError::DynamicSdist {
            name: name.to_string(),
            version: file.version.to_string(),
            metadata_version: metadata.metadata_version.to_string(),
        })
    }
}

/// Core metadata read from the wheel `filename` (`*.dist-info/METADATA`), whose bytes are
/// `bytes`.
pub(super) fn metadata_in_wheel(bytes: &[u8], filename: &str) -> Result<CoreMetadata, IndexError> {
    let filename = || filename.to_string();
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|source| IndexError::Wheel {
            filename: filename(),
            source: Arc::new(source),
        })?;
    let entry = (0..archive.len())
        .filter_map(|i| archive.name_for_index(i)?.ok().map(|n| n.into_owned()))
        .find(|n| n.matches('/').count() == 1 && n.ends_with(".dist-info/METADATA"))
        .ok_or_else(|| IndexError::NoWheelMetadata {
            filename: filename(),
        })?;
    let mut text = String::new();
    archive
        .by_name(&entry)
        .map_err(|source| IndexError::Wheel {
            filename: filename(),
            source: Arc::new(source),
        })?
        .take(4 << 20)
        .read_to_string(&mut text)
        .map_err(|source| IndexError::WheelMetadata {
            filename: filename(),
            source: Arc::new(source),
        })?;
    Ok(CoreMetadata::parse(&text))
}

/// The top-level `PKG-INFO` of an sdist (`.tar.gz` or `.zip`), read without extracting.
fn sdist_pkg_info(filename: &str, bytes: &[u8]) -> Option<String> {
    let is_pkg_info = |path: &str| path.matches('/').count() == 1 && path.ends_with("/PKG-INFO");
    if filename.ends_with(".zip") {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
        let name = (0..archive.len())
            .filter_map(|i| archive.name_for_index(i)?.ok().map(|n| n.into_owned()))
            .find(|n| is_pkg_info(n))?;
        let mut text = String::new();
        archive
            .by_name(&name)
            .ok()?
            .take(4 << 20)
            .read_to_string(&mut text)
            .ok()?;
        return Some(text);
    }
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    for entry in archive.entries().ok()? {
        let entry = entry.ok()?;
        let path = entry.path().ok()?.to_string_lossy().into_owned();
        if is_pkg_info(&path) {
            let mut text = String::new();
            entry.take(4 << 20).read_to_string(&mut text).ok()?;
            return Some(text);
        }
    }
    None
}
