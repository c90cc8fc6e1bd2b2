//! GitHub Actions workflow commands (`::error file=…,line=…,title=…::message`): the lines that
//! `--format github` prints so that a finding shows as an annotation on the pull request, escaped
//! as GitHub's toolkit escapes them. A leaf: it imports nothing of the crate.

use std::fmt;

/// How loud an annotation is: GitHub's `error`, `warning` and `notice` commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Something that fails the check.
    Error,
    /// Something to look at that does not fail it.
    Warning,
    /// Something to know.
    Notice,
}

impl Level {
    fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// One workflow command: an annotation, on a line of a file when that is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// Whether it is an error, a warning or a notice.
    pub level: Level,
    /// The file it is about, relative to the repository's root as GitHub shows it.
    pub file: Option<String>,
    /// The line of `file` it is about (1-based).
    pub line: Option<usize>,
    /// Its short title.
    pub title: String,
    /// What it says; may span lines.
    pub message: String,
}

impl Annotation {
    /// An annotation at `level` titled `title` saying `message`, about no file.
    pub fn new(level: Level, title: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            level,
            file: None,
            line: None,
            title: title.into(),
            message: message.into(),
        }
    }

    /// The same annotation about `file` (a leading `./` dropped: GitHub matches the path as the
    /// repository names it), at `line` when known.
    pub fn at(self, file: impl Into<String>, line: Option<usize>) -> Self {
        let file: String = file.into();
        Self {
            file: Some(file.strip_prefix("./").map(str::to_string).unwrap_or(file)),
            line,
            ..self
        }
    }
}

/// The command's line, without its newline.
impl fmt::Display for Annotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.line.map(|line| line.to_string());
        let properties: Vec<String> = [
            ("file", self.file.as_deref()),
            ("line", line.as_deref()),
            ("title", Some(self.title.as_str())),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some(format!("{key}={}", escape_property(value?))))
        .collect();
        write!(
            f,
            "::{} {}::{}",
            self.level.command(),
            properties.join(","),
            escape_data(&self.message)
        )
    }
}

/// A command's message as GitHub reads it: `%`, CR and LF percent-encoded (`toolkit`'s
/// `escapeData`).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A command's property value: as [`escape_data`], and `:` and `,` too, which end a value
/// (`toolkit`'s `escapeProperty`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped_as_githubs_toolkit_does() {
        let annotation = Annotation::new(
            Level::Error,
            "wrong version: a,b",
            "100% wrong\r\nsecond: line, here",
        )
        .at("dir,x/imglock:1.lock", Some(12));
        assert_eq!(
            annotation.to_string(),
            "::error file=dir%2Cx/imglock%3A1.lock,line=12,title=wrong version%3A a%2Cb\
             ::100%25 wrong%0D%0Asecond: line, here"
        );
    }

    #[test]
    fn an_annotation_about_no_file_has_only_its_title() {
        let annotation = Annotation::new(Level::Warning, "t", "m");
        assert_eq!(annotation.to_string(), "::warning title=t::m");
        let notice = Annotation::new(Level::Notice, "t", "m").at("./f", None);
        assert_eq!(notice.to_string(), "::notice file=f,title=t::m");
    }
}
