//! Which cached answers are served without asking the network. Offline, every cached answer is.
//! Online, an immutable body (a released POM and the checksum files beside it, a wheel's
//! metadata: the caller says which, see [`Mutability`]) is never revalidated once cached, and a
//! 404 is remembered for [`ABSENT_TTL`]; only mutable bodies (indexes: CRAN `PACKAGES`, conda
//! repodata, PyPI pages, `maven-metadata.xml`) are revalidated, with their validators.
//! `--refresh` revalidates everything and asks again for every remembered 404. What was read
//! from part of an immutable file (a wheel's `METADATA`, by range requests) is kept the same way.

use std::time::{Duration, SystemTime};

use url::Url;

use super::cache::{HttpEntry, Validators};
use super::{Body, FetchError, Fetcher};

/// How long a 404 is remembered online: the URL is not asked again within it (a file may be
/// published later, even at an immutable path, so an absence never lasts forever).
pub(crate) const ABSENT_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Whether what a URL serves can change once it was fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mutability {
    /// An index that changes as packages are published: revalidated on every run.
    Mutable,
    /// A file that never changes once published (a released POM, its checksums, a wheel's
    /// metadata): served from the cache without asking once it is there.
    Immutable,
}

/// What to do about a URL before asking the network.
pub(super) enum Plan {
    /// Answer with this, without asking.
    Answer(Result<Body, FetchError>),
    /// Ask, presenting the validators of this cached body (if any) so that a 304 can keep it.
    Ask(Option<(Body, Validators)>),
}

impl Fetcher {
    /// What to do about `url`, whose body is `mutability`, given what the cache holds of it.
    pub(super) fn plan(&self, url: &Url, mutability: Mutability) -> Plan {
        let entry = self.cache_entry(url.as_str());
        if let Some(HttpEntry::Absent(since)) = entry {
            return match self.remembered_absence(url, since) {
                Some(error) => Plan::Answer(Err(error)),
                None => Plan::Ask(None),
            };
        }
        match (entry, mutability) {
            (Some(HttpEntry::Body(body, _)), _) if self.offline => Plan::Answer(Ok(body)),
            (None, _) if self.offline => Plan::Answer(Err(
                self.offline_error(url.as_str(), self.cache.http_has_entry(url.as_str()))
            )),
            (Some(HttpEntry::Body(body, _)), Mutability::Immutable) if !self.refresh => {
                Plan::Answer(Ok(body))
            }
            (Some(HttpEntry::Body(body, validators)), _) => Plan::Ask(Some((body, validators))),
            _ => Plan::Ask(None),
        }
    }

    /// The 404 the cache remembers for `url` (of the instant `since`), when it answers for the
    /// network: always offline; online, while younger than [`ABSENT_TTL`], unless `--refresh`.
    pub(super) fn remembered_absence(&self, url: &Url, since: SystemTime) -> Option<FetchError> {
        let age = SystemTime::now()
            .duration_since(since)
            .unwrap_or(Duration::ZERO);
        let answers = self.offline || (!self.refresh && age < ABSENT_TTL);
        answers.then(|| FetchError::NotFoundRemembered {
            url: url.to_string(),
            minutes: age.as_secs() / 60,
        })
    }

    /// The 404 the cache remembers for `url`, when it answers for the network (see
    /// [`Fetcher::remembered_absence`]).
    pub(super) fn cached_absence(&self, url: &Url) -> Option<FetchError> {
        match self.cache_entry(url.as_str()) {
            Some(HttpEntry::Absent(since)) => self.remembered_absence(url, since),
            _ => None,
        }
    }

    /// What was read from part of the immutable file at `url` (`part` names it, like
    /// `METADATA`) and kept with [`Fetcher::keep_part`]: warm and offline runs take it from the
    /// cache instead of asking again; `--refresh` reads it again.
    pub(crate) fn kept_part(&self, url: &Url, part: &str) -> Option<Body> {
        if self.refresh {
            return None;
        }
        match self.cache.http_get(&part_key(url, part)) {
            Some(HttpEntry::Body(body, _)) => Some(body),
            _ => None,
        }
    }

    /// Keeps what was read from part of the immutable file at `url` (see
    /// [`Fetcher::kept_part`]). A cache that cannot be written to only costs reading it again.
    pub(crate) fn keep_part(&self, url: &Url, part: &str, body: &[u8]) {
        let _ = self.cache.http_put(&part_key(url, part), None, None, body);
    }

    /// `result`, fetched from `url`; a 404 is remembered in the cache first. A cache that cannot
    /// be written to only costs that: the URL is asked again next time.
    pub(super) fn noting_absence<T>(
        &self,
        url: &Url,
        result: Result<T, FetchError>,
    ) -> Result<T, FetchError> {
        if let Err(FetchError::NotFound { .. }) = &result {
            let _ = self.cache.http_put_absent(url.as_str(), SystemTime::now());
        }
        result
    }
}

/// The cache key of a part of the file at `url`: a URL has no space, so it names no URL.
fn part_key(url: &Url, part: &str) -> String {
    format!("{url} {part}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::{Cache, FetchOptions};

    fn fetcher(cache: &Cache, offline: bool, refresh: bool) -> Fetcher {
        Fetcher::new(FetchOptions {
            cache: cache.clone(),
            offline,
            refresh,
            progress: crate::progress::Progress::hidden(),
            limits: Default::default(),
        })
        .unwrap()
    }

    /// Whether `plan` answers "not found" without asking.
    fn answers_absent(plan: Plan) -> bool {
        matches!(plan, Plan::Answer(Err(error)) if error.is_not_found())
    }

    #[test]
    fn a_404_is_remembered_for_its_time_to_live_and_always_offline() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::at(root.path());
        let recent = Url::parse("https://repo.example/recent.pom").unwrap();
        let old = Url::parse("https://repo.example/old.pom").unwrap();
        let now = SystemTime::now();
        cache
            .http_put_absent(recent.as_str(), now - Duration::from_secs(60))
            .unwrap();
        cache
            .http_put_absent(old.as_str(), now - ABSENT_TTL - Duration::from_secs(60))
            .unwrap();
        for mutability in [Mutability::Mutable, Mutability::Immutable] {
            let online = fetcher(&cache, false, false);
            assert!(answers_absent(online.plan(&recent, mutability)));
            assert!(matches!(online.plan(&old, mutability), Plan::Ask(None)));
            let refresh = fetcher(&cache, false, true);
            assert!(matches!(refresh.plan(&recent, mutability), Plan::Ask(None)));
            let offline = fetcher(&cache, true, false);
            assert!(answers_absent(offline.plan(&recent, mutability)));
            assert!(answers_absent(offline.plan(&old, mutability)));
        }
    }

    #[test]
    fn only_mutable_bodies_are_revalidated_unless_refreshing() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::at(root.path());
        let url = Url::parse("https://repo.example/a/1.0/a-1.0.pom").unwrap();
        cache
            .http_put(url.as_str(), Some("\"e\"".into()), None, b"<project/>")
            .unwrap();
        let online = fetcher(&cache, false, false);
        assert!(matches!(
            online.plan(&url, Mutability::Immutable),
            Plan::Answer(Ok(body)) if body[..] == b"<project/>"[..]
        ));
        assert!(matches!(
            online.plan(&url, Mutability::Mutable),
            Plan::Ask(Some((_, validators))) if validators.etag.as_deref() == Some("\"e\"")
        ));
        let refresh = fetcher(&cache, false, true);
        assert!(matches!(
            refresh.plan(&url, Mutability::Immutable),
            Plan::Ask(Some(_))
        ));
    }
}
