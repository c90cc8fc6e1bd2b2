//! A body that does not parse: dropped from the cache and fetched once more, without
//! validators, since a body the cache holds whole can still be a bad answer that a 304 would
//! keep serving; a body that fails to parse is never kept.

use url::Url;

use super::freshness::Mutability;
use super::{Body, Fetcher};

impl Fetcher {
    /// Parses `body`, fetched from `url` (with `accept`, as it was); when it does not parse, drops
    /// it from the cache and fetches it once more without validators (a body the cache holds
    /// whole can still be a bad answer, which a 304 would keep serving), and drops that too if
    /// it does not parse either: a body that fails to parse is never kept. The error is the
    /// last parse's, or the first's when the second fetch fails.
    pub(crate) fn parse_or_refetch<T, E>(
        &self,
        url: &Url,
        body: Body,
        accept: Option<&str>,
        parse: impl Fn(Body) -> Result<T, E>,
    ) -> Result<T, E> {
        self.runtime
            .block_on(self.parse_or_refetch_async(url, body, accept, parse))
    }

    /// [`Fetcher::parse_or_refetch`], for a task already on the runtime.
    pub(super) async fn parse_or_refetch_async<T, E>(
        &self,
        url: &Url,
        body: Body,
        accept: Option<&str>,
        parse: impl Fn(Body) -> Result<T, E>,
    ) -> Result<T, E> {
        let error = match parse(body) {
            Ok(parsed) => return Ok(parsed),
            Err(error) => error,
        };
        self.forget(url).await;
        // Nothing is cached any more: whether the body is mutable makes no difference.
        let Ok(body) = self.get(url, accept, Mutability::Mutable).await else {
            return Err(error);
        };
        let parsed = parse(body);
        if parsed.is_err() {
            self.forget(url).await;
        }
        parsed
    }

    /// Drops the cached body of `url` (once any write of it ends), so that the next fetch asks
    /// without validators. A cache that cannot be written to only costs that: the next fetch
    /// revalidates the old body.
    async fn forget(&self, url: &Url) {
        let _ = self.finish(url.as_str()).await;
        let _ = self.cache.http_forget(url.as_str());
    }
}
