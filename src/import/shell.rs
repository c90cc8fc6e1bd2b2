//! Just enough of the POSIX shell's grammar to read a Dockerfile's `RUN` lines: a line split
//! into its commands at `&&` and `;` outside quotes, and a command into its words with quotes
//! removed. Anything subtler (pipes, redirections, substitutions) marks a command as one to
//! keep as written.

/// The logical lines of `text`: a line ending in `\\` joined with the next (the `\\` a space),
/// each with its first line's number; a `#` line inside a continuation is dropped, as Docker
/// and pip drop it.
pub fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        if open.is_some() && raw.trim_start().starts_with('#') {
            continue;
        }
        let (number, mut joined) = open.take().unwrap_or((index + 1, String::new()));
        match raw.trim_end().strip_suffix('\\') {
            Some(part) => {
                joined.push_str(part);
                joined.push(' ');
                open = Some((number, joined));
            }
            None => {
                joined.push_str(raw);
                lines.push((number, joined));
            }
        }
    }
    lines.extend(open);
    lines
}

/// The commands of a shell line, split at `&&` and `;` outside quotes, each trimmed; `||`,
/// pipes and the rest stay inside their command.
pub fn commands(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
                continue;
            }
            (None, '\'' | '"') => quote = Some(c),
            (None, '\\') => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
                continue;
            }
            (None, ';') => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            (None, '&') if chars.peek() == Some(&'&') => {
                chars.next();
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    out.into_iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty() && c != ":")
        .collect()
}

/// Whether a command does more than run one program with words: a pipe, a redirection, a
/// substitution, a subshell or a background `&` outside quotes.
pub fn is_compound(command: &str) -> bool {
    let mut quote: Option<char> = None;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('\''), _) => {}
            (Some(_), '$' | '`') => return true,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '|' | '>' | '<' | '$' | '`' | '(' | ')' | '&' | '*' | '?') => return true,
            _ => {}
        }
    }
    false
}

/// The words of a simple command, quotes removed (`None` when a quote is left open).
pub fn words(command: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    let mut quote: Option<char> = None;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => current.get_or_insert_default().extend(chars.next()),
            (Some(_), c) => current.get_or_insert_default().push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                current.get_or_insert_default();
            }
            (None, '\\') => current.get_or_insert_default().extend(chars.next()),
            (None, c) if c.is_whitespace() => out.extend(current.take()),
            (None, c) => current.get_or_insert_default().push(c),
        }
    }
    if quote.is_some() {
        return None;
    }
    out.extend(current);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_splits_at_and_and_semicolons_outside_quotes() {
        let line = r#"apt-get update && apt-get install -y curl; R -e "a <- 1; b && c""#;
        assert_eq!(
            commands(line),
            [
                "apt-get update",
                "apt-get install -y curl",
                r#"R -e "a <- 1; b && c""#
            ]
        );
        assert_eq!(commands(": && ls"), ["ls"]);
    }

    #[test]
    fn continued_lines_join_and_keep_their_first_number() {
        let text = "RUN a \\\n# a comment inside\n    b\nRUN c\n";
        assert_eq!(
            logical_lines(text),
            [(1, "RUN a      b".to_string()), (4, "RUN c".to_string())]
        );
    }

    #[test]
    fn words_lose_their_quotes() {
        let words = words(r#"R -e "install.packages('x')" 'a b' c\ d"#).unwrap();
        assert_eq!(words, ["R", "-e", "install.packages('x')", "a b", "c d"]);
        assert_eq!(super::words("echo 'open"), None);
    }

    #[test]
    fn pipes_and_redirections_make_a_command_compound() {
        assert!(is_compound("curl -L x | apt-key add -"));
        assert!(is_compound("echo $HOME"));
        assert!(is_compound("rm -rf /var/lib/apt/lists/*"));
        assert!(!is_compound("pip install 'numpy>=1.2'"));
        assert!(!is_compound(r#"R -e "install.packages('a')""#));
    }
}
