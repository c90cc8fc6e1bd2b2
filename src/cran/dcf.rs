//! Debian Control File records, the format of R's `DESCRIPTION` files and `PACKAGES` indexes.
//!
//! A file is a sequence of records separated by blank lines; a record is `Field: value` lines, and
//! a line that starts with white space continues the previous field's value. Values borrow from
//! the text unless a continuation line forces a join, and large texts are split at record
//! boundaries and scanned in parallel: the full CRAN index has over 22,000 records, so an index
//! is first only cut into records ([`spans`]) and a record is parsed when it is needed.

use std::borrow::Cow;
use std::fmt;

use rayon::prelude::*;

/// Texts larger than this are parsed in parallel chunks.
const PARALLEL_THRESHOLD: usize = 256 * 1024;

/// One record: its fields in file order, and the line it starts on (1-based) for error messages.
#[derive(Debug, Clone, Default)]
pub struct Record<'a> {
    pub line: usize,
    fields: Vec<(&'a str, Cow<'a, str>)>,
}

impl Record<'_> {
    /// Every field and its value (the first, where a field repeats).
    pub fn to_map(&self) -> std::collections::BTreeMap<String, String> {
        let mut map = std::collections::BTreeMap::new();
        for (name, value) in &self.fields {
            map.entry((*name).to_string())
                .or_insert_with(|| value.to_string());
        }
        map
    }

    /// The value of `field`, with continuation lines joined by single spaces.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, value)| value.as_ref())
    }
}

/// A line that is neither a field, a continuation nor blank.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DcfError {
    pub line: usize,
    pub text: String,
}

impl fmt::Display for DcfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: expected `Field: value` or an indented continuation line, found `{}`",
            self.line, self.text
        )
    }
}

/// Parses every record of a DCF text.
pub fn parse(text: &str) -> Result<Vec<Record<'_>>, DcfError> {
    parse_from(text, 1)
}

/// Where one record lies in a text, and the value of its `Package` field if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span<'a> {
    pub range: std::ops::Range<usize>,
    pub line: usize,
    pub package: Option<&'a str>,
}

/// Cuts a text into records without parsing their fields (in parallel for large texts).
pub fn spans(text: &str) -> Vec<Span<'_>> {
    if text.len() < PARALLEL_THRESHOLD {
        return spans_of_chunk(text, 0, 1).0;
    }
    spans_in_chunks(text, rayon::current_num_threads() * 4)
}

/// Cuts a text into records in about `count` chunks scanned in parallel; each chunk counts its
/// own lines, and its spans' line numbers are shifted by the lines of the chunks before it.
pub(super) fn spans_in_chunks(text: &str, count: usize) -> Vec<Span<'_>> {
    let chunks = split_at_records(text, count);
    let base = text.as_ptr() as usize;
    let scanned: Vec<(Vec<Span<'_>>, usize)> = chunks
        .into_par_iter()
        .map(|chunk| spans_of_chunk(chunk, chunk.as_ptr() as usize - base, 1))
        .collect();
    let mut spans = Vec::with_capacity(scanned.iter().map(|(spans, _)| spans.len()).sum());
    let mut lines_before = 0;
    for (chunk_spans, lines) in scanned {
        spans.extend(chunk_spans.into_iter().map(|mut span| {
            span.line += lines_before;
            span
        }));
        lines_before += lines;
    }
    spans
}

/// The records of `text` (a piece of a larger text at byte `offset`, whose first line is
/// `first_line`), and how many lines it has. Lines are found with `memchr`, and only a line
/// that starts with white space (or a multibyte character) is checked for being blank.
pub(super) fn spans_of_chunk(
    text: &str,
    offset: usize,
    first_line: usize,
) -> (Vec<Span<'_>>, usize) {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut current: Option<Span<'_>> = None;
    let (mut start, mut index) = (0, 0);
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |at| start + at + 1);
        // `end` follows a `\n` or ends the text: a character boundary.
        let raw = &text[start..end];
        if is_blank(raw) {
            if let Some(span) = current.take() {
                spans.push(span);
            }
        } else {
            let span = current.get_or_insert_with(|| Span {
                range: offset + start..offset + start,
                line: first_line + index,
                package: None,
            });
            span.range.end = offset + end;
            if bytes[start] == b'P' {
                let line = raw.trim_end_matches(['\n', '\r']);
                if let Some(value) = line.strip_prefix("Package:") {
                    span.package.get_or_insert(value.trim());
                }
            }
        }
        start = end;
        index += 1;
    }
    spans.extend(current);
    (spans, index)
}

/// Whether a line (with its line end) holds only white space. Only one that starts with white
/// space, or with a multibyte character (which may be white space), needs reading whole.
fn is_blank(line: &str) -> bool {
    match line.as_bytes().first() {
        None | Some(b'\n') => true,
        Some(b' ' | b'\t' | b'\r' | 0x0B | 0x0C | 0x80..) => line.trim().is_empty(),
        Some(_) => false,
    }
}

/// Splits `text` into about `count` pieces that each start at a record. Every cut is just after
/// a blank line (`\n\n`), so at a character and a record boundary.
fn split_at_records(text: &str, count: usize) -> Vec<&str> {
    let target = text.len() / count.max(1) + 1;
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + target).min(text.len());
        // The cut is searched from a character boundary: `start + target` may fall inside a
        // multibyte character, and slicing there would panic.
        while !text.is_char_boundary(end) {
            end += 1;
        }
        if end < text.len() {
            // Move the cut to just after the next blank line (a record boundary).
            end = match memchr::memmem::find(&text.as_bytes()[end..], b"\n\n") {
                Some(offset) => end + offset + 2,
                None => text.len(),
            };
        }
        chunks.push(&text[start..end]);
        start = end;
    }
    chunks
}

/// Parses a piece of a larger text whose first line is `first_line`, for error messages.
pub fn parse_from(text: &str, first_line: usize) -> Result<Vec<Record<'_>>, DcfError> {
    let mut records = Vec::new();
    let mut current = Record::default();
    for (index, raw) in text.lines().enumerate() {
        let line_number = first_line + index;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            if !current.fields.is_empty() {
                records.push(std::mem::take(&mut current));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            let Some((_, value)) = current.fields.last_mut() else {
                return Err(DcfError {
                    line: line_number,
                    text: line.to_string(),
                });
            };
            let value = value.to_mut();
            if !value.is_empty() {
                value.push(' ');
            }
            value.push_str(line.trim());
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(DcfError {
                line: line_number,
                text: line.to_string(),
            });
        };
        if current.fields.is_empty() {
            current.line = line_number;
        }
        current
            .fields
            .push((name.trim(), Cow::Borrowed(value.trim())));
    }
    if !current.fields.is_empty() {
        records.push(current);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_continuation_lines() {
        let text = "Package: a\nImports:\n    b (>= 1.0),\n\tc\n\nPackage: d\r\nVersion: 1\r\n";
        let records = parse(text).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].get("Imports"), Some("b (>= 1.0), c"));
        assert_eq!(records[1].get("Version"), Some("1"));
        assert_eq!(records[1].line, 6);
    }

    #[test]
    fn names_the_bad_line() {
        let error = parse("Package: a\nnot a field\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(parse("  leading continuation\n").is_err());
    }

    #[test]
    fn parallel_spans_cut_at_records() {
        let record = |i: usize| format!("Package: p{i}\nVersion: 1.{i}\nImports: a,\n    b\n\n\n");
        let text: String =
            (0..20_000).map(record).collect::<String>() + "Package: last\nbroken line";
        assert!(text.len() > PARALLEL_THRESHOLD);
        let spans = spans(&text);
        assert_eq!(spans.len(), 20_001);
        let span = &spans[12_345];
        assert_eq!(span.package, Some("p12345"));
        assert_eq!(span.line, 12_345 * 6 + 1, "line numbers survive the split");
        let records = parse_from(&text[span.range.clone()], span.line).unwrap();
        assert_eq!(records[0].get("Imports"), Some("a, b"));
        assert_eq!(records[0].line, span.line);
        let last = spans.last().unwrap();
        let error = parse_from(&text[last.range.clone()], last.line).unwrap_err();
        assert_eq!(error.line, 120_002);
    }
}

#[cfg(test)]
mod split_tests {
    use super::*;

    /// A small deterministic generator (xorshift64*), so the tests need no new dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const PIECES: [&str; 12] = [
        "é", "ü", "ß", "日本", "🦀", "a", "Zz", " ", "\t", ":", "\r", "x1",
    ];

    /// Lines that are blank or nearly so, as a record boundary may be: Unicode white space
    /// (no-break space, em space, next line, vertical tab, form feed) or a character after it.
    const BLANKISH: [&str; 10] = [
        "\n",
        " \n",
        "\r\n",
        "\u{a0}\n",
        "\u{2003}\t\n",
        "\u{85}\n",
        "\u{b}\n",
        "\u{c}\r\n",
        "\u{a0}x\n",
        "Package:\u{a0}\n",
    ];

    /// The records of a text as a plain line-by-line scan finds them (`str::lines`-style, every
    /// line trimmed as Unicode white space): what [`spans_of_chunk`]'s byte scan must match.
    fn reference_spans(text: &str) -> Vec<Span<'_>> {
        let mut spans = Vec::new();
        let mut current: Option<Span<'_>> = None;
        let mut position = 0;
        for (index, raw) in text.split_inclusive('\n').enumerate() {
            let start = position;
            position += raw.len();
            let line = raw.trim_end_matches(['\n', '\r']);
            if line.trim().is_empty() {
                spans.extend(current.take());
                continue;
            }
            let span = current.get_or_insert_with(|| Span {
                range: start..start,
                line: 1 + index,
                package: None,
            });
            span.range.end = position;
            if let Some(value) = line.strip_prefix("Package:") {
                span.package.get_or_insert(value.trim());
            }
        }
        spans.extend(current);
        spans
    }

    #[test]
    fn the_byte_scan_finds_the_records_a_line_scan_finds() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..2000 {
            let records = 1 + rng.below(12);
            let mut text = random_text(&mut rng, records);
            // Splice white-space-only and nearly blank lines in at line starts.
            let mut spliced = String::new();
            for line in text.split_inclusive('\n') {
                if rng.below(3) == 0 {
                    spliced.push_str(BLANKISH[rng.below(BLANKISH.len())]);
                }
                spliced.push_str(line);
            }
            text = spliced;
            let expected = reference_spans(&text);
            assert_eq!(spans_of_chunk(&text, 0, 1).0, expected, "{text:?}");
            for count in [2, 3, 7] {
                assert_eq!(spans_in_chunks(&text, count), expected, "{text:?}");
            }
        }
    }

    /// A random DCF-like text: records of fields with multibyte values and continuation lines,
    /// separated by one or more blank lines (some with `\r\n` endings, some with white space).
    fn random_text(rng: &mut Rng, records: usize) -> String {
        let mut text = String::new();
        for record in 0..records {
            text.push_str(&format!("Package: p{record}é\n"));
            for _ in 0..rng.below(5) {
                // Mostly fields, some continuations, now and then a line that is neither.
                let prefix = ["Field: ", "Field: ", "  ", "é"][rng.below(4)];
                text.push_str(prefix);
                for _ in 0..rng.below(12) {
                    text.push_str(PIECES[rng.below(PIECES.len())]);
                }
                text.push_str(if rng.below(4) == 0 { "\r\n" } else { "\n" });
            }
            for _ in 0..1 + rng.below(3) {
                text.push_str(["\n", "\r\n", " \n", "\t\n"][rng.below(4)]);
            }
        }
        text
    }

    #[test]
    fn multibyte_text_above_the_threshold_splits_like_the_sequential_scan() {
        let mut text = String::new();
        let mut i = 0;
        while text.len() <= PARALLEL_THRESHOLD + 4096 {
            // Values of varying length full of two-, three- and four-byte characters, so cuts at
            // `len / count` land inside characters for many counts.
            let value = "é日🦀".repeat(i % 7 + 1);
            text.push_str(&format!("Package: p{i}\nTitle: {value}\n  {value}ü\n\n"));
            i += 1;
        }
        let sequential = spans_of_chunk(&text, 0, 1).0;
        for count in [1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 64, 1000] {
            assert_eq!(spans_in_chunks(&text, count), sequential, "{count} chunks");
        }
        for threads in [1, 2, 3, 8] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            assert_eq!(
                pool.install(|| spans(&text)),
                sequential,
                "{threads} threads"
            );
        }
    }

    #[test]
    fn random_texts_split_like_the_sequential_scan() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..400 {
            let records = 1 + rng.below(40);
            let text = random_text(&mut rng, records);
            let sequential = spans_of_chunk(&text, 0, 1).0;
            for count in [2, 3, 5, 9, 17, 64] {
                assert_eq!(spans_in_chunks(&text, count), sequential, "{text:?}");
            }
            // Parsing never panics, and each span parses to the records the whole text does.
            if let Ok(records) = parse(&text) {
                let pieces: Vec<_> = sequential
                    .iter()
                    .flat_map(|span| parse_from(&text[span.range.clone()], span.line).unwrap())
                    .map(|record| (record.line, record.to_map()))
                    .collect();
                let whole: Vec<_> = records.iter().map(|r| (r.line, r.to_map())).collect();
                assert_eq!(pieces, whole, "{text:?}");
            }
        }
    }
}
