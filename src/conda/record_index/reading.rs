//! The reading of a repodata's structure: where its records are, by file name, and its
//! top-level values, each value checked as serde_json checks it but not parsed.
//!
//! A [`Reading`] goes one step at a time (a key and what follows it, a record, a `,` or a
//! `}`), and can stop between any two steps: at a guessed record's start (where a second
//! reader took over), or at the end of the bytes that have arrived so far, to go on once more
//! have (a step that needs bytes not yet there is read again whole, never half).

use serde::Deserialize;
use serde_json::value::RawValue;

/// Where something is in the repodata's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    start: u32,
    len: u32,
}

impl Span {
    pub(super) fn of(start: usize, end: usize) -> Self {
        // The repodata is at most 2 GiB (`MAX_REPODATA`), so every offset fits.
        Self {
            start: start as u32,
            len: (end - start) as u32,
        }
    }

    pub(super) fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// One record: its file name, the package name that starts it, and its JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) name: Span,
    pub(super) file: Span,
    pub(super) record: Span,
}

/// The two record maps of a repodata (`v3` ones are read by rattler).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RecordMap {
    /// `packages`: `.tar.bz2` files.
    Packages,
    /// `packages.conda`: `.conda` files.
    Conda,
}

impl RecordMap {
    pub(super) const ALL: [Self; 2] = [Self::Packages, Self::Conda];

    pub(super) fn key(self) -> &'static str {
        match self {
            Self::Packages => "packages",
            Self::Conda => "packages.conda",
        }
    }
}

/// The top-level values a cut keeps (`removed` only a package's part of it, see
/// [`super::RecordIndex::repodata_of`]).
const KEPT: [&str; 3] = ["info", "removed", "repodata_version"];

/// Why a repodata is left to rattler: it is not one this index reads.
#[derive(Debug)]
pub(super) struct Unknown;

pub(super) type Read<T> = Result<T, Unknown>;

/// What one reading read: record maps (each with whether it opened there, or continues one
/// opened before the part) and kept top-level values.
#[derive(Debug, Default)]
pub(super) struct Part {
    pub(super) maps: Vec<(RecordMap, bool, Vec<Entry>)>,
    pub(super) kept: Vec<(&'static str, Span)>,
    /// The map the reading stopped in, at the record it was told to stop at.
    pub(super) stopped_in: Option<RecordMap>,
}

impl Part {
    /// This part, read from a guessed record's start, with its first (unnamed) map being `map`.
    pub(super) fn continuing(mut self, map: RecordMap) -> Self {
        if let Some(first) = self.maps.first_mut() {
            first.0 = map;
        }
        self
    }
}

/// What a reading reads next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The document's `{`.
    Open,
    /// A top-level key, or the `}` of an empty document.
    FirstMember,
    /// A top-level key, after a `,`.
    Member,
    /// A `,` or the document's `}`, after a top-level value.
    AfterMember,
    /// A record's file name, or the `}` of an empty record map.
    FirstRecord,
    /// A record's file name, after a `,`.
    Record,
    /// A `,` or the record map's `}`, after a record.
    AfterRecord,
    /// Nothing: the document's `}` was read, and only whitespace may follow it.
    Closed,
}

/// What one step read.
enum Step {
    /// Punctuation, or a top-level value read past.
    Past,
    /// A record map's key and `{`.
    Opens(RecordMap),
    /// A record.
    Record(Entry),
    /// A record map's `}`.
    Closes,
    /// A top-level value kept whole.
    Keeps(&'static str, Span),
    /// The record to stop at is next.
    Stop,
}

/// The record map a reading is in: which one, whether it opened in this reading, and its
/// records so far.
#[derive(Debug)]
struct OpenMap {
    map: RecordMap,
    opens: bool,
    entries: Vec<Entry>,
}

/// How the bytes a reading is given end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Given {
    /// They are the whole document.
    Whole,
    /// They are what has arrived so far: more may follow.
    SoFar,
}

/// A reading of a repodata's structure, from where it started up to where it got.
#[derive(Debug)]
pub(super) struct Reading {
    /// Where the next step starts.
    at: usize,
    place: Place,
    open: Option<OpenMap>,
    part: Part,
}

impl Reading {
    /// A reading of the whole document.
    pub(super) fn of_document() -> Self {
        Self {
            at: 0,
            place: Place::Open,
            open: None,
            part: Part::default(),
        }
    }

    /// A reading from `at`, a record's start inside a record map it cannot name (see
    /// [`Part::continuing`]), to the document's end.
    pub(super) fn from_record(at: usize) -> Self {
        Self {
            at,
            place: Place::Record,
            open: Some(OpenMap {
                map: RecordMap::Packages,
                opens: false,
                entries: Vec::new(),
            }),
            part: Part::default(),
        }
    }

    /// Where its next step starts.
    pub(super) fn at(&self) -> usize {
        self.at
    }

    /// Reads `json`, the whole document, on from where this reading got, stopping before the
    /// record that starts at `stop` if it gets there.
    pub(super) fn read_whole(&mut self, json: &[u8], stop: Option<usize>) -> Read<()> {
        self.read(json, Given::Whole, stop)?;
        if self.place == Place::Closed {
            let mut reader = Reader { json, at: self.at };
            reader.skip_whitespace();
            if reader.at != json.len() {
                return Err(Unknown);
            }
        }
        Ok(())
    }

    /// Reads on through `so_far`, the bytes of a document that have arrived so far, up to the
    /// first step they do not hold whole (an error there may only be bytes still to come), or
    /// a step that ends with them (a number may go on).
    pub(super) fn read_arrived(&mut self, so_far: &[u8]) {
        let _ = self.read(so_far, Given::SoFar, None);
    }

    fn read(&mut self, json: &[u8], given: Given, stop: Option<usize>) -> Read<()> {
        while self.place != Place::Closed {
            let mut reader = Reader { json, at: self.at };
            let (step, place) = match reader.step(self.place, stop) {
                Ok(step) if given == Given::Whole || reader.at < json.len() => step,
                Err(Unknown) if given == Given::Whole => return Err(Unknown),
                _ => return Ok(()),
            };
            if let Step::Stop = step {
                self.part.stopped_in = self.open.as_ref().map(|open| open.map);
                self.close_map();
                return Ok(());
            }
            self.take(step);
            self.at = reader.at;
            self.place = place;
        }
        Ok(())
    }

    /// What was read: the whole document when [`Reading::read`] was given it whole and did not
    /// stop before its end.
    pub(super) fn into_part(self) -> Part {
        self.part
    }

    fn take(&mut self, step: Step) {
        match step {
            Step::Past | Step::Stop => {}
            Step::Opens(map) => {
                self.open = Some(OpenMap {
                    map,
                    opens: true,
                    entries: Vec::new(),
                });
            }
            Step::Record(entry) => {
                if let Some(open) = &mut self.open {
                    open.entries.push(entry);
                }
            }
            Step::Closes => self.close_map(),
            Step::Keeps(key, span) => self.part.kept.push((key, span)),
        }
    }

    fn close_map(&mut self) {
        if let Some(open) = self.open.take() {
            self.part.maps.push((open.map, open.opens, open.entries));
        }
    }
}

/// Reads the structure of a repodata from one byte on, each value through serde_json.
struct Reader<'j> {
    json: &'j [u8],
    at: usize,
}

impl<'j> Reader<'j> {
    /// Reads what `place` says comes next: what it was, and what comes after it.
    fn step(&mut self, place: Place, stop: Option<usize>) -> Read<(Step, Place)> {
        Ok(match place {
            Place::Open => {
                self.expect(b'{')?;
                (Step::Past, Place::FirstMember)
            }
            Place::FirstMember if self.closes()? => (Step::Past, Place::Closed),
            Place::FirstMember | Place::Member => self.member()?,
            Place::AfterMember if self.next_member()? => (Step::Past, Place::Member),
            Place::AfterMember => (Step::Past, Place::Closed),
            Place::FirstRecord if self.closes()? => (Step::Closes, Place::AfterMember),
            Place::FirstRecord | Place::Record => {
                self.skip_whitespace();
                if stop == Some(self.at) {
                    (Step::Stop, place)
                } else {
                    (Step::Record(self.record()?), Place::AfterRecord)
                }
            }
            Place::AfterRecord if self.next_member()? => (Step::Past, Place::Record),
            Place::AfterRecord => (Step::Closes, Place::AfterMember),
            Place::Closed => (Step::Past, Place::Closed),
        })
    }

    /// A top-level member: a record map's key and `{`, or another key and its value, kept when
    /// it is one of [`KEPT`] and refused when it is a `v3` map (rattler reads those).
    fn member(&mut self) -> Read<(Step, Place)> {
        let key = self.key()?;
        self.expect(b':')?;
        if let Some(map) = RecordMap::ALL
            .into_iter()
            .find(|m| m.key().as_bytes() == key)
        {
            self.expect(b'{')?;
            return Ok((Step::Opens(map), Place::FirstRecord));
        }
        if key == b"v3" {
            return Err(Unknown);
        }
        let value = self.raw_value()?;
        let step = match KEPT.iter().find(|k| k.as_bytes() == key) {
            Some(kept) => Step::Keeps(kept, value),
            None => Step::Past,
        };
        Ok((step, Place::AfterMember))
    }

    /// A record: its file name, named by the package name it starts with, and its value.
    fn record(&mut self) -> Read<Entry> {
        let file_start = self.at + 1;
        let file = self.key()?;
        let file = Span::of(file_start, file_start + file.len());
        let name = package_name(&self.json[file.range()]).ok_or(Unknown)?;
        self.expect(b':')?;
        let record = self.raw_value()?;
        Ok(Entry {
            name: Span::of(file.start as usize, file.start as usize + name),
            file,
            record,
        })
    }

    /// Whether the next byte is a `}` (read past when it is).
    fn closes(&mut self) -> Read<bool> {
        self.skip_whitespace();
        let closes = self.peek()? == b'}';
        if closes {
            self.at += 1;
        }
        Ok(closes)
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
pub(super) fn package_name(file: &[u8]) -> Option<usize> {
    let last = memchr::memrchr(b'-', file)?;
    memchr::memrchr(b'-', &file[..last])
}

/// The start of a record near `at`: the key after the first `},` from there on whose value is
/// an object and whose name is a conda file name. A guess, checked by the reading that
/// reaches it.
pub(super) fn record_start_near(json: &[u8], at: usize) -> Option<usize> {
    let mut from = at;
    for _ in 0..64 {
        from += memchr::memmem::find(&json[from..], b"},")? + 2;
        let mut reader = Reader { json, at: from };
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
