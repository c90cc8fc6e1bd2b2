//! A package table's own fields, as each ecosystem reads and writes them: [`PackageFields`]
//! holds what the shared fields left of a `[[layer.package]]` table, for the package's ecosystem
//! to take (anything it does not take is refused, and every refusal names the field's line, from
//! the table's [`Origin`]); [`FieldWriter`] writes them in the canonical form, in the [`Slot`] the
//! lock format gives them.

use std::fmt::Write;

use crate::dockerfile_values::{check_one_line, check_sha256};

/// Which shared field a package's own fields follow. The order is the lock format's (version
/// 1), fixed so that existing locks are rewritten byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// After `size`: conda's `md5`, `build`, `build-number`, `subdir`.
    Artifact,
    /// After `requested`: R's `needs-compilation`, `system-requirements`; PyPI's `markers`.
    Requested,
    /// After `dependencies`: conda's `depends`; Maven's `via`.
    Dependencies,
}

/// Where a package table is in the lock's text: its lines, from its `[[layer.package]]` header
/// to the next table's, and the number of the first, to name the line of a refused field.
#[derive(Debug, Default, Clone)]
pub struct Origin {
    lines: Vec<String>,
    first_line: usize,
}

impl Origin {
    /// The table whose header is at `header` (a byte range of `text`, as TOML gives it).
    pub fn new(text: &str, header: std::ops::Range<usize>) -> Self {
        let start = header.start.min(text.len());
        let rest = text.get(start..).unwrap_or_default();
        let lines = rest
            .lines()
            .enumerate()
            .take_while(|(index, line)| *index == 0 || !line.trim_start().starts_with('['))
            .map(|(_, line)| line.to_string())
            .collect();
        Self {
            lines,
            first_line: text.as_bytes()[..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1,
        }
    }

    /// The line of the table's header (1-based).
    pub fn first_line(&self) -> usize {
        self.first_line
    }

    /// The line of the table's `key = …`, when it is written that way.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.lines.iter().enumerate().find_map(|(index, line)| {
            let rest = line.trim_start().strip_prefix(key)?;
            rest.trim_start()
                .starts_with('=')
                .then_some(self.first_line + index)
        })
    }

    /// `problem` about the field `key`, with the field's line, else the table's, when known.
    pub fn at(&self, key: &str, problem: String) -> String {
        match self.line_of(key) {
            Some(line) => format!("{problem}, at line {line}"),
            None if !self.lines.is_empty() => {
                format!("{problem}, in the table at line {}", self.first_line)
            }
            None => problem,
        }
    }
}

/// The fields of a package table that are not shared by every ecosystem.
#[derive(Debug, Default)]
pub struct PackageFields {
    table: toml::Table,
    origin: Origin,
}

impl PackageFields {
    /// The fields left of a package table, written at `origin`.
    pub fn new(table: toml::Table, origin: Origin) -> Self {
        Self { table, origin }
    }

    /// A string field, if present.
    pub fn string(&mut self, key: &str) -> Result<Option<String>, String> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(toml::Value::String(text)) => {
                check_one_line(key, &text)
                    .map_err(|problem| self.origin.at(key, format!("has {problem}")))?;
                Ok(Some(text))
            }
            Some(other) => Err(self.wrong_type(key, "a string", &other)),
        }
    }

    /// A sha256 field (64 lowercase hexadecimal digits), if present.
    pub fn sha256(&mut self, key: &str) -> Result<Option<String>, String> {
        let value = self.string(key)?;
        if let Some(value) = &value {
            check_sha256(key, value).map_err(|problem| self.origin.at(key, problem))?;
        }
        Ok(value)
    }

    /// A list of strings, empty if absent.
    pub fn strings(&mut self, key: &str) -> Result<Vec<String>, String> {
        match self.table.remove(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    toml::Value::String(text) => check_one_line(key, &text)
                        .map(|()| text)
                        .map_err(|problem| self.origin.at(key, format!("has {problem}"))),
                    other => Err(self.wrong_type(key, "a list of strings", &other)),
                })
                .collect(),
            Some(other) => Err(self.wrong_type(key, "a list of strings", &other)),
        }
    }

    /// A list of strings, if present.
    pub fn optional_strings(&mut self, key: &str) -> Result<Option<Vec<String>>, String> {
        if !self.table.contains_key(key) {
            return Ok(None);
        }
        self.strings(key).map(Some)
    }

    /// A boolean field, if present.
    pub fn boolean(&mut self, key: &str) -> Result<Option<bool>, String> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(value)) => Ok(Some(value)),
            Some(other) => Err(self.wrong_type(key, "true or false", &other)),
        }
    }

    /// A non-negative integer field, if present.
    pub fn count(&mut self, key: &str) -> Result<Option<u64>, String> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(toml::Value::Integer(value)) => u64::try_from(value).map(Some).map_err(|_| {
                self.origin
                    .at(key, format!("`{key}` is {value}, which is negative"))
            }),
            Some(other) => Err(self.wrong_type(key, "a number", &other)),
        }
    }

    /// Fails on the first field nobody took: a field of another ecosystem, or an unknown one.
    pub fn finish(self) -> Result<(), String> {
        match self.table.keys().next() {
            Some(field) => Err(self.origin.at(
                field,
                format!("has `{field}`, which its ecosystem does not have"),
            )),
            None => Ok(()),
        }
    }

    fn wrong_type(&self, key: &str, wanted: &str, found: &toml::Value) -> String {
        self.origin.at(key, wrong_type(key, wanted, found))
    }
}

fn wrong_type(key: &str, wanted: &str, found: &toml::Value) -> String {
    format!("has `{key}` = {found}, which is not {wanted}")
}

/// Writes `key = value` lines of a package table in the lock's canonical form.
pub struct FieldWriter<'a>(pub &'a mut String);

impl FieldWriter<'_> {
    /// `key = "text"`.
    pub fn string(&mut self, key: &str, text: &str) {
        let _ = writeln!(self.0, "{key} = {}", quote(text));
    }

    /// `key = ["a", "b"]`, written whatever the list holds.
    pub fn strings(&mut self, key: &str, items: &[String]) {
        let _ = writeln!(self.0, "{key} = {}", list(items));
    }

    /// `key = value` for a number or boolean.
    pub fn plain(&mut self, key: &str, value: impl std::fmt::Display) {
        let _ = writeln!(self.0, "{key} = {value}");
    }
}

/// A TOML array of basic strings.
pub fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| quote(item)).collect();
    format!("[{}]", quoted.join(", "))
}

/// A TOML basic string.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_toml() {
        let text = "a \"b\" \\ c\u{1}\n";
        let parsed: toml::Value = toml::from_str(&format!("x = {}", quote(text))).unwrap();
        assert_eq!(parsed["x"].as_str(), Some(text));
    }

    #[test]
    fn refused_fields_are_named_with_their_line() {
        let text = "[[layer]]\nname = \"r\"\n\n[[layer.package]]\nname = \"a\"\nb = 1\n\n[[layer.package]]\nname = \"c\"\nb = 2\n";
        let second = text.rfind("[[layer.package]]").unwrap();
        let origin = Origin::new(text, second..second + 17);
        assert_eq!(origin.line_of("b"), Some(10));
        assert_eq!(origin.line_of("name"), Some(9));
        assert_eq!(origin.at("b", "bad".into()), "bad, at line 10");
        assert_eq!(origin.at("x", "bad".into()), "bad, in the table at line 8");
        let first = text.find("[[layer.package]]").unwrap();
        assert_eq!(Origin::new(text, first..first + 17).line_of("b"), Some(6));
    }

    #[test]
    fn fields_nobody_takes_are_refused() {
        let table: toml::Table = toml::from_str("build = \"h0\"\nvia = [\"a\"]").unwrap();
        let mut fields = PackageFields::new(table, Origin::default());
        assert_eq!(fields.strings("via").unwrap(), ["a"]);
        let error = fields.finish().unwrap_err();
        assert_eq!(error, "has `build`, which its ecosystem does not have");
    }
}
