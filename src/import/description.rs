//! An R package's `DESCRIPTION`, as `remotes::install_deps()` and rv read it: `Depends`,
//! `Imports` and `LinkingTo` → the layer's CRAN list with their version constraints as written
//! (R itself and the packages R ships with left out and noted), `Remotes` → GitHub entries
//! (`owner/repo[@ref]`; other remote kinds noted) replacing the CRAN entry of the same package.
//! `Suggests` are not installed by default, and are noted.

use super::{Entry, ImportError, Imported, Source};
use crate::cran::dcf;
use crate::package::Ecosystem;

/// What one DESCRIPTION said.
pub fn read(source: &Source) -> Result<Imported, ImportError> {
    let records = dcf::parse(source.text).map_err(|error| source.invalid("DESCRIPTION", error))?;
    let Some(record) = records.first() else {
        return Err(source.invalid("DESCRIPTION", "it has no fields"));
    };
    let place = source.path.display().to_string();
    let mut imported = Imported::default();
    let remotes: Vec<String> = record.get("Remotes").map(items).unwrap_or_default();
    for field in ["Depends", "Imports", "LinkingTo"] {
        for item in record.get(field).map(items).unwrap_or_default() {
            let name = item_name(&item);
            if name == "R" {
                imported.note(
                    &place,
                    &format!("{field}: {item}"),
                    "R comes with the base image: choose one whose R fits",
                );
            } else if crate::cran::BASE_PACKAGES.contains(&name) {
                imported.note(
                    &place,
                    &format!("{field}: {item}"),
                    "ships with R: nothing to install",
                );
            } else if remotes.iter().any(|r| remote_package(r) == Some(name)) {
                // Installed from its remote below.
            } else if let Err(error) = item.parse::<crate::cran::Requirement>() {
                let reason = format!("not an R requirement ({error}); add it by hand");
                imported.note(&place, &format!("{field}: {item}"), &reason);
            } else {
                imported
                    .layer(source.layer)
                    .push(Ecosystem::Cran, Entry::Plain(item));
            }
        }
    }
    for remote in remotes {
        let github = remote.strip_prefix("github::").unwrap_or(&remote);
        if github.contains("::") || github.split('/').count() < 2 {
            imported.note(
                &place,
                &format!("Remotes: {remote}"),
                "only GitHub remotes (`owner/repo[@ref]`) are imported",
            );
        } else {
            let entry = Entry::Plain(github.to_string());
            imported.layer(source.layer).push(Ecosystem::Github, entry);
        }
    }
    if let Some(suggests) = record.get("Suggests") {
        imported.note(
            &place,
            &format!("Suggests: {suggests}"),
            "suggested packages are not installed; `imglock add` the ones the image needs",
        );
    }
    Ok(imported)
}

/// The comma-separated items of a field, whitespace (and line breaks) folded.
fn items(field: &str) -> Vec<String> {
    field
        .split(',')
        .map(|item| item.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|item| !item.is_empty())
        .collect()
}

/// The package an item names (`foreach (>= 1.4.3)` → `foreach`).
fn item_name(item: &str) -> &str {
    item.split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or(item)
}

/// The package a GitHub remote installs: its repository's name (`Azure/rAzureBatch@v0.6.2` →
/// `rAzureBatch`).
fn remote_package(remote: &str) -> Option<&str> {
    let path = remote.strip_prefix("github::").unwrap_or(remote);
    let path = path.split(['@', '#']).next()?;
    path.split('/').nth(1)
}
