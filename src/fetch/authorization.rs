//! `Authorization` headers for the requests below a URL prefix: a token read from the
//! environment (the GitHub API's `GITHUB_TOKEN`), held in memory only, never cached or written
//! anywhere. A redirect to another host drops it (reqwest's rule), so codeload never sees it.

use std::sync::Mutex;

use url::Url;

/// The header values by URL prefix (ending in `/`).
#[derive(Debug, Default)]
pub(crate) struct Authorizations {
    prefixes: Mutex<Vec<(String, String)>>,
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

    /// The value for `url`, if one was given for a prefix of it.
    pub(crate) fn for_url(&self, url: &Url) -> Option<String> {
        self.lock()
            .iter()
            .find(|(prefix, _)| url.as_str().starts_with(prefix.as_str()))
            .map(|(_, value)| value.clone())
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
            authorizations.for_url(&url("https://ghe.example/api/v3/repos/a/b/commits/HEAD")),
            Some("Bearer one".into())
        );
        assert_eq!(
            authorizations.for_url(&url("https://ghe.example/api/v30/x")),
            None
        );
        assert_eq!(
            authorizations.for_url(&url("https://codeload.example/a")),
            None
        );
        authorizations.add(&api, "Bearer two".into());
        assert_eq!(
            authorizations.for_url(&url("https://ghe.example/api/v3/x")),
            Some("Bearer two".into())
        );
    }
}
