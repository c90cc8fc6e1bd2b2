//! `imglock cache`: the shared binary cache's registry read and tidied over the OCI distribution
//! API (reqwest), with the credentials of a `USER:PASSWORD` file (the same file the builds get as
//! the `imglock-cache` secret) sent as HTTP basic authentication, or to the token service a
//! registry's bearer challenge names (Docker Hub, GHCR, Harbor).
//!
//! `list` asks for each of a lock's entries' manifest by tag (and `verify --binary-cache` for the
//! binary's digest in it, [`CacheRegistry::binary_of`]); `prune` lists the repository's
//! tags, keeps those the given locks need, and deletes the others' manifests (by digest, as the
//! API requires) — with an age, only those pushed longer ago (the
//! `org.opencontainers.image.created` annotation the installer writes). Blobs no manifest names
//! any more are freed by the registry's garbage collection.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};

use super::{CacheEntry, CacheLocation};

/// The manifest type the installer pushes and these commands ask for.
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// The media type of the one layer of an entry's manifest: the binary tarball.
const BINARY_TYPE: &str = "application/vnd.imglock.r-binary.v1.tar+gzip";

/// A failure talking to the shared binary cache.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot read the registry credentials `{}`", path.display())]
    Credentials {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the registry credentials `{}` are not one line USER:PASSWORD", path.display())]
    CredentialsFormat { path: PathBuf },
    #[error("cannot reach the binary cache at {url}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the binary cache answered HTTP {status} for {method} {url}{hint}")]
    Status {
        method: Method,
        url: String,
        status: StatusCode,
        hint: &'static str,
    },
    #[error("the binary cache's answer for {url} is not the JSON expected")]
    Json {
        url: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot start the binary cache client")]
    Runtime(#[source] std::io::Error),
}

/// A connection to the cache's repository.
pub struct CacheRegistry {
    location: CacheLocation,
    credentials: Option<(String, String)>,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    /// Bearer tokens got, by scope.
    tokens: RefCell<HashMap<String, String>>,
}

/// An entry of a lock and whether the cache has it.
#[derive(Debug, serde::Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub entry: CacheEntry,
    pub present: bool,
}

impl CacheRegistry {
    /// A client for `location`, authenticating with the `USER:PASSWORD` line of `credentials`.
    pub fn new(location: CacheLocation, credentials: Option<&Path>) -> Result<Self, CacheError> {
        let credentials = credentials.map(read_credentials).transpose()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(CacheError::Runtime)?;
        Ok(Self {
            location,
            credentials,
            client: reqwest::Client::new(),
            runtime,
            tokens: RefCell::default(),
        })
    }

    /// Where the cache is.
    pub fn location(&self) -> &CacheLocation {
        &self.location
    }

    /// Each entry with whether the cache has it.
    pub fn list(&self, entries: Vec<CacheEntry>) -> Result<Vec<Listed>, CacheError> {
        entries
            .into_iter()
            .map(|entry| {
                let url = format!("{}/manifests/{}", self.location.api(), entry.tag);
                let (status, _, _) = self.send(Method::HEAD, &url)?;
                if status != StatusCode::NOT_FOUND {
                    self.check(&Method::HEAD, &url, status)?;
                }
                Ok(Listed {
                    entry,
                    present: status.is_success(),
                })
            })
            .collect()
    }

    /// The sha256 of the binary the cache holds for `entry` (its manifest's binary layer), or
    /// `None` when the cache has no such entry.
    pub fn binary_of(&self, entry: &CacheEntry) -> Result<Option<String>, CacheError> {
        let url = format!("{}/manifests/{}", self.location.api(), entry.tag);
        let (status, _, body) = self.send(Method::GET, &url)?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        self.check(&Method::GET, &url, status)?;
        #[derive(serde::Deserialize)]
        struct Manifest {
            layers: Vec<Layer>,
        }
        #[derive(serde::Deserialize)]
        struct Layer {
            #[serde(rename = "mediaType")]
            media_type: String,
            digest: String,
        }
        let manifest: Manifest =
            serde_json::from_slice(&body).map_err(|source| CacheError::Json { url, source })?;
        Ok(manifest
            .layers
            .into_iter()
            .find(|layer| layer.media_type == BINARY_TYPE)
            .and_then(|layer| layer.digest.strip_prefix("sha256:").map(str::to_string)))
    }

    /// Deletes the tags of the repository not in `keep` (with `older_than`, only those pushed
    /// longer ago than it, in seconds); returns them, sorted. With `dry_run` nothing is deleted.
    pub fn prune(
        &self,
        keep: &BTreeSet<String>,
        older_than: Option<u64>,
        dry_run: bool,
    ) -> Result<Vec<String>, CacheError> {
        let mut pruned = Vec::new();
        for tag in self.tags()? {
            if keep.contains(&tag) {
                continue;
            }
            let url = format!("{}/manifests/{tag}", self.location.api());
            let (_, headers, body) = self.send_ok(Method::GET, &url)?;
            if let Some(limit) = older_than
                && !pushed_before(&body, &url, limit)?
            {
                continue;
            }
            let digest = headers
                .get("docker-content-digest")
                .and_then(|d| d.to_str().ok())
                .map(str::to_string)
                .unwrap_or_else(|| {
                    use sha2::Digest;
                    format!("sha256:{}", hex::encode(sha2::Sha256::digest(&body)))
                });
            if !dry_run {
                let url = format!("{}/manifests/{digest}", self.location.api());
                self.send_ok(Method::DELETE, &url)?;
            }
            pruned.push(tag);
        }
        Ok(pruned)
    }

    /// Every tag of the repository (none when it does not exist yet).
    fn tags(&self) -> Result<Vec<String>, CacheError> {
        let url = format!("{}/tags/list?n=100000", self.location.api());
        let (status, _, body) = self.send(Method::GET, &url)?;
        if status == StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        self.check(&Method::GET, &url, status)?;
        #[derive(serde::Deserialize)]
        struct Tags {
            tags: Option<Vec<String>>,
        }
        let tags: Tags =
            serde_json::from_slice(&body).map_err(|source| CacheError::Json { url, source })?;
        let mut tags = tags.tags.unwrap_or_default();
        tags.sort();
        Ok(tags)
    }

    fn send_ok(&self, method: Method, url: &str) -> Result<Answer, CacheError> {
        let answer = self.send(method.clone(), url)?;
        self.check(&method, url, answer.0)?;
        Ok(answer)
    }

    fn check(&self, method: &Method, url: &str, status: StatusCode) -> Result<(), CacheError> {
        if status.is_success() {
            return Ok(());
        }
        let hint = match (status, method) {
            (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, _) => {
                " (give credentials that may do this with --credentials FILE)"
            }
            (StatusCode::METHOD_NOT_ALLOWED, &Method::DELETE) => {
                " (the registry does not allow deletes; enable them in its configuration)"
            }
            _ => "",
        };
        Err(CacheError::Status {
            method: method.clone(),
            url: url.to_string(),
            status,
            hint,
        })
    }

    /// One request, authenticated as the registry asks: basic credentials, or a bearer token
    /// for the scope a `WWW-Authenticate: Bearer` challenge names, got once and kept.
    fn send(&self, method: Method, url: &str) -> Result<Answer, CacheError> {
        let answer = self.send_with(method.clone(), url, None)?;
        if answer.0 != StatusCode::UNAUTHORIZED {
            return Ok(answer);
        }
        let Some(challenge) = bearer_challenge(&answer.1) else {
            return Ok(answer);
        };
        let scope = challenge
            .scope
            .clone()
            .unwrap_or_else(|| format!("repository:{}:pull", self.location.repository));
        let known = self.tokens.borrow().get(&scope).cloned();
        let token = match known {
            Some(token) => token,
            None => {
                let token = self.token(&challenge, &scope)?;
                self.tokens.borrow_mut().insert(scope, token.clone());
                token
            }
        };
        self.send_with(method, url, Some(&token))
    }

    /// A token for `scope` from the challenge's token service.
    fn token(&self, challenge: &Challenge, scope: &str) -> Result<String, CacheError> {
        let mut query = vec![("scope", scope)];
        if let Some(service) = &challenge.service {
            query.push(("service", service));
        }
        let url = challenge.realm.clone();
        let mut request = self.client.get(&url).query(&query);
        if let Some((user, password)) = &self.credentials {
            request = request.basic_auth(user, Some(password));
        }
        let (status, body) = self
            .runtime
            .block_on(async {
                let response = request.send().await?;
                let status = response.status();
                Ok((status, response.bytes().await?))
            })
            .map_err(|source| CacheError::Http {
                url: url.clone(),
                source,
            })?;
        self.check(&Method::GET, &url, status)?;
        #[derive(serde::Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let token: Token =
            serde_json::from_slice(&body).map_err(|source| CacheError::Json { url, source })?;
        Ok(token.token.or(token.access_token).unwrap_or_default())
    }

    fn send_with(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
    ) -> Result<Answer, CacheError> {
        let mut request = self
            .client
            .request(method, url)
            .header(reqwest::header::ACCEPT, MANIFEST_TYPE);
        match (token, &self.credentials) {
            (Some(token), _) => request = request.bearer_auth(token),
            (None, Some((user, password))) => request = request.basic_auth(user, Some(password)),
            (None, None) => {}
        }
        let http = |source| CacheError::Http {
            url: url.to_string(),
            source,
        };
        self.runtime.block_on(async {
            let response = request.send().await.map_err(http)?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(http)?;
            Ok((status, headers, body.to_vec()))
        })
    }
}

/// A registry's answer: status, headers, body.
type Answer = (StatusCode, reqwest::header::HeaderMap, Vec<u8>);

/// A `WWW-Authenticate: Bearer realm="...",service="...",scope="..."` challenge.
struct Challenge {
    realm: String,
    service: Option<String>,
    scope: Option<String>,
}

/// The bearer challenge among `headers`, if any.
fn bearer_challenge(headers: &reqwest::header::HeaderMap) -> Option<Challenge> {
    let value = headers
        .get_all(reqwest::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })?;
    let field = |name: &str| {
        let start = value.find(&format!("{name}=\""))? + name.len() + 2;
        let end = value[start..].find('"')?;
        Some(value[start..start + end].to_string())
    };
    Some(Challenge {
        realm: field("realm")?,
        service: field("service"),
        scope: field("scope"),
    })
}

/// Whether the manifest `body` says it was pushed more than `limit` seconds ago (one without
/// the date counts as old).
fn pushed_before(body: &[u8], url: &str, limit: u64) -> Result<bool, CacheError> {
    let manifest: serde_json::Value =
        serde_json::from_slice(body).map_err(|source| CacheError::Json {
            url: url.to_string(),
            source,
        })?;
    let created = manifest["annotations"]["org.opencontainers.image.created"]
        .as_str()
        .and_then(|text| text.parse::<jiff::Timestamp>().ok());
    Ok(match created {
        Some(created) => {
            let age = jiff::Timestamp::now().as_second() - created.as_second();
            age > i64::try_from(limit).unwrap_or(i64::MAX)
        }
        None => true,
    })
}

/// The `USER:PASSWORD` line of a credentials file.
fn read_credentials(path: &Path) -> Result<(String, String), CacheError> {
    let text = std::fs::read_to_string(path).map_err(|source| CacheError::Credentials {
        path: path.to_path_buf(),
        source,
    })?;
    let line = text.lines().next().unwrap_or_default();
    line.split_once(':')
        .filter(|(user, _)| !user.is_empty())
        .map(|(user, password)| (user.to_string(), password.to_string()))
        .ok_or_else(|| CacheError::CredentialsFormat {
            path: path.to_path_buf(),
        })
}
