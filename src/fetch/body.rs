//! A response's body as it arrives: where it goes ([`Sink`]: memory, or a file of the cache),
//! the most bytes it may have ([`BodyLimit`]), and the reading of it under the low-speed limit.

use super::failure::Failure;
use super::{limits, size};

/// Where an attempt's body goes as it arrives: memory for indexes and ranges, a file of the cache
/// for artifacts.
pub(super) trait Sink {
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()>;

    /// Told the body's announced length (at most its limit) and the answer's headers before
    /// the first chunk.
    fn expect(&mut self, length: u64, headers: &reqwest::header::HeaderMap) {
        let _ = (length, headers);
    }

    /// Waits, once the answer is a success and before any of its body is read, until the body
    /// is wanted: `false` when it no longer is (another answer made it needless), and the body
    /// is then left unread.
    async fn wanted(&mut self) -> bool {
        true
    }
}

impl Sink for Vec<u8> {
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.extend_from_slice(chunk);
        Ok(())
    }

    /// Room for the whole body at once: a 250 MB index grown by doubling is copied about
    /// twice over as it arrives.
    fn expect(&mut self, length: u64, _: &reqwest::header::HeaderMap) {
        self.reserve(usize::try_from(length).unwrap_or(0));
    }
}

/// The validators an answer came with, by its `headers`: its `ETag` and `Last-Modified`.
pub(super) fn validators_of(
    headers: &reqwest::header::HeaderMap,
) -> (Option<String>, Option<String>) {
    let header = |name| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    (
        header(reqwest::header::ETAG),
        header(reqwest::header::LAST_MODIFIED),
    )
}

/// A new in-memory sink.
pub(super) fn in_memory() -> std::io::Result<Vec<u8>> {
    Ok(Vec::new())
}

/// The most bytes a body may have, and which limit that is.
#[derive(Debug, Clone, Copy)]
pub(super) struct BodyLimit {
    pub(super) bytes: u64,
    pub(super) kind: size::Limit,
}

/// Reads a whole body into `sink`, chunk by chunk, failing when it arrives slower than the
/// low-speed limit or grows past `limit` (a `Content-Length` past it fails before any byte is
/// read).
pub(super) async fn read_body<S: Sink>(
    mut response: reqwest::Response,
    speed: &mut limits::SpeedCheck,
    limit: BodyLimit,
    mut sink: S,
) -> Result<S, Failure> {
    if response
        .content_length()
        .is_some_and(|length| length > limit.bytes)
    {
        return Err(Failure::TooLarge(limit));
    }
    let mut received = 0u64;
    while let Some(chunk) = speed.within(response.chunk()).await?? {
        speed.received(chunk.len())?;
        received += chunk.len() as u64;
        if received > limit.bytes {
            return Err(Failure::TooLarge(limit));
        }
        sink.write(&chunk).map_err(Failure::Write)?;
    }
    Ok(sink)
}

/// What a successful GET produced.
pub(super) enum Response<S> {
    Body {
        body: S,
        headers: reqwest::header::HeaderMap,
    },
    NotModified,
}
