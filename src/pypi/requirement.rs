//! Reading a PEP 508 requirement from outside text (the spec, a `Requires-Dist` line) without a
//! panic: `pep508_rs` 0.9 panics on a name or an extra that ends with `.`, `-` or `_` and is
//! followed by more text (`zope. ; extra == "docs"`, `coverage[toml-]`), and on a non-ASCII
//! character after a marker expression (`a ; extra == 'b'é`: it slices its input by a count of
//! characters), which any index's metadata may hold. Such a requirement is refused here, as PEP
//! 508 refuses it (a marker is ASCII but for its quoted values), before the parser sees it.

use std::str::FromStr;

use pep508_rs::{Pep508Error, Requirement, VerbatimUrl};

/// Why a requirement cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RequirementError {
    /// What the PEP 508 parser says.
    #[error(transparent)]
    Pep508(#[from] Box<Pep508Error<VerbatimUrl>>),
    /// A marker holding a character that is not ASCII.
    #[error("the marker `{marker}` holds the character `{character}`; markers are ASCII")]
    NotAscii {
        /// The marker as written.
        marker: String,
        /// The first character that is not ASCII.
        character: char,
    },
    /// A marker nesting parentheses deeper than any real one does.
    #[error(
        "the marker `{marker}` nests parentheses {depth} deep; no more than {MAX_MARKER_DEPTH} are read"
    )]
    TooDeep {
        /// The marker as written.
        marker: String,
        /// Its deepest nesting.
        depth: usize,
    },
    /// A name or an extra that does not end with a letter or a digit.
    #[error("the {what} `{name}` must end with a letter or a digit (PEP 508)")]
    BadEnd {
        /// `name` or `extra`.
        what: &'static str,
        /// The name as written.
        name: String,
    },
}

/// The deepest nesting of parentheses read in a marker. The parser recurses once per level: a
/// thousand levels in a hostile `Requires-Dist` overflowed a worker thread's stack (a fuzz
/// finding), and real markers nest two or three.
pub const MAX_MARKER_DEPTH: usize = 32;

/// A PEP 508 requirement.
pub fn parse(text: &str) -> Result<Requirement, RequirementError> {
    check_ends(text)?;
    check_marker(text)?;
    check_depth(text)?;
    Requirement::from_str(text).map_err(|error| Box::new(error).into())
}

/// A character of a name or an extra.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// The leading run of name characters of `text`.
fn leading_name(text: &str) -> &str {
    let end = text.find(|c: char| !is_name_char(c)).unwrap_or(text.len());
    &text[..end]
}

/// Refuses a name, or an extra in the brackets after it, ending with `.`, `-` or `_`.
fn check_ends(text: &str) -> Result<(), RequirementError> {
    let bad = |what, name: &str| {
        Err(RequirementError::BadEnd {
            what,
            name: name.to_string(),
        })
    };
    let text = text.trim_start();
    let name = leading_name(text);
    if name.ends_with(['.', '-', '_']) {
        return bad("name", name);
    }
    let Some(extras) = text[name.len()..].trim_start().strip_prefix('[') else {
        return Ok(());
    };
    let extras = extras.split(']').next().unwrap_or_default();
    for extra in extras.split([',', ' ', '\t']) {
        let extra = leading_name(extra);
        if extra.ends_with(['.', '-', '_']) {
            return bad("extra", extra);
        }
    }
    Ok(())
}

/// Refuses a marker (what follows the first `;`) holding a character that is not ASCII: even
/// inside quotes, the parser may slice through it.
fn check_marker(text: &str) -> Result<(), RequirementError> {
    let Some((_, marker)) = text.split_once(';') else {
        return Ok(());
    };
    match marker.chars().find(|c| !c.is_ascii()) {
        Some(character) => Err(RequirementError::NotAscii {
            marker: marker.trim().to_string(),
            character,
        }),
        None => Ok(()),
    }
}

/// Refuses a marker nesting parentheses deeper than [`MAX_MARKER_DEPTH`].
fn check_depth(text: &str) -> Result<(), RequirementError> {
    let Some((_, marker)) = text.split_once(';') else {
        return Ok(());
    };
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in marker.chars() {
        match c {
            '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_MARKER_DEPTH {
        Err(RequirementError::TooDeep {
            marker: marker.trim().chars().take(80).collect(),
            depth: deepest,
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_extras_ending_badly_are_refused_not_panicked_on() {
        for text in [
            "zope.\tinterface ; extra == 'docs'",
            "zope. ==1.0",
            "a-[b]",
            "coverage[toml-] (==5.0.4)",
            "x[a, b_ ]",
        ] {
            let error = parse(text).unwrap_err();
            assert!(
                matches!(error, RequirementError::BadEnd { .. }),
                "{text}: {error}"
            );
        }
        assert!(parse("zope.interface ; extra == 'docs'").is_ok());
        assert!(parse("coverage[toml] (==5.0.4)").is_ok());
        assert!(parse("requests[socks, security]>=2").is_ok());
        assert!(matches!(
            parse("a.").unwrap_err(),
            RequirementError::BadEnd { .. }
        ));
    }

    /// Run on a thread with the 2 MiB stack of the resolver's workers.
    #[test]
    fn deeply_nested_markers_are_refused_not_overflowing_the_stack() {
        let deep = |depth: usize| {
            format!(
                "a ; {}python_version > '3'{}",
                "(".repeat(depth),
                ")".repeat(depth)
            )
        };
        let outcome = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                assert!(parse(&deep(3)).is_ok());
                assert!(parse(&deep(MAX_MARKER_DEPTH)).is_ok());
                for depth in [MAX_MARKER_DEPTH + 1, 1000, 100_000] {
                    let error = parse(&deep(depth)).unwrap_err();
                    assert!(
                        matches!(error, RequirementError::TooDeep { depth: found, .. } if found == depth),
                        "{error}"
                    );
                }
            })
            .unwrap()
            .join();
        assert!(outcome.is_ok());
    }
}
