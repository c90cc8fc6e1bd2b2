//! A wheel's `METADATA` read with two HTTP range requests, without downloading the wheel: the
//! end of the file (the zip's end record and central directory), then the one entry.
//!
//! Zip64 archives, central directories larger than the first read, and servers that ignore
//! ranges fall back to downloading the whole wheel. A wheel never changes, so what was read is
//! kept in the cache for warm and `--offline` runs.

use flate2::read::DeflateDecoder;
use std::io::Read;
use url::Url;

use crate::fetch::Fetcher;

/// How much of the end of a wheel is read first.
const TAIL: usize = 64 * 1024;

/// Where an entry's data is, from the central directory.
#[derive(Debug, Clone, Copy)]
struct Entry {
    header_offset: u64,
    compressed: u64,
    method: u16,
}

/// The part of a wheel this module reads and keeps in the cache.
const PART: &str = "METADATA";

/// The wheels' `METADATA` texts, in the order of `urls`, from the cache or read with ranges;
/// `None` where ranges cannot be used.
pub fn read_metadata(fetcher: &Fetcher, urls: &[Url]) -> Vec<Option<String>> {
    let kept: Vec<Option<String>> = urls
        .iter()
        .map(|url| fetcher.kept_part(url, PART))
        .map(|body| body.and_then(|body| String::from_utf8(body.into()).ok()))
        .collect();
    let missing: Vec<Url> = urls
        .iter()
        .zip(&kept)
        .filter(|(_, kept)| kept.is_none())
        .map(|(url, _)| url.clone())
        .collect();
    let mut read = read_with_ranges(fetcher, &missing).into_iter();
    urls.iter()
        .zip(kept)
        .map(|(url, kept)| {
            kept.or_else(|| {
                let text = read.next().flatten()?;
                fetcher.keep_part(url, PART, text.as_bytes());
                Some(text)
            })
        })
        .collect()
}

/// The wheels' `METADATA` texts read with range requests, in the order of `urls`; `None` where
/// ranges cannot be used.
fn read_with_ranges(fetcher: &Fetcher, urls: &[Url]) -> Vec<Option<String>> {
    if urls.is_empty() {
        return Vec::new();
    }
    let tails = fetcher.get_ranges(
        &urls
            .iter()
            .map(|u| (u.clone(), format!("-{TAIL}")))
            .collect::<Vec<_>>(),
    );
    let entries: Vec<Option<Entry>> = tails
        .iter()
        .map(|tail| {
            let (bytes, total) = tail.as_ref().ok()?;
            find_metadata(bytes, (*total)?)
        })
        .collect();
    let wanted: Vec<(Url, String)> = urls
        .iter()
        .zip(&entries)
        .filter_map(|(url, entry)| {
            let entry = (*entry)?;
            // The local header is 30 bytes plus a name and an extra field of unknown length.
            let end = entry.header_offset + 30 + 1024 + entry.compressed;
            Some((url.clone(), format!("{}-{}", entry.header_offset, end)))
        })
        .collect();
    let mut bodies = fetcher.get_ranges(&wanted).into_iter();
    entries
        .into_iter()
        .map(|entry| {
            let entry = entry?;
            let (bytes, _) = bodies.next()?.ok()?;
            extract(&bytes, entry)
        })
        .collect()
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// Finds `<name>.dist-info/METADATA` in the central directory within `tail`, the last bytes of
/// a file of `total` bytes.
fn find_metadata(tail: &[u8], total: u64) -> Option<Entry> {
    let end_record = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&at| u32_at(tail, at) == Some(0x0605_4b50))?;
    let directory_size = u64::from(u32_at(tail, end_record + 12)?);
    let directory_offset = u64::from(u32_at(tail, end_record + 16)?);
    if directory_offset == u64::from(u32::MAX) {
        return None; // zip64
    }
    let tail_start = total.checked_sub(tail.len() as u64)?;
    let mut at = usize::try_from(directory_offset.checked_sub(tail_start)?).ok()?;
    let end = at + usize::try_from(directory_size).ok()?;
    while at + 46 <= end.min(tail.len()) && u32_at(tail, at) == Some(0x0201_4b50) {
        let method = u16_at(tail, at + 10)?;
        let compressed = u64::from(u32_at(tail, at + 20)?);
        let name_length = usize::from(u16_at(tail, at + 28)?);
        let extra_length = usize::from(u16_at(tail, at + 30)?);
        let comment_length = usize::from(u16_at(tail, at + 32)?);
        let header_offset = u64::from(u32_at(tail, at + 42)?);
        let name = std::str::from_utf8(tail.get(at + 46..at + 46 + name_length)?).ok()?;
        if name.matches('/').count() == 1 && name.ends_with(".dist-info/METADATA") {
            return Some(Entry {
                header_offset,
                compressed,
                method,
            });
        }
        at += 46 + name_length + extra_length + comment_length;
    }
    None
}

/// The entry's text from bytes that start at its local header.
fn extract(bytes: &[u8], entry: Entry) -> Option<String> {
    if u32_at(bytes, 0)? != 0x0403_4b50 {
        return None;
    }
    let start = 30 + usize::from(u16_at(bytes, 26)?) + usize::from(u16_at(bytes, 28)?);
    let data = bytes.get(start..start + usize::try_from(entry.compressed).ok()?)?;
    let mut text = String::new();
    match entry.method {
        0 => text = String::from_utf8(data.to_vec()).ok()?,
        8 => {
            DeflateDecoder::new(data)
                .take(4 << 20)
                .read_to_string(&mut text)
                .ok()?;
        }
        _ => return None,
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn finds_and_extracts_metadata_from_the_tail() {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        let stored = options.compression_method(zip::CompressionMethod::Stored);
        zip.start_file("pkg/__init__.py", stored).unwrap();
        zip.write_all(&vec![b'#'; 100_000]).unwrap();
        zip.start_file("pkg-1.0.dist-info/METADATA", options)
            .unwrap();
        zip.write_all(b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\nRequires-Dist: six\n")
            .unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        assert!(bytes.len() > 100_000);
        let tail = &bytes[bytes.len() - 1000..];
        let entry = find_metadata(tail, bytes.len() as u64).unwrap();
        let start = usize::try_from(entry.header_offset).unwrap();
        let text = extract(&bytes[start..], entry).unwrap();
        assert!(text.contains("Requires-Dist: six"));
    }
}
