//! Debian Control File records, the format of R's `DESCRIPTION` files and `PACKAGES` indexes.
//!
//! A file is a sequence of records separated by blank lines; a record is `Field: value` lines, and
//! a line that starts with white space continues the previous field's value.

use std::fmt;

/// One record: its fields in file order, and the line it starts on (1-based) for error messages.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub line: usize,
    fields: Vec<(String, String)>,
}

impl Record {
    /// The value of `field`, with continuation lines joined by single spaces.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, value)| value.as_str())
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
pub fn parse(text: &str) -> Result<Vec<Record>, DcfError> {
    let mut records = Vec::new();
    let mut current = Record::default();
    for (index, raw) in text.lines().enumerate() {
        let line_number = index + 1;
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
            .push((name.trim().to_string(), value.trim().to_string()));
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
}
