//! What an import adds, written into a spec's TOML document with toml_edit: `[image]` keys the
//! spec lacks, repository URLs appended to `[repositories]`, and each layer appended as a new
//! `[[layer]]` or merged into the layer of the same name. Everything already in the document —
//! comments, spacing, key order — stays as it was.

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

use super::{Entry, Imported, ImportedLayer, Note, Setting, Step};
use crate::package::Ecosystem;

/// The spec key of `ecosystem`'s list in a layer (`files` for URL files).
pub fn list_key(ecosystem: Ecosystem) -> &'static str {
    match ecosystem {
        Ecosystem::File => "files",
        other => other.as_str(),
    }
}

/// The ecosystems whose lists a layer may hold, in the order a new layer writes them.
pub const LISTS: [Ecosystem; 8] = [
    Ecosystem::Apt,
    Ecosystem::Cran,
    Ecosystem::Bioconductor,
    Ecosystem::Github,
    Ecosystem::Pypi,
    Ecosystem::Conda,
    Ecosystem::Maven,
    Ecosystem::File,
];

/// Writes `imported` into `doc`; what the spec already says differently is noted, not
/// overwritten.
pub fn apply(doc: &mut DocumentMut, imported: &Imported, notes: &mut Vec<Note>) {
    let child = doc.contains_key("extends");
    let image = table_mut(doc, "image");
    for (key, value) in &imported.image {
        match image.get(key).and_then(Item::as_value) {
            None if child && key != "name" => notes.push(Note {
                place: "[image]".to_string(),
                text: format!("{key} = {}", setting_value(value)),
                reason: "the spec extends a parent, whose [image] it takes".to_string(),
            }),
            None => {
                image.insert(key, Item::Value(setting_value(value)));
            }
            Some(existing) if same(existing, value) => {}
            Some(existing) => notes.push(Note {
                place: "[image]".to_string(),
                text: format!("{key} = {}", setting_value(value)),
                reason: format!("the spec says {key} = {}; kept it", bare(existing)),
            }),
        }
    }
    if !imported.repositories.is_empty() {
        apply_repositories(doc, &imported.repositories, notes);
    }
    apply_fallbacks(doc, imported, notes);
    for layer in &imported.layers {
        if !layer.is_empty() {
            apply_layer(doc, layer);
        }
    }
}

fn apply_repositories(
    doc: &mut DocumentMut,
    settings: &[(String, Setting)],
    notes: &mut Vec<Note>,
) {
    let repositories = table_mut(doc, "repositories");
    for (key, value) in settings {
        match (repositories.get_mut(key), value) {
            (None, value) => {
                repositories.insert(key, Item::Value(setting_value(value)));
            }
            (Some(item), Setting::Words(urls)) => {
                if let Some(array) = item.as_array_mut() {
                    append_unique(array, urls.iter().map(|u| Value::from(u.as_str())));
                } else if let Some(one) = item.as_str().map(str::to_string) {
                    let mut array = Array::new();
                    append_unique(&mut array, std::iter::once(Value::from(one.as_str())));
                    append_unique(&mut array, urls.iter().map(|u| Value::from(u.as_str())));
                    *item = Item::Value(Value::Array(array));
                }
            }
            (Some(item), Setting::Text(text)) if item.as_str() == Some(text) => {}
            (Some(item), Setting::Text(text)) => notes.push(Note {
                place: "[repositories]".to_string(),
                text: format!("{key} = \"{text}\""),
                reason: format!("the spec says {key} = {}; kept it", item_text(item)),
            }),
        }
    }
}

/// The repositories an import assumes when neither it nor the spec names one of the kind.
fn apply_fallbacks(doc: &mut DocumentMut, imported: &Imported, notes: &mut Vec<Note>) {
    for (key, url, note) in &imported.fallback_repositories {
        let named = imported.repositories.iter().any(|(k, _)| k == key);
        let repositories = table_mut(doc, "repositories");
        if !named && !repositories.contains_key(key) {
            let urls = Setting::Words(vec![url.clone()]);
            repositories.insert(key, Item::Value(setting_value(&urls)));
            notes.push(note.clone());
        }
    }
    if doc
        .get("repositories")
        .and_then(Item::as_table)
        .is_some_and(Table::is_empty)
    {
        doc.remove("repositories");
    }
}

/// Appends `layer` as a new `[[layer]]`, or merges it into the spec's layer of that name.
pub fn apply_layer(doc: &mut DocumentMut, layer: &ImportedLayer) {
    let layers = layers_mut(doc);
    let existing = layers
        .iter_mut()
        .find(|t| t.get("name").and_then(Item::as_str) == Some(layer.name.as_str()));
    match existing {
        Some(table) => merge_layer(table, layer),
        None => {
            let mut table = Table::new();
            table.insert("name", Item::Value(Value::from(layer.name.as_str())));
            merge_layer(&mut table, layer);
            layers.push(table);
        }
    }
}

fn merge_layer(table: &mut Table, layer: &ImportedLayer) {
    for ecosystem in LISTS {
        let Some((_, entries)) = layer.lists.iter().find(|(e, _)| *e == ecosystem) else {
            continue;
        };
        append_list(table, list_key(ecosystem), entries.iter().map(entry_value));
    }
    if !layer.maven_provided.is_empty() {
        let key = format!("{}-provided", Ecosystem::Maven.as_str());
        let values = layer.maven_provided.iter().map(|c| Value::from(c.as_str()));
        append_list(table, &key, values);
    }
    for (key, value) in &layer.settings {
        if !table.contains_key(key) {
            table.insert(key, Item::Value(setting_value(value)));
        }
    }
    if !layer.steps.is_empty() {
        append_list(table, "steps", layer.steps.iter().map(step_value));
    }
}

/// Appends `values` to the array `key` of `table` (made when missing), each not yet there.
pub fn append_list(table: &mut Table, key: &str, values: impl Iterator<Item = Value>) {
    let item = table
        .entry(key)
        .or_insert_with(|| Item::Value(Value::Array(Array::new())));
    if let Some(array) = item.as_array_mut() {
        let fresh = array.is_empty();
        append_unique(array, values);
        if fresh {
            lay_out(array);
        }
    }
}

/// A new array of more than two values, or a long one, one value a line.
fn lay_out(array: &mut Array) {
    let long = array.iter().map(|v| v.to_string().len() + 2).sum::<usize>() > 80;
    if array.len() <= 2 && !long {
        return;
    }
    for value in array.iter_mut() {
        value.decor_mut().set_prefix("\n  ");
    }
    array.set_trailing_comma(true);
    array.set_trailing("\n");
}

fn append_unique(array: &mut Array, values: impl Iterator<Item = Value>) {
    for value in values {
        if !array.iter().any(|v| bare(v) == bare(&value)) {
            let prefix = next_prefix(array);
            array.push(value);
            if let Some(pushed) = array.iter_mut().last() {
                pushed.decor_mut().set_prefix(prefix);
            }
        }
    }
}

/// The space before a value pushed onto `array`, as its values are laid out: the last one's
/// (one a line, or lined up under the first), else one space.
fn next_prefix(array: &Array) -> String {
    let prefix = |v: &Value| {
        let decor = v.decor().prefix().and_then(|p| p.as_str()).unwrap_or(" ");
        decor.to_string()
    };
    match (array.len(), array.get(0)) {
        (0, _) | (_, None) => String::new(),
        (1, Some(first)) if prefix(first).contains('\n') => prefix(first),
        (1, Some(_)) => " ".to_string(),
        _ => array.iter().last().map(prefix).unwrap_or_default(),
    }
}

/// The `[[layer]]` array, made when missing.
pub fn layers_mut(doc: &mut DocumentMut) -> &mut ArrayOfTables {
    let item = doc
        .entry("layer")
        .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()));
    if !item.is_array_of_tables() {
        *item = Item::ArrayOfTables(ArrayOfTables::new());
    }
    item.as_array_of_tables_mut()
        .expect("made an array of tables")
}

/// The table `key` of `doc`, made when missing.
fn table_mut<'a>(doc: &'a mut DocumentMut, key: &str) -> &'a mut Table {
    let item = doc.entry(key).or_insert_with(|| Item::Table(Table::new()));
    if !item.is_table() {
        *item = Item::Table(Table::new());
    }
    item.as_table_mut().expect("made a table")
}

fn same(existing: &Value, setting: &Setting) -> bool {
    bare(existing) == setting_value(setting).to_string()
}

/// A value as TOML, without its comments and spacing.
fn bare(value: &Value) -> String {
    let mut value = value.clone();
    value.decor_mut().clear();
    value.to_string()
}

fn item_text(item: &Item) -> String {
    item.as_value().map_or_else(|| item.to_string(), bare)
}

/// A setting as a TOML value.
pub fn setting_value(setting: &Setting) -> Value {
    match setting {
        Setting::Text(text) => Value::from(text.as_str()),
        Setting::Words(words) => Value::Array(words.iter().map(String::as_str).collect()),
    }
}

/// A list entry as a TOML value.
pub fn entry_value(entry: &Entry) -> Value {
    match entry {
        Entry::Plain(text) => Value::from(text.as_str()),
        Entry::Table(fields) => {
            let mut table = InlineTable::new();
            for (key, value) in fields {
                table.insert(key, setting_value(value));
            }
            Value::InlineTable(table)
        }
    }
}

fn step_value(step: &Step) -> Value {
    let mut table = InlineTable::new();
    match step {
        Step::Env(pairs) => {
            let mut env = InlineTable::new();
            for (name, value) in pairs {
                env.insert(name, Value::from(value.as_str()));
            }
            table.insert("env", Value::InlineTable(env));
        }
        Step::Workdir(path) => {
            table.insert("workdir", Value::from(path.as_str()));
        }
        Step::Copy { source, to } => {
            table.insert("copy", Value::from(source.as_str()));
            table.insert("to", Value::from(to.as_str()));
        }
        Step::Run(line) => {
            table.insert("run", Value::from(line.as_str()));
        }
        Step::User(user) => {
            table.insert("user", Value::from(user.as_str()));
        }
    }
    Value::InlineTable(table)
}
