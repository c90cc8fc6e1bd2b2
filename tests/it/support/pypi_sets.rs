//! The recorded PyPI requirement sets (`fixtures/pypi/sets/NAME.in`), read as
//! fixtures/pypi/record.py reads them: their requirements, and their `--exclude-newer` instant.

/// The `--exclude-newer` of the sets that state none (record.py's default).
pub const DEFAULT_EXCLUDE_NEWER: &str = "2022-06-01T00:00:00Z";

/// The path of the set `name`.
pub fn path(name: &str) -> std::path::PathBuf {
    super::fixtures().join(format!("pypi/sets/{name}.in"))
}

/// The requirements of the set `name` (its lines but blank ones and comments).
pub fn requirements(name: &str) -> Vec<String> {
    std::fs::read_to_string(path(name))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The `--exclude-newer` instant of the set `name`: its first line `# exclude-newer: <instant>`,
/// else [`DEFAULT_EXCLUDE_NEWER`].
pub fn exclude_newer(name: &str) -> String {
    let text = std::fs::read_to_string(path(name)).unwrap();
    text.lines()
        .next()
        .and_then(|line| line.strip_prefix('#'))
        .and_then(|line| line.trim().strip_prefix("exclude-newer:"))
        .map_or_else(
            || DEFAULT_EXCLUDE_NEWER.to_string(),
            |date| date.trim().to_string(),
        )
}
