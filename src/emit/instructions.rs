//! A Dockerfile read back as Docker's parser reads it, to the level that decides what runs: its
//! instructions in order, each as its first word. The check that no value of a spec or a lock
//! ever adds, removes or changes an instruction of the Dockerfile `emit` writes (the injection
//! tests and the Dockerfile fuzz target both use it).

/// The instructions of `dockerfile`, each as its first word (`FROM`, `RUN`, …), read as
/// BuildKit's parser does: lines end at `\n` (a `\r` before it dropped); a line whose last
/// non-blank character is `\` continues the instruction; comment lines (`#` after blanks) and
/// blank lines are dropped, even inside a continued instruction, and neither continues nor ends
/// one. An instruction that opens a here-document (an unquoted word starting with `<<`, which
/// makes the following lines its body) reads as its word followed by ` <<`, so it never passes
/// for a plain one.
pub fn instructions(dockerfile: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut continued = false;
    for line in dockerfile.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if !continued && !current.is_empty() {
            found.push(instruction(&current));
            current.clear();
        }
        let body = line.trim_end_matches([' ', '\t']);
        continued = body.ends_with('\\');
        current.push_str(if continued {
            &body[..body.len() - 1]
        } else {
            line
        });
        current.push(' ');
    }
    if !current.is_empty() {
        found.push(instruction(&current));
    }
    found
}

/// One instruction's first word, with ` <<` when it opens a here-document.
fn instruction(text: &str) -> String {
    let word = text.split_whitespace().next().unwrap_or("").to_string();
    if opens_heredoc(text) {
        format!("{word} <<")
    } else {
        word
    }
}

/// Whether an unquoted word of `text` starts with `<<` (a here-document for BuildKit).
fn opens_heredoc(text: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut word_start = true;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\\') => {
                chars.next();
                word_start = false;
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                word_start = false;
            }
            (None, '<') if word_start && chars.peek() == Some(&'<') => return true,
            (None, c) => word_start = c.is_whitespace(),
            (Some(open), c) if c == open => quote = None,
            (Some('"'), '\\') => {
                chars.next();
            }
            (Some(_), _) => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::instructions;

    #[test]
    fn reads_continuations_comments_and_blank_lines_as_docker_does() {
        let text =
            "# header\nFROM x@sha256:0\n\nRUN a \\\n# inside\n\n    && b \\  \n    c\r\nRUN d\n";
        assert_eq!(instructions(text), ["FROM", "RUN", "RUN"]);
    }

    #[test]
    fn a_line_break_in_a_value_makes_a_new_instruction() {
        assert_eq!(
            instructions("RUN echo x\nRUN touch /pwned\n"),
            ["RUN", "RUN"]
        );
        // A backslash and blanks at the end of a line still continue it.
        assert_eq!(instructions("RUN echo x\\ \t\nRUN touch\n"), ["RUN"]);
    }

    #[test]
    fn a_here_document_is_not_a_plain_run() {
        assert_eq!(instructions("RUN cat <<EOF\nx\nEOF\n")[0], "RUN <<");
        assert_eq!(instructions("RUN cat '<<EOF' \"<<x\" a\\<<b\n"), ["RUN"]);
    }
}
