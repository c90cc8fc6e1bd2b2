//! setuptools' `*.egg-info/requires.txt`, as it writes it into an sdist: plain requirement lines,
//! then sections `[extra]`, `[:marker]` and `[extra:marker]` (as `pkg_resources` reads them),
//! turned into PEP 508 `Requires-Dist` lines.

use super::requirement_with;

/// The `Requires-Dist` lines of a `requires.txt`.
pub fn requires_dist(text: &str) -> Vec<String> {
    let mut requirements = Vec::new();
    let mut extra: Option<&str> = None;
    let mut marker: Option<&str> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            let (name, condition) = section.split_once(':').unwrap_or((section, ""));
            extra = Some(name.trim()).filter(|name| !name.is_empty());
            marker = Some(condition.trim()).filter(|condition| !condition.is_empty());
            continue;
        }
        requirements.push(requirement_with(line, marker, extra));
    }
    requirements
}

#[cfg(test)]
mod tests {
    use super::*;

    /// alembic 1.4.1's, as its sdist holds it.
    const ALEMBIC: &str = "SQLAlchemy>=1.1.0\nMako\npython-editor>=0.3\npython-dateutil\n";

    /// databricks-cli 0.16.6's (recorded in fixtures/pypi).
    const DATABRICKS_CLI: &str =
        include_str!("../../../fixtures/sdist-members/databricks-cli-0.16.6.requires.txt");

    /// requests 2.25.1's: extras, and an extra with a marker.
    const REQUESTS: &str =
        include_str!("../../../fixtures/sdist-members/requests-2.25.1.requires.txt");

    #[test]
    fn plain_lines_are_unconditional() {
        assert_eq!(
            requires_dist(ALEMBIC),
            [
                "SQLAlchemy>=1.1.0",
                "Mako",
                "python-editor>=0.3",
                "python-dateutil"
            ]
        );
    }

    #[test]
    fn marker_sections_become_markers() {
        let requirements = requires_dist(DATABRICKS_CLI);
        assert_eq!(requirements.len(), 7);
        assert_eq!(
            requirements[6],
            "configparser>=0.3.5 ; python_version < \"3.6\""
        );
    }

    #[test]
    fn extra_sections_become_extra_markers_combined_with_theirs() {
        let requirements = requires_dist(REQUESTS);
        assert_eq!(requirements[4], "pyOpenSSL>=0.14 ; extra == \"security\"");
        assert_eq!(
            requirements[7],
            "win_inet_pton ; (sys_platform == \"win32\" and python_version == \"2.7\") and extra == \"socks\""
        );
        for text in &requirements {
            crate::pypi::requirement::parse(text).unwrap();
        }
    }
}
