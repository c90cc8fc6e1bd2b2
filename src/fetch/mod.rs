//! One HTTP client and one on-disk cache for every ecosystem.
//!
//! Metadata (indexes, simple-API pages, POMs) is fetched with [`Fetcher::get_all`]: cached bodies
//! of mutable indexes are revalidated with ETag / Last-Modified, immutable ones are served as
//! they are, a 404 is remembered for a day, and `--offline` serves only the cache (see
//! [`freshness`]). Artifacts are
//! fetched with [`Fetcher::download_all`]: streamed into the cache while their sha256 (and any
//! upstream checksum) is computed, verified before they are kept, and stored by sha256 so each is
//! downloaded once. Both run every request at once on an async runtime, bounded per host, so the
//! network is never capped by the core count. A [`Stream`] hands each answer back as it lands, for
//! walks whose answers lead to more requests (Maven's POMs). `file://` URLs are read in place.
//!
//! Timeouts, resets, truncated bodies and 5xx answers are retried with backoff; a 404 is not. An
//! index body larger than its limit ([`Fetcher::index_limit`]) is refused as it streams, and so
//! is an artifact larger than the artifact limit (artifacts stream to disk, see [`artifact`]).
//! Redirects to http(s) URLs are followed; one to any other URL (`file:`) is refused.
//!
//! Private repositories: every request carries the basic authentication [`credentials`] finds
//! for its URL (the spec's URL, the host's environment variables, netrc), through the one
//! [`Authorizations`] path that also sends the GitHub token; a 401 or 403 says how to give them.

mod artifact;
mod authorization;
mod body;
mod cache;
mod credentials;
mod error;
mod failure;
mod freshness;
mod index_body;
mod keyring;
mod limits;
mod local;
mod preferred;
mod prune;
mod published;
mod refetch;
mod size;
mod storing;
mod stream;
mod tls;

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use url::Url;

pub(crate) use artifact::{Artifact, ArtifactRequest, Checksum};
use authorization::Authorizations;
use body::{BodyLimit, Response, Sink, in_memory, read_body};
pub use cache::Cache;
pub use credentials::{BadNetrc, Credentials, split_userinfo, variable_prefix};
pub(crate) use error::{FetchError, FetchErrors};
use failure::Failure;
pub(crate) use freshness::Mutability;
use freshness::Plan;
pub(crate) use index_body::ReadsArriving;
use index_body::{IndexBody, IndexSink};
pub use keyring::KeyringError;
pub use limits::HttpLimits;
pub use prune::Removed;
pub(crate) use published::PublishedChecksums;
pub(crate) use size::{Capped, is_too_large, read_capped};
pub(crate) use stream::Stream;

use crate::progress::Progress;

/// How many requests may be in flight to one host at once.
pub const REQUESTS_PER_HOST: usize = 50;
/// How many downloads started early may run from one host at once (two requests each).
const EARLY_DOWNLOADS_PER_HOST: usize = REQUESTS_PER_HOST / 4;
/// How many times a request is tried before its error is reported.
const ATTEMPTS: u32 = 4;
/// The first retry's delay; each later retry doubles it.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The bytes of a range request, and the whole file's size when the answer was partial.
pub(crate) type RangeBody = (Vec<u8>, Option<u64>);

/// A fetched body: in memory, or mapped from the cache when it is large (see
/// [`Cache::http_get`]), so a 250 MB index is never copied to be read.
pub(crate) type Body = bytes::Bytes;

/// Settings of a [`Fetcher`].
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Where fetched bodies and artifacts are kept and revalidated from.
    pub cache: Cache,
    /// Serve only from the cache (`--offline`); anything not cached is an error, not a download.
    pub offline: bool,
    /// Revalidate every cached body, immutable ones included, and ask again for every URL the
    /// cache remembers as absent (`--refresh`).
    pub refresh: bool,
    /// Where download progress is shown; [`Progress::hidden`] shows none.
    pub progress: Progress,
    /// The time limits of every request.
    pub limits: HttpLimits,
}

/// The fetcher's async runtime. Once the fetcher is done (its cache writes waited for), the
/// runtime is shut down without waiting for its idle threads to exit: joining them cost a
/// resolve about 0.4 ms at its very end.
struct Runtime(Option<tokio::runtime::Runtime>);

impl std::ops::Deref for Runtime {
    type Target = tokio::runtime::Runtime;

    fn deref(&self) -> &Self::Target {
        self.0
            .as_ref()
            .expect("the runtime lives as long as its fetcher")
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// The client every ecosystem fetches through.
pub struct Fetcher {
    runtime: Runtime,
    client: reqwest::Client,
    /// The trust store the client's HTTPS connections check certificates against.
    trust: Arc<tls::TrustStore>,
    cache: Cache,
    offline: bool,
    refresh: bool,
    progress: Progress,
    limits: HttpLimits,
    /// The limits of requests in flight, by host ([`Fetcher::host_limit`]).
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// The limits of downloads started early, by host ([`Fetcher::early_limit`]).
    early_limits: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Which checksum file each repository publishes, learnt from its first artifact.
    checksum_kinds: published::Kinds,
    /// The outcomes of downloads started early ([`Stream::warm`]) that nobody asked for yet.
    early: Mutex<HashMap<Url, Result<Artifact, FetchError>>>,
    /// `Authorization` values sent with every request below a URL prefix ([`Fetcher::authorize`]).
    authorizations: Authorizations,
    /// Fetched bodies being written into the cache.
    storing: storing::Storing,
}

impl Fetcher {
    /// Whether it draws progress: for other long work done with what it fetches.
    pub(crate) fn progress(&self) -> Progress {
        self.progress
    }

    /// Whether `--offline` forbids the network.
    pub(crate) fn is_offline(&self) -> bool {
        self.offline
    }

    /// The cache it reads and fills.
    pub(crate) fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Starts the client and its runtime. The runtime has one worker thread: it only drives the
    /// connections (sockets, TLS), while every answer is read by the thread that asked for it
    /// and parsed there or on the blocking pool. A second worker measured no faster for any
    /// ecosystem, and made conda's 2.4 MB repodata arrive later (0.3 to 0.5 ms of a 45 ms
    /// resolve): the connections then move between two threads that contend with the parsing
    /// for the same cores.
    pub fn new(options: FetchOptions) -> Result<Self, FetchError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|source| FetchError::Cache {
                path: "the async runtime".into(),
                source,
            })?;
        // reqwest's default redirect policy (at most 10) follows only http(s) locations and
        // returns a redirect to `file:` as it came, which [`Fetcher::attempt`] refuses: a server
        // can never make imglock read a local file (the rule of
        // [`crate::repository::may_name`]).
        let (tls, trust) = tls::client_config().map_err(FetchError::Tls)?;
        let client = reqwest::Client::builder()
            .user_agent(concat!("imglock/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(15))
            .read_timeout(Duration::from_secs(60))
            .tls_backend_preconfigured(tls)
            .build()
            .map_err(FetchError::Client)?;
        options.cache.remove_dead_temporaries();
        Ok(Self {
            runtime: Runtime(Some(runtime)),
            client,
            trust,
            cache: options.cache,
            offline: options.offline,
            refresh: options.refresh,
            progress: options.progress,
            limits: options.limits,
            hosts: Mutex::default(),
            early_limits: Mutex::default(),
            checksum_kinds: published::Kinds::default(),
            early: Mutex::default(),
            authorizations: Authorizations::with_credentials(
                credentials::CredentialSources::from_environment()?,
            ),
            storing: storing::Storing::default(),
        })
    }

    /// Sends `Authorization: <value>` with every request of a URL below `prefix` (see
    /// [`Authorizations`]).
    pub(crate) fn authorize(&self, prefix: &Url, value: String) {
        self.authorizations.add(prefix, value);
    }

    /// Sends `credentials` (basic authentication) with the requests of the repository at
    /// `repository` (its URL without them) and of its origin (see [`credentials`]).
    pub(crate) fn add_credentials(&self, repository: Url, credentials: Credentials) {
        self.authorizations.add_credentials(repository, credentials);
    }

    /// Whether requests of `url` send credentials (basic authentication) from any source.
    pub(crate) fn has_credentials(&self, url: &Url) -> bool {
        self.authorizations.has_credentials(url)
    }

    /// The size limit of an index whose own default is `default` bytes: `IMGLOCK_MAX_INDEX_BYTES`
    /// when set, which replaces every index limit.
    pub(crate) fn index_limit(&self, default: u64) -> u64 {
        self.limits.index_bytes.unwrap_or(default)
    }

    /// Fetches every URL's body at once, each a mutable index (revalidated when cached); results
    /// are in the order of `urls`.
    pub(crate) fn get_all(&self, urls: &[Url], what: &str) -> Vec<Result<Body, FetchError>> {
        self.run_all(urls, what, |url| self.get(url, None, Mutability::Mutable))
    }

    /// Fetches every URL's body at once, each as mutable or immutable as it says (an immutable
    /// body is not asked for once cached); results are in the order of `requests`.
    pub(crate) fn get_each(
        &self,
        requests: &[(Url, Mutability)],
        what: &str,
    ) -> Vec<Result<Body, FetchError>> {
        self.run_all(requests, what, |(url, mutability)| {
            self.get(url, None, *mutability)
        })
    }

    /// Like [`Fetcher::get_all`], asking for the given media types (HTTP `Accept`).
    pub(crate) fn get_all_accepting(
        &self,
        urls: &[Url],
        what: &str,
        accept: &str,
    ) -> Vec<Result<Body, FetchError>> {
        self.run_all(urls, what, |url| {
            self.get(url, Some(accept), Mutability::Mutable)
        })
    }

    /// Why `--offline` cannot serve `url`: its cache entry is missing, or `damaged`.
    pub(super) fn offline_error(&self, url: &str, damaged: bool) -> FetchError {
        let url = url.to_string();
        if damaged {
            FetchError::OfflineDamaged { url }
        } else {
            FetchError::Offline { url }
        }
    }

    /// Downloads and verifies every artifact at once, showing `what` as progress; results are in
    /// the order of `requests`.
    pub(crate) fn download_all(
        &self,
        requests: &[ArtifactRequest],
        what: &str,
    ) -> Vec<Result<Artifact, FetchError>> {
        self.run_all(requests, what, |request| self.download(request))
    }

    /// Fetches byte ranges (`bytes=-N` for the last N bytes, `bytes=A-B`) of files at once, not
    /// cached. Each answer is the bytes and, for a partial answer, the file's total size; a server
    /// that ignores ranges answers with the whole file and `None`.
    pub(crate) fn get_ranges(
        &self,
        requests: &[(Url, String)],
    ) -> Vec<Result<RangeBody, FetchError>> {
        self.run_all(
            requests,
            "Reading wheel metadata",
            |(url, range)| async move {
                if self.offline {
                    return Err(FetchError::Offline {
                        url: url.to_string(),
                    });
                }
                let range = format!("bytes={range}");
                // A server that ignores ranges sends the whole file: an artifact.
                let limit = BodyLimit {
                    bytes: self.limits.artifact_bytes,
                    kind: size::Limit::Artifact,
                };
                let build = |request: reqwest::RequestBuilder| {
                    request.header(reqwest::header::RANGE, &range)
                };
                match self.send(url, limit, build, in_memory).await? {
                    Response::Body { body, headers } => {
                        let total = headers
                            .get(reqwest::header::CONTENT_RANGE)
                            .and_then(|value| value.to_str().ok())
                            .and_then(|value| value.rsplit('/').next())
                            .and_then(|total| total.parse().ok());
                        Ok((body, total))
                    }
                    Response::NotModified => Err(FetchError::Status {
                        url: url.to_string(),
                        status: 304,
                    }),
                }
            },
        )
    }

    /// Runs `task` for every item concurrently, counting them on one progress bar.
    fn run_all<'a, T, R, F>(
        &'a self,
        items: &'a [T],
        message: &str,
        task: impl Fn(&'a T) -> F,
    ) -> Vec<R>
    where
        F: Future<Output = R>,
    {
        let bar = self.progress.bar(items.len() as u64, message);
        let tasks = items.iter().map(|item| {
            let (bar, running) = (bar.clone(), task(item));
            async move {
                let result = running.await;
                bar.inc(1);
                result
            }
        });
        let results = self.runtime.block_on(futures::future::join_all(tasks));
        bar.finish_and_clear();
        results
    }

    async fn get(
        &self,
        url: &Url,
        accept: Option<&str>,
        mutability: Mutability,
    ) -> Result<Body, FetchError> {
        let new_sink = || Ok(IndexSink::new(&self.cache, url.as_str()));
        self.get_into(url, accept, mutability, new_sink).await
    }

    /// The error of a cache file that could not be written or read (`source`).
    fn cache_error(&self, source: std::io::Error) -> FetchError {
        FetchError::Cache {
            path: self.cache.root().display().to_string(),
            source,
        }
    }

    /// Like [`Fetcher::get`], the body going into a sink `new_sink` makes for each attempt.
    async fn get_into<S: Sink + Into<IndexBody>>(
        &self,
        url: &Url,
        accept: Option<&str>,
        mutability: Mutability,
        new_sink: impl Fn() -> std::io::Result<S>,
    ) -> Result<Body, FetchError> {
        let limit = self.index_limit(size::INDEX_BODY);
        if url.scheme() == "file" {
            return local::read_index(url, limit);
        }
        let cached = match self.plan(url, mutability) {
            Plan::Answer(answer) => return answer,
            Plan::Ask(cached) => cached,
        };
        let validators = cached.as_ref().map(|(_, v)| v.clone());
        let limit = BodyLimit {
            bytes: limit,
            kind: size::Limit::Index,
        };
        let response = self.send(
            url,
            limit,
            |request| {
                let mut request = request;
                if let Some(accept) = accept {
                    request = request.header(reqwest::header::ACCEPT, accept);
                }
                if let Some(v) = &validators {
                    if let Some(etag) = &v.etag {
                        request = request.header(reqwest::header::IF_NONE_MATCH, etag);
                    }
                    if let Some(modified) = &v.last_modified {
                        request = request.header(reqwest::header::IF_MODIFIED_SINCE, modified);
                    }
                }
                request
            },
            new_sink,
        );
        let response = self.noting_absence(url, response.await)?;
        if let (Response::NotModified, Some((body, _))) = (&response, cached) {
            return Ok(body);
        }
        // A 304 answers only the validators of a cached body; one without them is an error.
        let Response::Body { body, headers } = response else {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: 304,
            });
        };
        // Every body is kept, validators or not, so that `--offline` can serve it later: a large
        // one is in its cache entry already ([`index_body`]), any other is written while its
        // reader goes on with it (see [`storing`]).
        let body = match body.into() {
            IndexBody::Memory(bytes) => Body::from(bytes),
            IndexBody::Entry(entry) => {
                // An earlier write of the same URL must not land over this later answer.
                self.finish(url.as_str()).await?;
                return entry.finish().map_err(|source| self.cache_error(source));
            }
        };
        let (etag, modified) = body::validators_of(&headers);
        self.store(url.as_str(), etag, modified, body.clone())
            .await?;
        Ok(body)
    }

    /// Sends a GET with retries; the body of a success goes into a sink `new_sink` makes for
    /// each attempt (a short body is an error, and retried; a body longer than `limit` is
    /// refused, not retried). All attempts together must end within the total deadline.
    async fn send<S: Sink>(
        &self,
        url: &Url,
        limit: BodyLimit,
        build: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
        new_sink: impl Fn() -> std::io::Result<S>,
    ) -> Result<Response<S>, FetchError> {
        let permit_pool = self.host_limit(url);
        let _permit = permit_pool.acquire().await.ok();
        let sending = self.send_with_retries(url, limit, build, new_sink);
        let Some(total) = self.limits.total else {
            return sending.await;
        };
        tokio::time::timeout(total, sending)
            .await
            .unwrap_or_else(|_| {
                Err(FetchError::Deadline {
                    url: url.to_string(),
                    seconds: total.as_secs_f64(),
                })
            })
    }

    async fn send_with_retries<S: Sink>(
        &self,
        url: &Url,
        limit: BodyLimit,
        build: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
        new_sink: impl Fn() -> std::io::Result<S>,
    ) -> Result<Response<S>, FetchError> {
        let mut attempt = 0;
        let authorization = self.authorizations.for_url(url)?;
        if url.scheme() == "https" {
            self.trust.prepare();
        }
        loop {
            attempt += 1;
            let mut request = build(self.client.get(url.clone()));
            if let Some(value) = &authorization {
                request = request.header(reqwest::header::AUTHORIZATION, value);
            }
            let failure = match self.attempt(request, limit, &new_sink).await {
                Ok(Ok(response)) => return Ok(response),
                Ok(Err(status)) => Failure::Status(status),
                Err(failure) => failure,
            };
            if attempt >= ATTEMPTS || !failure.is_transient() {
                return Err(self.error(url, attempt, failure));
            }
            tokio::time::sleep(FIRST_BACKOFF * 2u32.pow(attempt - 1)).await;
        }
    }

    /// One attempt of a request: its answer (the whole body of a success, in a new sink), or the
    /// status of a failure; too slow an answer (the low-speed limit), too long a body or a
    /// redirect that was not followed (to a `file:` URL) is a failure.
    async fn attempt<S: Sink>(
        &self,
        request: reqwest::RequestBuilder,
        limit: BodyLimit,
        new_sink: &impl Fn() -> std::io::Result<S>,
    ) -> Result<Result<Response<S>, reqwest::StatusCode>, Failure> {
        let mut speed = self.limits.speed_check();
        let response = speed.within(request.send()).await??;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Ok(Response::NotModified));
        }
        // reqwest follows redirects to http(s) URLs; one it returns leads elsewhere.
        if status.is_redirection()
            && let Some(location) = response.headers().get(reqwest::header::LOCATION)
        {
            let location = String::from_utf8_lossy(location.as_bytes()).into_owned();
            return Err(Failure::Redirect(location));
        }
        if !status.is_success() {
            return Ok(Err(status));
        }
        let headers = response.headers().clone();
        let mut sink = new_sink().map_err(Failure::Write)?;
        if !sink.wanted().await {
            return Err(Failure::Unwanted);
        }
        if let Some(length) = response.content_length() {
            sink.expect(length.min(limit.bytes), &headers);
        }
        let body = read_body(response, &mut speed, limit, sink).await?;
        Ok(Ok(Response::Body { body, headers }))
    }

    /// The requests to `url`'s host in flight: at most [`REQUESTS_PER_HOST`].
    fn host_limit(&self, url: &Url) -> Arc<Semaphore> {
        limit(&self.hosts, host_of(url), REQUESTS_PER_HOST)
    }

    /// The downloads started early ([`Stream::warm`]) from `url`'s host, each a file and its
    /// checksum: at most [`EARLY_DOWNLOADS_PER_HOST`] while the walk that starts them still
    /// waits for metadata, so that they leave it most of the host's requests.
    fn early_limit(&self, url: &Url) -> Arc<Semaphore> {
        limit(&self.early_limits, host_of(url), EARLY_DOWNLOADS_PER_HOST)
    }

    /// Lets the downloads started early use every request of their hosts: the walk that
    /// started them waits for nothing else.
    fn lift_early_limits(&self) {
        let limits = self
            .early_limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for limit in limits.values() {
            let lifted = REQUESTS_PER_HOST.saturating_sub(limit.available_permits());
            limit.add_permits(lifted);
        }
    }
}

/// The limit of requests in flight kept in `limits` under `key`, made with `permits`.
fn limit(
    limits: &Mutex<HashMap<String, Arc<Semaphore>>>,
    key: String,
    permits: usize,
) -> Arc<Semaphore> {
    let mut limits = limits
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    limits
        .entry(key)
        .or_insert_with(|| Arc::new(Semaphore::new(permits)))
        .clone()
}

/// `host:port` of `url`.
fn host_of(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// Gunzips a body, failing on a truncated or corrupt stream rather than returning part of it,
/// and on one that expands past `limit` bytes (the error's inner error is then a `TooLarge`
/// naming `what`).
pub(crate) fn gunzip(bytes: &[u8], limit: u64, what: &'static str) -> std::io::Result<Vec<u8>> {
    // The trailer's length (modulo 4 GiB) sizes the buffer once, instead of doubling it as the
    // text comes out; the limit and deflate's largest ratio (1032:1) cap what a trailer can ask.
    let announced = bytes
        .last_chunk::<4>()
        .map_or(0, |trailer| u64::from(u32::from_le_bytes(*trailer)));
    let capacity = announced
        .min(limit)
        .min((bytes.len() as u64).saturating_mul(1032));
    let mut out = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    Capped::new(flate2::bufread::GzDecoder::new(bytes), limit, what).read_to_end(&mut out)?;
    Ok(out)
}
