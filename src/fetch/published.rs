//! The checksum files a Maven-layout repository publishes beside an artifact (`.sha512`,
//! `.sha256`, `.sha1`), fetched alongside the artifact itself. The first artifact of a
//! repository asks for all three (the strongest it has is the one checked); the others wait for
//! that answer and ask only for the kind the repository publishes, falling back to the others
//! for an artifact without it. A checksum file that is published but cannot be fetched or read
//! is an error, never a reason to lock the artifact unchecked: only one the repository does not
//! have (404) is done without.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;
use url::Url;

use super::{Checksum, FetchError, Fetcher, Mutability};

/// What makes a checksum of a digest read from a checksum file.
type MakeChecksum = fn(String) -> Checksum;

/// The checksum files, strongest first: each one's algorithm (its file extension) and the
/// checksum it gives.
const KINDS: [(&str, MakeChecksum); 3] = [
    ("sha512", Checksum::Sha512),
    ("sha256", Checksum::Sha256),
    ("sha1", Checksum::Sha1),
];

/// Checksum files to fetch beside an artifact.
#[derive(Debug, Clone)]
pub(crate) struct PublishedChecksums {
    /// The repository's name, under which the kind it publishes is remembered.
    pub repository: String,
    /// As mutable as the artifact.
    pub mutability: Mutability,
}

/// Per repository, the strongest kind (an index into [`KINDS`]) its first artifact had, or
/// `None` when it had none; set once.
#[derive(Debug, Default)]
pub(super) struct Kinds(Mutex<HashMap<String, Arc<OnceCell<Option<usize>>>>>);

impl Kinds {
    fn of(&self, repository: &str) -> Arc<OnceCell<Option<usize>>> {
        let mut kinds = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        kinds.entry(repository.to_string()).or_default().clone()
    }
}

impl Fetcher {
    /// The strongest checksum published beside `artifact` (`None` when there is none): the
    /// kind its repository publishes first, the others only when that one is missing.
    pub(super) async fn published_checksum(
        &self,
        artifact: &Url,
        published: &PublishedChecksums,
    ) -> Result<Option<Checksum>, FetchError> {
        let kind = self.checksum_kinds.of(&published.repository);
        let known = kind
            .get_or_try_init(|| async {
                // An artifact checked before has its repository's kind in the cache: learning it
                // from there asks nothing, whichever artifact comes first this time (unless
                // everything is to be asked again, `--refresh`).
                let cached = |index: &usize| {
                    let url = checksum_url(artifact, *index);
                    !self.refresh && self.cache_has_body(url.as_str())
                };
                if let Some(index) = (0..KINDS.len()).find(cached) {
                    return Ok(Some(index));
                }
                let found = self.strongest(artifact, published, &[0, 1, 2]).await?;
                Ok::<_, FetchError>(found.map(|(index, _)| index))
            })
            .await?;
        // The first artifact's own files are in the cache by now: asking again costs nothing.
        if let Some(index) = *known
            && let Some((_, checksum)) = self.strongest(artifact, published, &[index]).await?
        {
            return Ok(Some(checksum));
        }
        let rest: Vec<usize> = (0..KINDS.len()).filter(|i| Some(*i) != *known).collect();
        Ok(self
            .strongest(artifact, published, &rest)
            .await?
            .map(|(_, checksum)| checksum))
    }

    /// Fetches the checksum files of `kinds` beside `artifact` at once; the strongest found.
    async fn strongest(
        &self,
        artifact: &Url,
        published: &PublishedChecksums,
        kinds: &[usize],
    ) -> Result<Option<(usize, Checksum)>, FetchError> {
        let answers = futures::future::join_all(
            kinds
                .iter()
                .map(|index| self.checksum_file(artifact, published.mutability, *index)),
        )
        .await;
        // Offline, the cache holds the kinds this artifact was checked with, which need not be
        // the kind its repository was learnt to publish from another artifact (downloads start
        // in another order): the strongest cached one is taken, and nothing cached is an error.
        let mut offline_miss = None;
        for (index, answer) in kinds.iter().zip(answers) {
            match answer {
                Ok(Some(checksum)) => return Ok(Some((*index, checksum))),
                Ok(None) => {}
                Err(error) if error.is_offline_miss() => {
                    offline_miss.get_or_insert(error);
                }
                Err(error) => return Err(error),
            }
        }
        offline_miss.map_or(Ok(None), Err)
    }

    /// The checksum file of kind `index` beside `artifact`: `None` on a 404; a damaged one is
    /// dropped from the cache and fetched once more.
    async fn checksum_file(
        &self,
        artifact: &Url,
        mutability: Mutability,
        index: usize,
    ) -> Result<Option<Checksum>, FetchError> {
        let (kind, checksum) = KINDS[index];
        let url = checksum_url(artifact, index);
        let body = match self.get(&url, None, mutability).await {
            Ok(body) => body,
            Err(error) if error.is_not_found() => return Ok(None),
            Err(source) => {
                return Err(FetchError::ChecksumFetch {
                    url: url.to_string(),
                    source: Box::new(source),
                });
            }
        };
        let hex = self
            .parse_or_refetch_async(&url, body, None, |body| {
                parse(&body, kind).ok_or_else(|| FetchError::MalformedChecksum {
                    url: url.to_string(),
                    algorithm: kind,
                    start: String::from_utf8_lossy(&body).chars().take(40).collect(),
                })
            })
            .await?;
        Ok(Some(checksum(hex)))
    }
}

/// The URL of the checksum file of kind `index` beside `artifact`.
fn checksum_url(artifact: &Url, index: usize) -> Url {
    let mut url = artifact.clone();
    url.set_path(&format!("{}.{}", artifact.path(), KINDS[index].0));
    url
}

/// The `algorithm` digest a checksum file starts with (what follows it, such as a file name, is
/// ignored), lower-cased.
fn parse(body: &[u8], algorithm: &str) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    crate::index_digest::normalized(algorithm, text.split_whitespace().next()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checksum_file_gives_its_digest_or_nothing() {
        let sha1 = "354eccfa987fc5d926c259cc7b292f784170d9c3";
        assert_eq!(
            parse(format!("{sha1}  app-1.0.jar\n").as_bytes(), "sha1").as_deref(),
            Some(sha1)
        );
        assert_eq!(
            parse(sha1.to_uppercase().as_bytes(), "sha1").as_deref(),
            Some(sha1)
        );
        assert_eq!(parse(&sha1.as_bytes()[..20], "sha1"), None);
        assert_eq!(parse(b"<html>not found</html>", "sha1"), None);
    }
}
