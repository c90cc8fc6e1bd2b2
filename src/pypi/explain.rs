//! Why a layer's Python requirements have no solution, told as the R resolver tells it: the
//! chain of requirements from the layer down to what failed, a project no index has (with the
//! closest name the resolve has seen), and a lower layer's pin a requirement conflicts with.
//! PubGrub's own explanation is kept for what these findings do not tell.

use std::collections::{BTreeSet, HashSet};
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{PackageName, Requirement};
use pubgrub::{DerivationTree, External, Ranges};

use super::index::Indexes;
use super::solver::PyPackage;
use crate::ecosystem::{Chain, locked_below};
use crate::package::{Ecosystem, Pin};

/// PubGrub's proof that a layer has no solution.
pub type NoSolution = DerivationTree<PyPackage, Ranges<Version>, String>;

/// One cause of a failed solve, said plainly.
#[derive(Debug, thiserror::Error)]
pub enum Finding {
    /// No index of `[repositories]` has a page for the project.
    #[error(
        "{chain}: {name} is on none of the indexes: {pages} answered \"not found\"; {}",
        crate::suggest::then_advice(suggestion.as_deref(), &format!("correct the name in layer `{layer}`, or add the index that has it to `[repositories]`"))
    )]
    NotFound {
        /// The project asked for, like `reqeusts`.
        name: String,
        /// How the layer came to need it.
        chain: Chain,
        /// The pages that answered "not found", quoted.
        pages: String,
        /// The layer being resolved.
        layer: String,
        /// The closest project name the resolve has seen, like `requests`.
        suggestion: Option<String>,
    },

    /// A requirement excludes the version a lower layer (or the base image) installs.
    #[error(
        "{chain}: {requirement} conflicts with {name} {version}, locked in {below}; a higher layer cannot change a lower layer's pins, so move or relax the requirement"
    )]
    LowerLayer {
        /// The pinned project, like `urllib3`.
        name: String,
        /// The requirement that excludes the pin, like `urllib3 >=1.21.1, <1.27.dev0`.
        requirement: String,
        /// How the layer came to that requirement.
        chain: Chain,
        /// The version locked below, like `1.20`.
        version: String,
        /// Where it was locked: "the lower layer `base`" or "the base image".
        below: String,
    },
}

/// What a failed solve's findings say, and whether they tell all of it.
pub struct Explanation {
    pub findings: Vec<Finding>,
    /// The pins below the layer that no finding names (each gets a note).
    pub unexplained_pins: Vec<Pin>,
    /// Whether the findings name every package of the (collapsed) tree: PubGrub's report then
    /// adds nothing.
    pub complete: bool,
}

/// A dependency edge of the derivation tree: `from` at `from_range` requires `to` at `to_range`.
struct Edge<'t> {
    from: &'t PyPackage,
    from_range: &'t Ranges<Version>,
    to: &'t PyPackage,
    to_range: &'t Ranges<Version>,
}

/// What the findings are read from.
pub struct Failure<'a> {
    pub layer: &'a str,
    pub roots: &'a [Requirement],
    pub below: &'a [Pin],
    pub indexes: &'a Indexes<'a>,
}

impl Failure<'_> {
    /// The findings of `tree` (before PubGrub's collapsing), checked against `collapsed`.
    pub fn explain(&self, tree: &NoSolution, collapsed: &NoSolution) -> Explanation {
        let mut edges = Vec::new();
        collect_edges(tree, &mut edges);
        let mut named: HashSet<&PyPackage> = HashSet::new();
        let mut findings = Vec::new();
        let mut missing: BTreeSet<&PackageName> = BTreeSet::new();
        for package in tree.packages() {
            if let PyPackage::Project(name) = package
                && self.indexes.missing_pages(name).is_some()
            {
                missing.insert(name);
            }
        }
        for name in missing {
            let package = PyPackage::Project(name.clone());
            let Some(edge) = edges.iter().find(|e| e.to == &package) else {
                continue;
            };
            let chain = self.chain(&edges, edge, &mut named);
            findings.push(self.not_found(name, chain));
        }
        let mut unexplained_pins = Vec::new();
        for pin in self.below.iter().filter(|p| p.ecosystem == Ecosystem::Pypi) {
            match self.conflict(&edges, pin, &mut named) {
                Some(finding) => findings.push(finding),
                None => unexplained_pins.push(pin.clone()),
            }
        }
        let complete = !findings.is_empty()
            && collapsed
                .packages()
                .into_iter()
                .all(|p| *p == PyPackage::Root || named.contains(p));
        Explanation {
            findings,
            unexplained_pins,
            complete,
        }
    }

    /// The finding for `name`, which no index has.
    fn not_found(&self, name: &PackageName, chain: Chain) -> Finding {
        let pages = self.indexes.missing_pages(name).unwrap_or_default();
        let mut known = self.indexes.known_projects();
        known.extend(
            self.below
                .iter()
                .filter(|p| p.ecosystem == Ecosystem::Pypi)
                .map(|p| p.name.clone()),
        );
        Finding::NotFound {
            name: name.to_string(),
            chain,
            pages: pages.join(", "),
            layer: self.layer.to_string(),
            suggestion: crate::suggest::closest(name.as_ref(), known.iter().map(String::as_str)),
        }
    }

    /// The finding for a requirement of the tree that excludes `pin`, if one does.
    fn conflict<'t>(
        &self,
        edges: &[Edge<'t>],
        pin: &Pin,
        named: &mut HashSet<&'t PyPackage>,
    ) -> Option<Finding> {
        let name = PackageName::from_str(&pin.name).ok()?;
        let version = Version::from_str(&pin.version).ok()?;
        let package = PyPackage::Project(name);
        let edge = edges
            .iter()
            .find(|e| e.to == &package && !e.to_range.contains(&version))?;
        Some(Finding::LowerLayer {
            name: pin.name.clone(),
            requirement: self.requirement(edge),
            chain: self.chain(edges, edge, named),
            version: pin.version.clone(),
            below: locked_below(pin),
        })
    }

    /// The chain of requirements from the layer down to `last`, its packages added to `named`.
    fn chain<'t>(
        &self,
        edges: &[Edge<'t>],
        last: &Edge<'t>,
        named: &mut HashSet<&'t PyPackage>,
    ) -> Chain {
        let mut steps = vec![self.step(last)];
        named.insert(last.to);
        let mut seen = HashSet::from([last.to]);
        let mut current = last.from;
        while seen.insert(current) {
            named.insert(current);
            let Some(edge) = edges.iter().find(|e| e.to == current) else {
                break;
            };
            steps.push(self.step(edge));
            current = edge.from;
        }
        steps.reverse();
        Chain(steps)
    }

    /// One link of a chain, like `requests 2.27.1 requires urllib3 >=1.21.1, <1.27.dev0`.
    fn step(&self, edge: &Edge<'_>) -> String {
        match edge.from {
            PyPackage::Root => {
                format!("layer `{}` asks for {}", self.layer, self.requirement(edge))
            }
            from => format!(
                "{from} {} requires {}",
                edge.from_range,
                self.requirement(edge)
            ),
        }
    }

    /// The requirement an edge stands for: a root's as the spec writes it, else name and range.
    fn requirement(&self, edge: &Edge<'_>) -> String {
        let name = match edge.to {
            PyPackage::Project(name) | PyPackage::Extra(name, _) => name,
            PyPackage::Root => return edge.to.to_string(),
        };
        if edge.from == &PyPackage::Root
            && let Some(root) = self.roots.iter().find(|r| &r.name == name)
        {
            return root.to_string();
        }
        if edge.to_range == &Ranges::full() {
            edge.to.to_string()
        } else {
            format!("{} {}", edge.to, edge.to_range)
        }
    }
}

/// Every dependency edge of `tree`, in the tree's order.
fn collect_edges<'t>(tree: &'t NoSolution, edges: &mut Vec<Edge<'t>>) {
    match tree {
        DerivationTree::External(External::FromDependencyOf(from, from_range, to, to_range)) => {
            edges.push(Edge {
                from,
                from_range,
                to,
                to_range,
            })
        }
        DerivationTree::External(_) => {}
        DerivationTree::Derived(derived) => {
            collect_edges(&derived.cause1, edges);
            collect_edges(&derived.cause2, edges);
        }
    }
}
