//! Requests whose answers lead to more requests: each answer, read by the stream's parser on the
//! blocking pool, is handed to the caller, on its own thread, as soon as it lands, and the caller
//! may ask for more while the rest are in flight — no batch waits for its slowest member, and
//! the caller's thread spends its time only on what the answers lead to. Artifacts the answers
//! show will be wanted can be downloaded alongside ([`Stream::warm`]): the downloads after
//! resolution take their outcomes instead of asking again.

use std::pin::Pin;

use futures::stream::{FuturesUnordered, StreamExt};
use indicatif::ProgressBar;
use url::Url;

use super::{ArtifactRequest, Body, FetchError, Fetcher, Mutability};

/// One request's answer, parsed, with the key the caller gave it.
pub(crate) type Answer<K, T> = (K, Url, Result<T, FetchError>);

type Running<'a, K, T> = Pin<Box<dyn Future<Output = Answer<K, T>> + 'a>>;

type Warming<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// Requests in flight; see [`Fetcher::stream`].
pub(crate) struct Stream<'a, K, T> {
    fetcher: &'a Fetcher,
    running: FuturesUnordered<Running<'a, K, T>>,
    /// Downloads started early, whose outcomes [`Fetcher::download_all`] takes later.
    warming: FuturesUnordered<Warming<'a>>,
    parse: fn(Body) -> T,
    bar: ProgressBar,
}

impl Fetcher {
    /// A set of requests to fill with [`Stream::push`] and drain with [`Stream::next`], each
    /// body read by `parse` on the blocking pool, counted on one progress bar showing `what`.
    pub(crate) fn stream<K: 'static, T: Send + 'static>(
        &self,
        what: &str,
        parse: fn(Body) -> T,
    ) -> Stream<'_, K, T> {
        Stream {
            fetcher: self,
            running: FuturesUnordered::new(),
            warming: FuturesUnordered::new(),
            parse,
            bar: self.progress.bar(0, what),
        }
    }
}

impl<'a, K: 'static, T: Send + 'static> Stream<'a, K, T> {
    /// Starts fetching `url` (as mutable or immutable as it says); its answer comes back from
    /// [`Stream::next`] with `key`.
    pub(crate) fn push(&mut self, key: K, url: Url, mutability: Mutability) {
        let (fetcher, parse) = (self.fetcher, self.parse);
        self.bar.inc_length(1);
        self.running.push(Box::pin(async move {
            let parsed = match fetcher.get(&url, None, mutability).await {
                Ok(body) => Ok(tokio::task::spawn_blocking(move || parse(body))
                    .await
                    .unwrap_or_else(|failed| std::panic::resume_unwind(failed.into_panic()))),
                Err(error) => Err(error),
            };
            (key, url, parsed)
        }));
    }

    /// Starts downloading `request`, verified as [`Fetcher::download_all`] would, which later
    /// takes its outcome, success or failure, instead of asking again. A `file:` artifact is
    /// read in place when needed: nothing to start.
    pub(crate) fn warm(&mut self, request: ArtifactRequest) {
        if request.url.scheme() == "file" || self.fetcher.offline {
            return;
        }
        self.warming
            .push(Box::pin(self.fetcher.download_early(request)));
    }

    /// The next answer to land (the others keep running meanwhile); `None` when nothing is in
    /// flight, once every download [`Stream::warm`] started has ended.
    pub(crate) fn next(&mut self) -> Option<Answer<K, T>> {
        if self.running.is_empty() && !self.warming.is_empty() {
            self.fetcher.lift_early_limits();
        }
        let (running, warming) = (&mut self.running, &mut self.warming);
        let answer = self.fetcher.runtime.block_on(async {
            loop {
                tokio::select! {
                    answer = running.next(), if !running.is_empty() => return answer,
                    _ = warming.next(), if !warming.is_empty() => {}
                    else => return None,
                }
            }
        });
        if answer.is_some() {
            self.bar.inc(1);
        }
        answer
    }
}

impl<K, T> Drop for Stream<'_, K, T> {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
