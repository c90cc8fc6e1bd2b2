//! Debian/Ubuntu build dependencies for R packages' `SystemRequirements`, by a small rule table.
//!
//! `SystemRequirements` is free text ("libxml2 (>= 2.6.3), GNU make"). Each comma- or
//! semicolon-separated part is matched against the table by keyword; `imglock emit --apt` suggests
//! the packages found as `apt` entries of the spec, and reports a part no rule matches (both under
//! `--verbose`).

/// Keywords (lowercase) and the Debian package that provides headers for them.
const RULES: &[(&[&str], &str)] = &[
    (&["libxml2", "libxml-2"], "libxml2-dev"),
    (&["libcurl", "curl"], "libcurl4-openssl-dev"),
    (&["openssl", "libssl"], "libssl-dev"),
    (&["zlib"], "zlib1g-dev"),
    (&["libpng", "png"], "libpng-dev"),
    (&["libgit2"], "libgit2-dev"),
    (&["gdal"], "libgdal-dev"),
    (&["geos"], "libgeos-dev"),
    (&["proj"], "libproj-dev"),
    (&["hdf5"], "libhdf5-dev"),
    (&["zstd", "libzstd"], "libzstd-dev"),
    (&["sodium", "libsodium"], "libsodium-dev"),
];

/// The Debian packages for one package's `SystemRequirements`, and the parts no rule matched.
pub fn packages_for(system_requirements: &str) -> (Vec<&'static str>, Vec<String>) {
    let mut packages = Vec::new();
    let mut unmatched = Vec::new();
    for part in system_requirements.split([',', ';', '\n']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let lower = part.to_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| !w.is_empty())
            .collect();
        let mut matched = false;
        for (keywords, package) in RULES {
            if keywords.iter().any(|k| words.contains(k)) {
                matched = true;
                if !packages.contains(package) {
                    packages.push(*package);
                }
            }
        }
        if !matched {
            unmatched.push(part.to_string());
        }
    }
    (packages, unmatched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_known_requirements_and_reports_the_rest() {
        let (packages, unmatched) = packages_for("libxml2 (>= 2.6.3), GNU make; zlib");
        assert_eq!(packages, ["libxml2-dev", "zlib1g-dev"]);
        assert_eq!(unmatched, ["GNU make"]);
        let (packages, _) =
            packages_for("GDAL (>= 2.2.3), GEOS (>= 3.4.0), PROJ (>= 4.8.0), sqlite3");
        assert_eq!(packages, ["libgdal-dev", "libgeos-dev", "libproj-dev"]);
    }
}
