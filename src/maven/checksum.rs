//! The checksums a Maven repository publishes beside an artifact (`.sha512`, `.sha256`,
//! `.sha1`): the strongest one it has is the one the download is checked against. One that is
//! published but cannot be fetched or read is an error, never a reason to lock the artifact
//! unchecked: only a checksum the repository does not have (404) is done without.

use url::Url;

use super::error::MavenError;
use crate::fetch::{Body, Checksum, FetchError, Fetcher, Mutability};

/// The checksum files, strongest first, and the length of each one's hex digest.
const KINDS: [(&str, usize); 3] = [("sha512", 128), ("sha256", 64), ("sha1", 40)];

/// The strongest checksum published beside each artifact of `artifacts` (`None` where the
/// repository has none), every checksum file fetched at once, as mutable as its artifact.
pub(crate) fn published(
    fetcher: &Fetcher,
    artifacts: &[(Url, Mutability)],
) -> Result<Vec<Option<Checksum>>, MavenError> {
    let requests: Vec<(Url, Mutability)> = artifacts
        .iter()
        .flat_map(|(url, mutability)| {
            KINDS.iter().map(move |(extension, _)| {
                let mut checksum = url.clone();
                checksum.set_path(&format!("{}.{extension}", url.path()));
                (checksum, *mutability)
            })
        })
        .collect();
    let bodies = fetcher.get_each(&requests, "Fetching Maven checksums");
    let mut answers = requests.into_iter().map(|(url, _)| url).zip(bodies);
    artifacts
        .iter()
        .map(|_| strongest(fetcher, answers.by_ref().take(KINDS.len())))
        .collect()
}

/// The strongest checksum among the answers for one artifact's checksum files (in the order of
/// [`KINDS`]).
fn strongest(
    fetcher: &Fetcher,
    answers: impl Iterator<Item = (Url, Result<Body, FetchError>)>,
) -> Result<Option<Checksum>, MavenError> {
    for ((url, body), (kind, length)) in answers.zip(KINDS) {
        let body = match body {
            Ok(body) => body,
            Err(error) if error.is_not_found() => continue,
            Err(source) => {
                return Err(MavenError::ChecksumFetch {
                    url: url.to_string(),
                    source,
                });
            }
        };
        // A damaged checksum file is dropped from the cache and fetched once more.
        let hex = fetcher.parse_or_refetch(&url, body, None, |body| {
            parse(&body, length).ok_or_else(|| MavenError::MalformedChecksum {
                url: url.to_string(),
                algorithm: kind,
                start: String::from_utf8_lossy(&body).chars().take(40).collect(),
            })
        })?;
        return Ok(Some(match kind {
            "sha512" => Checksum::Sha512(hex),
            "sha256" => Checksum::Sha256(hex),
            _ => Checksum::Sha1(hex),
        }));
    }
    Ok(None)
}

/// The hex digest of `length` digits a checksum file starts with (what follows it, such as a
/// file name, is ignored), lower-cased.
fn parse(body: &[u8], length: usize) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let hex = text.split_whitespace().next()?.to_lowercase();
    (hex.len() == length && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checksum_file_gives_its_digest_or_nothing() {
        let sha1 = "354eccfa987fc5d926c259cc7b292f784170d9c3";
        assert_eq!(
            parse(format!("{sha1}  app-1.0.jar\n").as_bytes(), 40).as_deref(),
            Some(sha1)
        );
        assert_eq!(
            parse(sha1.to_uppercase().as_bytes(), 40).as_deref(),
            Some(sha1)
        );
        assert_eq!(parse(&sha1.as_bytes()[..20], 40), None);
        assert_eq!(parse(b"<html>not found</html>", 40), None);
    }
}
