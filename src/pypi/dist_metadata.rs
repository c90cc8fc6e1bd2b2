//! Core metadata read from downloaded distributions: a wheel's `*.dist-info/METADATA`, or an
//! sdist's static metadata (read by [`super::sdist`]). Read from the archive in memory; nothing
//! is unpacked or run.

use std::io::Read;
use std::sync::Arc;

use pep508_rs::PackageName;

use super::index_error::IndexError;
use super::metadata::CoreMetadata;
use super::simple::DistFile;

/// Core metadata read from a downloaded wheel (`*.dist-info/METADATA`) or sdist (its most
/// trusted static source, see [`super::sdist`]).
pub(super) fn metadata_from_file(
    file: &DistFile,
    bytes: &[u8],
    name: &PackageName,
) -> Result<CoreMetadata, IndexError> {
    if file.is_wheel {
        return metadata_in_wheel(bytes, &file.filename);
    }
    super::sdist::metadata(&file.filename, bytes, name, &file.version)
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
