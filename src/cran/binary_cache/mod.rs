//! The shared R binary cache: an OCI registry repository holding one artifact per cache entry
//! (a package's source built for one [`binary_cache_key`](crate::cran::binary_cache_key)), which
//! the emitted steps pull before a build and push after one (`imglock-r-cache.sh`), and which
//! `imglock cache list|prune` read and tidy ([`registry`]).
//!
//! This module owns what both sides must agree on: the location (`oci://HOST/REPOSITORY`; plain
//! HTTP only for a loopback host, as Docker allows), an entry's id
//! (`KEY/NAME_VERSION_SHA256[_COMMIT]`, the local cache's path too) and its tag (the sha256 of
//! the id: any id fits a tag's 128 characters).

pub(crate) mod registry;

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::lock::{Lock, LockedPackage};

/// The secret id the emitted steps read the registry's credentials from.
pub const SECRET_ID: &str = "imglock-cache";

/// Where the shared binary cache is: a repository of an OCI registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheLocation {
    /// `HOST[:PORT]`.
    pub host: String,
    /// The repository's name, like `team/r-binaries`.
    pub repository: String,
}

/// Why a binary cache location is refused.
#[derive(Debug, thiserror::Error)]
#[error(
    "the binary cache `{given}` is not oci://HOST/REPOSITORY ({reason}); write it like oci://registry.example/team/r-binaries"
)]
pub struct LocationError {
    given: String,
    reason: &'static str,
}

impl FromStr for CacheLocation {
    type Err = LocationError;

    fn from_str(given: &str) -> Result<Self, Self::Err> {
        let refuse = |reason| LocationError {
            given: given.to_string(),
            reason,
        };
        let rest = given
            .strip_prefix("oci://")
            .ok_or_else(|| refuse("it does not start with oci://"))?;
        let (host, repository) = rest
            .split_once('/')
            .ok_or_else(|| refuse("it names no repository"))?;
        let host_ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".:[]-".contains(&b));
        if !host_ok {
            return Err(refuse("the host is not a host name with an optional port"));
        }
        let repository_ok = !repository.is_empty()
            && repository.split('/').all(|part| {
                part.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                    && part.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    })
            });
        if !repository_ok {
            return Err(refuse(
                "the repository is not lowercase letters, digits and ._- parts joined by /",
            ));
        }
        Ok(Self {
            host: host.to_string(),
            repository: repository.to_string(),
        })
    }
}

impl fmt::Display for CacheLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oci://{}/{}", self.host, self.repository)
    }
}

impl CacheLocation {
    /// The repository's distribution API root, `SCHEME://HOST/v2/REPOSITORY`.
    pub fn api(&self) -> String {
        let loopback = ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .any(|name| self.host == *name || self.host.starts_with(&format!("{name}:")));
        let scheme = if loopback { "http" } else { "https" };
        format!("{scheme}://{}/v2/{}", self.host, self.repository)
    }
}

/// One entry of the cache a lock's R package needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CacheEntry {
    /// The package's name.
    pub name: String,
    /// Its locked version.
    pub version: String,
    /// `KEY/NAME_VERSION_SHA256[_COMMIT]`.
    pub id: String,
    /// The sha256 of the id: the artifact's tag.
    pub tag: String,
}

impl CacheEntry {
    fn new(key: &str, package: &LockedPackage) -> Self {
        let mut id = format!(
            "{key}/{}_{}_{}",
            package.name, package.version, package.sha256
        );
        if let Some(github) = package.details.r().and_then(|r| r.github.as_ref()) {
            id.push('_');
            id.push_str(&github.commit);
        }
        let tag = hex::encode(Sha256::digest(id.as_bytes()));
        Self {
            name: package.name.clone(),
            version: package.version.clone(),
            id,
            tag,
        }
    }
}

/// The cache entries of every R package of `lock`, in the lock's order.
pub fn entries(lock: &Lock) -> Vec<CacheEntry> {
    let shared = crate::cran::binary_cache_key(lock);
    let locked = crate::cran::cache_key::LockedR::new(lock);
    lock.layers
        .iter()
        .flat_map(|layer| &layer.packages)
        .filter(|package| package.ecosystem.is_r())
        .map(|package| {
            let key = format!("{shared}/{}", locked.linked_key(package));
            CacheEntry::new(&key, package)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::CacheLocation;

    #[test]
    fn locations_are_oci_urls_with_a_repository() {
        let location: CacheLocation = "oci://127.0.0.1:5000/team/r-binaries".parse().unwrap();
        assert_eq!(location.api(), "http://127.0.0.1:5000/v2/team/r-binaries");
        let remote: CacheLocation = "oci://ghcr.io/acme/r".parse().unwrap();
        assert_eq!(remote.api(), "https://ghcr.io/v2/acme/r");
        assert_eq!(remote.to_string(), "oci://ghcr.io/acme/r");
        for bad in [
            "https://ghcr.io/acme/r",
            "oci://ghcr.io",
            "oci://ghcr.io/",
            "oci://ghcr.io/Acme/r",
            "oci://gh cr.io/acme",
            "oci://ghcr.io/acme//r",
            "oci://ghcr.io/acme/r;rm",
        ] {
            let error = bad.parse::<CacheLocation>().unwrap_err().to_string();
            assert!(error.contains(bad), "{error}");
        }
    }
}
