//! A spec that `extends` a parent spec (an image family): the parent read first (and its own
//! parent before it, a loop refused naming the files), the `[image]` keys the child leaves out
//! taken from the parent's (a local base's path re-expressed from the child's folder), a key
//! written in both required to agree (but `name`, `entrypoint` and `cmd`, the child's own), and
//! the child's layer names kept apart from every ancestor's. The parent's lock is read by
//! `crate::family`, which resolves the child on top of it.

use std::path::{Path, PathBuf};

use serde::Serialize;
use toml::Spanned;

use super::{Spec, SpecError, wire};
use crate::base::BaseReference;

/// What `extends` names: the parent spec, as written, and the parent read.
#[derive(Debug, Clone, Serialize)]
pub struct Extends {
    /// The parent spec, as written (relative to this spec's folder).
    pub spec: String,
    /// The parent's lock, as written, when named; else the lock beside the parent spec.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<String>,
    /// The parent spec, read (with its own parent).
    #[serde(skip)]
    pub parent: Box<Spec>,
}

impl Extends {
    /// The parent spec's path, from the folder `child_dir` of the spec that extends it.
    pub fn spec_path(&self, child_dir: &Path) -> PathBuf {
        shown(&child_dir.join(&self.spec))
    }

    /// The parent's lock, from `child_dir`: as named, else `default_name` beside the parent
    /// spec.
    pub fn lock_path(&self, child_dir: &Path, default_name: &str) -> PathBuf {
        match &self.lock {
            Some(lock) => shown(&child_dir.join(lock)),
            None => self.spec_path(child_dir).with_file_name(default_name),
        }
    }
}

impl Spec {
    /// The names of every layer of the image, its ancestors' first.
    pub fn family_layer_names(&self) -> Vec<String> {
        let mut names = (self.extends.as_ref())
            .map(|extends| extends.parent.family_layer_names())
            .unwrap_or_default();
        names.extend(self.layers.iter().map(|layer| layer.name.clone()));
        names
    }
}

/// `path` as a command run here can name it: relative to the current folder, without `..`
/// between names (`app/../python/imglock.toml` is `python/imglock.toml`).
fn shown(path: &Path) -> PathBuf {
    PathBuf::from(crate::repository::relative_to(path, Path::new(".")))
}

/// The specs being read, child first: a parent among them is a loop.
#[derive(Default, Clone)]
pub(super) struct Chain {
    /// Each spec as given and as its canonical path.
    specs: Vec<(PathBuf, PathBuf)>,
}

impl Chain {
    /// The chain with `path` added.
    fn with(&self, path: &Path) -> Self {
        let mut chain = self.clone();
        chain.specs.push((path.to_path_buf(), canonical(path)));
        chain
    }
}

/// `path` with links and `..` resolved when it exists, else as given.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The spec at `path` (read inside `chain`) `extends` a parent: the parent read (its own
/// parent first, a loop refused), and the child's `image` and `layers` checked against it.
/// The `[image]` table comes back with every key the child leaves out taken from the parent's.
pub(super) fn extend(
    path: &Path,
    chain: &Chain,
    extends: Spanned<toml::Value>,
    image: wire::Image,
    layers: &[wire::Layer],
    located: &dyn Fn(Option<std::ops::Range<usize>>, String) -> SpecError,
) -> Result<(Extends, wire::Image), SpecError> {
    let (spec, lock) = extends_parts(extends.get_ref())
        .ok_or_else(|| located(Some(extends.span()), EXTENDS_SHAPE.to_string()))?;
    let dir = crate::files::parent_dir(path);
    let parent_path = shown(&dir.join(&spec));
    let (parent, parent_image) = read_parent(path, chain, &parent_path)?;
    let image = inherit_image(image, &parent, parent_image, &parent_path, &dir, located)?;
    check_layer_names(layers, &parent.family_layer_names(), &parent_path, located)?;
    let extends = Extends {
        spec,
        lock,
        parent: Box::new(parent),
    };
    Ok((extends, image))
}

/// What `extends` may be.
const EXTENDS_SHAPE: &str = "`extends` names the parent spec: a path (`extends = \"../python/imglock.toml\"`, its lock the `imglock.lock` beside it) or `extends = { spec = \"../python/imglock.toml\", lock = \"../python/python.lock\" }`";

/// The parent spec and lock `extends` names (no lock: the one beside the parent spec); `None`
/// when it has another shape.
fn extends_parts(extends: &toml::Value) -> Option<(String, Option<String>)> {
    let text = |value: &toml::Value| {
        value
            .as_str()
            .filter(|s| !s.trim().is_empty())
            .map(String::from)
    };
    match extends {
        toml::Value::String(_) => Some((text(extends)?, None)),
        toml::Value::Table(table) => {
            let known = table.keys().all(|key| key == "spec" || key == "lock");
            let lock = match table.get("lock") {
                Some(lock) => Some(text(lock)?),
                None => None,
            };
            known.then_some(())?;
            Some((text(table.get("spec")?)?, lock))
        }
        _ => None,
    }
}

/// Reads the parent spec at `parent_path` of the spec at `path` (being read inside `chain`),
/// refusing a loop: the parent, and its `[image]` table as it inherited it.
fn read_parent(
    path: &Path,
    chain: &Chain,
    parent_path: &Path,
) -> Result<(Spec, wire::Image), SpecError> {
    let at = |message: String| SpecError {
        path: path.to_path_buf(),
        location: None,
        message,
    };
    let chain = chain.with(path);
    let parent_canonical = canonical(parent_path);
    if let Some(first) = chain.specs.iter().position(|(_, c)| *c == parent_canonical) {
        let mut files: Vec<String> = chain.specs[first..]
            .iter()
            .map(|(given, _)| format!("`{}`", given.display()))
            .collect();
        files.push(format!("`{}`", parent_path.display()));
        return Err(at(format!(
            "image families cannot loop: {} (each extends the next); remove one `extends`",
            files.join(" → ")
        )));
    }
    let text = std::fs::read_to_string(parent_path).map_err(|error| {
        at(format!(
            "cannot read the parent spec `{}` that `extends` names ({error}): the path is relative to this spec's folder",
            parent_path.display()
        ))
    })?;
    Spec::parse_in(parent_path, &text, &chain)
}

/// The child's `[image]` table with every key it leaves out taken from its `parent`'s (read
/// from `parent_path`, its table `parent_image`); `located` places an error in the child's text.
fn inherit_image(
    mut child: wire::Image,
    parent: &Spec,
    mut parent_image: wire::Image,
    parent_path: &Path,
    child_dir: &Path,
    located: &dyn Fn(Option<std::ops::Range<usize>>, String) -> SpecError,
) -> Result<wire::Image, SpecError> {
    parent_image.base = parent_image.base.map(|base| {
        let span = base.span();
        let rebased = rebase_local(base.get_ref(), &parent.dir(), child_dir);
        Spanned::new(span, rebased)
    });
    let keys = child.shared_keys().into_iter();
    for ((key, written), (_, inherited)) in keys.zip(parent_image.shared_keys()) {
        match (written.as_ref(), inherited.take()) {
            (None, inherited) => *written = inherited,
            (Some(own), Some(inherited)) if own.get_ref() != inherited.get_ref() => {
                return Err(located(
                    Some(own.span()),
                    format!(
                        "image.{key} = `{}` is not the parent's `{}` ({}): a child image is its parent with more layers; leave image.{key} out to take the parent's",
                        own.get_ref().escape_debug(),
                        inherited.get_ref().escape_debug(),
                        parent_path.display()
                    ),
                ));
            }
            (Some(_), _) => {}
        }
    }
    // The image's command is the child's to change, as a Dockerfile's `FROM` image's is.
    child.entrypoint = child.entrypoint.or(parent_image.entrypoint);
    child.cmd = child.cmd.or(parent_image.cmd);
    Ok(child)
}

/// `base` as the child at `child_dir` names it: a local image's relative path re-expressed
/// from the child's folder (it was the parent's, at `parent_dir`); any other as it is.
pub fn rebase_local(base: &str, parent_dir: &Path, child_dir: &Path) -> String {
    match BaseReference::parse(base) {
        Ok(BaseReference::Local {
            transport,
            path,
            digest,
        }) if Path::new(&path).is_relative() => BaseReference::Local {
            transport,
            path: crate::repository::relative_to(&parent_dir.join(&path), child_dir),
            digest,
        }
        .to_string(),
        _ => base.to_string(),
    }
}

/// Refuses a layer of the child named like one of its ancestors' (`inherited`), at its name.
fn check_layer_names(
    layers: &[wire::Layer],
    inherited: &[String],
    parent_path: &Path,
    located: &dyn Fn(Option<std::ops::Range<usize>>, String) -> SpecError,
) -> Result<(), SpecError> {
    for layer in layers {
        let name = layer.name.get_ref().trim();
        if inherited.iter().any(|n| n == name) {
            return Err(located(
                Some(layer.name.span()),
                format!(
                    "layer `{name}` is already a layer of the parent image ({}): a child's layers come after its parent's and need names of their own; rename it",
                    parent_path.display()
                ),
            ));
        }
    }
    Ok(())
}
