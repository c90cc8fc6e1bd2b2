//! What a GitHub R package adds to its lock entry (the repository, the ref asked for, the commit
//! it resolved to, the package's folder) and the `Remote*` fields its installed DESCRIPTION gets,
//! spelled as remotes and pak write them, which `imglock verify` reads back.

use super::reference::{GithubRef, is_commit};
use crate::lock::fields::{FieldWriter, PackageFields};

/// Where a locked GitHub package's source is: a commit of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubSource {
    /// `owner/repo`.
    pub repo: String,
    /// The branch, tag or SHA asked for (`HEAD` for the default branch): `RemoteRef`.
    pub git_ref: String,
    /// The commit it resolved to, 40 lowercase hexadecimal digits: `RemoteSha`.
    pub commit: String,
    /// The package's folder inside the repository, when it is not the top.
    pub subdir: Option<String>,
}

impl GithubSource {
    /// The source of `reference` at `commit`.
    pub fn new(reference: &GithubRef, commit: String) -> Self {
        Self {
            repo: reference.slug(),
            git_ref: reference.ref_or_head().to_string(),
            commit,
            subdir: reference.subdir.clone(),
        }
    }

    /// Takes its fields from a package table of the lock, checked as the spec's are (they reach
    /// the installer's command line).
    pub fn read(fields: &mut PackageFields) -> Result<Self, String> {
        let missing = |key: &str| format!("a `github` package has no `{key}`");
        let repo = fields.string("github")?.ok_or_else(|| missing("github"))?;
        let git_ref = fields.string("ref")?.ok_or_else(|| missing("ref"))?;
        let commit = fields.string("commit")?.ok_or_else(|| missing("commit"))?;
        let subdir = fields.string("subdir")?;
        let written = match &subdir {
            Some(subdir) => format!("{repo}/{subdir}@{git_ref}"),
            None => format!("{repo}@{git_ref}"),
        };
        written
            .parse::<GithubRef>()
            .map_err(|error| format!("its GitHub source: {error}"))?;
        if !is_commit(&commit) || commit.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "its `commit` `{commit}` is not 40 lowercase hexadecimal digits"
            ));
        }
        Ok(Self {
            repo,
            git_ref,
            commit,
            subdir,
        })
    }

    /// Writes its fields, in this order.
    pub fn write(&self, out: &mut FieldWriter<'_>) {
        out.string("github", &self.repo);
        out.string("ref", &self.git_ref);
        out.string("commit", &self.commit);
        if let Some(subdir) = &self.subdir {
            out.string("subdir", subdir);
        }
    }

    /// The owner and the repository's name.
    fn owner_and_name(&self) -> (&str, &str) {
        self.repo.split_once('/').unwrap_or((&self.repo, ""))
    }

    /// The fields the installed DESCRIPTION gets, as remotes and pak add them: `RemoteType`,
    /// `RemoteHost` (the API's host and path, like `api.github.com`), `RemoteRepo`,
    /// `RemoteUsername`, `RemoteRef`, `RemoteSha`, `RemoteSubdir`, and the older `Github*` ones.
    pub fn description_fields(&self, api: &str) -> Vec<(&'static str, String)> {
        let host = api
            .split_once("://")
            .map_or(api, |(_, rest)| rest)
            .trim_end_matches('/');
        let (owner, name) = self.owner_and_name();
        let mut fields = vec![
            ("RemoteType", "github".to_string()),
            ("RemoteHost", host.to_string()),
            ("RemoteRepo", name.to_string()),
            ("RemoteUsername", owner.to_string()),
            ("RemoteRef", self.git_ref.clone()),
            ("RemoteSha", self.commit.clone()),
        ];
        if let Some(subdir) = &self.subdir {
            fields.push(("RemoteSubdir", subdir.clone()));
        }
        fields.extend([
            ("GithubRepo", name.to_string()),
            ("GithubUsername", owner.to_string()),
            ("GithubRef", self.git_ref.clone()),
            ("GithubSHA1", self.commit.clone()),
        ]);
        if let Some(subdir) = &self.subdir {
            fields.push(("GithubSubdir", subdir.clone()));
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_fields_are_the_ones_remotes_writes() {
        let reference: GithubRef = "acme/tools/pkg@main".parse().unwrap();
        let source = GithubSource::new(&reference, "ab".repeat(20));
        let fields = source.description_fields("https://api.github.com");
        let get = |key| {
            fields
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("RemoteType"), Some("github"));
        assert_eq!(get("RemoteHost"), Some("api.github.com"));
        assert_eq!(get("RemoteUsername"), Some("acme"));
        assert_eq!(get("RemoteRepo"), Some("tools"));
        assert_eq!(get("RemoteRef"), Some("main"));
        assert_eq!(get("RemoteSha"), Some("ab".repeat(20).as_str()));
        assert_eq!(get("RemoteSubdir"), Some("pkg"));
        let ghe = source.description_fields("https://ghe.example.com/api/v3/");
        assert_eq!(ghe[1].1, "ghe.example.com/api/v3");
    }
}
