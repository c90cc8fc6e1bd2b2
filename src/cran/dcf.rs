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
        return spans_of_chunk(text, 0, 1);
    }
    let chunks = split_at_records(text, rayon::current_num_threads() * 4);
    let base = text.as_ptr() as usize;
    let spans: Vec<Vec<Span<'_>>> = chunks
        .into_par_iter()
        .map(|(chunk, first_line)| {
            spans_of_chunk(chunk, chunk.as_ptr() as usize - base, first_line)
        })
        .collect();
    spans.into_iter().flatten().collect()
}

fn spans_of_chunk(text: &str, offset: usize, first_line: usize) -> Vec<Span<'_>> {
    let mut spans = Vec::new();
    let mut current: Option<Span<'_>> = None;
    let mut position = 0;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let start = position;
        position += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            if let Some(span) = current.take() {
                spans.push(span);
            }
            continue;
        }
        let span = current.get_or_insert_with(|| Span {
            range: offset + start..offset + start,
            line: first_line + index,
            package: None,
        });
        span.range.end = offset + position;
        if let Some(value) = line.strip_prefix("Package:") {
            span.package.get_or_insert(value.trim());
        }
    }
    spans.extend(current);
    spans
}

/// Splits `text` into about `count` pieces that each start at a record, with their first line.
fn split_at_records(text: &str, count: usize) -> Vec<(&str, usize)> {
    let target = text.len() / count.max(1) + 1;
    let mut chunks = Vec::new();
    let (mut start, mut line) = (0, 1);
    while start < text.len() {
        let mut end = (start + target).min(text.len());
        if end < text.len() {
            // Move the cut to just after the next blank line (a record boundary).
            end = match text[end..].find("\n\n") {
                Some(offset) => end + offset + 2,
                None => text.len(),
            };
        }
        let chunk = &text[start..end];
        chunks.push((chunk, line));
        line += chunk.matches('\n').count();
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
