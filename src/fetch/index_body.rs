//! An index's body as it arrives ([`IndexSink`]): in memory, or, when the answer announces a
//! large length, straight into its cache entry ([`StreamedEntry`]), mapped from there once
//! whole. A conda-forge-sized repodata is then neither copied into fresh memory nor copied a
//! second time into the cache after it arrived.

use reqwest::header::HeaderMap;

use super::Cache;
use super::body::{Sink, validators_of};
use super::cache::StreamedEntry;
use super::local::MAP_AT;

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
}

impl IndexSink {
    pub(super) fn new(cache: &Cache, url: &str) -> Self {
        Self {
            cache: cache.clone(),
            url: url.to_string(),
            body: IndexBody::Memory(Vec::new()),
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

    /// A body of [`MAP_AT`] bytes or more goes into its cache entry (when the entry cannot be
    /// started, into memory as any other); a smaller one gets room in memory for all of it.
    fn expect(&mut self, length: u64, headers: &HeaderMap) {
        if let IndexBody::Memory(bytes) = &mut self.body {
            let entry = (length >= MAP_AT)
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
