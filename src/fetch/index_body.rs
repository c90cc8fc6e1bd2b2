//! An index's body as it arrives ([`IndexSink`]): in memory, or, when the answer announces a
//! large length, straight into its cache entry ([`StreamedEntry`]), mapped from there once
//! whole. A conda-forge-sized repodata is then neither copied into fresh memory nor copied a
//! second time into the cache after it arrived. A body its caller reads while it arrives
//! ([`ReadsArriving`]) stays in memory up to a larger length, [`READ_ARRIVING_UP_TO`].

use reqwest::header::HeaderMap;

use super::Cache;
use super::body::{Sink, validators_of};
use super::cache::StreamedEntry;
use super::local::MAP_AT;

/// What reads an index's body while it arrives, chunk by chunk (conda indexes a repodata as
/// its bytes come in, instead of after the last one).
pub(crate) trait ReadsArriving {
    /// Told the body's bytes so far, after each chunk; those told of before are unchanged.
    fn arrived(&mut self, so_far: &[u8]);
}

/// Up to how many bytes a body read while it arrives stays in memory, where its reader can see
/// it (a larger one goes into its cache entry, as any large index does, and is read once
/// whole): above a defaults-sized repodata, below a conda-forge-sized one.
const READ_ARRIVING_UP_TO: u64 = 64 << 20;

/// Where an index's body went.
pub(super) enum IndexBody {
    /// Into memory: the cache entry is written afterwards ([`super::storing`]).
    Memory(Vec<u8>),
    /// Into its cache entry, to be finished once the body is whole.
    Entry(StreamedEntry),
}

/// The sink of an index's body from `url`.
pub(super) struct IndexSink {
    cache: Cache,
    url: String,
    body: IndexBody,
    /// From how many bytes on the body goes into its cache entry.
    streamed_from: u64,
}

impl IndexSink {
    pub(super) fn new(cache: &Cache, url: &str) -> Self {
        Self {
            cache: cache.clone(),
            url: url.to_string(),
            body: IndexBody::Memory(Vec::new()),
            streamed_from: MAP_AT,
        }
    }

    /// This sink, for a body read while it arrives: kept in memory up to
    /// [`READ_ARRIVING_UP_TO`].
    pub(super) fn read_arriving(mut self) -> Self {
        self.streamed_from = READ_ARRIVING_UP_TO;
        self
    }

    /// The body so far, when it is in memory.
    pub(super) fn in_memory(&self) -> Option<&[u8]> {
        match &self.body {
            IndexBody::Memory(bytes) => Some(bytes),
            IndexBody::Entry(_) => None,
        }
    }
}

impl Sink for IndexSink {
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match &mut self.body {
            IndexBody::Memory(bytes) => bytes.write(chunk),
            IndexBody::Entry(entry) => entry.write(chunk),
        }
    }

    /// A body of [`MAP_AT`] bytes or more (of [`READ_ARRIVING_UP_TO`] when it is read while
    /// it arrives) goes into its cache entry (when the entry cannot be started, into memory as
    /// any other); a smaller one gets room in memory for all of it.
    fn expect(&mut self, length: u64, headers: &HeaderMap) {
        if let IndexBody::Memory(bytes) = &mut self.body {
            let entry = (length >= self.streamed_from)
                .then(|| {
                    let (etag, last_modified) = validators_of(headers);
                    self.cache.http_stream(&self.url, etag, last_modified).ok()
                })
                .flatten();
            match entry {
                Some(entry) => self.body = IndexBody::Entry(entry),
                None => bytes.expect(length, headers),
            }
        }
    }
}

impl From<IndexSink> for IndexBody {
    fn from(sink: IndexSink) -> Self {
        sink.body
    }
}
