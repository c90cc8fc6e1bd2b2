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
