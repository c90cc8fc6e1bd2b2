//! Maven 3's dependency resolution, level by level: the tree is walked breadth first (every POM it
//! can need is fetched beforehand by the store's streaming walk, each as soon as it is named);
//! the nearest occurrence of an artifact wins, the first declared at equal depth; exclusions
//! accumulate along a path; optional dependencies of dependencies and their `test` and `provided`
//! dependencies are left out; scopes are derived along the path and
//! mediated as Maven's `JavaScopeSelector` does (a direct declaration decides, else the widest
//! scope any occurrence has). Requested coordinates are direct `compile` dependencies; the
//! runtime's own (`maven-provided`) are direct `provided` ones, so what they bring is left out
//! exactly as Maven leaves out a `provided` dependency's tree.

use std::collections::{BTreeMap, HashMap};

use super::coordinate::{Coordinate, Gav};
use super::error::MavenError;
use super::model::{Model, ModelDependency, ModelError};
use super::scope::Scope;
use super::store::ModelResult;
use super::store::PomStore;
use super::version::{MavenVersion, VersionRequirement};
use super::walk::followed;

/// How many relocations in a row are followed.
const MAX_RELOCATIONS: usize = 8;

/// A direct dependency of the layer.
#[derive(Debug, Clone)]
pub struct Request {
    /// The artifact the layer asks for, as the spec writes it.
    pub coordinate: Coordinate,
    /// `(group, artifact)` patterns to leave out of its tree; `*` matches anything.
    pub exclusions: Vec<(String, String)>,
    /// `compile` for what the layer installs, `provided` for what the runtime already has.
    pub scope: Scope,
}

/// An artifact the resolution chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The artifact chosen, with its mediated exact version.
    pub coordinate: Coordinate,
    /// `compile` or `runtime`.
    pub scope: Scope,
    /// The chain of artifacts that brought it in, from a direct requirement (empty for one).
    pub path: Vec<String>,
    /// The coordinates (group:artifact) of the chosen artifacts it depends on.
    pub dependencies: Vec<String>,
}

/// The outcome: the artifacts for the image, and what Maven would have warned about.
#[derive(Debug, Default)]
pub struct Resolution {
    /// The `compile` and `runtime` artifacts to install, in the order the level-by-level walk met
    /// them; `pom` artifacts are left out.
    pub artifacts: Vec<Resolved>,
    pub(crate) notes: Vec<String>,
}

/// The versionless identity Maven mediates on: group, artifact, extension, classifier.
pub(super) type Key = (String, String, String, String);

pub(super) fn key_of(coordinate: &Coordinate) -> Key {
    (
        coordinate.group.clone(),
        coordinate.artifact.clone(),
        super::coordinate::extension_of(&coordinate.kind).to_string(),
        coordinate.classifier.clone().unwrap_or_default(),
    )
}

/// One occurrence of an artifact in the tree.
#[derive(Debug, Clone)]
struct Node {
    coordinate: Coordinate,
    /// The scope written on the edge that reached it.
    declared_scope: Scope,
    /// The winner that declared it; `None` for a direct dependency.
    parent: Option<Key>,
    exclusions: Vec<(String, String)>,
    path: Vec<String>,
}

impl Node {
    /// The occurrence of a direct dependency of the layer.
    fn direct(request: &Request) -> Self {
        Self {
            coordinate: request.coordinate.clone(),
            declared_scope: request.scope.clone(),
            parent: None,
            exclusions: request.exclusions.clone(),
            path: Vec::new(),
        }
    }

    /// The occurrence `dependency` of this winner's model has below it, chosen under `key`;
    /// `None` when it is left out (test, provided, system, optional or excluded along the path).
    fn child(&self, key: &Key, dependency: &ModelDependency) -> Option<Self> {
        let exclusions = followed(&self.exclusions, dependency)?;
        let mut path = self.path.clone();
        path.push(self.coordinate.to_string());
        Some(Self {
            coordinate: dependency.coordinate(),
            declared_scope: dependency.scope.clone(),
            parent: Some(key.clone()),
            exclusions,
            path,
        })
    }
}

/// The tree walked so far: the winner of each key, its occurrences (winner first) and its
/// chosen dependencies, with the notes the walk made.
#[derive(Default)]
struct Tree {
    /// Each key's winner, as an index into `nodes`.
    winners: BTreeMap<Key, usize>,
    /// The keys in the order their winners were met.
    order: Vec<Key>,
    nodes: Vec<Node>,
    occurrences: HashMap<Key, Vec<Node>>,
    children: HashMap<Key, Vec<Key>>,
    notes: Vec<String>,
}

/// Fetches at once, each as soon as it is named, every POM a walk from `requests` can need
/// (a request for a version range waits for the walk to pick its version).
pub(crate) fn prefetch(store: &PomStore<'_>, requests: &[Request]) {
    let roots: Vec<_> = requests
        .iter()
        .filter(|request| !request.coordinate.version.starts_with(['[', '(']))
        .map(|request| {
            let coordinate = &request.coordinate;
            (
                coordinate.gav(),
                coordinate.file_suffix(),
                request.exclusions.clone(),
            )
        })
        .collect();
    store.prefetch(&roots);
}

/// Resolves the layer's requests.
pub fn resolve(store: &PomStore<'_>, requests: &[Request]) -> Result<Resolution, MavenError> {
    prefetch(store, requests);
    let mut tree = Tree::default();
    let mut level: Vec<Node> = requests.iter().map(Node::direct).collect();
    while !level.is_empty() {
        // Ranges become the newest listed version they allow.
        for node in &mut level {
            if node.coordinate.version.starts_with(['[', '(']) {
                node.coordinate.version = pick_in_range(store, &node.coordinate, &node.path)?;
            }
        }
        let winners = tree.record_level(level);
        level = tree.expand(store, &winners)?;
    }
    Ok(tree.resolution())
}

impl Tree {
    /// Records every occurrence of one level; the first of a key not met before wins. Returns
    /// the new winners (indexes into `nodes`), whose dependencies form the next level.
    fn record_level(&mut self, level: Vec<Node>) -> Vec<usize> {
        let mut new_winners = Vec::new();
        for node in level {
            let key = key_of(&node.coordinate);
            if let Some(parent) = &node.parent {
                self.children
                    .entry(parent.clone())
                    .or_default()
                    .push(key.clone());
            }
            self.occurrences
                .entry(key.clone())
                .or_default()
                .push(node.clone());
            if self.winners.contains_key(&key) {
                continue;
            }
            self.winners.insert(key.clone(), self.nodes.len());
            self.order.push(key);
            new_winners.push(self.nodes.len());
            self.nodes.push(node);
        }
        new_winners
    }

    /// The next level: the dependencies of the winners at `indexes`, their models fetched at
    /// once and relocations followed.
    fn expand(&mut self, store: &PomStore<'_>, indexes: &[usize]) -> Result<Vec<Node>, MavenError> {
        let gavs: Vec<Gav> = indexes
            .iter()
            .map(|i| self.nodes[*i].coordinate.gav())
            .collect();
        let models = models_following_relocations(store, &gavs);
        let mut next = Vec::new();
        for &index in indexes {
            // Children hang below the key the winner was chosen under, even when relocated.
            let winner_key = key_of(&self.nodes[index].coordinate);
            let gav = self.nodes[index].coordinate.gav();
            let Some(model) = self.usable_model(store, &models, &gav)? else {
                continue;
            };
            if model.gav != gav {
                self.relocate(index, &gav, &model.gav);
            }
            let node = &self.nodes[index];
            next.extend(
                model
                    .dependencies
                    .iter()
                    .filter_map(|dependency| node.child(&winner_key, dependency)),
            );
        }
        Ok(next)
    }

    /// The model of `gav` among `models`; `None` when it has no dependencies to follow (a POM the
    /// repositories do not have counts as one without, as Maven takes it, with a note).
    fn usable_model<'m>(
        &mut self,
        store: &PomStore<'_>,
        models: &'m HashMap<Gav, ModelResult>,
        gav: &Gav,
    ) -> Result<Option<&'m Model>, MavenError> {
        match models.get(gav) {
            Some(Ok(model)) => Ok(Some(&**model)),
            Some(Err(error))
                if !matches!(error, ModelError::Missing(_)) && store.is_absent(gav) =>
            {
                self.notes.push(format!(
                    "{error}; {gav} is taken to have no dependencies, as Maven does"
                ));
                Ok(None)
            }
            Some(Err(error)) => Err(error.clone().into()),
            None => Ok(None),
        }
    }

    /// Makes the winner at `index`, found as `from`, the artifact `to` its POM relocates it to.
    fn relocate(&mut self, index: usize, from: &Gav, to: &Gav) {
        let relocated = &mut self.nodes[index].coordinate;
        relocated.group = to.group.clone();
        relocated.artifact = to.artifact.clone();
        relocated.version = to.version.clone();
        self.notes.push(format!("{from} is relocated to {to}"));
    }

    /// The outcome: the winners whose mediated scope is `compile` or `runtime` (POMs left out),
    /// in the order they were met.
    fn resolution(self) -> Resolution {
        let scopes = mediate_scopes(&self.order, &self.occurrences);
        let mut artifacts = Vec::new();
        for key in &self.order {
            let Some(scope) = &scopes[key] else {
                continue;
            };
            let node = &self.nodes[self.winners[key]];
            if !scope.is_runtime_classpath() || node.coordinate.kind == "pom" {
                continue;
            }
            artifacts.push(Resolved {
                coordinate: node.coordinate.clone(),
                scope: scope.clone(),
                path: node.path.clone(),
                dependencies: self.chosen_dependencies(key, &scopes),
            });
        }
        Resolution {
            artifacts,
            notes: self.notes,
        }
    }

    /// The coordinates (group:artifact) of the chosen dependencies of `key`'s winner: its
    /// children that ended up `compile` or `runtime`, sorted, each once.
    fn chosen_dependencies(&self, key: &Key, scopes: &HashMap<Key, Option<Scope>>) -> Vec<String> {
        let mut dependencies: Vec<String> = self
            .children
            .get(key)
            .into_iter()
            .flatten()
            .filter(|child| {
                scopes
                    .get(*child)
                    .and_then(Option::as_ref)
                    .is_some_and(Scope::is_runtime_classpath)
            })
            .map(|(group, artifact, _, _)| format!("{group}:{artifact}"))
            .collect();
        dependencies.sort();
        dependencies.dedup();
        dependencies
    }
}

/// Models of `gavs`, each replaced by its relocation target's model when its POM relocates it.
fn models_following_relocations(store: &PomStore<'_>, gavs: &[Gav]) -> HashMap<Gav, ModelResult> {
    let mut results = store.models(gavs);
    for _ in 0..MAX_RELOCATIONS {
        let moved: Vec<(Gav, Gav)> = results
            .iter()
            .filter_map(|(gav, result)| match result {
                Ok(model) => model
                    .relocation
                    .clone()
                    .filter(|target| target != &model.gav)
                    .map(|target| (gav.clone(), target)),
                Err(_) => None,
            })
            .collect();
        if moved.is_empty() {
            break;
        }
        let targets: Vec<Gav> = moved.iter().map(|(_, target)| target.clone()).collect();
        let mut relocated = store.models(&targets);
        for (gav, target) in moved {
            if let Some(result) = relocated.remove(&target) {
                results.insert(gav, result);
            }
        }
    }
    results
}

/// The newest version `maven-metadata.xml` lists within the range of the coordinate `via`
/// brought in.
fn pick_in_range(
    store: &PomStore<'_>,
    coordinate: &Coordinate,
    via: &[String],
) -> Result<String, MavenError> {
    let requirement =
        VersionRequirement::parse(&coordinate.version).map_err(|source| MavenError::Range {
            group: coordinate.group.clone(),
            artifact: coordinate.artifact.clone(),
            source,
        })?;
    let listed = store.versions(&coordinate.group, &coordinate.artifact);
    listed
        .iter()
        .map(|v| MavenVersion::parse(v))
        .filter(|v| requirement.contains(v))
        .max()
        .map(|v| v.as_str().to_string())
        .ok_or_else(|| MavenError::NoVersionInRange {
            group: coordinate.group.clone(),
            artifact: coordinate.artifact.clone(),
            range: coordinate.version.clone(),
            listed,
            via: via.to_vec(),
        })
}

/// Each winner's scope: a direct declaration's, else the widest of its occurrences' derived
/// scopes (compile, then runtime, provided, test, then an unknown one), iterated until no scope
/// changes; `None` when no occurrence derives one.
fn mediate_scopes(
    order: &[Key],
    occurrences: &HashMap<Key, Vec<Node>>,
) -> HashMap<Key, Option<Scope>> {
    let mut scopes: HashMap<Key, Option<Scope>> = HashMap::new();
    for _ in 0..order.len() + 1 {
        let mut changed = false;
        for key in order {
            let nodes = &occurrences[key];
            let scope = match nodes.iter().find(|n| n.parent.is_none()) {
                Some(direct) => Some(direct.declared_scope.clone()),
                None => {
                    let derived: Vec<Scope> = nodes
                        .iter()
                        .filter_map(|n| {
                            let parent = scopes.get(n.parent.as_ref()?)?.as_ref()?;
                            parent.derive(&n.declared_scope)
                        })
                        .collect();
                    Scope::widest(&derived)
                }
            };
            if scopes.get(key) != Some(&scope) {
                scopes.insert(key.clone(), scope);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    scopes
}
