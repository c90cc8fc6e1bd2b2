//! The streaming walk that fills a [`PomStore`]: each POM is read the moment it lands and what it
//! leads to is asked for at once — its parent, every BOM its model imports (all of them, not one
//! at a time), and, when the walk follows dependencies, the POMs of its model's dependencies — so
//! no request waits for an unrelated one. A model's build is tried again each time a POM it missed
//! lands (so what that POM leads to is asked for at once), and once built it is kept: it is never
//! built twice. The artifact of each dependency followed starts downloading as soon as its POM is
//! read (before its parents and BOMs), and the downloads after resolution take those outcomes
//! instead of asking again.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use url::Url;

use super::coordinate::{Coordinate, Gav};
use super::model::{Model, ModelDependency, ModelError};
use super::pom::Pom;
use super::store::{ModelResult, PomResult, PomStore};
use crate::fetch::{Body, Stream};

/// A POM's body as read on the blocking pool: the POM, or the body when it does not parse.
type Read = Result<Pom, Body>;

/// Reads a POM's body.
fn read(body: Body) -> Read {
    Pom::parse(&String::from_utf8_lossy(&body)).map_err(|_| body)
}

/// Exclusions along a path, `(group, artifact)`, either part `*`.
type Exclusions = Vec<(String, String)>;

/// A model the walk builds.
struct Target {
    gav: Gav,
    /// When the walk follows its dependencies: its artifact and the exclusions along the first
    /// path to it.
    followed: Option<Followed>,
    /// Whether its model is built (or failed for good).
    done: bool,
}

/// A project whose dependencies the walk follows.
#[derive(Clone)]
struct Followed {
    /// The end of its artifact's file name ([`Coordinate::file_suffix`]), downloaded once its
    /// POM says which repository has it.
    file: String,
    /// The exclusions along the first path to it.
    below: Exclusions,
}

/// A project to walk from: its POM, the end of its artifact's file name, and the exclusions of
/// the path to it.
pub(crate) type Root = (Gav, String, Exclusions);

impl PomStore<'_> {
    /// Fetches, at once and as each POM read names them, the POMs of the models of `roots` and of
    /// every dependency Maven's walk could follow from them (each root with the exclusions of
    /// its path), building each model as its POMs land: by the time the resolver walks the tree
    /// level by level, what it needs is here.
    pub(crate) fn prefetch(&self, roots: &[Root]) {
        let targets = roots
            .iter()
            .map(|(gav, file, below)| {
                let (file, below) = (file.clone(), below.clone());
                (gav.clone(), Some(Followed { file, below }))
            })
            .collect();
        Walk::run(self, targets);
    }

    /// The effective models of `gavs`, fetching their POMs, parents and imported BOMs as soon as
    /// each is known to be needed.
    pub(crate) fn models(&self, gavs: &[Gav]) -> HashMap<Gav, ModelResult> {
        let targets = gavs.iter().map(|gav| (gav.clone(), None)).collect();
        Walk::run(self, targets);
        gavs.iter()
            .map(|gav| {
                let result = self
                    .model_result(gav)
                    .unwrap_or_else(|| Err(ModelError::Missing(gav.clone())));
                (gav.clone(), result)
            })
            .collect()
    }
}

/// One walk over a store; see [`Walk::run`].
struct Walk<'s, 'a> {
    store: &'s PomStore<'a>,
    /// Each request's key: the POM, the repository asked, and the round it was asked in.
    stream: Stream<'a, (Gav, usize, usize), Read>,
    /// The round of the answer being read (0 before any): what it leads to is asked in the next.
    round: usize,
    /// The latest round any request was asked in.
    last_round: usize,
    targets: Vec<Target>,
    /// Each target's index in `targets`.
    known: HashMap<Gav, usize>,
    /// The projects whose artifact started downloading.
    warmed: HashSet<Gav>,
    /// The targets each POM in flight holds up.
    waiting: HashMap<Gav, Vec<usize>>,
    requested: HashSet<Gav>,
    /// Bodies that did not parse: fetched once more after the stream drains.
    unparsed: Vec<(Gav, Url, Body)>,
}

impl<'s, 'a> Walk<'s, 'a> {
    /// Builds the model of every target, fetching what each needs as soon as it is known; a
    /// target with exclusions also has its dependencies' models built, recursively, as Maven's
    /// walk would follow them from there (the first path to each decides).
    fn run(store: &'s PomStore<'a>, targets: Vec<(Gav, Option<Followed>)>) {
        let mut walk = Walk {
            store,
            stream: store.fetcher.stream("Fetching POMs", read),
            targets: Vec::new(),
            known: HashMap::new(),
            warmed: HashSet::new(),
            waiting: HashMap::new(),
            requested: HashSet::new(),
            unparsed: Vec::new(),
            round: 0,
            last_round: 0,
        };
        for (gav, followed) in targets {
            walk.add(gav, followed);
        }
        loop {
            while let Some(((gav, position, round), url, body)) = walk.stream.next() {
                walk.round = round;
                walk.landed(gav, position, url, body);
            }
            if walk.unparsed.is_empty() {
                break;
            }
            // Fetching them again took a round of its own.
            walk.round = walk.last_round + 1;
            for (gav, url, body) in std::mem::take(&mut walk.unparsed) {
                // A POM that does not parse is dropped from the cache and fetched again.
                let parsed = store.fetcher.parse_or_refetch(&url, body, None, |body| {
                    Pom::parse(&String::from_utf8_lossy(&body))
                });
                let result =
                    parsed
                        .map(|pom| Some(Rc::new(pom)))
                        .map_err(|source| ModelError::Unusable {
                            url: url.to_string(),
                            source,
                        });
                walk.settle(gav, result);
            }
        }
        store.add_rounds(walk.last_round.max(walk.round));
    }

    /// Adds the model of `gav` to build, unless it is already.
    fn add(&mut self, gav: Gav, followed: Option<Followed>) {
        if self.known.contains_key(&gav) {
            return;
        }
        self.known.insert(gav.clone(), self.targets.len());
        self.targets.push(Target {
            gav,
            followed,
            done: false,
        });
        self.attempt(self.targets.len() - 1);
    }

    /// Builds the model of target `index` if every POM it needs is there; else asks for every
    /// one it found missing, to be tried again as each lands.
    fn attempt(&mut self, index: usize) {
        if self.targets[index].done {
            return;
        }
        let gav = self.targets[index].gav.clone();
        if let Some(result) = self.store.model_result(&gav) {
            self.targets[index].done = true;
            return self.built(index, &result);
        }
        let (result, missing) = self.store.build_noting_missing(&gav);
        if matches!(result, Err(ModelError::Missing(_))) && !missing.is_empty() {
            for pom in missing {
                let waiting = self.waiting.entry(pom.clone()).or_default();
                if !waiting.contains(&index) {
                    waiting.push(index);
                }
                self.request(pom);
            }
            return;
        }
        let result = result.map(Rc::new);
        self.store.keep_result(&gav, result.clone());
        self.targets[index].done = true;
        self.built(index, &result);
    }

    /// Follows the dependencies of target `index`'s model `result`, and starts downloading its
    /// artifact, when the walk follows its.
    fn built(&mut self, index: usize, result: &ModelResult) {
        let (Some(followed), Ok(model)) = (self.targets[index].followed.clone(), result) else {
            return;
        };
        if let Some(relocated) = model.relocation.clone().filter(|t| t != &model.gav) {
            return self.add(relocated, Some(followed));
        }
        if !self.store.is_absent(&model.gav) {
            self.warm(&model.gav, &followed.file);
        }
        for (coordinate, below) in dependencies_followed(model, &followed.below) {
            let file = coordinate.file_suffix();
            self.add(coordinate.gav(), Some(Followed { file, below }));
        }
    }

    /// Starts downloading the artifact of `gav` (its file ending `file`), once, from the
    /// repository that served its POM.
    fn warm(&mut self, gav: &Gav, file: &str) {
        if self.warmed.insert(gav.clone()) {
            let request = self.store.artifact_request(gav, file);
            self.stream.warm(request);
        }
    }

    /// Asks the first repository that may serve it for the POM of `gav`, once.
    fn request(&mut self, gav: Gav) {
        if self.requested.insert(gav.clone()) {
            let position = self.store.first_position(&gav);
            self.ask(gav, position);
        }
    }

    /// Asks the repository at `position` for the POM of `gav`.
    fn ask(&mut self, gav: Gav, position: usize) {
        let url = self.store.repositories[position]
            .file(&gav.file_path(".pom"))
            .0;
        let mutability = gav.mutability();
        let round = self.round + 1;
        self.last_round = self.last_round.max(round);
        self.stream.push((gav, position, round), url, mutability);
    }

    /// Reads an answer for the POM of `gav` from the repository at `position`: a 404 passes the
    /// question to the next repository.
    fn landed(
        &mut self,
        gav: Gav,
        position: usize,
        url: Url,
        body: Result<Read, crate::fetch::FetchError>,
    ) {
        let result = match body {
            Ok(read) => {
                self.store.served(&gav, position);
                match read {
                    Ok(pom) => {
                        self.warm_followed(&gav, &pom);
                        Ok(Some(Rc::new(pom)))
                    }
                    Err(body) => return self.unparsed.push((gav, url, body)),
                }
            }
            Err(error) if error.is_not_found() => {
                if let Some(next) = self.store.next_position(&gav, position) {
                    return self.ask(gav, next);
                }
                Ok(None)
            }
            Err(error) => Err(ModelError::Fetch {
                gav: gav.clone(),
                source: std::sync::Arc::new(error),
            }),
        };
        self.settle(gav, result);
    }

    /// Starts downloading the artifact of a project the walk follows the moment its POM lands,
    /// before its parents and BOMs are read: its file is known from the dependency that named
    /// it. Not for a POM that says the project moved (its artifact is the relocation's).
    fn warm_followed(&mut self, gav: &Gav, pom: &Pom) {
        let Some(&index) = self.known.get(gav) else {
            return;
        };
        if let (Some(followed), None) = (&self.targets[index].followed, &pom.relocation) {
            let file = followed.file.clone();
            self.warm(gav, &file);
        }
    }

    /// Stores the POM of `gav` and tries again the models that were waiting for it.
    fn settle(&mut self, gav: Gav, result: PomResult) {
        self.store.keep_pom(gav.clone(), result);
        for index in self.waiting.remove(&gav).unwrap_or_default() {
            self.attempt(index);
        }
    }
}

/// The artifacts `model`'s dependencies name that a path with `exclusions` follows (ranges left
/// to the resolver), each with the exclusions below it.
fn dependencies_followed(model: &Model, exclusions: &Exclusions) -> Vec<(Coordinate, Exclusions)> {
    model
        .dependencies
        .iter()
        .filter(|dependency| !dependency.version.starts_with(['[', '(']))
        .filter_map(|dependency| {
            let below = followed(exclusions, dependency)?;
            Some((dependency.coordinate(), below))
        })
        .collect()
}

/// The exclusions below `dependency` when an occurrence whose path excludes `exclusions`
/// follows it; `None` when it is left out (test, provided, system, optional or excluded).
pub(crate) fn followed(
    exclusions: &[(String, String)],
    dependency: &ModelDependency,
) -> Option<Vec<(String, String)>> {
    if dependency.scope.is_not_transitive() || dependency.optional {
        return None;
    }
    let excluded = exclusions.iter().any(|(group, artifact)| {
        (group == "*" || *group == dependency.group)
            && (artifact == "*" || *artifact == dependency.artifact)
    });
    if excluded {
        return None;
    }
    let mut below = exclusions.to_vec();
    below.extend(dependency.exclusions.iter().cloned());
    Some(below)
}
