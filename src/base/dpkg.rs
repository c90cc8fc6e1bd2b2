//! dpkg's record of what is installed: `var/lib/dpkg/status` (and the `status.d/*` files
//! distroless images write instead), Debian control paragraphs of which only those whose
//! `Status` is `install ok installed` are installed packages.

use crate::cran::dcf;

/// Where dpkg records what is installed.
pub(crate) const STATUS: &str = "var/lib/dpkg/status";
/// One status file per package, as distroless images write them instead.
pub(crate) const STATUS_D: &str = "var/lib/dpkg/status.d";

/// One installed Debian package.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DpkgPackage {
    /// Its `Package`.
    pub name: String,
    /// Its `Version`, epoch included.
    pub version: String,
    /// Like `amd64` or `all`.
    pub architecture: String,
    /// Its `Provides`, as written (comma-separated relations, like `awk, mawk (= 1.3.4)`).
    pub provides: Vec<String>,
    /// `Essential: yes`.
    pub essential: bool,
    /// Like `required`, `important`, `optional`.
    pub priority: Option<String>,
    /// `Multi-Arch`, like `same` or `foreign`.
    pub multi_arch: Option<String>,
    /// The source package, when it is named differently (`Source`, without its version).
    pub source: Option<String>,
    /// Its configuration files (`Conffiles`), absolute paths: the admin may change them, so
    /// their md5s are not checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conffiles: Vec<String>,
}

/// The installed packages of the status file at `path`; a paragraph that cannot be read is a
/// warning.
pub(crate) fn read_status(path: &str, text: &str, warnings: &mut Vec<String>) -> Vec<DpkgPackage> {
    let records = match dcf::parse(text) {
        Ok(records) => records,
        Err(error) => {
            warnings.push(format!(
                "`{path}` is not a dpkg status file ({error}); skipped"
            ));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for record in records {
        // A `status.d` file without `Status` (distroless) records an installed package.
        let installed = record
            .get("Status")
            .is_none_or(|status| status.split_whitespace().eq(["install", "ok", "installed"]));
        if !installed {
            continue;
        }
        let (Some(name), Some(version)) = (record.get("Package"), record.get("Version")) else {
            warnings.push(format!(
                "`{path}` line {}: an installed package without `Package` and `Version`; skipped",
                record.line
            ));
            continue;
        };
        out.push(DpkgPackage {
            name: name.to_string(),
            version: version.to_string(),
            architecture: record.get("Architecture").unwrap_or("all").to_string(),
            provides: record
                .get("Provides")
                .map(|p| {
                    p.split(',')
                        .map(|p| p.trim().to_string())
                        .filter(|p| !p.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            essential: record.get("Essential") == Some("yes"),
            priority: record.get("Priority").map(str::to_string),
            multi_arch: record.get("Multi-Arch").map(str::to_string),
            source: record
                .get("Source")
                .and_then(|s| s.split_whitespace().next())
                .map(str::to_string),
            conffiles: record.get("Conffiles").map(conffiles).unwrap_or_default(),
        });
    }
    out
}

/// The paths of a `Conffiles` value: ` /etc/x <md5>[ obsolete]` lines, joined by spaces.
fn conffiles(value: &str) -> Vec<String> {
    value
        .split_whitespace()
        .filter(|word| word.starts_with('/'))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_installed_packages_count() {
        let status = "\
Package: mawk
Status: install ok installed
Priority: required
Essential: yes
Architecture: amd64
Multi-Arch: foreign
Source: mawk (1.3.4)
Version: 1.3.4.20200120-3.1
Provides: awk
Conffiles:
 /etc/mawk.conf 0123456789abcdef0123456789abcdef
 /etc/old.conf 0123456789abcdef0123456789abcdef obsolete
Description: a pattern scanning
 and text processing language
 .
 more

Package: gone
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: half
Status: install ok half-configured
Version: 2.0
";
        let mut warnings = Vec::new();
        let packages = read_status("var/lib/dpkg/status", status, &mut warnings);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(packages.len(), 1);
        let mawk = &packages[0];
        assert_eq!(mawk.name, "mawk");
        assert_eq!(mawk.version, "1.3.4.20200120-3.1");
        assert_eq!(mawk.provides, ["awk"]);
        assert!(mawk.essential);
        assert_eq!(mawk.priority.as_deref(), Some("required"));
        assert_eq!(mawk.source.as_deref(), Some("mawk"));
        assert_eq!(mawk.conffiles, ["/etc/mawk.conf", "/etc/old.conf"]);
    }
}
