//! POMs and version lists from the spec's Maven repositories, fetched in batches (every POM a
//! level of the dependency tree needs at once) and kept for the whole resolve. The first
//! repository that has a file serves it.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use super::coordinate::Gav;
use super::model::{self, Model, ModelError, PomLookup};
use super::pom::Pom;
use super::xml;
use crate::fetch::{Fetcher, Mutability};
use crate::repository::Repository;

/// How many rounds of missing parents and BOMs a batch of models may need.
const MAX_ROUNDS: usize = 32;

/// A fetched POM: parsed, absent from every repository (`None`), or why it cannot be had.
type PomResult = Result<Option<Rc<Pom>>, ModelError>;

/// The repositories and what was fetched from them.
pub struct PomStore<'a> {
    fetcher: &'a Fetcher,
    pub(crate) repositories: Vec<Repository>,
    poms: RefCell<HashMap<Gav, PomResult>>,
    /// Which repository served each POM found.
    served_by: RefCell<HashMap<Gav, usize>>,
    versions: RefCell<HashMap<(String, String), Vec<String>>>,
}

impl PomLookup for PomStore<'_> {
    fn pom(&self, gav: &Gav) -> Result<Rc<Pom>, ModelError> {
        match self.poms.borrow().get(gav) {
            None => Err(ModelError::Missing(gav.clone())),
            Some(Ok(Some(pom))) => Ok(pom.clone()),
            Some(Ok(None)) => Err(ModelError::Absent(gav.clone())),
            Some(Err(error)) => Err(error.clone()),
        }
    }
}

impl<'a> PomStore<'a> {
    /// A store with nothing fetched yet that asks `repositories` in order through `fetcher`.
    pub fn new(fetcher: &'a Fetcher, repositories: Vec<Repository>) -> Self {
        Self {
            fetcher,
            repositories,
            poms: RefCell::new(HashMap::new()),
            served_by: RefCell::new(HashMap::new()),
            versions: RefCell::new(HashMap::new()),
        }
    }

    /// Fetches the POMs of `gavs` not fetched yet, all at once.
    pub(crate) fn fetch(&self, gavs: &[Gav]) {
        let mut missing: Vec<Gav> = gavs
            .iter()
            .filter(|gav| !self.poms.borrow().contains_key(*gav))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for (position, repository) in self.repositories.iter().enumerate() {
            if missing.is_empty() {
                break;
            }
            let requests: Vec<(url::Url, Mutability)> = missing
                .iter()
                .map(|gav| (repository.file(&gav.file_path(".pom")).0, gav.mutability()))
                .collect();
            let bodies = self.fetcher.get_each(&requests, "Fetching POMs");
            let urls = requests.into_iter().map(|(url, _)| url);
            let mut still = Vec::new();
            for ((gav, url), body) in missing.into_iter().zip(urls).zip(bodies) {
                if body.is_ok() {
                    self.served_by.borrow_mut().insert(gav.clone(), position);
                }
                let result = match body {
                    // A POM that does not parse is dropped from the cache and fetched again.
                    Ok(bytes) => self
                        .fetcher
                        .parse_or_refetch(&url, bytes, None, |bytes| {
                            Pom::parse(&String::from_utf8_lossy(&bytes))
                        })
                        .map(|pom| Some(Rc::new(pom)))
                        .map_err(|source| ModelError::Unusable {
                            url: url.to_string(),
                            source,
                        }),
                    Err(error) if error.is_not_found() => {
                        still.push(gav);
                        continue;
                    }
                    Err(error) => Err(ModelError::Fetch {
                        gav: gav.clone(),
                        source: std::sync::Arc::new(error),
                    }),
                };
                self.poms.borrow_mut().insert(gav, result);
            }
            missing = still;
        }
        for gav in missing {
            self.poms.borrow_mut().insert(gav, Ok(None));
        }
    }

    /// The repository that served `gav`'s POM (the first one when none did): it serves the
    /// project's other files too.
    pub(crate) fn repository_of(&self, gav: &Gav) -> &Repository {
        let position = self.served_by.borrow().get(gav).copied().unwrap_or(0);
        &self.repositories[position]
    }

    /// Whether `gav`'s POM is in no repository.
    pub(crate) fn is_absent(&self, gav: &Gav) -> bool {
        matches!(self.poms.borrow().get(gav), Some(Ok(None)))
    }

    /// The effective models of `gavs`, fetching their POMs, parents and imported BOMs in as few
    /// batches as the nesting allows.
    pub(crate) fn models(&self, gavs: &[Gav]) -> HashMap<Gav, Result<Model, ModelError>> {
        self.fetch(gavs);
        let mut results = HashMap::new();
        for _ in 0..MAX_ROUNDS {
            let mut missing = Vec::new();
            for gav in gavs {
                if results
                    .get(gav)
                    .is_some_and(|r: &Result<Model, ModelError>| {
                        !matches!(r, Err(ModelError::Missing(_)))
                    })
                {
                    continue;
                }
                let result = model::build(self, gav);
                if let Err(ModelError::Missing(needed)) = &result {
                    missing.push(needed.clone());
                }
                results.insert(gav.clone(), result);
            }
            if missing.is_empty() {
                return results;
            }
            self.fetch(&missing);
        }
        for (gav, result) in results.iter_mut() {
            if let Err(ModelError::Missing(next)) = result {
                *result = Err(ModelError::TooDeep {
                    gav: Box::new(gav.clone()),
                    next: Box::new(next.clone()),
                    rounds: MAX_ROUNDS,
                });
            }
        }
        results
    }

    /// The versions `maven-metadata.xml` lists for an artifact, across every repository.
    pub(crate) fn versions(&self, group: &str, artifact: &str) -> Vec<String> {
        let key = (group.to_string(), artifact.to_string());
        if let Some(known) = self.versions.borrow().get(&key) {
            return known.clone();
        }
        let urls: Vec<url::Url> = self
            .repositories
            .iter()
            .map(|r| r.file(&Gav::metadata_path(group, artifact)).0)
            .collect();
        let mut versions = Vec::new();
        let bodies = self.fetcher.get_all(&urls, "Fetching Maven metadata");
        for (url, body) in urls.iter().zip(bodies) {
            let Ok(body) = body else { continue };
            // Metadata that does not parse is dropped from the cache and fetched again.
            let parsed = self.fetcher.parse_or_refetch(url, body, None, |body| {
                xml::parse(&String::from_utf8_lossy(&body))
            });
            let Ok(root) = parsed else {
                continue;
            };
            if let Some(list) = root.at(&["versioning", "versions"]) {
                for version in list.children("version") {
                    let version = version.text.trim().to_string();
                    if !version.is_empty() && !versions.contains(&version) {
                        versions.push(version);
                    }
                }
            }
        }
        self.versions.borrow_mut().insert(key, versions.clone());
        versions
    }
}
