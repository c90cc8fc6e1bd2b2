//! Reading what tests need from a lock's text and an emitted Dockerfile: the package tables,
//! the R binaries a lock records, and the R binary cache key a Dockerfile sets.

use std::collections::BTreeMap;

/// Every `[[layer.package]]` table of the parsed lock `lock`, in lock order.
fn tables(lock: &toml::Value) -> impl Iterator<Item = &toml::Value> {
    lock["layer"].as_array().unwrap().iter().flat_map(|l| {
        l.get("package")
            .and_then(|p| p.as_array())
            .into_iter()
            .flatten()
    })
}

/// Every `[[layer.package]]` table of the lock `text`, in lock order.
pub fn packages(text: &str) -> Vec<toml::Value> {
    let lock: toml::Value = toml::from_str(text).unwrap();
    tables(&lock).cloned().collect()
}

/// The package `name` of the parsed lock `lock`, as a TOML table; a test failure when it is not
/// locked.
pub fn package<'a>(lock: &'a toml::Value, name: &str) -> &'a toml::Value {
    tables(lock)
        .find(|p| p["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("{name} is not locked"))
}

/// The `binary-sha256` the lock `text` records, by package name.
pub fn binary_digests(text: &str) -> BTreeMap<String, String> {
    packages(text)
        .iter()
        .filter_map(|p| {
            Some((
                p["name"].as_str()?.to_string(),
                p.get("binary-sha256")?.as_str()?.to_string(),
            ))
        })
        .collect()
}

/// The `IMGLOCK_R_KEY` an emitted Dockerfile gives the R installer: the part of the binary
/// cache key every package shares.
pub fn r_cache_key(dockerfile: &str) -> String {
    dockerfile
        .split("IMGLOCK_R_KEY=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the Dockerfile sets IMGLOCK_R_KEY")
        .trim_matches('\'')
        .to_string()
}

/// The whole binary cache key of every R package an emitted Dockerfile installs, by name:
/// `IMGLOCK_R_KEY/LINKED`, LINKED being the installer's sixth argument.
pub fn r_package_keys(dockerfile: &str) -> BTreeMap<String, String> {
    let shared = r_cache_key(dockerfile);
    dockerfile
        .lines()
        .filter_map(|line| line.trim().strip_prefix("imglock-r-install "))
        .map(|rest| {
            let fields: Vec<&str> = rest
                .trim_end_matches(" \\")
                .trim_end_matches(" &&")
                .split(' ')
                .collect();
            (fields[0].to_string(), format!("{shared}/{}", fields[5]))
        })
        .collect()
}
