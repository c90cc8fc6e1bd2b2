//! An error with its causes as text: the one way every error is printed, in the CLI and inside
//! lists of errors. A leaf module: it knows no error of this crate.

/// An error and its causes on one line each: `error`, then `Caused by: cause`.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!("\n  Caused by: {cause}"));
        source = cause.source();
    }
    text
}

/// `text` (an error and its causes, as [`chain`] makes it) as an item of a list of errors: its
/// first line after `  - `, the others (its causes) indented under it, not level with the `-`.
pub fn list_item(text: &str) -> String {
    format!("  - {}", text.replace('\n', "\n    "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("the download of `a.jar` failed")]
    struct Download(#[source] std::io::Error);

    #[test]
    fn a_list_item_s_causes_are_indented_under_it() {
        let error = Download(std::io::Error::other("connection reset"));
        assert_eq!(
            chain(&error),
            "the download of `a.jar` failed\n  Caused by: connection reset"
        );
        assert_eq!(
            list_item(&chain(&error)),
            "  - the download of `a.jar` failed\n      Caused by: connection reset"
        );
    }
}
