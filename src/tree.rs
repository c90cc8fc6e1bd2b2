//! `imglock tree` and `imglock why`: the lock's dependency graph, read from each package's
//! `dependencies` (names of locked packages of its ecosystem, in its layer or a lower one).
//! `tree` walks down from what each layer asked for (or from one package); `why` walks up from a
//! package to the requests that brought it in. A subtree already shown is marked `(*)`, as uv's
//! `uv tree` does, so a shared dependency is printed once.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;

use serde::Serialize;

use crate::lock::{Lock, LockedPackage};
use crate::package::Ecosystem;

/// A locked package: its layer's position in the lock and its own in that layer.
type Node = (usize, usize);

/// Which way a tree is walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// From a package to what it depends on.
    Dependencies,
    /// From a package to what depends on it, up to the requests (`why`).
    Dependents,
}

/// One package of a printed tree, with the packages below it.
#[derive(Debug, Serialize)]
pub(crate) struct TreeNode {
    pub name: String,
    pub version: String,
    pub ecosystem: Ecosystem,
    pub layer: String,
    /// Whether the spec asks for it by name in its layer.
    pub requested: bool,
    /// Whether its subtree was shown earlier (and is not repeated).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub repeated: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<TreeNode>,
}

/// A package named on the command line that the lock does not have.
#[derive(Debug, thiserror::Error)]
#[error("no package `{name}` is in the lock{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
pub struct NotLocked {
    /// The name as given.
    pub name: String,
    /// The closest locked name, if one is close.
    pub suggestion: Option<String>,
}

/// The lock's dependency graph.
pub(crate) struct Graph<'a> {
    lock: &'a Lock,
    /// Each package's dependencies, found in its layer or the nearest lower one that has them.
    below: BTreeMap<Node, Vec<Node>>,
    /// Each package's dependents.
    above: BTreeMap<Node, Vec<Node>>,
}

impl<'a> Graph<'a> {
    /// The graph of `lock`'s packages.
    pub(crate) fn new(lock: &'a Lock) -> Self {
        let mut below: BTreeMap<Node, Vec<Node>> = BTreeMap::new();
        let mut above: BTreeMap<Node, Vec<Node>> = BTreeMap::new();
        for (layer, locked) in lock.layers.iter().enumerate() {
            for (index, package) in locked.packages.iter().enumerate() {
                let node = (layer, index);
                let found = package
                    .dependencies
                    .iter()
                    .filter_map(|name| find(lock, layer, package.ecosystem, name));
                for dependency in found {
                    below.entry(node).or_default().push(dependency);
                    above.entry(dependency).or_default().push(node);
                }
            }
        }
        Self { lock, below, above }
    }

    /// The trees to print: with `package`, from each occurrence of it; else, walking down, from
    /// what each layer requested (of `layer` alone, when given).
    pub(crate) fn trees(
        &self,
        package: Option<&str>,
        layer: Option<&str>,
        direction: Direction,
    ) -> Result<Vec<TreeNode>, NotLocked> {
        let in_layer = |node: &Node| layer.is_none_or(|l| self.lock.layers[node.0].name == l);
        let roots: Vec<Node> = match package {
            Some(name) => {
                let found: Vec<Node> = self
                    .nodes()
                    .filter(|n| self.package(*n).name == name)
                    .collect();
                if found.is_empty() {
                    let names = self.nodes().map(|n| self.package(n).name.as_str());
                    return Err(NotLocked {
                        name: name.to_string(),
                        suggestion: crate::suggest::closest(name, names),
                    });
                }
                found
            }
            None => self
                .nodes()
                .filter(|n| self.package(*n).requested)
                .collect(),
        };
        let mut shown = HashSet::new();
        Ok(roots
            .into_iter()
            .filter(in_layer)
            .map(|root| self.subtree(root, direction, &mut shown))
            .collect())
    }

    fn nodes(&self) -> impl Iterator<Item = Node> + '_ {
        self.lock
            .layers
            .iter()
            .enumerate()
            .flat_map(|(layer, l)| (0..l.packages.len()).map(move |index| (layer, index)))
    }

    fn package(&self, (layer, index): Node) -> &'a LockedPackage {
        &self.lock.layers[layer].packages[index]
    }

    fn subtree(&self, node: Node, direction: Direction, shown: &mut HashSet<Node>) -> TreeNode {
        let package = self.package(node);
        let next = match direction {
            Direction::Dependencies => self.below.get(&node),
            Direction::Dependents => self.above.get(&node),
        };
        let repeated = next.is_some() && !shown.insert(node);
        let children = match next {
            Some(next) if !repeated => next
                .iter()
                .map(|child| self.subtree(*child, direction, shown))
                .collect(),
            _ => Vec::new(),
        };
        TreeNode {
            name: package.name.clone(),
            version: package.version.clone(),
            ecosystem: package.ecosystem,
            layer: self.lock.layers[node.0].name.clone(),
            requested: package.requested,
            repeated,
            children,
        }
    }
}

/// The locked package `name` of `ecosystem` that layer `layer` sees: its own, else the nearest
/// lower layer's.
fn find(lock: &Lock, layer: usize, ecosystem: Ecosystem, name: &str) -> Option<Node> {
    (0..=layer).rev().find_map(|at| {
        lock.layers[at]
            .packages
            .iter()
            .position(|p| p.ecosystem == ecosystem && p.name == name)
            .map(|index| (at, index))
    })
}

/// The trees as text: each root under its layer's heading, branches drawn as uv draws them.
pub(crate) fn text(trees: &[TreeNode]) -> String {
    let mut out = String::new();
    let mut heading = None;
    for tree in trees {
        if heading != Some(&tree.layer) {
            let _ = writeln!(
                out,
                "{}layer `{}`:",
                if heading.is_some() { "\n" } else { "" },
                tree.layer
            );
            heading = Some(&tree.layer);
        }
        let _ = writeln!(out, "{}", label(tree, &tree.layer));
        branches(&mut out, tree, "");
    }
    out
}

fn branches(out: &mut String, node: &TreeNode, prefix: &str) {
    for (i, child) in node.children.iter().enumerate() {
        let last = i + 1 == node.children.len();
        let _ = writeln!(
            out,
            "{prefix}{}{}",
            if last { "└── " } else { "├── " },
            label(child, &node.layer)
        );
        branches(
            out,
            child,
            &format!("{prefix}{}", if last { "    " } else { "│   " }),
        );
    }
}

/// `name version [ecosystem]`, with the layer when it is not its parent's, whether the layer
/// requested it, and `(*)` for a subtree shown before.
fn label(node: &TreeNode, parent_layer: &str) -> String {
    let mut label = format!("{} {} [{}]", node.name, node.version, node.ecosystem);
    if node.layer != parent_layer {
        let _ = write!(label, " (layer `{}`)", node.layer);
    }
    if node.requested {
        label.push_str(" (requested)");
    }
    if node.repeated {
        label.push_str(" (*)");
    }
    label
}
