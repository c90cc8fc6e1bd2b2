//! Where packages come from: a repository URL as the user wrote it, and the absolute URL it is
//! fetched from.
//!
//! Repositories may be `https://`, `http://` or `file://` URLs, or `file:` paths relative to the
//! spec (`file:../mirror/cran`) for air-gapped mirrors. The lock records the written form, with
//! relative paths re-expressed from the lock's folder, so a lock never holds a machine path that
//! the user did not write.

use std::path::{Path, PathBuf};

use url::Url;

/// A package repository: what the lock calls it and where it is fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// The form written into the lock: the URL as given, or a `file:` path relative to the lock.
    pub label: String,
    /// The absolute URL fetched, always ending without a slash.
    pub url: Url,
}

/// Why a repository location could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRepository {
    /// The URL's scheme is not `https`, `http` or `file` (like `ftp://`), or a relative `file:`
    /// path cannot be made a file URL.
    #[error(
        "`{0}` is not a repository URL: use https://, http://, file:///absolute/path or file:relative/path"
    )]
    Unsupported(String),
    /// The location is neither a relative `file:` path nor a URL the URL parser accepts.
    #[error("`{text}` is not a valid URL: {reason}")]
    Malformed {
        /// The location as written in the spec.
        text: String,
        /// The URL parser's complaint, like `invalid port number`.
        reason: String,
    },
}

/// A URL that a repository's metadata names but may not: a remote (`http`/`https`) repository
/// naming a `file:` (or any other non-remote) URL, which would make imglock read local files on
/// a server's word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the repository `{repository}` names `{url}` for {package}, but a remote repository may only name http:// or https:// URLs: imglock does not read local files on a server's word; ask the repository's maintainers to fix its index, or use another repository"
)]
pub struct ForeignUrl {
    /// The repository, as the lock names it.
    pub repository: String,
    /// The package (or file) the URL was given for.
    pub package: String,
    /// The URL the repository named.
    pub url: String,
}

/// Whether metadata served from `served_from` may name `named`: every repository may name an
/// `http`/`https` URL; only a `file:` repository may also name a `file:` URL.
pub fn may_name(served_from: &Url, named: &Url) -> bool {
    matches!(named.scheme(), "http" | "https")
        || (served_from.scheme() == "file" && named.scheme() == "file")
}

impl Repository {
    /// Checks a URL this repository's metadata names for `package` (an artifact, a metadata
    /// file, a base URL): see [`may_name`].
    pub fn check_named(&self, url: &Url, package: &str) -> Result<(), ForeignUrl> {
        if may_name(&self.url, url) {
            return Ok(());
        }
        Err(ForeignUrl {
            repository: self.label.clone(),
            package: package.to_string(),
            url: url.to_string(),
        })
    }

    /// Reads a repository as written in the spec at `spec_dir`, for a lock written into `lock_dir`.
    pub fn parse(text: &str, spec_dir: &Path, lock_dir: &Path) -> Result<Self, InvalidRepository> {
        let trimmed = text.trim().trim_end_matches('/');
        if let Some(relative) = trimmed
            .strip_prefix("file:")
            .filter(|rest| !rest.starts_with('/'))
        {
            let absolute = normalize(&spec_dir.join(relative));
            let url = Url::from_directory_path(&absolute)
                .map_err(|()| InvalidRepository::Unsupported(text.to_string()))?;
            let label = format!("file:{}", relative_to(&absolute, lock_dir));
            return Ok(Self {
                label: label.trim_end_matches('/').to_string(),
                url: strip_slash(url),
            });
        }
        let url = Url::parse(trimmed).map_err(|error| InvalidRepository::Malformed {
            text: text.to_string(),
            reason: error.to_string(),
        })?;
        if !matches!(url.scheme(), "https" | "http" | "file") {
            return Err(InvalidRepository::Unsupported(text.to_string()));
        }
        Ok(Self {
            label: trimmed.to_string(),
            url: strip_slash(url),
        })
    }

    /// A file below this repository: the URL to fetch and the label to lock.
    pub fn file(&self, relative: &str) -> (Url, String) {
        let relative = relative.trim_start_matches('/');
        let mut url = self.url.clone();
        url.set_path(&format!(
            "{}/{}",
            self.url.path().trim_end_matches('/'),
            relative
        ));
        (url, format!("{}/{}", self.label, relative))
    }

    /// The lock's name for a file URL the repository pointed to: below the repository, its label
    /// and the rest; a local file elsewhere, a path relative to the repository's; else the URL.
    pub fn label_for(&self, file: &Url) -> String {
        let base = format!("{}/", self.url.as_str().trim_end_matches('/'));
        if let Some(rest) = file.as_str().strip_prefix(&base) {
            return format!("{}/{rest}", self.label);
        }
        if let (Ok(file_path), Ok(base_path)) = (file.to_file_path(), self.url.to_file_path())
            && let Some(relative) = pathdiff::diff_paths(file_path, base_path)
        {
            return format!(
                "{}/{}",
                self.label,
                relative.to_string_lossy().replace('\\', "/")
            );
        }
        file.to_string()
    }

    /// A repository below this one, such as Bioconductor's `data/annotation`.
    pub fn child(&self, relative: &str) -> Self {
        let (url, label) = self.file(relative);
        Self { label, url }
    }
}

/// The one repository each package a layer entry names one for comes from, across the spec:
/// a package named with two different repositories is refused.
#[derive(Debug, Default)]
pub struct NamedSources {
    /// Each package's repository and the layer that named it first.
    chosen: std::collections::HashMap<String, (Repository, String)>,
}

impl NamedSources {
    /// Notes that layer `layer` names `repository` for `package` (`what` is the ecosystem's word
    /// for a repository, like `index`); the message of the refusal when another layer named
    /// another one (another URL, however it is spelt).
    pub fn choose(
        &mut self,
        package: &str,
        layer: &str,
        repository: &Repository,
        what: &str,
    ) -> Result<(), String> {
        match self.chosen.get(package) {
            Some((first, first_layer)) if first.url != repository.url => Err(format!(
                "{package} is named with the {what} {} here and with {} in layer `{first_layer}`: a package comes from one {what}, so name the same one in every entry",
                repository.label, first.label
            )),
            Some(_) => Ok(()),
            None => {
                self.chosen
                    .insert(package.to_string(), (repository.clone(), layer.to_string()));
                Ok(())
            }
        }
    }
}

fn strip_slash(mut url: Url) -> Url {
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(&path);
    url
}

/// `path` relative to the folder `dir` (neither needs to exist), with `/` separators: how a lock
/// names a file of the spec's folder without a machine path. `path` itself, normalised, when no
/// relative path leads there.
pub fn relative_to(path: &Path, dir: &Path) -> String {
    let absolute = normalize(path);
    pathdiff::diff_paths(&absolute, normalize(dir))
        .unwrap_or(absolute)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Removes `.` and `..` components without touching the file system (the folder may not exist).
fn normalize(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_comes_from_one_named_repository_however_it_is_spelt() {
        let here = Path::new("/spec");
        let parse = |text: &str| Repository::parse(text, here, here).unwrap();
        let mut named = NamedSources::default();
        named
            .choose("pkg", "one", &parse("file:mirror/cran"), "repository")
            .unwrap();
        named
            .choose(
                "pkg",
                "two",
                &parse("file:///spec/mirror/cran/"),
                "repository",
            )
            .unwrap();
        let refused = named
            .choose("pkg", "three", &parse("https://cran.example"), "repository")
            .unwrap_err();
        assert!(
            refused.contains(
                "the repository https://cran.example here and with file:mirror/cran in layer `one`"
            ),
            "{refused}"
        );
        named
            .choose(
                "other",
                "three",
                &parse("https://cran.example"),
                "repository",
            )
            .unwrap();
    }

    #[test]
    fn relative_file_paths_are_relative_to_the_lock() {
        let repo = Repository::parse(
            "file:../../fixtures/cran/",
            Path::new("/p/examples/r"),
            Path::new("/p/examples/r"),
        )
        .unwrap();
        assert_eq!(repo.label, "file:../../fixtures/cran");
        assert_eq!(repo.url.as_str(), "file:///p/fixtures/cran");
        let (url, label) = repo.file("src/contrib/PACKAGES.gz");
        assert_eq!(
            url.as_str(),
            "file:///p/fixtures/cran/src/contrib/PACKAGES.gz"
        );
        assert_eq!(label, "file:../../fixtures/cran/src/contrib/PACKAGES.gz");
        let elsewhere =
            Repository::parse("file:mirror", Path::new("/p/spec"), Path::new("/p/out")).unwrap();
        assert_eq!(elsewhere.label, "file:../spec/mirror");
    }

    #[test]
    fn urls_keep_their_spelling() {
        let repo = Repository::parse(
            "https://packagemanager.posit.co/cran/2024-01-02/",
            Path::new("/"),
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(
            repo.label,
            "https://packagemanager.posit.co/cran/2024-01-02"
        );
        assert_eq!(
            repo.file("src/contrib/PACKAGES").0.as_str(),
            "https://packagemanager.posit.co/cran/2024-01-02/src/contrib/PACKAGES"
        );
        assert!(Repository::parse("ftp://x", Path::new("/"), Path::new("/")).is_err());
        assert!(Repository::parse("cran", Path::new("/"), Path::new("/")).is_err());
    }

    #[test]
    fn only_a_local_repository_may_name_local_files() {
        let remote =
            Repository::parse("https://r.example/x", Path::new("/"), Path::new("/")).unwrap();
        let local =
            Repository::parse("file:///srv/mirror", Path::new("/"), Path::new("/")).unwrap();
        let url = |text: &str| Url::parse(text).unwrap();
        for repository in [&remote, &local] {
            assert!(
                repository
                    .check_named(&url("http://o.example/a"), "a")
                    .is_ok()
            );
            assert!(
                repository
                    .check_named(&url("https://o.example/a"), "a")
                    .is_ok()
            );
            assert!(
                repository
                    .check_named(&url("ftp://o.example/a"), "a")
                    .is_err()
            );
        }
        assert!(local.check_named(&url("file:///etc/passwd"), "a").is_ok());
        let error = remote
            .check_named(&url("file:///etc/passwd"), "idna 3.3")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(
                "the repository `https://r.example/x` names `file:///etc/passwd` for idna 3.3"
            ),
            "{error}"
        );
    }
}
