//! `--exclude-newer`: the instant after which published files are ignored, parsed once (with
//! jiff) and shared by every ecosystem that has upload dates (PyPI files, conda records), so all
//! compare instants, never text.

use std::fmt;
use std::str::FromStr;

/// Files published after this instant are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExcludeNewer(jiff::Timestamp);

impl ExcludeNewer {
    /// The instant itself.
    pub fn timestamp(self) -> jiff::Timestamp {
        self.0
    }

    /// Whether a file published at `published` is ignored.
    pub fn excludes(self, published: jiff::Timestamp) -> bool {
        published > self.0
    }
}

/// A UTC instant (`2022-06-01T00:00:00Z`, with fractions or an offset too) or a date
/// (`2022-06-01`, meaning its first instant in UTC).
impl FromStr for ExcludeNewer {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let instant = match text.parse::<jiff::civil::Date>() {
            Ok(date) if text.len() == 10 => date
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp()),
            _ => text.parse::<jiff::Timestamp>(),
        };
        instant.map(Self).map_err(|_| {
            format!("`{text}` is not a UTC instant: write `2022-06-01T00:00:00Z` or `2022-06-01`")
        })
    }
}

/// As the lock records it: RFC 3339 in UTC, seconds unless fractions were given.
impl fmt::Display for ExcludeNewer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn dates_and_instants_read_as_instants() {
        let limit: ExcludeNewer = "2022-06-01".parse().unwrap();
        assert_eq!(limit.to_string(), "2022-06-01T00:00:00Z");
        let same: ExcludeNewer = "2022-06-01T02:00:00+02:00".parse().unwrap();
        assert_eq!(same, limit);
        assert!("2022-13-01".parse::<ExcludeNewer>().is_err());
        assert!("yesterday".parse::<ExcludeNewer>().is_err());
    }

    #[test]
    fn a_fraction_of_a_second_later_is_newer() {
        // As text, `…00.5Z` sorts before `…00Z` (`.` < `Z`), which kept a file half a second
        // past the limit.
        let limit: ExcludeNewer = "2022-06-01T00:00:00Z".parse().unwrap();
        assert!(limit.excludes(at("2022-06-01T00:00:00.5Z")));
        assert!(!limit.excludes(at("2022-06-01T00:00:00Z")));
        assert!(!limit.excludes(at("2022-05-31T23:59:59.999Z")));
    }
}
