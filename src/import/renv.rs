//! renv's `renv.lock`, as `renv::restore()` (and rv) read it: `R.Version` → the image's R (and
//! a rocker base of that version for a new spec), `R.Repositories` → the CRAN repositories in
//! order, `Bioconductor.Version` → the Bioconductor release, and every package pinned at its
//! version: CRAN's as `name (== version)` (from a repository other than the first by name, a
//! `{ name, repository }` table), Bioconductor's in the `bioconductor` list, GitHub's as
//! `owner/repo@commit`. A package from anywhere else (a local path, an unknown source) is noted.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Entry, ImportError, Imported, Setting, Source};
use crate::package::Ecosystem;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Lockfile {
    #[serde(rename = "R")]
    r: Option<RSection>,
    bioconductor: Option<BiocSection>,
    #[serde(default)]
    packages: BTreeMap<String, Package>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RSection {
    version: Option<String>,
    #[serde(default)]
    repositories: Vec<Repository>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Repository {
    name: String,
    #[serde(rename = "URL")]
    url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BiocSection {
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Package {
    package: Option<String>,
    version: Option<String>,
    source: Option<String>,
    repository: Option<String>,
    remote_type: Option<String>,
    remote_username: Option<String>,
    remote_repo: Option<String>,
    remote_sha: Option<String>,
    remote_subdir: Option<String>,
}

/// What one renv.lock said.
pub fn read(source: &Source) -> Result<Imported, ImportError> {
    let lockfile: Lockfile =
        serde_json::from_str(source.text).map_err(|error| source.invalid("renv.lock", error))?;
    let place = source.path.display().to_string();
    let mut imported = Imported::default();
    let repositories = lockfile.r.as_ref().map_or(&[][..], |r| &r.repositories[..]);
    if let Some(version) = lockfile.r.as_ref().and_then(|r| r.version.clone()) {
        imported.set_image("r", Setting::Text(version), &place);
    }
    for repository in repositories {
        imported.add_repository(Ecosystem::Cran.as_str(), &repository.url);
    }
    if let Some(bioc) = &lockfile.bioconductor {
        imported.set_repository(Ecosystem::Bioconductor.as_str(), &bioc.version, &place);
    }
    imported.layer(source.layer);
    for (key, package) in &lockfile.packages {
        let name = package.package.as_deref().unwrap_or(key);
        match entry(name, package, repositories) {
            Ok((ecosystem, entry)) => imported.layer(source.layer).push(ecosystem, entry),
            Err(reason) => imported.note(&place, &format!("Packages.{key}"), &reason),
        }
    }
    Ok(imported)
}

/// The spec entry of one locked package, or why there is none.
fn entry(
    name: &str,
    package: &Package,
    repositories: &[Repository],
) -> Result<(Ecosystem, Entry), String> {
    let pinned = |version: &Option<String>| match version {
        Some(version) => format!("{name} (== {version})"),
        None => name.to_string(),
    };
    let from_github = |field: &Option<String>| {
        field
            .as_deref()
            .is_some_and(|f| f.eq_ignore_ascii_case("GitHub"))
    };
    if from_github(&package.remote_type) || from_github(&package.source) {
        return github(name, package).map(|e| (Ecosystem::Github, e));
    }
    match package.source.as_deref() {
        Some("Bioconductor") => Ok((
            Ecosystem::Bioconductor,
            Entry::Plain(pinned(&package.version)),
        )),
        Some("Repository") | None => {
            let named = package.repository.as_deref();
            let first = repositories.first().map(|r| r.name.as_str());
            let other = repositories
                .iter()
                .find(|r| Some(r.name.as_str()) == named && named != first);
            let text = pinned(&package.version);
            Ok((
                Ecosystem::Cran,
                match other {
                    Some(repository) => Entry::Table(vec![
                        ("name".to_string(), Setting::Text(text)),
                        (
                            "repository".to_string(),
                            Setting::Text(repository.url.clone()),
                        ),
                    ]),
                    None => Entry::Plain(text),
                },
            ))
        }
        Some(other) => Err(format!(
            "installed from `{other}`, which a spec cannot name; add it by hand"
        )),
    }
}

/// `owner/repo[/subdir]@commit` of a GitHub package.
fn github(name: &str, package: &Package) -> Result<Entry, String> {
    let (Some(user), Some(repo)) = (&package.remote_username, &package.remote_repo) else {
        return Err(format!(
            "`{name}` comes from GitHub but names no RemoteUsername/RemoteRepo"
        ));
    };
    let mut text = format!("{user}/{repo}");
    if let Some(subdir) = package.remote_subdir.as_deref().filter(|s| !s.is_empty()) {
        text.push('/');
        text.push_str(subdir);
    }
    if let Some(sha) = &package.remote_sha {
        text.push('@');
        text.push_str(sha);
    }
    Ok(Entry::Plain(text))
}
