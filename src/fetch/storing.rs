//! Fetched bodies on their way into the cache. Each is written on the blocking pool while its
//! reader goes on with it (a 2 MB repodata is indexed while it is written, not after); until
//! the fetcher is told to wait for the writes ([`Fetcher::stored`], before a resolve writes its
//! lock, and when the fetcher is dropped), a body being written answers for the cache: a second
//! ask of its URL sees it, exactly as it would see the cache entry once written.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::task::JoinHandle;

use super::cache::{HttpEntry, Validators};
use super::{Body, FetchError, Fetcher};

/// A body being written, with the validators it is written with.
struct Pending {
    body: Body,
    validators: Validators,
    write: JoinHandle<std::io::Result<()>>,
}

/// The bodies being written, by URL.
#[derive(Default)]
pub(super) struct Storing {
    pending: Mutex<HashMap<String, Pending>>,
}

impl Storing {
    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Fetcher {
    /// What the cache holds for `url`, a body being written included.
    pub(super) fn cache_entry(&self, url: &str) -> Option<HttpEntry> {
        if let Some(pending) = self.storing.pending().get(url) {
            let entry = HttpEntry::Body(pending.body.clone(), pending.validators.clone());
            return Some(entry);
        }
        self.cache.http_get(url)
    }

    /// Whether the cache holds a body for `url` (see [`super::Cache::http_has_body`]), a body
    /// being written included.
    pub(super) fn cache_has_body(&self, url: &str) -> bool {
        self.storing.pending().contains_key(url) || self.cache.http_has_body(url)
    }

    /// Starts writing `body`, which `url` answered with `etag` and `last_modified`, into the
    /// cache, after any earlier write of `url` ends (the later answer is the one kept).
    pub(super) async fn store(
        &self,
        url: &str,
        etag: Option<String>,
        last_modified: Option<String>,
        body: Body,
    ) -> Result<(), FetchError> {
        self.finish(url).await?;
        let validators = Validators {
            url: url.to_string(),
            etag: etag.clone(),
            last_modified: last_modified.clone(),
            ..Validators::default()
        };
        let (cache, key, kept) = (self.cache.clone(), url.to_string(), body.clone());
        let write =
            tokio::task::spawn_blocking(move || cache.http_put(&key, etag, last_modified, &kept));
        let pending = Pending {
            body,
            validators,
            write,
        };
        self.storing.pending().insert(url.to_string(), pending);
        Ok(())
    }

    /// Waits for the write of `url`, if one is under way.
    pub(super) async fn finish(&self, url: &str) -> Result<(), FetchError> {
        let pending = self.storing.pending().remove(url);
        match pending {
            Some(pending) => self.written(pending.write.await),
            None => Ok(()),
        }
    }

    /// Waits until every body fetched so far is in the cache; the first write that failed, if
    /// any. A resolve calls it before it writes its lock, so that `--offline` can serve anything
    /// the lock was made from.
    pub fn stored(&self) -> Result<(), FetchError> {
        let pending = std::mem::take(&mut *self.storing.pending());
        let mut failure = None;
        for (_, pending) in pending {
            if let Err(error) = self.written(self.runtime.block_on(pending.write)) {
                failure.get_or_insert(error);
            }
        }
        failure.map_or(Ok(()), Err)
    }

    /// The outcome of a write.
    fn written(
        &self,
        joined: Result<std::io::Result<()>, tokio::task::JoinError>,
    ) -> Result<(), FetchError> {
        joined
            .unwrap_or_else(|joined| Err(std::io::Error::other(joined)))
            .map_err(|source| self.cache_error(source))
    }
}

impl Drop for Fetcher {
    /// Lets the cache writes still going finish, so that a fetched body is never lost.
    fn drop(&mut self) {
        let _ = self.stored();
    }
}
