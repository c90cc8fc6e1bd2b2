//! `imglock add` and `imglock remove` on the spec's TOML document (toml_edit: every comment,
//! blank line and layout the user wrote stays): add a request to a layer's list (replacing the
//! request for the same package there, as `uv add` updates a constraint), remove every request
//! for a package by its name in its ecosystem's terms. A name the spec does not request is an
//! error with the closest one it does.

use toml_edit::{DocumentMut, Item, Value};

use super::document::{LISTS, append_list, layers_mut, list_key};
use crate::package::Ecosystem;

/// Why the spec could not be edited.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("the spec has no layer to add to: name one with `--layer NAME`")]
    NoLayer,
    #[error(
        "cannot tell which list of layer `{layer}` to add to ({found}): say `--ecosystem KIND`"
    )]
    WhichList { layer: String, found: String },
    #[error("the spec requests no package `{name}`{}", did_you_mean(suggestion))]
    NotRequested {
        name: String,
        suggestion: Option<String>,
    },
    #[error("`{request}` is not a valid {list} request: {reason}")]
    Invalid {
        request: String,
        list: &'static str,
        reason: String,
    },
    #[error("the spec has no layer `{name}`{}", did_you_mean(suggestion))]
    UnknownLayer {
        name: String,
        suggestion: Option<String>,
    },
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// What `add` did to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// The layer it went to.
    pub layer: String,
    /// The list it went to.
    pub ecosystem: Ecosystem,
    /// The request replaced, when the layer requested the package already.
    pub replaced: Option<String>,
    /// The request as written.
    pub request: String,
}

/// Adds `requests` to the list of `ecosystem` (told by the layer's lists when not given) of
/// `layer` (the top one when not given; made when no layer has that name).
pub fn add(
    doc: &mut DocumentMut,
    layer: Option<&str>,
    ecosystem: Option<Ecosystem>,
    requests: &[String],
) -> Result<Vec<Added>, EditError> {
    let layers = layers_mut(doc);
    let index = match layer {
        Some(name) => match position(layers, name) {
            Some(index) => index,
            None => {
                let mut table = toml_edit::Table::new();
                table.insert("name", Item::Value(Value::from(name)));
                layers.push(table);
                layers.len() - 1
            }
        },
        None if layers.is_empty() => return Err(EditError::NoLayer),
        None => layers.len() - 1,
    };
    let table = layers.get_mut(index).expect("a layer found above");
    let name = layer_name(table).to_string();
    let ecosystem = match ecosystem {
        Some(ecosystem) => ecosystem,
        None => only_list(table, &name)?,
    };
    let target = format!("{}-target", Ecosystem::Maven.as_str());
    if ecosystem == Ecosystem::Maven && !table.contains_key(&target) {
        table.insert(&target, Item::Value(Value::from(super::pom::JARS)));
    }
    requests
        .iter()
        .try_for_each(|r| check_request(ecosystem, r))?;
    let mut added = Vec::new();
    for request in requests {
        let package = package_name(ecosystem, &Value::from(request.as_str()));
        let replaced = replace(table, ecosystem, &package, request);
        if replaced.is_none() {
            append_list(
                table,
                list_key(ecosystem),
                std::iter::once(Value::from(request.as_str())),
            );
        }
        added.push(Added {
            layer: name.clone(),
            ecosystem,
            replaced,
            request: request.clone(),
        });
    }
    Ok(added)
}

/// An error unless `request` reads as a request of `ecosystem`'s list (the ones whose grammar
/// the spec leaves to the resolver are read here, before anything is written).
fn check_request(ecosystem: Ecosystem, request: &str) -> Result<(), EditError> {
    let problem = match ecosystem {
        Ecosystem::Pypi => request
            .parse::<pep508_rs::Requirement>()
            .err()
            .map(super::first_line),
        Ecosystem::Cran | Ecosystem::Bioconductor => request
            .parse::<crate::cran::Requirement>()
            .err()
            .map(super::first_line),
        _ => None,
    };
    match problem {
        None => Ok(()),
        Some(reason) => Err(EditError::Invalid {
            request: request.to_string(),
            list: list_key(ecosystem),
            reason,
        }),
    }
}

/// The one package list `table` has.
fn only_list(table: &toml_edit::Table, layer: &str) -> Result<Ecosystem, EditError> {
    let present: Vec<Ecosystem> = LISTS
        .into_iter()
        .filter(|e| table.contains_key(list_key(*e)))
        .collect();
    match present.as_slice() {
        [one] => Ok(*one),
        _ => Err(EditError::WhichList {
            layer: layer.to_string(),
            found: match present.len() {
                0 => "it has none yet".to_string(),
                _ => {
                    let keys: Vec<&str> = present.iter().map(|e| list_key(*e)).collect();
                    format!("it has {}", keys.join(", "))
                }
            },
        }),
    }
}

/// Replaces the request for `package` in the list of `ecosystem` with `request`; the old one.
fn replace(
    table: &mut toml_edit::Table,
    ecosystem: Ecosystem,
    package: &str,
    request: &str,
) -> Option<String> {
    let array = table.get_mut(list_key(ecosystem))?.as_array_mut()?;
    let position = array
        .iter()
        .position(|v| package_name(ecosystem, v) == package)?;
    let old = array.get(position)?.clone();
    let mut new = Value::from(request);
    *new.decor_mut() = old.decor().clone();
    array.replace(position, new);
    Some(old.to_string().trim().to_string())
}

/// What `remove` took out: the layer and the request.
pub type Removed = (String, String);

/// Removes every request for each of `packages` (from `layer` alone when given).
pub fn remove(
    doc: &mut DocumentMut,
    layer: Option<&str>,
    packages: &[String],
) -> Result<Vec<Removed>, EditError> {
    let layers = layers_mut(doc);
    if let Some(name) = layer.filter(|n| !layers.iter().any(|t| layer_name(t) == *n)) {
        let names: Vec<String> = layers.iter().map(|t| layer_name(t).to_string()).collect();
        let suggestion = crate::suggest::closest(name, names.iter().map(String::as_str));
        return Err(EditError::UnknownLayer {
            name: name.to_string(),
            suggestion,
        });
    }
    let mut removed = Vec::new();
    let mut known = Vec::new();
    for package in packages {
        let before = removed.len();
        for table in layers.iter_mut() {
            let name = layer_name(table).to_string();
            if layer.is_some_and(|l| l != name) {
                continue;
            }
            for ecosystem in LISTS {
                let Some(array) = table
                    .get_mut(list_key(ecosystem))
                    .and_then(Item::as_array_mut)
                else {
                    continue;
                };
                known.extend(array.iter().map(|v| package_name(ecosystem, v)));
                let wanted = crate::spec::normalise_name(ecosystem, package);
                loop {
                    let found = array
                        .iter()
                        .position(|v| package_name(ecosystem, v) == wanted);
                    let Some(at) = found else { break };
                    removed.push((name.clone(), remove_keeping_comments(array, at)));
                }
            }
        }
        if removed.len() == before {
            let suggestion = crate::suggest::closest(package, known.iter().map(String::as_str));
            return Err(EditError::NotRequested {
                name: package.clone(),
                suggestion,
            });
        }
    }
    Ok(removed)
}

/// Removes the value at `at` of `array`; the comments before it (which close the line of the
/// value above) stay, before the next value or at the array's end. Gives the value removed.
fn remove_keeping_comments(array: &mut toml_edit::Array, at: usize) -> String {
    let mut value = array.remove(at);
    let prefix = |v: &Value| {
        v.decor()
            .prefix()
            .and_then(|p| p.as_str())
            .unwrap_or("")
            .to_string()
    };
    let comments = prefix(&value);
    if comments.contains('#') {
        match array.get_mut(at) {
            Some(next) => {
                let own = prefix(next);
                let joined = match own.contains('#') {
                    true => format!("{}{own}", comments.trim_end_matches([' ', '\t'])),
                    false => comments,
                };
                next.decor_mut().set_prefix(joined);
            }
            None => {
                let trailing = array.trailing().as_str().unwrap_or("").to_string();
                array.set_trailing(format!("{}{trailing}", comments.trim_end()));
            }
        }
    }
    value.decor_mut().clear();
    value.to_string()
}

/// The index of the layer called `name`.
fn position(layers: &toml_edit::ArrayOfTables, name: &str) -> Option<usize> {
    layers.iter().position(|t| layer_name(t) == name)
}

fn layer_name(table: &toml_edit::Table) -> &str {
    table.get("name").and_then(Item::as_str).unwrap_or_default()
}

/// The package a list entry requests, as its ecosystem compares names.
pub fn package_name(ecosystem: Ecosystem, value: &Value) -> String {
    let text = match value {
        Value::String(text) => text.value().clone(),
        Value::InlineTable(table) => ["requirement", "name", "coordinate", "url"]
            .iter()
            .find_map(|key| table.get(key).and_then(Value::as_str))
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    };
    crate::spec::requested_name(ecosystem, &text)
}
