//! Errors of fetching: what went wrong with which URL, and what the user can do about it.

/// A failed fetch. Every variant names the URL.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("`{url}` was not found (404)")]
    NotFound { url: String },

    #[error(
        "`{url}` was not found (404) when asked {minutes} min ago, as the cache remembers: `imglock resolve --refresh` asks again"
    )]
    NotFoundRemembered { url: String, minutes: u64 },

    #[error("`{url}` answered HTTP {status}")]
    Status { url: String, status: u16 },

    #[error("could not fetch `{url}` after {attempts} attempts")]
    Network {
        url: String,
        attempts: u32,
        #[source]
        source: reqwest::Error,
    },

    #[error(
        "the TLS certificate of `{url}` is not trusted by this machine: add the CA that signed it to the system's trust store (on Debian, into /usr/local/share/ca-certificates, then `update-ca-certificates`), or point SSL_CERT_FILE at a bundle that holds it"
    )]
    Untrusted {
        url: String,
        #[source]
        source: reqwest::Error,
    },

    #[error(
        "`{url}` sent fewer than {bytes_per_second} bytes a second for {seconds} s, {attempts} times: the server or the network is stalling; try again later, or lower IMGLOCK_HTTP_LOW_SPEED_LIMIT (0 disables it) or raise IMGLOCK_HTTP_LOW_SPEED_TIME"
    )]
    TooSlow {
        url: String,
        attempts: u32,
        bytes_per_second: u64,
        seconds: f64,
    },

    #[error(
        "`{url}` did not finish within {seconds} s (retries included): try again later, or raise IMGLOCK_HTTP_TIMEOUT (0 disables the limit)"
    )]
    Deadline { url: String, seconds: f64 },

    #[error("`{url}` is refused")]
    TooLarge {
        url: String,
        #[source]
        source: super::size::TooLarge,
    },

    #[error(
        "`{url}` redirected to `{location}`, which is not an http(s) URL: refused (a remote repository may only lead to remote URLs)"
    )]
    Redirect { url: String, location: String },

    /// A body left unread because another answer made it needless (see `preferred`); never
    /// reported to the user.
    #[error("`{url}` was not read: a preferred form of it was found")]
    Unwanted { url: String },

    #[error("the HTTP limits are misconfigured")]
    Setting(#[from] super::limits::BadSetting),

    #[error(
        "`{url}` is not in the cache and `--offline` forbids the network: run once without `--offline` to fill the cache"
    )]
    Offline { url: String },

    #[error(
        "the cached copy of `{url}` is damaged (its bytes no longer match the checksum kept with them, or the index now gives another) and `--offline` forbids fetching it again: run once without `--offline` to replace it"
    )]
    OfflineDamaged { url: String },

    #[error("could not read `{path}`")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("could not write to the cache at `{path}`")]
    Cache {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "checksum mismatch for `{url}`: {algorithm} {expected} was expected (from the repository, the spec or the lock), the download has {actual}; the file was not used (a re-published or tampered artifact, or a stale index or checksum file: `imglock resolve --refresh` fetches every cached index and checksum again; a layer's `files` take new bytes with `imglock resolve --upgrade-package URL`)"
    )]
    ChecksumMismatch {
        url: String,
        algorithm: &'static str,
        expected: String,
        actual: String,
    },

    #[error(transparent)]
    Netrc(#[from] super::credentials::BadNetrc),

    #[error(transparent)]
    Keyring(#[from] super::keyring::KeyringError),

    #[error(
        "`{url}` answered HTTP {status}: {}", unauthorized_hint(url, *status, *sent)
    )]
    Unauthorized {
        url: String,
        status: u16,
        /// Whether credentials were sent (and refused).
        sent: bool,
    },

    #[error("could not start the HTTP client")]
    Client(#[source] reqwest::Error),

    #[error("could not set up TLS for the HTTP client")]
    Tls(#[source] rustls::Error),

    #[error(
        "the checksum file `{url}` could not be fetched, so the artifact beside it cannot be verified"
    )]
    ChecksumFetch {
        url: String,
        #[source]
        source: Box<FetchError>,
    },

    #[error(
        "the checksum file `{url}` is not a {algorithm} digest (it starts {start:?}): the repository serves a damaged file, so the artifact beside it cannot be verified"
    )]
    MalformedChecksum {
        url: String,
        algorithm: &'static str,
        start: String,
    },
}

impl FetchError {
    /// Whether the error is a 404 (asked now or remembered by the cache) or a missing local
    /// file, which callers may answer with a fallback URL.
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::NotFound { .. } | Self::NotFoundRemembered { .. } => true,
            Self::File { source, .. } => source.kind() == std::io::ErrorKind::NotFound,
            _ => false,
        }
    }

    /// Whether the error is `--offline` finding nothing cached (at the URL or, for a checksum
    /// file, beside it).
    pub(crate) fn is_offline_miss(&self) -> bool {
        match self {
            Self::Offline { .. } => true,
            Self::ChecksumFetch { source, .. } => source.is_offline_miss(),
            _ => false,
        }
    }
}

/// What a 401 or 403 from `url` means and how to give credentials: the environment variables of
/// its host, netrc, or the repository URL.
fn unauthorized_hint(url: &str, status: u16, sent: bool) -> String {
    let parsed = url::Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .and_then(url::Url::host_str)
        .unwrap_or("the host");
    let origin = parsed.as_ref().map_or_else(
        || url.to_string(),
        |parsed| parsed.origin().ascii_serialization(),
    );
    let variables = parsed
        .as_ref()
        .and_then(super::credentials::variable_prefix)
        .unwrap_or_else(|| format!("{}<HOST>", super::credentials::VARIABLE_PREFIX));
    let what = match (status, sent) {
        (401, false) => "wants credentials and none were sent",
        (401, true) => "refused the credentials sent",
        (_, false) => "refuses access without credentials",
        (_, true) => "refuses access with the credentials sent",
    };
    format!(
        "the repository at {origin} {what}; give them in the environment ({variables}_USERNAME and {variables}_PASSWORD), in the netrc file (NETRC, else ~/.netrc: `machine {host} login USER password PASSWORD`) in the repository's URL in the spec (https://USER:PASSWORD@{host}/…, never written to the lock or the Dockerfile), or the user name there and the password in the system keyring (IMGLOCK_KEYRING_PROVIDER=subprocess runs `keyring get`)"
    )
}

/// Several failed fetches of one batch, each with its causes: the whole batch is reported at
/// once, so one run shows every unreachable URL.
#[derive(Debug, thiserror::Error)]
#[error("{} {what} could not be fetched:\n{}", errors.len(), list(errors))]
pub struct FetchErrors {
    /// What was being fetched, in the plural: "R index(es)", "artifact(s)".
    pub what: &'static str,
    pub errors: Vec<FetchError>,
}

fn list(errors: &[FetchError]) -> String {
    errors
        .iter()
        .map(|error| crate::causes::list_item(&crate::causes::chain(error)))
        .collect::<Vec<_>>()
        .join("\n")
}
