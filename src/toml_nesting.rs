//! A guard in front of the TOML parser. `toml` recurses once per nested array or inline table
//! with no limit of its own, so a value nested a few thousand levels deep (`a = [{b = [{…`)
//! overflows the stack and aborts imglock: found by the spec fuzz target. Every TOML text
//! imglock reads that it did not write itself (a spec, a lock, an sdist's `pyproject.toml`) is
//! checked here first, and refused past [`MAX_DEPTH`] levels with the place it goes too deep.

/// The deepest nesting of arrays and inline tables accepted: far more than any real file has.
pub const MAX_DEPTH: usize = 64;

/// Where a text nests past [`MAX_DEPTH`]: 1-based line and column (in characters), and the
/// byte offset of the bracket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    pub line: usize,
    pub column: usize,
    pub offset: usize,
}

impl TooDeep {
    /// The refusal with its place, for a reader whose errors carry no location of their own.
    pub fn with_place(&self) -> String {
        format!("line {}, column {}: {self}", self.line, self.column)
    }
}

impl std::fmt::Display for TooDeep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "arrays and inline tables are nested more than {MAX_DEPTH} levels deep here; flatten the value"
        )
    }
}

/// What the scanner is inside of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inside {
    Code,
    Comment,
    /// `"…"`, `"""…"""`: `\` escapes the next character.
    Basic {
        multiline: bool,
    },
    /// `'…'`, `'''…'''`: no escapes.
    Literal {
        multiline: bool,
    },
}

/// Checks that `text` nests arrays and inline tables (table headers count too, and close on
/// their line) at most [`MAX_DEPTH`] deep, outside strings and comments.
pub fn check(text: &str) -> Result<(), TooDeep> {
    let bytes = text.as_bytes();
    let (mut depth, mut line, mut line_start) = (0usize, 1usize, 0usize);
    let mut inside = Inside::Code;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        let rest = &bytes[i..];
        if byte == b'\n' {
            line += 1;
            line_start = i + 1;
            if matches!(inside, Inside::Comment)
                || matches!(inside, Inside::Basic { multiline: false })
                || matches!(inside, Inside::Literal { multiline: false })
            {
                inside = Inside::Code;
            }
            i += 1;
            continue;
        }
        match inside {
            Inside::Code => match byte {
                b'#' => inside = Inside::Comment,
                b'"' | b'\'' => {
                    let multiline = rest.starts_with(if byte == b'"' { b"\"\"\"" } else { b"'''" });
                    inside = match byte {
                        b'"' => Inside::Basic { multiline },
                        _ => Inside::Literal { multiline },
                    };
                    if multiline {
                        i += 2;
                    }
                }
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        let column = text[line_start..i].chars().count() + 1;
                        return Err(TooDeep {
                            line,
                            column,
                            offset: i,
                        });
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            },
            Inside::Comment => {}
            Inside::Basic { multiline } => match byte {
                b'\\' => i += 1,
                b'"' if !multiline => inside = Inside::Code,
                b'"' if rest.starts_with(b"\"\"\"") => {
                    inside = Inside::Code;
                    i += 2;
                }
                _ => {}
            },
            Inside::Literal { multiline } => match byte {
                b'\'' if !multiline => inside = Inside::Code,
                b'\'' if rest.starts_with(b"'''") => {
                    inside = Inside::Code;
                    i += 2;
                }
                _ => {}
            },
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_values_are_refused_where_they_go_too_deep_and_strings_do_not_count() {
        let deep = format!("[image]\na = {}1{}\n", "[{b = ".repeat(40), "}]".repeat(40));
        let error = check(&deep).unwrap_err();
        let column = 5 + 6 * 32;
        assert_eq!((error.line, error.column), (2, column));
        assert_eq!(&deep[error.offset..error.offset + 1], "[");
        let shallow = format!(
            "[[layer]]\na = {}1{}\n",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert_eq!(check(&shallow), Ok(()));
        let in_strings = format!(
            "a = \"{0}\"\nb = '{0}'\nc = \"\"\"\n{0}\\\"\"\"\nd = '''\n{0}'''\n# {0}\n",
            "[".repeat(100)
        );
        assert_eq!(check(&in_strings), Ok(()));
    }
}
