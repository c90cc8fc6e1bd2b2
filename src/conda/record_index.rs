//! A subdir's repodata indexed by package name without reading its records, on two threads,
//! and the repodata of a request's closure cut out of it.
//!
//! - **The index** ([`RecordIndex`]) keeps where each record of `packages` and `packages.conda`
//!   is, by the package name its file name starts with. A large repodata is read from both
//!   ends of its middle at once: the calling thread reads from the start, a second thread from a
//!   record that starts near the middle. That guess is checked when the first thread reaches
//!   it: a guess that was no record's start is dropped, and the first thread reads on alone.
//! - **The closure** ([`closure`]) is every package the requested names reach through their
//!   records' `depends` (and `extra_depends`), in every subdir. Only those records are read.
//! - **Its repodata** ([`RecordIndex::repodata_of`]) holds those records, and `info`,
//!   `removed` and `repodata_version` as they were. rattler's sparse reader loads it exactly as
//!   it would the whole file, so every rule of how records are read stays rattler's.
//!
//! A repodata this index does not know is not indexed ([`RecordIndex::build`] answers `None`),
//! and is read whole by rattler instead, which names its errors: malformed JSON, a `v3` map, a
//! key spelt with escapes, a key given twice, or a file name without a version and build.

use std::collections::{BTreeMap, HashMap, VecDeque};

use rattler_conda_types::PackageName;
use serde::Deserialize;
use serde_json::value::RawValue;

/// Below this many bytes, a repodata is read on one thread: a second one would cost more than
/// it saves.
const SPLIT_AT: usize = 1 << 20;

/// Where something is in the repodata's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn of(start: usize, end: usize) -> Self {
        // The repodata is at most 2 GiB (`MAX_REPODATA`), so every offset fits.
        Self {
            start: start as u32,
            len: (end - start) as u32,
        }
    }

    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// One record: its file name, the package name that starts it, and its JSON.
#[derive(Debug, Clone, Copy)]
struct Entry {
    name: Span,
    file: Span,
    record: Span,
}

/// The two record maps of a repodata (`v3` ones are read by rattler).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecordMap {
    /// `packages`: `.tar.bz2` files.
    Packages,
    /// `packages.conda`: `.conda` files.
    Conda,
}

impl RecordMap {
    const ALL: [Self; 2] = [Self::Packages, Self::Conda];

    fn key(self) -> &'static str {
        match self {
            Self::Packages => "packages",
            Self::Conda => "packages.conda",
        }
    }
}

/// The top-level values kept whole in a closure's repodata.
const KEPT: [&str; 3] = ["info", "removed", "repodata_version"];

/// A repodata's records by package name.
#[derive(Debug)]
pub(super) struct RecordIndex {
    /// Per record map, its entries sorted by package name (in runs: one per thread's part).
    maps: [Vec<Vec<Entry>>; 2],
    /// The top-level values kept whole, by key.
    kept: Vec<(&'static str, Span)>,
}

/// Why a repodata is left to rattler: it is not one this index reads.
#[derive(Debug)]
struct Unknown;

type Read<T> = Result<T, Unknown>;

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
            None => vec![Reader::new(json, 0).document(None).ok()?],
            Some(start) => std::thread::scope(|scope| {
                let second = crate::threads::spawn_beside(scope, move || {
                    Reader::new(json, start).rest_from_record()
                });
                let first = Reader::new(json, 0).document(Some(start)).ok()?;
                let second = crate::threads::join_all(vec![second]).pop()?;
                match first.stopped_in {
                    // The second part is what the first reader would have read from there.
                    Some(map) => Some(vec![first, second.ok()?.continuing(map)]),
                    // The guess was no record's start: the first reader read on to the end.
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
        Some(Self { maps, kept })
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

    /// A repodata of the records of `names` alone, with the values of [`KEPT`] as they were.
    pub(super) fn repodata_of(&self, json: &[u8], names: &Closure) -> Vec<u8> {
        let mut out = Vec::with_capacity(4096);
        out.push(b'{');
        for (key, span) in &self.kept {
            push_key(&mut out, key);
            out.extend_from_slice(&json[span.range()]);
            out.push(b',');
        }
        for map in RecordMap::ALL {
            push_key(&mut out, map.key());
            out.push(b'{');
            let mut first = true;
            for name in names.bytes.keys() {
                for (file, record) in self.records(json, map, name) {
                    if !std::mem::take(&mut first) {
                        out.push(b',');
                    }
                    out.push(b'"');
                    out.extend_from_slice(file);
                    out.extend_from_slice(b"\":");
                    out.extend_from_slice(record);
                }
            }
            out.extend_from_slice(b"},");
        }
        out.pop();
        out.push(b'}');
        out
    }
}

fn push_key(out: &mut Vec<u8>, key: &str) {
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// What a record names as its dependencies (the rest of it is left unread).
#[derive(Deserialize)]
struct Dependencies<'a> {
    #[serde(default, borrow)]
    depends: Vec<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    extra_depends: BTreeMap<String, Vec<String>>,
}

/// The packages some requested names reach ([`closure`]), each with the bytes of its records
/// in every subdir: how much reading it takes.
#[derive(Debug)]
pub(super) struct Closure {
    bytes: HashMap<String, usize>,
}

impl Closure {
    /// Its package names, those with the most to read first (then by name).
    pub(super) fn heaviest_first(&self) -> Vec<&str> {
        let mut names: Vec<(&str, usize)> = self
            .bytes
            .iter()
            .map(|(name, bytes)| (name.as_str(), *bytes))
            .collect();
        names.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        names.into_iter().map(|(name, _)| name).collect()
    }
}

/// The package names `names` reach through the `depends` and `extra_depends` of their records
/// in every one of `indexes` (each with its JSON), `names` included; `None` when a record's
/// dependencies do not read (rattler then reads the repodata whole, and names the record).
pub(super) fn closure<'a>(
    indexes: impl Iterator<Item = (&'a RecordIndex, &'a [u8])> + Clone,
    names: &[PackageName],
) -> Option<Closure> {
    let mut bytes: HashMap<String, usize> = names
        .iter()
        .map(|n| (n.as_normalized().into(), 0))
        .collect();
    let mut pending: VecDeque<String> = bytes.keys().cloned().collect();
    while let Some(name) = pending.pop_front() {
        let mut read_here = 0;
        for (index, json) in indexes.clone() {
            for map in RecordMap::ALL {
                for (_, record) in index.records(json, map, &name) {
                    read_here += record.len();
                    let read: Dependencies = serde_json::from_slice(record).ok()?;
                    let extra = read.extra_depends.values().flatten().map(String::as_str);
                    for spec in read.depends.iter().map(|d| d.as_ref()).chain(extra) {
                        let dependency = PackageName::from_matchspec_str_unchecked(spec);
                        let dependency: &str = dependency.as_normalized();
                        if !bytes.contains_key(dependency) {
                            bytes.insert(dependency.into(), 0);
                            pending.push_back(dependency.into());
                        }
                    }
                }
            }
        }
        bytes.insert(name, read_here);
    }
    Some(Closure { bytes })
}

/// What one reader read: record maps (each with whether it opened there, or continues one
/// opened before the part) and kept top-level values.
#[derive(Debug, Default)]
struct Part {
    maps: Vec<(RecordMap, bool, Vec<Entry>)>,
    kept: Vec<(&'static str, Span)>,
    /// The map the reader stopped in, at the guess given to [`Reader::document`].
    stopped_in: Option<RecordMap>,
}

impl Part {
    /// This part, read from a guessed record's start, with its first (unnamed) map being `map`.
    fn continuing(mut self, map: RecordMap) -> Self {
        if let Some(first) = self.maps.first_mut() {
            first.0 = map;
        }
        self
    }
}

/// Reads the structure of a repodata from one byte on, each value through serde_json.
struct Reader<'j> {
    json: &'j [u8],
    at: usize,
}

impl<'j> Reader<'j> {
    fn new(json: &'j [u8], at: usize) -> Self {
        Self { json, at }
    }

    /// Reads the whole document, stopping at the record that starts at `stop` if the reader
    /// gets there (a record start past it means the guess was no record's start: the reader
    /// then reads on to the end).
    fn document(mut self, stop: Option<usize>) -> Read<Part> {
        self.expect(b'{')?;
        let mut part = Part::default();
        if self.peek()? == b'}' {
            self.at += 1;
            return self.end(part);
        }
        loop {
            let key = self.key()?;
            if self.member(key, &mut part, stop)? {
                return Ok(part);
            }
            if !self.next_member()? {
                return self.end(part);
            }
        }
    }

    /// Reads from a record's start (inside a map it cannot name) to the end of the document.
    fn rest_from_record(mut self) -> Read<Part> {
        let mut entries = Vec::new();
        self.entries(&mut entries, None)?;
        let mut part = Part::default();
        // The map is named when the parts are joined ([`Part::continuing`]).
        part.maps.push((RecordMap::Packages, false, entries));
        while self.next_member()? {
            let key = self.key()?;
            self.member(key, &mut part, None)?;
        }
        self.end(part)
    }

    /// Reads a top-level member's value, after its `key`: a record map's entries, or another
    /// value ([`Reader::top_value`]); `true` when it stopped in a map at the record starting
    /// at `stop`.
    fn member(&mut self, key: &[u8], part: &mut Part, stop: Option<usize>) -> Read<bool> {
        self.expect(b':')?;
        let Some(map) = RecordMap::ALL
            .into_iter()
            .find(|m| m.key().as_bytes() == key)
        else {
            return self.top_value(key, part).map(|()| false);
        };
        self.expect(b'{')?;
        let mut entries = Vec::new();
        let stopped = self.entries(&mut entries, stop)?;
        part.maps.push((map, true, entries));
        if stopped {
            part.stopped_in = Some(map);
        }
        Ok(stopped)
    }

    /// A top-level value that is no record map: kept when it is one of [`KEPT`], refused when
    /// it is a `v3` map (rattler reads those), else read past.
    fn top_value(&mut self, key: &[u8], part: &mut Part) -> Read<()> {
        if key == b"v3" {
            return Err(Unknown);
        }
        let value = self.raw_value()?;
        if let Some(kept) = KEPT.iter().find(|k| k.as_bytes() == key) {
            part.kept.push((kept, value));
        }
        Ok(())
    }

    /// After the document's last `}`: only whitespace may follow.
    fn end(mut self, part: Part) -> Read<Part> {
        self.skip_whitespace();
        if self.at == self.json.len() {
            Ok(part)
        } else {
            Err(Unknown)
        }
    }

    /// Reads a map's entries after its `{`, through its `}`; `true` when it stopped at the
    /// entry starting at `stop` instead.
    fn entries(&mut self, entries: &mut Vec<Entry>, stop: Option<usize>) -> Read<bool> {
        self.skip_whitespace();
        if self.peek()? == b'}' {
            self.at += 1;
            return Ok(false);
        }
        loop {
            self.skip_whitespace();
            if stop == Some(self.at) {
                return Ok(true);
            }
            let file_start = self.at + 1;
            let file = self.key()?;
            let file = Span::of(file_start, file_start + file.len());
            let name = package_name(&self.json[file.range()]).ok_or(Unknown)?;
            self.expect(b':')?;
            let record = self.raw_value()?;
            entries.push(Entry {
                name: Span::of(file.start as usize, file.start as usize + name),
                file,
                record,
            });
            if !self.next_member()? {
                return Ok(false);
            }
        }
    }

    /// After a member: `true` at a `,` (another member follows), `false` at the `}` closing
    /// the object.
    fn next_member(&mut self) -> Read<bool> {
        self.skip_whitespace();
        let byte = self.peek()?;
        self.at += 1;
        match byte {
            b',' => Ok(true),
            b'}' => Ok(false),
            _ => Err(Unknown),
        }
    }

    /// A key: a string without escapes (one with escapes is left to rattler), of UTF-8 and no
    /// control character, as JSON has it.
    fn key(&mut self) -> Read<&'j [u8]> {
        self.expect(b'"')?;
        let rest = &self.json[self.at..];
        let end = memchr::memchr2(b'"', b'\\', rest).ok_or(Unknown)?;
        let key = &rest[..end];
        if rest[end] == b'\\' || key.iter().any(|b| *b < 0x20) || std::str::from_utf8(key).is_err()
        {
            return Err(Unknown);
        }
        self.at += end + 1;
        Ok(key)
    }

    /// Any JSON value, checked as serde_json checks it; where it is.
    fn raw_value(&mut self) -> Read<Span> {
        self.skip_whitespace();
        let rest = &self.json[self.at..];
        let mut deserializer = serde_json::Deserializer::from_slice(rest);
        let value = <&RawValue>::deserialize(&mut deserializer).map_err(|_| Unknown)?;
        let start = value.get().as_ptr() as usize - self.json.as_ptr() as usize;
        let end = start + value.get().len();
        self.at = end;
        Ok(Span::of(start, end))
    }

    fn expect(&mut self, byte: u8) -> Read<()> {
        self.skip_whitespace();
        if self.peek()? != byte {
            return Err(Unknown);
        }
        self.at += 1;
        Ok(())
    }

    fn peek(&self) -> Read<u8> {
        self.json.get(self.at).copied().ok_or(Unknown)
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.json.get(self.at) {
            self.at += 1;
        }
    }
}

/// The length of the package name that starts the file name `file`: all of it before its
/// last two `-` (`numpy-1.26.4-py312h0_0.conda` → `numpy`), as rattler reads it; `None`
/// without two.
fn package_name(file: &[u8]) -> Option<usize> {
    let last = memchr::memrchr(b'-', file)?;
    memchr::memrchr(b'-', &file[..last])
}

/// The start of a record near `at`: the key after the first `},` from there on whose value is
/// an object and whose name is a conda file name. A guess, checked by the reader that reaches
/// it.
fn record_start_near(json: &[u8], at: usize) -> Option<usize> {
    let mut from = at;
    for _ in 0..64 {
        from += memchr::memmem::find(&json[from..], b"},")? + 2;
        let mut reader = Reader::new(json, from);
        reader.skip_whitespace();
        let start = reader.at;
        let is_record = reader
            .key()
            .is_ok_and(|file| file.ends_with(b".conda") || file.ends_with(b".tar.bz2"))
            && reader.expect(b':').is_ok()
            && reader.expect(b'{').is_ok();
        if is_record {
            return Some(start);
        }
    }
    None
}

#[cfg(test)]
mod tests;
