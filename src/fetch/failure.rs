//! Why one attempt of a request failed, whether trying again may help, and the error reported
//! for the request when its last attempt failed so.

use url::Url;

use super::{BodyLimit, FetchError, Fetcher, limits, size};

/// Why an attempt failed.
pub(super) enum Failure {
    /// An answer other than success or 304.
    Status(reqwest::StatusCode),
    Http(reqwest::Error),
    /// The server's TLS certificate failed its check: asking again gets the same certificate.
    Untrusted(reqwest::Error),
    /// Fewer bytes than the low-speed limit arrived in one of its windows.
    TooSlow,
    /// The body is longer than this limit.
    TooLarge(BodyLimit),
    /// A redirect to this location, not followed: not an http(s) URL.
    Redirect(String),
    /// The body could not be written where it goes.
    Write(std::io::Error),
    /// The body is no longer wanted ([`super::body::Sink::wanted`]).
    Unwanted,
}

impl Failure {
    /// Whether trying again may help: a server error, a broken or stalled connection.
    pub(super) fn is_transient(&self) -> bool {
        match self {
            Self::Status(status) => {
                status.is_server_error() || *status == reqwest::StatusCode::TOO_MANY_REQUESTS
            }
            Self::Http(source) => !source.is_builder(),
            Self::TooSlow => true,
            Self::Untrusted(_)
            | Self::TooLarge(_)
            | Self::Redirect(_)
            | Self::Write(_)
            | Self::Unwanted => false,
        }
    }
}

impl From<limits::TooSlow> for Failure {
    fn from(_: limits::TooSlow) -> Self {
        Self::TooSlow
    }
}

impl From<reqwest::Error> for Failure {
    fn from(error: reqwest::Error) -> Self {
        if is_certificate_error(&error) {
            Self::Untrusted(error)
        } else {
            Self::Http(error)
        }
    }
}

/// Whether `error` was caused by the server's certificate failing its check (rustls's error
/// reaches reqwest's inside an I/O error, which hides it from the chain of sources).
fn is_certificate_error(error: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = cause {
        let inner = match error.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => Some(error),
        };
        if inner
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .is_some_and(|tls| matches!(tls, rustls::Error::InvalidCertificate(_)))
        {
            return true;
        }
        cause = error.source();
    }
    false
}

impl Fetcher {
    /// The error of a request that failed with `failure` on its last attempt, `attempts`.
    pub(super) fn error(&self, request: &Url, attempts: u32, failure: Failure) -> FetchError {
        let url = request.to_string();
        match failure {
            Failure::Status(reqwest::StatusCode::NOT_FOUND) => FetchError::NotFound { url },
            Failure::Status(
                status @ (reqwest::StatusCode::UNAUTHORIZED | reqwest::StatusCode::FORBIDDEN),
            ) => FetchError::Unauthorized {
                sent: matches!(self.authorizations.for_url(request), Ok(Some(_))),
                url,
                status: status.as_u16(),
            },
            Failure::Status(status) => FetchError::Status {
                url,
                status: status.as_u16(),
            },
            Failure::Untrusted(source) => FetchError::Untrusted { url, source },
            Failure::Http(source) => FetchError::Network {
                url,
                attempts,
                source,
            },
            Failure::TooLarge(limit) => FetchError::TooLarge {
                url,
                source: size::TooLarge {
                    what: "the body",
                    limit: limit.bytes,
                    kind: limit.kind,
                },
            },
            Failure::TooSlow => FetchError::TooSlow {
                url,
                attempts,
                bytes_per_second: self.limits.low_speed_limit,
                seconds: self.limits.low_speed_time.as_secs_f64(),
            },
            Failure::Redirect(location) => FetchError::Redirect { url, location },
            Failure::Unwanted => FetchError::Unwanted { url },
            Failure::Write(source) => self.cache_error(source),
        }
    }
}
