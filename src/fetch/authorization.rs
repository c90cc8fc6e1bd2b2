//! The `Authorization` header of every request, the one path credentials take: a value given for
//! the requests below a URL prefix (a token read from the environment, the GitHub API's
//! `GITHUB_TOKEN`), else the basic authentication of the URL's repository ([`super::credentials`]:
//! the spec's URL, environment variables, netrc, the keyring). Held in memory only, never cached or
//! written anywhere. A redirect to another host drops it (reqwest's rule), so codeload never sees a
//! GitHub token.

use std::sync::Mutex;

use url::Url;

use super::credentials::{CredentialSources, Credentials};
use super::keyring::KeyringError;

/// The header values by URL prefix (ending in `/`), and the credentials of repositories.
#[derive(Debug, Default)]
pub(crate) struct Authorizations {
    prefixes: Mutex<Vec<(String, String)>>,
    credentials: Mutex<CredentialSources>,
}

impl Authorizations {
    /// Sends `value` with every request of a URL below `prefix` (replacing an earlier value for
    /// the same prefix).
    pub(crate) fn add(&self, prefix: &Url, value: String) {
        let prefix = prefix.as_str().trim_end_matches('/').to_string() + "/";
        let mut prefixes = self.lock();
        prefixes.retain(|(known, _)| *known != prefix);
        prefixes.push((prefix, value));
    }

    /// Reads credentials from the environment (netrc) for the requests to come.
    pub(crate) fn with_credentials(credentials: CredentialSources) -> Self {
        Self {
            prefixes: Mutex::default(),
            credentials: Mutex::new(credentials),
        }
    }

    /// Sends `credentials` with the requests of `repository`'s origin (see
    /// [`CredentialSources::for_url`]).
    pub(crate) fn add_credentials(&self, repository: Url, credentials: Credentials) {
        self.credentials
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .add_written(repository, credentials);
    }

    /// Whether requests of `url` send basic authentication.
    pub(crate) fn has_credentials(&self, url: &Url) -> bool {
        matches!(self.basic(url), Ok(Some(_)))
    }

    /// The value for `url`: one given for a prefix of it, else its repository's credentials.
    /// An error when the keyring was asked and failed.
    pub(crate) fn for_url(&self, url: &Url) -> Result<Option<String>, KeyringError> {
        let given = self
            .lock()
            .iter()
            .find(|(prefix, _)| url.as_str().starts_with(prefix.as_str()))
            .map(|(_, value)| value.clone());
        match given {
            Some(value) => Ok(Some(value)),
            None => Ok(self.basic(url)?.map(|credentials| credentials.header())),
        }
    }

    fn basic(&self, url: &Url) -> Result<Option<Credentials>, KeyringError> {
        self.credentials
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .for_url(url)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(String, String)>> {
        self.prefixes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_goes_only_below_its_prefix() {
        let authorizations = Authorizations::default();
        let api = Url::parse("https://ghe.example/api/v3").unwrap();
        authorizations.add(&api, "Bearer one".into());
        let url = |text: &str| Url::parse(text).unwrap();
        assert_eq!(
            authorizations
                .for_url(&url("https://ghe.example/api/v3/repos/a/b/commits/HEAD"))
                .unwrap(),
            Some("Bearer one".into())
        );
        assert_eq!(
            authorizations
                .for_url(&url("https://ghe.example/api/v30/x"))
                .unwrap(),
            None
        );
        assert_eq!(
            authorizations
                .for_url(&url("https://codeload.example/a"))
                .unwrap(),
            None
        );
        authorizations.add(&api, "Bearer two".into());
        assert_eq!(
            authorizations
                .for_url(&url("https://ghe.example/api/v3/x"))
                .unwrap(),
            Some("Bearer two".into())
        );
    }
}
