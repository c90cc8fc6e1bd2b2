//! Credentials for private repositories, and the one place they are looked up: for each request
//! URL, in this order,
//!
//! 1. the user and password written in a repository URL of the spec
//!    (`https://alice:s3cret@host/simple`), which the spec takes out of the URL as it reads it
//!    ([`split_userinfo`]), for every URL of the same origin (scheme, host and port), the
//!    repository whose URL is the longest prefix first;
//! 2. the environment variables of the URL's host, [`variable_prefix`] + `_USERNAME` and
//!    `_PASSWORD` (`IMGLOCK_AUTH_PYPI_CORP_EXAMPLE_PASSWORD`; a port is part of the name:
//!    `IMGLOCK_AUTH_127_0_0_1_8080_…`);
//! 3. the netrc file (`NETRC`, else `~/.netrc`): the `machine` of the URL's host, else `default`;
//! 4. the system keyring, when `IMGLOCK_KEYRING_PROVIDER=subprocess` and the source found gives a
//!    user name but no password: the `keyring` command's password for that user
//!    ([`super::keyring`], uv's `--keyring-provider subprocess`).
//!
//! Credentials live in memory only: never cached on disk, never written, never shown
//! ([`Credentials`]' `Debug` hides them). They are sent as HTTP basic authentication to the URL
//! they were found for, and a redirect to another host drops them (reqwest's rule).

use std::fmt;

use base64::Engine;
use url::Url;

use super::keyring::{Keyring, KeyringError};

/// The prefix of the environment variables of every host's credentials.
pub const VARIABLE_PREFIX: &str = "IMGLOCK_AUTH_";

/// A user name and password, sent as HTTP basic authentication.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    username: String,
    password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials(hidden)")
    }
}

impl Credentials {
    /// A user name and password.
    pub fn new(username: String, password: String) -> Self {
        Self { username, password }
    }

    /// A user name without a password: what the keyring is asked to complete.
    fn username_only(&self) -> Option<&str> {
        (self.password.is_empty() && !self.username.is_empty()).then_some(self.username.as_str())
    }

    /// The value of an `Authorization` header sending them.
    pub(super) fn header(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

/// Where a request's credentials come from (see the module's documentation).
#[derive(Debug, Default)]
pub(super) struct CredentialSources {
    /// The credentials written in the spec's repository URLs, by the URL without them.
    written: Vec<(Url, Credentials)>,
    /// The netrc file, read once when the fetcher starts; `None` when there is none.
    netrc: Option<netrc::Netrc>,
    /// The keyring, when `IMGLOCK_KEYRING_PROVIDER` chooses one.
    keyring: Option<Keyring>,
}

/// A netrc file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "the netrc file `{path}` does not parse{line}: fix it, or set NETRC to another file (its message is not shown: it may quote a password)"
)]
pub struct BadNetrc {
    /// The file.
    pub path: String,
    /// ` (line N)` when the parser said which line.
    pub line: String,
}

impl CredentialSources {
    /// The netrc file `NETRC` names, else `~/.netrc`, read (none is no error), and the keyring
    /// provider `IMGLOCK_KEYRING_PROVIDER` chooses.
    pub(super) fn from_environment() -> Result<Self, super::FetchError> {
        let netrc = match netrc::Netrc::get_file() {
            None => None,
            Some(path) => Some(read_netrc(&path)?),
        };
        Ok(Self {
            written: Vec::new(),
            netrc,
            keyring: Keyring::from_environment()?,
        })
    }

    /// Adds credentials written in the spec for the repository at `url` (without them).
    pub(super) fn add_written(&mut self, url: Url, credentials: Credentials) {
        self.written.retain(|(known, _)| *known != url);
        self.written.push((url, credentials));
    }

    /// The credentials for a request of `url`, if any source has some; the keyring completes a
    /// user name found without a password (an error when its command fails).
    pub(super) fn for_url(&mut self, url: &Url) -> Result<Option<Credentials>, KeyringError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Ok(None);
        }
        let found = self
            .written_for(url)
            .or_else(|| from_variables(url))
            .or_else(|| self.netrc_for(url));
        let (Some(keyring), Some(known)) = (self.keyring.as_mut(), found.as_ref()) else {
            return Ok(found);
        };
        let Some(username) = known.username_only() else {
            return Ok(found);
        };
        let password = keyring.password(url, username)?;
        Ok(password
            .map(|password| Credentials::new(username.to_string(), password))
            .or(found))
    }

    /// The written credentials of `url`'s origin: those of the longest repository URL that is a
    /// prefix of it, else those of any repository of the origin.
    fn written_for(&self, url: &Url) -> Option<Credentials> {
        let same_origin = self
            .written
            .iter()
            .filter(|(repository, _)| repository.origin() == url.origin());
        let below = |repository: &Url| url.path().starts_with(repository.path());
        same_origin
            .clone()
            .filter(|(repository, _)| below(repository))
            .max_by_key(|(repository, _)| repository.path().len())
            .or_else(|| same_origin.clone().next())
            .map(|(_, credentials)| credentials.clone())
    }

    fn netrc_for(&self, url: &Url) -> Option<Credentials> {
        let hosts = &self.netrc.as_ref()?.hosts;
        let entry = hosts
            .get(url.host_str()?)
            .or_else(|| hosts.get("default"))?;
        Some(Credentials::new(
            entry.login.clone(),
            entry.password.clone(),
        ))
    }
}

fn read_netrc(path: &std::path::Path) -> Result<netrc::Netrc, BadNetrc> {
    netrc::Netrc::from_file(path).map_err(|error| {
        // The parser's message may quote a token of the file, a password: only its line is kept.
        let text = error.to_string();
        let line = text
            .rsplit_once("(line ")
            .and_then(|(_, rest)| rest.strip_suffix(")"))
            .map(|number| format!(" (line {number})"))
            .unwrap_or_default();
        BadNetrc {
            path: path.display().to_string(),
            line,
        }
    })
}

/// The credentials the environment variables of `url`'s host give: its `_PASSWORD` (with its
/// `_USERNAME`, or an empty one), or its `_USERNAME` alone.
fn from_variables(url: &Url) -> Option<Credentials> {
    let prefix = variable_prefix(url)?;
    let read = |suffix: &str| {
        std::env::var(format!("{prefix}_{suffix}"))
            .ok()
            .filter(|value| !value.is_empty())
    };
    let (username, password) = (read("USERNAME"), read("PASSWORD"));
    if username.is_none() && password.is_none() {
        return None;
    }
    Some(Credentials::new(
        username.unwrap_or_default(),
        password.unwrap_or_default(),
    ))
}

/// The start of the names of the environment variables holding the credentials of `url`'s
/// host: `IMGLOCK_AUTH_` and the host (with its port when the URL names one), upper-cased, each
/// character other than a letter or digit made `_`. `None` for a URL without a host.
pub fn variable_prefix(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    let name = match url.port() {
        Some(port) => format!("{host}_{port}"),
        None => host.to_string(),
    };
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    Some(format!("{VARIABLE_PREFIX}{name}"))
}

/// `text` (a repository URL as written) without the user and password of its authority, and
/// those credentials when it had any: `https://alice:s3cret@host/x` → `https://host/x`. Text
/// that is not a URL with an authority comes back as it is.
pub fn split_userinfo(text: &str) -> (String, Option<Credentials>) {
    let Some((scheme, rest)) = text.split_once("://") else {
        return (text.to_string(), None);
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return (text.to_string(), None);
    };
    let stripped = format!("{scheme}://{}", &rest[at + 1..]);
    let credentials = Url::parse(text.trim()).ok().map(|url| {
        let decode = |part: &str| {
            percent_encoding::percent_decode_str(part)
                .decode_utf8_lossy()
                .into_owned()
        };
        Credentials::new(decode(url.username()), decode(url.password().unwrap_or("")))
    });
    (stripped, credentials)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn userinfo_is_taken_out_of_the_written_url() {
        let (stripped, credentials) =
            split_userinfo("https://alice:s%40cret@pkgs.example:8443/simple");
        assert_eq!(stripped, "https://pkgs.example:8443/simple");
        assert_eq!(
            credentials.unwrap(),
            Credentials::new("alice".into(), "s@cret".into())
        );
        let (same, none) = split_userinfo("https://pkgs.example/a@b");
        assert_eq!(same, "https://pkgs.example/a@b");
        assert!(none.is_none());
        assert_eq!(split_userinfo("file:../cran").0, "file:../cran");
    }

    #[test]
    fn credentials_never_show_in_debug_output() {
        let credentials = Credentials::new("alice".into(), "s3cret".into());
        assert!(!format!("{credentials:?}").contains("s3cret"));
        assert_eq!(credentials.header(), "Basic YWxpY2U6czNjcmV0");
    }

    #[test]
    fn written_credentials_go_to_their_origin_only() {
        let mut sources = CredentialSources::default();
        let one = Credentials::new("one".into(), "1".into());
        let two = Credentials::new("two".into(), "2".into());
        sources.add_written(url("https://pkgs.example/simple"), one.clone());
        sources.add_written(url("https://pkgs.example/simple/private"), two.clone());
        let mut found = |text: &str| sources.for_url(&url(text)).unwrap();
        assert_eq!(
            found("https://pkgs.example/simple/numpy/"),
            Some(one.clone())
        );
        assert_eq!(found("https://pkgs.example/simple/private/x"), Some(two));
        assert_eq!(found("https://pkgs.example/packages/a.whl"), Some(one));
        assert_eq!(found("https://files.example/simple/numpy/"), None);
        assert_eq!(found("http://pkgs.example/simple/numpy/"), None);
        assert_eq!(found("https://pkgs.example:444/simple/"), None);
    }

    #[test]
    fn variable_names_come_from_the_host_and_port() {
        assert_eq!(
            variable_prefix(&url("https://pypi.corp-example.com/simple")).unwrap(),
            "IMGLOCK_AUTH_PYPI_CORP_EXAMPLE_COM"
        );
        assert_eq!(
            variable_prefix(&url("http://127.0.0.1:8080/x")).unwrap(),
            "IMGLOCK_AUTH_127_0_0_1_8080"
        );
    }
}
