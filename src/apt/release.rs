//! A suite's Release file (`dists/<suite>/InRelease` once its signature is checked, see
//! [`super::signature`]): its dates (`Date`, `Valid-Until`, checked against a given "now"), the
//! architectures and components it serves, whether indexes are fetched by hash
//! (`Acquire-By-Hash`), whether `Architecture: all` packages are in the per-architecture indexes
//! (`No-Support-for-Architecture-all: Packages`), and its SHA256 table of index files.

use std::collections::HashMap;

use jiff::Timestamp;

use super::deb822::stanzas;
use super::error::{AptError, FieldError};
use super::packages::parse_sha256;

/// An index file's checksum and size, as the Release lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// A parsed Release.
#[derive(Debug, Clone)]
pub struct Release {
    /// `Suite`, when given.
    pub suite: Option<String>,
    /// `Codename`, when given.
    pub codename: Option<String>,
    /// `Date`.
    pub date: Option<Timestamp>,
    /// `Valid-Until`: past it the Release is refused (a replayed or stale mirror).
    pub valid_until: Option<Timestamp>,
    /// `Architectures`; empty when the field is absent.
    pub architectures: Vec<String>,
    /// `Components`; empty when the field is absent.
    pub components: Vec<String>,
    /// `Acquire-By-Hash: yes`: indexes are also served at `…/by-hash/SHA256/<sha256>`.
    pub by_hash: bool,
    /// `No-Support-for-Architecture-all: Packages`: `Architecture: all` packages are listed
    /// in every per-architecture Packages index, and `binary-all` is not fetched.
    pub all_in_arch_indexes: bool,
    /// The SHA256 table: index path below the suite → checksum and size.
    pub sha256: HashMap<String, IndexEntry>,
}

impl Release {
    /// Parses the (already verified) Release text fetched from `url`.
    pub fn parse(text: &str, url: &str) -> Result<Self, AptError> {
        let stanza = match stanzas(text).next() {
            Some(stanza) => stanza.map_err(|source| AptError::Syntax {
                file: url.to_string(),
                source,
            })?,
            None => {
                return Err(AptError::MissingField {
                    file: url.to_string(),
                    line: 1,
                    field: "SHA256",
                });
            }
        };
        let invalid = |field: &'static str, line, source| AptError::Field {
            file: url.to_string(),
            line,
            field,
            source,
        };
        let date = |name: &'static str| {
            stanza
                .field(name)
                .map(|field| parse_date(field.value).map_err(|e| invalid(name, field.line, e)))
                .transpose()
        };
        let words = |name| {
            stanza
                .get(name)
                .map(|value| value.split_ascii_whitespace().map(str::to_string).collect())
                .unwrap_or_default()
        };
        let table = stanza
            .field("SHA256")
            .ok_or_else(|| AptError::MissingField {
                file: url.to_string(),
                line: stanza.line,
                field: "SHA256",
            })?;
        let sha256 = parse_table(table.value)
            .map_err(|(offset, source)| invalid("SHA256", table.value_line + offset, source))?;
        Ok(Self {
            suite: stanza.get("Suite").map(str::to_string),
            codename: stanza.get("Codename").map(str::to_string),
            date: date("Date")?,
            valid_until: date("Valid-Until")?,
            architectures: words("Architectures"),
            components: words("Components"),
            by_hash: stanza.get("Acquire-By-Hash") == Some("yes"),
            all_in_arch_indexes: stanza.get("No-Support-for-Architecture-all") == Some("Packages"),
            sha256,
        })
    }

    /// Refuses the Release, fetched from `url`, when `now` is past its `Valid-Until`.
    pub fn check_valid_at(&self, now: Timestamp, url: &str) -> Result<(), AptError> {
        match self.valid_until {
            Some(valid_until) if now > valid_until => Err(AptError::Expired {
                url: url.to_string(),
                valid_until: valid_until.to_string(),
                now: now.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// Whether apt fetches `binary-all` indexes for this suite: the Release serves `all` (or
    /// lists no architectures) and does not say those packages are in the per-architecture
    /// indexes.
    pub fn fetches_binary_all(&self) -> bool {
        !self.all_in_arch_indexes
            && (self.architectures.is_empty() || self.architectures.iter().any(|a| a == "all"))
    }
}

/// Parses a Release date: RFC 2822 as Debian writes it (`Sat, 11 Jul 2026 10:16:37 UTC`).
fn parse_date(text: &str) -> Result<Timestamp, FieldError> {
    let normalized = match text.strip_suffix(" UTC") {
        Some(stem) => format!("{stem} +0000"),
        None => text.to_string(),
    };
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(&normalized)
        .map_err(|_| FieldError::Invalid("not a date like `Sat, 11 Jul 2026 10:16:37 UTC`"))
}

/// Parses a checksum table's lines (`<sha256> <size> <path>`); an error gives the line's offset
/// from the field's first line.
fn parse_table(value: &str) -> Result<HashMap<String, IndexEntry>, (usize, FieldError)> {
    let mut table = HashMap::new();
    for (offset, line) in value.lines().enumerate() {
        let words: Vec<&str> = line.split_ascii_whitespace().collect();
        let [sha256, size, path] = words[..] else {
            if words.is_empty() {
                continue;
            }
            return Err((
                offset,
                FieldError::Invalid("a line is not `<sha256> <size> <path>`"),
            ));
        };
        let entry = IndexEntry {
            sha256: parse_sha256(sha256).map_err(|e| (offset, e))?,
            size: size.parse().map_err(|e| (offset, FieldError::Number(e)))?,
        };
        table.insert(path.to_string(), entry);
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELEASE: &str = "Origin: Debian\nSuite: oldstable-security\nCodename: bookworm-security\n\
        Date: Fri, 04 Dec 2026 03:54:28 UTC\nValid-Until: Fri, 11 Dec 2026 03:54:28 UTC\n\
        Acquire-By-Hash: yes\nArchitectures: amd64 arm64\nComponents: updates/main\nSHA256:\n \
        d71a5571c76e3842b3bc8f36fcfff386132919e98203ccfc88535766bfb63e7c   385992 main/binary-amd64/Packages.xz\n";

    #[test]
    fn fields_and_table() {
        let release = Release::parse(RELEASE, "InRelease").unwrap();
        assert_eq!(release.codename.as_deref(), Some("bookworm-security"));
        assert!(release.by_hash);
        assert!(!release.fetches_binary_all());
        let entry = &release.sha256["main/binary-amd64/Packages.xz"];
        assert_eq!(entry.size, 385_992);
        let date = release.date.unwrap();
        assert_eq!(date.to_string(), "2026-12-04T03:54:28Z");
        release.check_valid_at(date, "InRelease").unwrap();
        let late: Timestamp = "2026-12-12T00:00:00Z".parse().unwrap();
        let error = release
            .check_valid_at(late, "u/InRelease")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`u/InRelease` expired at 2026-12-11T03:54:28Z"),
            "{error}"
        );
    }

    #[test]
    fn binary_all_as_apt_decides() {
        let without = RELEASE.replace("Architectures: amd64 arm64\n", "");
        assert!(Release::parse(&without, "R").unwrap().fetches_binary_all());
        let with_all = RELEASE.replace("amd64 arm64", "all amd64");
        assert!(Release::parse(&with_all, "R").unwrap().fetches_binary_all());
        let merged = format!("No-Support-for-Architecture-all: Packages\n{with_all}");
        assert!(!Release::parse(&merged, "R").unwrap().fetches_binary_all());
    }

    #[test]
    fn a_broken_table_line_is_named() {
        let broken = RELEASE.replace("   385992", " many");
        let error = Release::parse(&broken, "R").unwrap_err().to_string();
        assert_eq!(error, "`R` line 10: the field `SHA256` is not valid");
    }
}
