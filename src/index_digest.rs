//! Digests read from a package index or a checksum file beside an artifact, checked where they
//! are read: a digest that is not the right number of hexadecimal digits for its algorithm is
//! refused, so no lock ever holds one.
//! Upper-case digits are accepted and normalised to lower case, as the formats allow.

/// The number of hexadecimal digits of a digest by `algorithm` (as indexes name them), for the
/// algorithms imglock checks; `None` for any other.
pub(crate) fn hex_digits(algorithm: &str) -> Option<usize> {
    match algorithm {
        "md5" => Some(32),
        "sha1" => Some(40),
        "sha256" => Some(64),
        "sha512" => Some(128),
        _ => None,
    }
}

/// A digest that is not the right number of hexadecimal digits for its algorithm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{algorithm} `{value}`, which is not {digits} hexadecimal digits")]
pub(crate) struct MalformedDigest {
    pub(crate) algorithm: String,
    pub(crate) value: String,
    pub(crate) digits: usize,
}

/// `value` in lower case if it is a well-formed `algorithm` digest; an algorithm imglock does
/// not check passes unchanged.
pub(crate) fn normalized(algorithm: &str, value: &str) -> Result<String, MalformedDigest> {
    let Some(digits) = hex_digits(algorithm) else {
        return Ok(value.to_string());
    };
    if value.len() == digits && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(value.to_ascii_lowercase());
    }
    Err(MalformedDigest {
        algorithm: algorithm.to_string(),
        value: value.chars().take(200).collect(),
        digits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_length_and_digits_and_lowers_the_case() {
        assert_eq!(
            normalized("sha256", &"AB".repeat(32)).unwrap(),
            "ab".repeat(32)
        );
        assert_eq!(normalized("md5", &"0".repeat(32)).unwrap(), "0".repeat(32));
        let error = normalized("sha256", "abc").unwrap_err();
        assert_eq!(
            error.to_string(),
            "sha256 `abc`, which is not 64 hexadecimal digits"
        );
        assert!(normalized("sha1", &"g".repeat(40)).is_err());
        assert!(normalized("sha512", &"a".repeat(127)).is_err());
        assert_eq!(normalized("blake2b_256", "x").unwrap(), "x");
    }
}
