//! A package table's own fields, as each ecosystem reads and writes them: [`PackageFields`]
//! holds what the shared fields left of a `[[layer.package]]` table, for the package's ecosystem
//! to take (anything it does not take is refused); [`FieldWriter`] writes them in the canonical
//! form, in the [`Slot`] the lock format gives them.

use std::fmt::Write;

use crate::dockerfile_values::check_one_line;

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

/// The fields of a package table that are not shared by every ecosystem.
#[derive(Debug, Default)]
pub struct PackageFields(toml::Table);

impl PackageFields {
    /// The fields left of a package table.
    pub fn new(table: toml::Table) -> Self {
        Self(table)
    }

    /// A string field, if present.
    pub fn string(&mut self, key: &str) -> Result<Option<String>, String> {
        match self.0.remove(key) {
            None => Ok(None),
            Some(toml::Value::String(text)) => {
                check_one_line(key, &text).map_err(|problem| format!("has {problem}"))?;
                Ok(Some(text))
            }
            Some(other) => Err(wrong_type(key, "a string", &other)),
        }
    }

    /// A list of strings, empty if absent.
    pub fn strings(&mut self, key: &str) -> Result<Vec<String>, String> {
        match self.0.remove(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    toml::Value::String(text) => check_one_line(key, &text)
                        .map(|()| text)
                        .map_err(|problem| format!("has {problem}")),
                    other => Err(wrong_type(key, "a list of strings", &other)),
                })
                .collect(),
            Some(other) => Err(wrong_type(key, "a list of strings", &other)),
        }
    }

    /// A boolean field, if present.
    pub fn boolean(&mut self, key: &str) -> Result<Option<bool>, String> {
        match self.0.remove(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(value)) => Ok(Some(value)),
            Some(other) => Err(wrong_type(key, "true or false", &other)),
        }
    }

    /// A non-negative integer field, if present.
    pub fn count(&mut self, key: &str) -> Result<Option<u64>, String> {
        match self.0.remove(key) {
            None => Ok(None),
            Some(toml::Value::Integer(value)) => u64::try_from(value)
                .map(Some)
                .map_err(|_| format!("`{key}` is {value}, which is negative")),
            Some(other) => Err(wrong_type(key, "a number", &other)),
        }
    }

    /// Fails on the first field nobody took: a field of another ecosystem, or an unknown one.
    pub fn finish(self) -> Result<(), String> {
        match self.0.keys().next() {
            Some(field) => Err(format!("has `{field}`, which its ecosystem does not have")),
            None => Ok(()),
        }
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
    fn fields_nobody_takes_are_refused() {
        let table: toml::Table = toml::from_str("build = \"h0\"\nvia = [\"a\"]").unwrap();
        let mut fields = PackageFields::new(table);
        assert_eq!(fields.strings("via").unwrap(), ["a"]);
        let error = fields.finish().unwrap_err();
        assert_eq!(error, "has `build`, which its ecosystem does not have");
    }
}
