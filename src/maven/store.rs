//! POMs and version lists from the spec's Maven repositories, and the effective models built from
//! them, kept for the whole resolve (the streaming walk that fetches POMs fills it). The first
//! repository that has a file serves it.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use super::coordinate::Gav;
use super::model::{self, Model, ModelError, PomLookup};
use super::pom::Pom;
use super::xml;
use crate::fetch::{ArtifactRequest, Fetcher, PublishedChecksums};
use crate::repository::Repository;

/// A fetched POM: parsed, absent from every repository (`None`), or why it cannot be had.
pub(super) type PomResult = Result<Option<Rc<Pom>>, ModelError>;

/// A built effective model, or why it cannot be built.
pub(crate) type ModelResult = Result<Rc<Model>, ModelError>;

/// The repositories and what was fetched from them.
pub struct PomStore<'a> {
    pub(super) fetcher: &'a Fetcher,
    pub(crate) repositories: Vec<Repository>,
    /// How many of `repositories` `[repositories] maven` lists: they serve any artifact, in
    /// order; the rest serve only the artifacts a layer entry names them for.
    pub(crate) general: usize,
    /// The `(group, artifact)`s layer entries name a repository for, and its position: their
    /// files come from it alone.
    named: HashMap<(String, String), usize>,
    poms: RefCell<HashMap<Gav, PomResult>>,
    /// Which repository served each POM found.
    served_by: RefCell<HashMap<Gav, usize>>,
    versions: RefCell<HashMap<(String, String), Vec<String>>>,
    /// Every model built, complete or failed for good (never for a POM not fetched yet).
    models: RefCell<HashMap<Gav, ModelResult>>,
    /// The POMs a model build asked for that were not fetched yet.
    asked: RefCell<Vec<Gav>>,
    /// The dependent rounds of requests its walks took.
    rounds: Cell<usize>,
}

impl PomLookup for PomStore<'_> {
    fn pom(&self, gav: &Gav) -> Result<Rc<Pom>, ModelError> {
        match self.poms.borrow().get(gav) {
            None => {
                self.asked.borrow_mut().push(gav.clone());
                Err(ModelError::Missing(gav.clone()))
            }
            Some(Ok(Some(pom))) => Ok(pom.clone()),
            Some(Ok(None)) => Err(ModelError::Absent(gav.clone())),
            Some(Err(error)) => Err(error.clone()),
        }
    }

    fn known_model(&self, gav: &Gav) -> Option<Rc<Model>> {
        match self.models.borrow().get(gav) {
            Some(Ok(model)) => Some(model.clone()),
            _ => None,
        }
    }

    fn keep_model(&self, model: &Rc<Model>) {
        self.models
            .borrow_mut()
            .insert(model.gav.clone(), Ok(model.clone()));
    }
}

impl<'a> PomStore<'a> {
    /// A store with nothing fetched yet that asks `repositories` in order through `fetcher`.
    pub fn new(fetcher: &'a Fetcher, repositories: Vec<Repository>) -> Self {
        Self {
            fetcher,
            general: repositories.len(),
            repositories,
            named: HashMap::new(),
            poms: RefCell::new(HashMap::new()),
            served_by: RefCell::new(HashMap::new()),
            versions: RefCell::new(HashMap::new()),
            models: RefCell::new(HashMap::new()),
            asked: RefCell::new(Vec::new()),
            rounds: Cell::new(0),
        }
    }

    /// This store, the first `general` of its repositories serving any artifact and each
    /// `(group, artifact)` of `named` coming from the repository at its position alone.
    pub fn with_named(self, general: usize, named: HashMap<(String, String), usize>) -> Self {
        Self {
            general,
            named,
            ..self
        }
    }

    /// The repository asked first for `gav`'s POM: the one an entry names for it, else the first.
    pub(super) fn first_position(&self, gav: &Gav) -> usize {
        self.named_position(gav).unwrap_or(0)
    }

    /// The repository asked for `gav`'s POM when the one at `position` does not have it; `None`
    /// when no other may serve it.
    pub(super) fn next_position(&self, gav: &Gav, position: usize) -> Option<usize> {
        match self.named_position(gav) {
            Some(_) => None,
            None => Some(position + 1).filter(|&next| next < self.general),
        }
    }

    fn named_position(&self, gav: &Gav) -> Option<usize> {
        self.named
            .get(&(gav.group.clone(), gav.artifact.clone()))
            .copied()
    }

    /// How many dependent rounds of requests fetching its POMs took: each request counts one
    /// round more than the answer that led to it (the first ones count one), and each walk
    /// adds its latest round. Compare with [`super::bound::rounds`].
    pub fn rounds(&self) -> usize {
        self.rounds.get()
    }

    /// Adds the rounds one walk took.
    pub(super) fn add_rounds(&self, rounds: usize) {
        self.rounds.set(self.rounds.get() + rounds);
    }

    /// The repository that served `gav`'s POM (the first one when none did): it serves the
    /// project's other files too.
    pub(crate) fn repository_of(&self, gav: &Gav) -> &Repository {
        &self.repositories[self.position_of(gav)]
    }

    /// The position of the repository that served `gav`'s POM (the first asked when none did).
    pub(super) fn position_of(&self, gav: &Gav) -> usize {
        self.served_by
            .borrow()
            .get(gav)
            .copied()
            .unwrap_or_else(|| self.first_position(gav))
    }

    /// The download of `gav`'s file ending in `suffix` (see [`super::coordinate::Coordinate::file_suffix`])
    /// from the repository that served its POM, checked against the checksum file it publishes
    /// beside it.
    pub(crate) fn artifact_request(&self, gav: &Gav, suffix: &str) -> ArtifactRequest {
        let repository = self.repository_of(gav);
        ArtifactRequest {
            url: repository.file(&gav.file_path(suffix)).0,
            expected: None,
            published: Some(PublishedChecksums {
                repository: repository.label.clone(),
                mutability: gav.mutability(),
            }),
        }
    }

    /// The URLs of `gav`'s POM in each repository that may serve it, in the order they are asked.
    pub(super) fn pom_urls(&self, gav: &Gav) -> Vec<String> {
        let mut urls = Vec::new();
        let mut position = Some(self.first_position(gav));
        while let Some(at) = position {
            urls.push(
                self.repositories[at]
                    .file(&gav.file_path(".pom"))
                    .0
                    .to_string(),
            );
            position = self.next_position(gav, at);
        }
        urls
    }

    /// Whether `gav`'s POM is in no repository.
    pub(crate) fn is_absent(&self, gav: &Gav) -> bool {
        matches!(self.poms.borrow().get(gav), Some(Ok(None)))
    }

    /// The model of `gav` built so far, if it is.
    pub(super) fn model_result(&self, gav: &Gav) -> Option<ModelResult> {
        self.models.borrow().get(gav).cloned()
    }

    /// Keeps the model of `gav` (or why it has none).
    pub(super) fn keep_result(&self, gav: &Gav, result: ModelResult) {
        self.models.borrow_mut().insert(gav.clone(), result);
    }

    /// Keeps the POM of `gav` (or why there is none).
    pub(super) fn keep_pom(&self, gav: Gav, result: PomResult) {
        self.poms.borrow_mut().insert(gav, result);
    }

    /// Notes that the repository at `position` served the POM of `gav`.
    pub(super) fn served(&self, gav: &Gav, position: usize) {
        self.served_by.borrow_mut().insert(gav.clone(), position);
    }

    /// Builds the model of `gav` from the POMs here, with every POM it asked for that is not
    /// fetched yet (each once, in order): with its imports all tried, that is every POM the next
    /// step needs.
    pub(super) fn build_noting_missing(&self, gav: &Gav) -> (Result<Model, ModelError>, Vec<Gav>) {
        self.asked.borrow_mut().clear();
        let result = model::build(self, gav);
        let mut seen = BTreeSet::new();
        let missing = std::mem::take(&mut *self.asked.borrow_mut())
            .into_iter()
            .filter(|gav| seen.insert(gav.clone()))
            .collect();
        (result, missing)
    }

    /// Every project whose POM was fetched.
    pub(super) fn fetched(&self) -> Vec<Gav> {
        let poms = self.poms.borrow();
        poms.iter()
            .filter(|(_, pom)| matches!(pom, Ok(Some(_))))
            .map(|(gav, _)| gav.clone())
            .collect()
    }

    /// The parent its fetched POM names, if any.
    pub(super) fn parent_of(&self, gav: &Gav) -> Option<Gav> {
        match self.poms.borrow().get(gav) {
            Some(Ok(Some(pom))) => pom.parent.clone(),
            _ => None,
        }
    }

    /// Every model built.
    pub(super) fn built_models(&self) -> Vec<Rc<Model>> {
        let models = self.models.borrow();
        models
            .values()
            .filter_map(|m| m.as_ref().ok())
            .cloned()
            .collect()
    }

    /// The BOMs the built model of `gav` imports (none when it is not built).
    pub(super) fn model_imports(&self, gav: &Gav) -> Vec<Gav> {
        match self.models.borrow().get(gav) {
            Some(Ok(model)) => model.imports.clone(),
            _ => Vec::new(),
        }
    }

    /// The versions `maven-metadata.xml` lists for an artifact, across every repository that may
    /// serve it.
    pub(crate) fn versions(&self, group: &str, artifact: &str) -> Vec<String> {
        let key = (group.to_string(), artifact.to_string());
        if let Some(known) = self.versions.borrow().get(&key) {
            return known.clone();
        }
        let serving = match self.named.get(&key) {
            Some(&position) => position..position + 1,
            None => 0..self.general,
        };
        let urls: Vec<url::Url> = self.repositories[serving]
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
