//! What a git package (see `super::git`) adds to its lock entry: the repository (without
//! credentials), the ref asked for, the commit it resolved to and the project's folder, read
//! back checked (the checks are here, a leaf the lock can import), since they reach `git`'s
//! command line when `emit` makes the archive again.

use crate::lock::fields::{FieldWriter, PackageFields};

/// Where a locked git package's source is: a commit of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    /// The repository: its URL without credentials, or a `file:` path relative to the lock.
    pub url: String,
    /// The branch, tag or commit asked for (`HEAD` for the default branch).
    pub git_ref: String,
    /// The commit it resolved to, 40 lowercase hexadecimal digits.
    pub commit: String,
    /// The project's folder inside the repository, when it is not the top.
    pub subdirectory: Option<String>,
}

impl GitSource {
    /// Takes its fields from a package table of the lock, when it has them (`git`); a lock
    /// without them is a package from an index or a file URL.
    pub fn read(fields: &mut PackageFields) -> Result<Option<Self>, String> {
        let Some(url) = fields.string("git")? else {
            return Ok(None);
        };
        let missing = |key: &str| format!("a `git` package has no `{key}`");
        let git_ref = fields.string("ref")?.ok_or_else(|| missing("ref"))?;
        let commit = fields.string("commit")?.ok_or_else(|| missing("commit"))?;
        let subdirectory = fields.string("subdirectory")?;
        if !is_commit(&commit) || commit.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "its `commit` `{commit}` is not 40 lowercase hexadecimal digits"
            ));
        }
        check_ref(&git_ref).map_err(|problem| format!("its `ref`: {problem}"))?;
        if let Some(sub) = &subdirectory {
            check_subdirectory(sub)?;
        }
        if !plain_repository(&url) {
            return Err(format!(
                "its `git` `{url}` is not an https://, http://, ssh:// or file: repository without credentials"
            ));
        }
        Ok(Some(Self {
            url,
            git_ref,
            commit,
            subdirectory,
        }))
    }

    /// Writes its fields, in this order.
    pub fn write(&self, out: &mut FieldWriter<'_>) {
        out.string("git", &self.url);
        out.string("ref", &self.git_ref);
        out.string("commit", &self.commit);
        if let Some(subdirectory) = &self.subdirectory {
            out.string("subdirectory", subdirectory);
        }
    }

    /// How the lock's `url` names it: the repository at the commit (see [`pinned`]).
    pub fn pinned(&self) -> String {
        pinned(&self.url, &self.commit, self.subdirectory.as_deref())
    }

    /// The commit's first seven digits, as `diff` shows it.
    pub fn short(&self) -> &str {
        &self.commit[..7]
    }
}

/// Whether `url` is an https://, http:// or ssh:// URL without a password (nor an http user),
/// or a `file:` path, with no ref or fragment.
fn plain_repository(url: &str) -> bool {
    if url.starts_with("file:") {
        return !url.contains(['@', '#']);
    }
    url::Url::parse(url).is_ok_and(|parsed| {
        matches!(parsed.scheme(), "https" | "http" | "ssh")
            && parsed.password().is_none()
            && (parsed.scheme() == "ssh" || parsed.username().is_empty())
            && !parsed.path().contains('@')
            && parsed.fragment().is_none()
    })
}

/// Whether `text` is a full commit SHA: 40 hexadecimal digits.
pub fn is_commit(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Checks a ref before it reaches `git`'s command line: git's ref rules, and no option.
pub fn check_ref(git_ref: &str) -> Result<(), String> {
    let fine = !git_ref.is_empty()
        && !git_ref.starts_with(['-', '/', '.'])
        && !git_ref.ends_with(['/', '.'])
        && !git_ref.ends_with(".lock")
        && !git_ref.contains("..")
        && !git_ref.contains("//")
        && git_ref
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/+".contains(&b));
    match fine {
        true => Ok(()),
        false => Err(format!(
            "`{git_ref}` is not a branch, tag or commit name git accepts"
        )),
    }
}

/// Checks a project's folder inside a repository: a relative path of letters, digits and
/// `._-+`, without `.` or `..` components.
pub fn check_subdirectory(path: &str) -> Result<(), String> {
    let fine = !path.is_empty()
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/+".contains(&b));
    match fine {
        true => Ok(()),
        false => Err(format!(
            "`#subdirectory={path}` is not a folder of the repository (a relative path of letters, digits, `._-+`)"
        )),
    }
}

/// How the lock names the repository `url` at `commit` (and `subdirectory`): PEP 508's
/// `git+URL@COMMIT#subdirectory=PATH`, as uv writes it.
pub fn pinned(url: &str, commit: &str, subdirectory: Option<&str>) -> String {
    match subdirectory {
        Some(sub) => format!("git+{url}@{commit}#subdirectory={sub}"),
        None => format!("git+{url}@{commit}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::fields::Origin;

    fn read(text: &str) -> Result<Option<GitSource>, String> {
        let table: toml::Table = toml::from_str(text).unwrap();
        GitSource::read(&mut PackageFields::new(table, Origin::default()))
    }

    #[test]
    fn a_git_source_is_written_and_read_back_and_checked() {
        let source = GitSource {
            url: "ssh://git@github.com/hail-is/hail.git".into(),
            git_ref: "main".into(),
            commit: "ab".repeat(20),
            subdirectory: Some("hail/python".into()),
        };
        let mut text = String::new();
        source.write(&mut FieldWriter(&mut text));
        assert_eq!(read(&text).unwrap(), Some(source));
        // A package of an index or a URL has none: an old lock reads as before.
        assert_eq!(read("markers = []").unwrap(), None);
        let commit = "ab".repeat(20);
        for bad in [
            format!("git = \"https://user:pw@host/r.git\"\nref = \"main\"\ncommit = \"{commit}\""),
            format!(
                "git = \"https://host/r.git\"\nref = \"--upload-pack=x\"\ncommit = \"{commit}\""
            ),
            "git = \"https://host/r.git\"\nref = \"main\"\ncommit = \"ABC\"".to_string(),
            format!(
                "git = \"https://host/r.git\"\nref = \"main\"\ncommit = \"{commit}\"\nsubdirectory = \"../x\""
            ),
            "git = \"https://host/r.git\"\ncommit = \"x\"".to_string(),
        ] {
            assert!(read(&bad).is_err(), "{bad}");
        }
        assert_eq!(
            pinned("https://host/r.git", &commit, Some("sub")),
            format!("git+https://host/r.git@{commit}#subdirectory=sub")
        );
    }
}
