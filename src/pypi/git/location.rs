//! Where a git reference points, read from the spec's URL and checked before any of it reaches
//! `git`'s command line: the repository (how git reaches it, the cache key, the lock's label,
//! credentials kept for git alone), the ref after the path's last `@`, the `#subdirectory=`.

use std::path::Path;

use super::cli::Remote;
#[cfg(test)]
use crate::pypi::git_source::check_ref;
use crate::pypi::git_source::check_subdirectory;
use crate::repository::Repository;

/// The subdirectory a fragment (`subdirectory=path`, `&`-separated keys) names, checked.
pub(super) fn subdirectory_of(fragment: &str) -> Result<Option<String>, String> {
    let mut found = None;
    for part in fragment.split('&').filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some(("subdirectory", path)) => {
                let path = path.trim_matches('/');
                check_subdirectory(path)?;
                found = Some(path.to_string());
            }
            Some(("egg", _)) => {}
            _ => {
                return Err(format!(
                    "`#{part}` is not understood: only `#subdirectory=path` can follow a git URL"
                ));
            }
        }
    }
    Ok(found)
}

/// The parts of a `git` CLI remote: how git reaches it, the cache key, the lock's label, the ref.
pub(super) type RemoteParts = (Remote, String, String, Option<String>);

/// A `file:` repository (`file:///abs/repo@ref` or `file:relative/repo@ref`).
pub(super) fn file_remote(
    location: &str,
    spec_dir: &Path,
    lock_dir: &Path,
) -> Result<RemoteParts, String> {
    let (path, git_ref) = split_ref(location);
    let repository = Repository::parse(path, spec_dir, lock_dir).map_err(|e| e.to_string())?;
    let folder = repository
        .url
        .to_file_path()
        .map_err(|()| format!("`{path}` is not a local path"))?;
    let folder = folder.display().to_string();
    let remote = Remote {
        location: folder.clone(),
        label: repository.label.clone(),
    };
    Ok((
        remote,
        repository.url.to_string(),
        repository.label,
        git_ref,
    ))
}

/// An `https://`, `http://` or `ssh://` repository: the ref is after the path's last `@`.
pub(super) fn url_remote(location: &str) -> Result<RemoteParts, String> {
    let mut url = url::Url::parse(location).map_err(|e| format!("`{location}`: {e}"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{location}` names no host"));
    }
    let path = url.path().to_string();
    let (path, git_ref) = split_ref(&path);
    url.set_path(path.trim_end_matches('/'));
    url.set_query(None);
    let mut bare = url.clone();
    let _ = bare.set_password(None);
    // ssh's user is whom to log in as, not a secret; http's is a credential.
    if url.scheme() != "ssh" {
        let _ = bare.set_username("");
    }
    let label = bare.to_string();
    let remote = Remote {
        location: url.to_string(),
        label: label.clone(),
    };
    Ok((remote, label.clone(), label, git_ref))
}

/// `text` (a URL, its path or a `file:` path) without its `@ref`, and the ref: what follows the
/// path's last `@`, as uv reads it (a URL's `user@` is before its path).
fn split_ref(text: &str) -> (&str, Option<String>) {
    let start = text.find("://").map_or(0, |at| {
        at + 3 + text[at + 3..].find('/').unwrap_or(text.len() - at - 3)
    });
    match text[start..].rfind('@') {
        Some(at) => (
            &text[..start + at],
            Some(text[start + at + 1..].to_string()),
        ),
        None => (text, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ref_is_after_the_paths_last_at_and_credentials_stay_out_of_the_label() {
        let (remote, key, label, git_ref) =
            url_remote("https://user:secret@git.example/org/repo.git@feature/x").unwrap();
        assert_eq!(git_ref.as_deref(), Some("feature/x"));
        assert_eq!(label, "https://git.example/org/repo.git");
        assert_eq!(key, label);
        assert_eq!(
            remote.location,
            "https://user:secret@git.example/org/repo.git"
        );
        assert_eq!(remote.label, label);
        let (_, _, label, git_ref) = url_remote("https://git.example/org/repo").unwrap();
        assert_eq!(
            (label.as_str(), git_ref),
            ("https://git.example/org/repo", None)
        );
    }

    #[test]
    fn ssh_keeps_its_user_and_drops_a_password() {
        let (remote, _, label, git_ref) =
            url_remote("ssh://git:pw@github.com/hail-is/hail.git@0123abcd").unwrap();
        assert_eq!(label, "ssh://git@github.com/hail-is/hail.git");
        assert_eq!(git_ref.as_deref(), Some("0123abcd"));
        assert_eq!(remote.location, "ssh://git:pw@github.com/hail-is/hail.git");
    }

    #[test]
    fn a_relative_file_repository_is_labelled_from_the_lock() {
        let (remote, key, label, git_ref) = file_remote(
            "file:../repos/demo.git@v1",
            Path::new("/work/spec"),
            Path::new("/work/spec"),
        )
        .unwrap();
        assert_eq!(label, "file:../repos/demo.git");
        assert_eq!(remote.location, "/work/repos/demo.git");
        assert_eq!(key, "file:///work/repos/demo.git");
        assert_eq!(git_ref.as_deref(), Some("v1"));
    }

    #[test]
    fn refs_and_subdirectories_that_could_be_options_or_escapes_are_refused() {
        for bad in [
            "-x",
            "--upload-pack=touch",
            "a..b",
            "a b",
            "x.lock",
            "/abs",
            "a;b",
            "",
        ] {
            assert!(check_ref(bad).is_err(), "{bad}");
        }
        for fine in ["main", "v1.0", "feature/x", "0123abc", "release-2+b"] {
            assert!(check_ref(fine).is_ok(), "{fine}");
        }
        assert_eq!(
            subdirectory_of("subdirectory=py/pkg").unwrap().as_deref(),
            Some("py/pkg")
        );
        assert_eq!(subdirectory_of("egg=x").unwrap(), None);
        for bad in [
            "subdirectory=../x",
            "subdirectory=a/./b",
            "subdirectory=a b",
            "sha256=00",
        ] {
            assert!(subdirectory_of(bad).is_err(), "{bad}");
        }
    }
}
