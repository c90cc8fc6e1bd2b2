//! The time limits of a request: a total deadline, and a low-speed limit (as cargo's
//! `http.low-speed-limit`) that drops a server sending fewer than N bytes a second for M seconds.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How long one request (all its attempts) may take, unless `IMGLOCK_HTTP_TIMEOUT` says.
const TOTAL: Duration = Duration::from_secs(1800);
/// The fewest bytes a second a transfer may average over a window (cargo's default).
const LOW_SPEED_LIMIT: u64 = 10;
/// The window the low-speed limit is measured over (cargo's default).
const LOW_SPEED_TIME: Duration = Duration::from_secs(30);

/// The time limits of every request of a [`super::Fetcher`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HttpLimits {
    /// How long one request may take, all its attempts and backoff included; `None` is no limit.
    pub total: Option<Duration>,
    /// The fewest bytes a second an attempt may average over each window of
    /// [`HttpLimits::low_speed_time`] (waiting for the answer's headers included); 0 is no limit.
    pub low_speed_limit: u64,
    /// The window of the low-speed limit.
    pub low_speed_time: Duration,
    /// Every index size limit at once (`IMGLOCK_MAX_INDEX_BYTES`): the body as downloaded and
    /// each format once decompressed; `None` keeps each limit's default.
    pub index_bytes: Option<u64>,
    /// The artifact size limit (`IMGLOCK_MAX_ARTIFACT_BYTES`): a download growing past it is
    /// refused as it streams.
    pub artifact_bytes: u64,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            total: Some(TOTAL),
            low_speed_limit: LOW_SPEED_LIMIT,
            low_speed_time: LOW_SPEED_TIME,
            index_bytes: None,
            artifact_bytes: super::size::ARTIFACT,
        }
    }
}

/// An environment variable whose value is not what it should be.
#[derive(Debug, thiserror::Error)]
#[error("`{name}={value}` is not valid: expected {expected}")]
pub struct BadSetting {
    name: &'static str,
    value: String,
    expected: &'static str,
}

impl HttpLimits {
    /// The defaults, overridden by `IMGLOCK_HTTP_TIMEOUT` (seconds, 0 for none),
    /// `IMGLOCK_HTTP_LOW_SPEED_LIMIT` (bytes a second, 0 for none) and
    /// `IMGLOCK_HTTP_LOW_SPEED_TIME` (seconds), `IMGLOCK_MAX_INDEX_BYTES` and
    /// `IMGLOCK_MAX_ARTIFACT_BYTES` (bytes).
    pub fn from_env() -> Result<Self, BadSetting> {
        let mut limits = Self::default();
        if let Some(seconds) = seconds_var("IMGLOCK_HTTP_TIMEOUT", true)? {
            limits.total = (!seconds.is_zero()).then_some(seconds);
        }
        if let Some(value) = var("IMGLOCK_HTTP_LOW_SPEED_LIMIT") {
            limits.low_speed_limit = value.trim().parse().map_err(|_| BadSetting {
                name: "IMGLOCK_HTTP_LOW_SPEED_LIMIT",
                value,
                expected: "a whole number of bytes a second (0 for no limit)",
            })?;
        }
        if let Some(seconds) = seconds_var("IMGLOCK_HTTP_LOW_SPEED_TIME", false)? {
            limits.low_speed_time = seconds;
        }
        if let Some(bytes) = bytes_var(super::size::VARIABLE)? {
            limits.index_bytes = Some(bytes);
        }
        if let Some(bytes) = bytes_var(super::size::ARTIFACT_VARIABLE)? {
            limits.artifact_bytes = bytes;
        }
        Ok(limits)
    }

    /// A fresh low-speed check for one attempt, its first window starting now.
    pub(super) fn speed_check(&self) -> SpeedCheck {
        SpeedCheck {
            limit: self.low_speed_limit,
            window: self.low_speed_time,
            window_end: Instant::now() + self.low_speed_time,
            bytes: 0,
        }
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// A number of bytes above 0 from the environment.
fn bytes_var(name: &'static str) -> Result<Option<u64>, BadSetting> {
    let Some(value) = var(name) else {
        return Ok(None);
    };
    match value.trim().parse() {
        Ok(bytes) if bytes > 0 => Ok(Some(bytes)),
        _ => Err(BadSetting {
            name,
            value,
            expected: "a number of bytes above 0",
        }),
    }
}

/// A number of seconds from the environment; zero only where `zero_ok`.
fn seconds_var(name: &'static str, zero_ok: bool) -> Result<Option<Duration>, BadSetting> {
    let Some(value) = var(name) else {
        return Ok(None);
    };
    match value
        .trim()
        .parse::<f64>()
        .ok()
        .map(Duration::try_from_secs_f64)
    {
        Some(Ok(seconds)) if zero_ok || !seconds.is_zero() => Ok(Some(seconds)),
        _ => Err(BadSetting {
            name,
            value,
            expected: if zero_ok {
                "a number of seconds (0 for no limit)"
            } else {
                "a number of seconds above 0"
            },
        }),
    }
}

/// Fewer bytes than the low-speed limit arrived in one window.
pub(super) struct TooSlow;

/// The low-speed limit of one attempt: the bytes of the current window, and when it ends.
pub(super) struct SpeedCheck {
    limit: u64,
    window: Duration,
    window_end: Instant,
    bytes: u64,
}

impl SpeedCheck {
    /// Awaits `future`, closing every window that ends meanwhile.
    pub(super) async fn within<T>(
        &mut self,
        future: impl Future<Output = T>,
    ) -> Result<T, TooSlow> {
        if self.limit == 0 {
            return Ok(future.await);
        }
        let mut future = std::pin::pin!(future);
        loop {
            match tokio::time::timeout_at(self.window_end, &mut future).await {
                Ok(value) => return Ok(value),
                Err(_) => self.close_window()?,
            }
        }
    }

    /// Counts bytes received, closing the window if it has ended.
    pub(super) fn received(&mut self, bytes: usize) -> Result<(), TooSlow> {
        self.bytes += bytes as u64;
        if self.limit != 0 && Instant::now() >= self.window_end {
            self.close_window()?;
        }
        Ok(())
    }

    /// Fails when the window that ended had too few bytes, else starts the next one.
    fn close_window(&mut self) -> Result<(), TooSlow> {
        if (self.bytes as f64) < self.limit as f64 * self.window.as_secs_f64() {
            return Err(TooSlow);
        }
        self.bytes = 0;
        self.window_end = Instant::now() + self.window;
        Ok(())
    }
}
