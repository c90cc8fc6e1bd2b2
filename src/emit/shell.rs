//! Quoting for the POSIX shell that runs a Dockerfile's `RUN` lines.

/// `text` as one shell word: unchanged when it is plainly safe, else single-quoted.
pub fn quote(text: &str) -> String {
    let safe = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=+@%,".contains(&b));
    if safe {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Shell words, one per item, each on its own continued line.
pub fn words(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("\\\n        {}", quote(item)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_what_the_shell_would_split_or_expand() {
        assert_eq!(quote("1.0-2"), "1.0-2");
        assert_eq!(quote("https://x/a_1.0.tar.gz"), "https://x/a_1.0.tar.gz");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's $HOME"), r"'it'\''s $HOME'");
        assert_eq!(quote(""), "''");
    }
}
