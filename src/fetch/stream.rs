//! Requests whose answers lead to more requests: each answer is handed to the caller, on its own
//! thread, as soon as it lands, and the caller may ask for more while the rest are in flight —
//! no batch waits for its slowest member.

use std::pin::Pin;

use futures::stream::{FuturesUnordered, StreamExt};
use indicatif::ProgressBar;
use url::Url;

use super::{FetchError, Fetcher, Mutability};

/// One request's answer, with the key the caller gave it.
pub(crate) type Answer<K> = (K, Url, Result<Vec<u8>, FetchError>);

type Running<'a, K> = Pin<Box<dyn Future<Output = Answer<K>> + 'a>>;

/// Requests in flight; see [`Fetcher::stream`].
pub(crate) struct Stream<'a, K> {
    fetcher: &'a Fetcher,
    running: FuturesUnordered<Running<'a, K>>,
    bar: ProgressBar,
}

impl Fetcher {
    /// A set of requests to fill with [`Stream::push`] and drain with [`Stream::next`],
    /// counted on one progress bar showing `what`.
    pub(crate) fn stream<K: 'static>(&self, what: &str) -> Stream<'_, K> {
        Stream {
            fetcher: self,
            running: FuturesUnordered::new(),
            bar: self.progress.bar(0, what),
        }
    }
}

impl<'a, K: 'static> Stream<'a, K> {
    /// Starts fetching `url` (as mutable or immutable as it says); its answer comes back from
    /// [`Stream::next`] with `key`.
    pub(crate) fn push(&mut self, key: K, url: Url, mutability: Mutability) {
        let fetcher = self.fetcher;
        self.bar.inc_length(1);
        self.running.push(Box::pin(async move {
            let body = fetcher.get(&url, None, mutability).await;
            (key, url, body)
        }));
    }

    /// The next answer to land (the others keep running meanwhile); `None` when nothing is in
    /// flight.
    pub(crate) fn next(&mut self) -> Option<Answer<K>> {
        if self.running.is_empty() {
            return None;
        }
        let answer = self.fetcher.runtime.block_on(self.running.next());
        self.bar.inc(1);
        answer
    }
}

impl<K> Drop for Stream<'_, K> {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
