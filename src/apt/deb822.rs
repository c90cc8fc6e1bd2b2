//! The deb822 control-file format every apt index is written in (Debian Policy 5.1): stanzas
//! separated by blank lines, each a list of `Field: value` lines, a value continued on lines that
//! start with a space or tab. Lines starting with `#` are comments (allowed in `.sources` files;
//! Packages and Release never hold them). Parsing borrows from the text: a 60,000-stanza
//! Packages file is read without copying a value.

/// One field of a stanza: its name, its value (continuation lines included, with their line
/// breaks and leading space, trimmed at both ends) and the line it starts on (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    /// The name, as written (field names compare case-insensitively).
    pub name: &'a str,
    /// The value, trimmed.
    pub value: &'a str,
    /// The line the field starts on, 1-based.
    pub line: usize,
    /// The line its trimmed value starts on (a later one when the field's first line is
    /// blank, as in a Release's checksum tables).
    pub value_line: usize,
}

/// One stanza: its fields in order, and the line it starts on.
#[derive(Debug, Clone, Default)]
pub struct Stanza<'a> {
    /// The fields in the order written.
    pub fields: Vec<Field<'a>>,
    /// The line of the first field, 1-based.
    pub line: usize,
}

impl<'a> Stanza<'a> {
    /// The field named `name` (compared case-insensitively), if present.
    pub fn field(&self, name: &str) -> Option<&Field<'a>> {
        self.fields
            .iter()
            .find(|field| field.name.eq_ignore_ascii_case(name))
    }

    /// The value of the field named `name`, if present.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.field(name).map(|field| field.value)
    }
}

/// A line that is not deb822.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct SyntaxError {
    /// The line, 1-based.
    pub line: usize,
    /// What is wrong.
    pub reason: &'static str,
}

/// The stanzas of `text`, in order, each parsed as it is reached.
pub fn stanzas(text: &str) -> Stanzas<'_> {
    Stanzas {
        text,
        position: 0,
        line: 0,
    }
}

/// An iterator over the stanzas of a deb822 text; see [`stanzas`].
pub struct Stanzas<'a> {
    text: &'a str,
    /// The byte offset of the next unread line.
    position: usize,
    /// Lines read so far.
    line: usize,
}

impl<'a> Stanzas<'a> {
    /// The byte range of the line at `position`, without its line break, and where the next
    /// line starts.
    fn line_at(&self, position: usize) -> (usize, usize, usize) {
        let bytes = self.text.as_bytes();
        let end = memchr::memchr(b'\n', &bytes[position..]).map_or(bytes.len(), |i| position + i);
        let next = (end + 1).min(bytes.len());
        let trimmed = if end > position && bytes[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        (position, trimmed, next)
    }

    /// The next line, without its line break, and its number.
    fn next_line(&mut self) -> Option<(&'a str, usize)> {
        if self.position >= self.text.len() {
            return None;
        }
        let (start, end, next) = self.line_at(self.position);
        self.position = next;
        self.line += 1;
        Some((&self.text[start..end], self.line))
    }

    /// Whether the next line continues the field before it: it starts with a space or a tab
    /// and is not blank.
    fn continues(&self) -> bool {
        if self.position >= self.text.len() {
            return false;
        }
        let (start, end, _) = self.line_at(self.position);
        let line = &self.text[start..end];
        line.starts_with([' ', '\t']) && !line.trim().is_empty()
    }

    /// Reads one field starting at `line` (number `number`), with its continuation lines.
    fn field(&mut self, line: &'a str, number: usize) -> Result<Field<'a>, SyntaxError> {
        let error = |reason| SyntaxError {
            line: number,
            reason,
        };
        let Some(colon) = line.find(':') else {
            return Err(error("a field has no `:` after its name"));
        };
        let name = &line[..colon];
        if name.is_empty()
            || name
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(error("a field name is empty or holds a space"));
        }
        // `line` is a slice of `text`: its offset locates the value's first byte.
        let start = line.as_ptr() as usize - self.text.as_ptr() as usize + colon + 1;
        let mut end = start + line.len() - colon - 1;
        while self.continues() {
            let (_, line_end, next) = self.line_at(self.position);
            end = line_end;
            self.position = next;
            self.line += 1;
        }
        let raw = &self.text[start..end];
        let value = raw.trim();
        let leading = &raw[..raw.len() - raw.trim_start().len()];
        Ok(Field {
            name,
            value,
            line: number,
            value_line: number + leading.bytes().filter(|b| *b == b'\n').count(),
        })
    }
}

impl<'a> Iterator for Stanzas<'a> {
    type Item = Result<Stanza<'a>, SyntaxError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut stanza = Stanza::default();
        while let Some((line, number)) = self.next_line() {
            if line.starts_with('#') {
                continue;
            }
            if line.trim().is_empty() {
                if stanza.fields.is_empty() {
                    continue;
                }
                return Some(Ok(stanza));
            }
            if line.starts_with([' ', '\t']) {
                return Some(Err(SyntaxError {
                    line: number,
                    reason: "a continuation line has no field before it",
                }));
            }
            match self.field(line, number) {
                Ok(field) => {
                    if stanza.fields.is_empty() {
                        stanza.line = number;
                    }
                    stanza.fields.push(field);
                }
                Err(error) => return Some(Err(error)),
            }
        }
        (!stanza.fields.is_empty()).then_some(Ok(stanza))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanzas_fields_and_continuations() {
        let text = "# comment\nPackage: a\nDescription: one\n two\n .\n three\n\n\n\
                    Package: b\r\nVersion: 1\r\n";
        let all: Vec<Stanza<'_>> = stanzas(text).map(Result::unwrap).collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].get("package"), Some("a"));
        assert_eq!(all[0].get("Description"), Some("one\n two\n .\n three"));
        assert_eq!(all[0].line, 2);
        assert_eq!(all[1].get("Version"), Some("1"));
        assert_eq!(all[1].field("Version").unwrap().line, 10);
        let table = stanzas("SHA256:\n a 1 x\n").next().unwrap().unwrap();
        assert_eq!(table.field("SHA256").unwrap().value_line, 2);
    }

    #[test]
    fn broken_lines_are_named() {
        let error = stanzas("Package: a\nnot a field\n")
            .nth(0)
            .unwrap()
            .unwrap_err();
        assert_eq!(error.line, 2);
        let error = stanzas(" continued\n").nth(0).unwrap().unwrap_err();
        assert_eq!(error.line, 1);
    }
}
