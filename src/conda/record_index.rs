//! A subdir's repodata indexed by package name without reading its records, on two threads,
//! and the repodata of some of its packages cut out of it.
//!
//! - **The index** ([`RecordIndex`]) keeps where each record of `packages` and `packages.conda`
//!   is, by the package name its file name starts with. A large repodata is read from both
//!   ends of its middle at once: the calling thread reads from the start, a second thread from a
//!   record that starts near the middle. That guess is checked when the first thread reaches
//!   it: a guess that was no record's start is dropped, and the first thread reads on alone.
//!   A repodata fetched as plain JSON is indexed while its bytes arrive instead
//!   ([`ArrivingIndex`]), on the thread that receives them: over a real link, slower than the
//!   reading, the index is ready about when the last byte is.
//! - **A cut** ([`RecordIndex::repodata_of`]) is the repodata of one package (one the walk of
//!   [`super::closure_records`] reaches): its records, the files of it listed under `removed`,
//!   and `info` and `repodata_version` as they were. rattler's sparse reader loads it exactly
//!   as it would the whole file, so every rule of how records are read stays rattler's.
//!
//! A repodata this index does not know is not indexed ([`RecordIndex::build`] answers `None`),
//! and is read whole by rattler instead, which names its errors: malformed JSON, a `v3` map, a
//! key spelt with escapes, a key given twice, or a file name without a version and build.

use reading::{Entry, Part, Reading, RecordMap, Span, record_start_near};

/// Below this many bytes, a repodata is read on one thread: a second one would cost more than
/// it saves.
const SPLIT_AT: usize = 1 << 20;

/// What `reading` reads of `json`, the whole document, from where it got (stopping before the
/// record at `stop`, if it gets there); `None` when `json` is not a repodata this index reads.
fn read_whole(mut reading: Reading, json: &[u8], stop: Option<usize>) -> Option<Part> {
    reading.read_whole(json, stop).ok()?;
    Some(reading.into_part())
}

/// A repodata's index made while its bytes arrive, one step at a time on the thread that reads
/// them, so that it is ready about when the last byte is in (a 2.4 MB repodata arrives over
/// loopback in about the time its reading takes). It is made of the same steps, in the same
/// order, as [`RecordIndex::build`] on one thread.
#[derive(Debug)]
pub(super) struct ArrivingIndex {
    reading: Reading,
    /// How many bytes it was told of.
    arrived: usize,
    /// How many bytes must have arrived before it reads on: twice past the start of a step it
    /// could not read whole, so that a long value arriving in many chunks is read again only
    /// a few times.
    wait_for: usize,
}

impl ArrivingIndex {
    pub(super) fn new() -> Self {
        Self {
            reading: Reading::of_document(),
            arrived: 0,
            wait_for: 0,
        }
    }

    /// The index of `json`, the whole body it was told of as it arrived: what is left of it is
    /// read now. A body it was not told of whole is indexed anew. `None` as for
    /// [`RecordIndex::build`].
    pub(super) fn finish(self, json: &[u8]) -> Option<RecordIndex> {
        // A body past `u32::MAX` bytes is one `build` refuses too.
        if json.len() != self.arrived || json.len() > u32::MAX as usize {
            return RecordIndex::build(json);
        }
        let part = read_whole(self.reading, json, None)?;
        RecordIndex::from_parts(json, vec![part])
    }
}

#[cfg(test)]
impl ArrivingIndex {
    /// An index made while `json` arrived in chunks of `chunk` bytes.
    pub(super) fn arrived_in_chunks(json: &[u8], chunk: usize) -> Self {
        use crate::fetch::ReadsArriving;
        let mut arriving = Self::new();
        for end in (chunk..json.len()).step_by(chunk).chain([json.len()]) {
            arriving.arrived(&json[..end]);
        }
        arriving
    }
}

impl crate::fetch::ReadsArriving for ArrivingIndex {
    fn arrived(&mut self, so_far: &[u8]) {
        self.arrived = so_far.len();
        if so_far.len() < self.wait_for || so_far.len() > u32::MAX as usize {
            return;
        }
        self.reading.read_arrived(so_far);
        let unread = so_far.len() - self.reading.at();
        self.wait_for = so_far.len() + unread;
    }
}

/// A repodata's records by package name.
#[derive(Debug)]
pub(super) struct RecordIndex {
    /// Per record map, its entries sorted by package name (in runs: one per thread's part).
    maps: [Vec<Vec<Entry>>; 2],
    /// The top-level values kept whole, by key.
    kept: Vec<(&'static str, Span)>,
    /// The file names listed under `removed`, by package, once a cut needed them.
    removed: std::sync::OnceLock<Removed>,
}

/// The file names a repodata lists under `removed`.
#[derive(Debug)]
enum Removed {
    /// Each name (where its text is) with the package name it starts with, sorted by package.
    ByPackage(Vec<(Span, Span)>),
    /// A `removed` that is not a list of plain file names (one spelt with escapes, one without
    /// two `-`, or no list at all): kept whole in every cut, for rattler to refuse as it would
    /// in the whole file.
    Whole,
}

impl Removed {
    /// The names of `removed` (where it is in `json`), if it is a list of plain file names.
    fn read(json: &[u8], removed: Span) -> Self {
        let Ok(names) = serde_json::from_slice::<Vec<&str>>(&json[removed.range()]) else {
            return Self::Whole;
        };
        let mut by_package = Vec::with_capacity(names.len());
        for name in names {
            let start = name.as_ptr() as usize - json.as_ptr() as usize;
            let Some(package) = reading::package_name(name.as_bytes()) else {
                return Self::Whole;
            };
            by_package.push((
                Span::of(start, start + package),
                Span::of(start, start + name.len()),
            ));
        }
        by_package.sort_by(|a, b| json[a.0.range()].cmp(&json[b.0.range()]));
        Self::ByPackage(by_package)
    }
}

impl RecordIndex {
    /// The index of `json`, or `None` when rattler must read it whole (see the module's doc).
    pub(super) fn build(json: &[u8]) -> Option<Self> {
        Self::build_split_at(json, SPLIT_AT)
    }

    /// [`RecordIndex::build`], on two threads from `split_at` bytes on.
    fn build_split_at(json: &[u8], split_at: usize) -> Option<Self> {
        if json.len() > u32::MAX as usize {
            return None;
        }
        let guess = (json.len() >= split_at)
            .then(|| record_start_near(json, json.len() / 2))
            .flatten();
        let parts = match guess {
            None => vec![read_whole(Reading::of_document(), json, None)?],
            Some(start) => std::thread::scope(|scope| {
                let second = crate::threads::spawn_beside(scope, move || {
                    read_whole(Reading::from_record(start), json, None)
                });
                let first = read_whole(Reading::of_document(), json, Some(start))?;
                let second = crate::threads::join_all(vec![second]).pop()?;
                match first.stopped_in {
                    // The second part is what the first reading would have read from there.
                    Some(map) => Some(vec![first, second?.continuing(map)]),
                    // The guess was no record's start: the first reading read on to the end.
                    None => Some(vec![first]),
                }
            })?,
        };
        Self::from_parts(json, parts)
    }

    /// The index made of the parts read, in order; `None` when a key is given twice.
    fn from_parts(json: &[u8], parts: Vec<Part>) -> Option<Self> {
        let mut maps: [Vec<Vec<Entry>>; 2] = Default::default();
        let mut kept: Vec<(&'static str, Span)> = Vec::new();
        let mut opened = Vec::new();
        for part in parts {
            for (map, opens, mut entries) in part.maps {
                if opens {
                    if opened.contains(&map) {
                        return None;
                    }
                    opened.push(map);
                }
                entries.sort_unstable_by(|a, b| json[a.name.range()].cmp(&json[b.name.range()]));
                maps[map as usize].push(entries);
            }
            for (key, span) in part.kept {
                if kept.iter().any(|(k, _)| *k == key) {
                    return None;
                }
                kept.push((key, span));
            }
        }
        Some(Self {
            maps,
            kept,
            removed: std::sync::OnceLock::new(),
        })
    }

    /// The names of the packages with records, each once.
    #[cfg(test)]
    pub(super) fn package_names(&self, json: &[u8]) -> Vec<String> {
        let names: std::collections::BTreeSet<String> = self
            .maps
            .iter()
            .flatten()
            .flatten()
            .map(|e| String::from_utf8_lossy(&json[e.name.range()]).into_owned())
            .collect();
        names.into_iter().collect()
    }

    /// How many bytes the records of the package `name` take, in both record maps: 0 when it
    /// has none.
    pub(super) fn bytes_of(&self, json: &[u8], name: &str) -> usize {
        RecordMap::ALL
            .into_iter()
            .flat_map(|map| self.records(json, map, name))
            .map(|(_, record)| record.len())
            .sum()
    }

    /// The records of the package `name` in `map`: their file names and JSON.
    fn records<'a>(
        &'a self,
        json: &'a [u8],
        map: RecordMap,
        name: &'a str,
    ) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        self.maps[map as usize].iter().flat_map(move |run| {
            let first = run.partition_point(|e| &json[e.name.range()] < name.as_bytes());
            run[first..]
                .iter()
                .take_while(move |e| &json[e.name.range()] == name.as_bytes())
                .map(move |e| (&json[e.file.range()], &json[e.record.range()]))
        })
    }

    /// A repodata of the records of the package `name` alone, with `info` and
    /// `repodata_version` as they were and the file names of `removed` that are of `name` (all
    /// of them when they are not plain names, see [`Removed`]).
    pub(super) fn repodata_of(&self, json: &[u8], name: &str) -> Vec<u8> {
        let kept: usize = self.kept.iter().map(|(_, span)| span.range().len()).sum();
        // A record's file name, quotes and comma are fewer bytes than the record.
        let mut out = Vec::with_capacity(2 * self.bytes_of(json, name) + kept + 128);
        out.push(b'{');
        for (key, span) in &self.kept {
            push_key(&mut out, key);
            let removed = (*key == "removed").then(|| self.removed_of(json, *span));
            match removed {
                Some(Removed::ByPackage(names)) => {
                    let first = names
                        .partition_point(|(package, _)| &json[package.range()] < name.as_bytes());
                    let of_name = names[first..]
                        .iter()
                        .take_while(|(package, _)| &json[package.range()] == name.as_bytes());
                    out.push(b'[');
                    for (at, (_, file)) in of_name.enumerate() {
                        if at > 0 {
                            out.push(b',');
                        }
                        out.push(b'"');
                        out.extend_from_slice(&json[file.range()]);
                        out.push(b'"');
                    }
                    out.push(b']');
                }
                _ => out.extend_from_slice(&json[span.range()]),
            }
            out.push(b',');
        }
        for map in RecordMap::ALL {
            push_key(&mut out, map.key());
            out.push(b'{');
            for (at, (file, record)) in self.records(json, map, name).enumerate() {
                if at > 0 {
                    out.push(b',');
                }
                out.push(b'"');
                out.extend_from_slice(file);
                out.extend_from_slice(b"\":");
                out.extend_from_slice(record);
            }
            out.extend_from_slice(b"},");
        }
        out.pop();
        out.push(b'}');
        out
    }

    /// The file names of `removed` (at `span` in `json`), read the first time a cut needs them.
    fn removed_of(&self, json: &[u8], span: Span) -> &Removed {
        self.removed.get_or_init(|| Removed::read(json, span))
    }
}

fn push_key(out: &mut Vec<u8>, key: &str) {
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

mod reading;
#[cfg(test)]
mod tests;
