//! The effective model of a project, built as Maven 3's model builder does: the parent chain
//! inherited (properties, dependencies and dependency management, the child winning), every
//! `${...}` interpolated in the child's context (`project.*`, `parent.*`, properties; a cycle is an
//! error), `import`-scope BOMs merged into dependency management (declared entries first, then
//! each BOM in order), and the project's own dependency management applied to its dependencies.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use super::coordinate::{Coordinate, Gav, implied_classifier};
pub use super::error::ModelError;
use super::pom::{Dependency, Pom, Profile};
use super::scope::Scope;
use super::version::{MavenVersion, VersionRequirement};

/// How deep parents and imports may nest before the chain is taken for a cycle.
const MAX_DEPTH: usize = 64;

/// How many parents a project may have above it before the chain is taken for a cycle in
/// disguise or a hostile repository.
const MAX_PARENTS: usize = 32;

/// The Java runtime profiles are activated for (`<activation><jdk>`): the current LTS the
/// Spark images this tool serves run on.
pub const JAVA_VERSION: &str = "17";

/// The operating system profiles are activated for (`<activation><os>`): a Linux image.
const OS_FAMILY: &str = "unix";
const OS_NAME: &str = "linux";
const OS_ARCH: &str = "amd64";

/// Where POMs come from: the ones fetched so far, and the models already built from them.
pub trait PomLookup {
    /// The POM of `gav`: `Err(Missing)` when not fetched yet, `Err(Invalid)` when it failed.
    fn pom(&self, gav: &Gav) -> Result<Rc<Pom>, ModelError>;

    /// The effective model of `gav` if one was built and kept: an imported BOM's is not built
    /// again.
    fn known_model(&self, _gav: &Gav) -> Option<Rc<Model>> {
        None
    }

    /// Keeps the effective model of an imported BOM, built complete, for [`PomLookup::known_model`].
    fn keep_model(&self, _model: &Rc<Model>) {}
}

/// A dependency of the effective model: interpolated, managed, with a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDependency {
    pub group: String,
    pub artifact: String,
    pub version: String,
    pub kind: String,
    pub classifier: Option<String>,
    /// `compile` when not given.
    pub scope: Scope,
    pub optional: bool,
    pub exclusions: Vec<(String, String)>,
}

impl ModelDependency {
    /// The artifact it names (its type's implied classifier when it gives none).
    pub fn coordinate(&self) -> Coordinate {
        Coordinate {
            group: self.group.clone(),
            artifact: self.artifact.clone(),
            kind: self.kind.clone(),
            classifier: self
                .classifier
                .clone()
                .or_else(|| implied_classifier(&self.kind).map(str::to_string)),
            version: self.version.clone(),
        }
    }
}

/// A project's effective model.
#[derive(Debug, Clone)]
pub struct Model {
    pub gav: Gav,
    pub dependencies: Vec<ModelDependency>,
    /// Dependency management, interpolated, imports merged.
    pub managed: Vec<Dependency>,
    /// Where the project moved to, if its POM says so.
    pub relocation: Option<Gav>,
    /// The BOMs its dependency management imports, in order.
    pub imports: Vec<Gav>,
    /// Its license names: its POM's, else the nearest parent's that names any.
    pub licenses: Vec<String>,
}

/// Builds the effective model of `gav`.
pub fn build(lookup: &dyn PomLookup, gav: &Gav) -> Result<Model, ModelError> {
    build_at(lookup, gav, 0)
}

/// Builds the effective model of `gav`, `depth` parents or imports below the project first asked
/// for.
fn build_at(lookup: &dyn PomLookup, gav: &Gav, depth: usize) -> Result<Model, ModelError> {
    if depth > MAX_DEPTH {
        return Err(ModelError::Invalid(format!(
            "{gav}: its parents and imported BOMs nest more than {MAX_DEPTH} deep (a cycle?)"
        )));
    }
    let chain = parent_chain(lookup, gav)?;
    let pom = &chain[0];
    let interpolator = Interpolator::for_project(&chain, gav);
    let declared = inherit(&chain, |p| &p.dependencies, &interpolator)?.list;
    let (mut managed, imports) = split_imports(inherit(&chain, |p| &p.managed, &interpolator)?);
    // Every import is tried even after one fails, so that a lookup learns of every POM still
    // missing at once; the first failure, in order, is the answer.
    let mut first_error = None;
    for import in &imports {
        if let Err(error) = merge_imported_bom(lookup, gav, import, depth, &mut managed) {
            first_error.get_or_insert(error);
        }
    }
    if let Some(error) = first_error {
        return Err(error);
    }
    let dependencies = declared
        .into_iter()
        .map(|dependency| apply_management(gav, dependency, &managed))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Model {
        gav: gav.clone(),
        dependencies,
        relocation: relocation(pom, gav, &interpolator),
        managed: managed.list,
        imports: imports.iter().filter_map(Dependency::gav).collect(),
        licenses: chain
            .iter()
            .map(|pom| &pom.licenses)
            .find(|licenses| !licenses.is_empty())
            .cloned()
            .unwrap_or_default(),
    })
}

/// The POMs of `gav` and its ancestors, child first, each with its active profiles merged in; a
/// parent met twice is a cycle.
fn parent_chain(lookup: &dyn PomLookup, gav: &Gav) -> Result<Vec<Rc<Pom>>, ModelError> {
    let mut chain = Vec::new();
    let mut seen = HashSet::new();
    let mut next = Some(gav.clone());
    while let Some(current) = next {
        if chain.len() > MAX_PARENTS {
            return Err(ModelError::TooDeep {
                gav: Box::new(gav.clone()),
                next: Box::new(current),
                levels: MAX_PARENTS,
            });
        }
        if !seen.insert(current.clone()) {
            return Err(ModelError::Invalid(format!(
                "{gav}: its parent chain has a cycle at {current}"
            )));
        }
        let pom = with_active_profiles(lookup.pom(&current)?);
        next = pom.parent.clone();
        chain.push(pom);
    }
    Ok(chain)
}

/// Expands `${...}` in the context of one project: its properties and those of its ancestors, and
/// the built-in `project.*`, `pom.*` and `parent.*` values.
struct Interpolator<'a> {
    properties: BTreeMap<String, String>,
    /// The project, named in errors.
    gav: &'a Gav,
}

impl<'a> Interpolator<'a> {
    /// The properties of `chain` (child first): the root-most ancestor's first, each child
    /// overriding, then the built-ins of the project `gav` and of its parent.
    fn for_project(chain: &[Rc<Pom>], gav: &'a Gav) -> Self {
        let mut properties: BTreeMap<String, String> = BTreeMap::new();
        for ancestor in chain.iter().rev() {
            for (key, value) in &ancestor.properties {
                properties.insert(key.clone(), value.clone());
            }
        }
        let pom = &chain[0];
        let builtins = [
            ("groupId", gav.group.clone()),
            ("artifactId", gav.artifact.clone()),
            ("version", gav.version.clone()),
            ("packaging", pom.packaging.clone()),
        ];
        for (key, value) in &builtins {
            properties.insert(format!("project.{key}"), value.clone());
            properties.insert(format!("pom.{key}"), value.clone());
            properties.insert((*key).to_string(), value.clone());
        }
        if let Some(parent) = &pom.parent {
            for (key, value) in [
                ("groupId", &parent.group),
                ("artifactId", &parent.artifact),
                ("version", &parent.version),
            ] {
                properties.insert(format!("project.parent.{key}"), value.clone());
                properties.insert(format!("parent.{key}"), value.clone());
            }
        }
        Self { properties, gav }
    }

    /// `text` with every known property expanded.
    fn text(&self, text: &str) -> Result<String, ModelError> {
        interpolate(text, &self.properties, self.gav)
    }

    /// `dependency` with every field expanded.
    fn dependency(&self, dependency: &Dependency) -> Result<Dependency, ModelError> {
        let optional_text = |value: &Option<String>| -> Result<Option<String>, ModelError> {
            value.as_deref().map(|text| self.text(text)).transpose()
        };
        Ok(Dependency {
            group: self.text(&dependency.group)?,
            artifact: self.text(&dependency.artifact)?,
            version: optional_text(&dependency.version)?,
            kind: self.text(&dependency.kind)?,
            classifier: optional_text(&dependency.classifier)?,
            scope: optional_text(&dependency.scope)?,
            optional: optional_text(&dependency.optional)?,
            exclusions: dependency
                .exclusions
                .iter()
                .map(|(g, a)| Ok((self.text(g)?, self.text(a)?)))
                .collect::<Result<_, ModelError>>()?,
        })
    }
}

/// The dependencies (or managed dependencies, as `select` picks) of the whole chain,
/// interpolated; the root-most ancestor's first, a child's entry replacing one of the same key.
fn inherit(
    chain: &[Rc<Pom>],
    select: fn(&Pom) -> &Vec<Dependency>,
    interpolator: &Interpolator<'_>,
) -> Result<Entries, ModelError> {
    let mut merged = Entries::default();
    for ancestor in chain.iter().rev() {
        for dependency in select(ancestor) {
            merged.replace(interpolator.dependency(dependency)?);
        }
    }
    Ok(merged)
}

/// The key dependency management matches entries by ([`Dependency::management_key`]).
type Key = (String, String, String, String);

/// Dependencies in order, one per key, found by key at once.
#[derive(Default)]
struct Entries {
    list: Vec<Dependency>,
    index: HashMap<Key, usize>,
}

impl Entries {
    /// Adds `dependency`, in place of the entry of the same key if there is one.
    fn replace(&mut self, dependency: Dependency) {
        match self.index.entry(dependency.management_key()) {
            Entry::Occupied(at) => self.list[*at.get()] = dependency,
            Entry::Vacant(at) => {
                at.insert(self.list.len());
                self.list.push(dependency);
            }
        }
    }

    /// Adds `dependency` unless an entry of the same key is there.
    fn add_if_new(&mut self, dependency: &Dependency) {
        if let Entry::Vacant(at) = self.index.entry(dependency.management_key()) {
            at.insert(self.list.len());
            self.list.push(dependency.clone());
        }
    }

    /// The entry of `dependency`'s key.
    fn matching(&self, dependency: &Dependency) -> Option<&Dependency> {
        let at = self.index.get(&dependency.management_key())?;
        Some(&self.list[*at])
    }
}

/// Dependency management split into its own entries and its `import`-scope BOMs, each in order.
fn split_imports(entries: Entries) -> (Entries, Vec<Dependency>) {
    let (own, imports): (Vec<_>, Vec<_>) = entries.list.into_iter().partition(|entry| {
        !(Scope::parse(entry.scope.as_deref()) == Scope::Import && entry.kind == "pom")
    });
    let mut managed = Entries::default();
    for entry in own {
        managed.replace(entry);
    }
    (managed, imports)
}

/// Adds the dependency management of the BOM `import` (which `gav` imports) to `managed`, where
/// no entry of the same key is there yet.
fn merge_imported_bom(
    lookup: &dyn PomLookup,
    gav: &Gav,
    import: &Dependency,
    depth: usize,
    managed: &mut Entries,
) -> Result<(), ModelError> {
    let bom_gav = import.gav().ok_or_else(|| {
        ModelError::Invalid(format!(
            "{gav} imports the BOM {}:{} without a version",
            import.group, import.artifact
        ))
    })?;
    let bom = match lookup.known_model(&bom_gav) {
        Some(bom) => bom,
        None => {
            let bom = Rc::new(build_at(lookup, &bom_gav, depth + 1)?);
            lookup.keep_model(&bom);
            bom
        }
    };
    for entry in &bom.managed {
        managed.add_if_new(entry);
    }
    Ok(())
}

/// A dependency of `gav` as its dependency management completes it: the version, scope and
/// optional flag it does not declare, and the exclusions when it declares none.
fn apply_management(
    gav: &Gav,
    dependency: Dependency,
    managed: &Entries,
) -> Result<ModelDependency, ModelError> {
    let management = managed.matching(&dependency);
    let version = dependency
        .version
        .clone()
        .or_else(|| management.and_then(|m| m.version.clone()))
        .ok_or_else(|| {
            ModelError::Invalid(format!(
                "{gav} depends on {}:{} without a version, and no dependencyManagement gives one",
                dependency.group, dependency.artifact
            ))
        })?;
    let scope = Scope::parse(
        dependency
            .scope
            .as_deref()
            .or_else(|| management.and_then(|m| m.scope.as_deref())),
    );
    let optional = dependency
        .optional
        .clone()
        .or_else(|| management.and_then(|m| m.optional.clone()))
        .is_some_and(|o| o.trim() == "true");
    // Managed exclusions apply only to a dependency that declares none of its own (Maven's
    // `DependencyManagementInjector`).
    let exclusions = if dependency.exclusions.is_empty() {
        management.map(|m| m.exclusions.clone()).unwrap_or_default()
    } else {
        dependency.exclusions.clone()
    };
    Ok(ModelDependency {
        group: dependency.group,
        artifact: dependency.artifact,
        version,
        kind: dependency.kind,
        classifier: dependency.classifier,
        scope,
        optional,
        exclusions,
    })
}

/// Where the POM says the project `gav` moved to: each part it gives interpolated (as written
/// when that fails), each part it leaves out the project's own.
fn relocation(pom: &Pom, gav: &Gav, interpolator: &Interpolator<'_>) -> Option<Gav> {
    pom.relocation.as_ref().map(|r| {
        let part = |value: &Option<String>, default: &str| {
            value
                .as_deref()
                .map(|v| interpolator.text(v).unwrap_or_else(|_| v.to_string()))
                .unwrap_or_else(|| default.to_string())
        };
        Gav {
            group: part(&r.group, &gav.group),
            artifact: part(&r.artifact, &gav.artifact),
            version: part(&r.version, &gav.version),
        }
    })
}

/// The POM with its active profiles merged in: their properties override, their dependencies
/// and dependency management replace entries of the same key or are added. A profile marked
/// `activeByDefault` is active only when no other profile of the POM is.
fn with_active_profiles(pom: Rc<Pom>) -> Rc<Pom> {
    let mut active: Vec<&Profile> = pom.profiles.iter().filter(|p| is_active(p)).collect();
    if active.is_empty() {
        active = pom
            .profiles
            .iter()
            .filter(|p| p.active_by_default)
            .collect();
    }
    if active.is_empty() {
        return pom;
    }
    let mut merged = (*pom).clone();
    merged.profiles.clear();
    for profile in active {
        merged.properties.extend(profile.properties.iter().cloned());
        for (list, added) in [
            (&mut merged.dependencies, &profile.dependencies),
            (&mut merged.managed, &profile.managed),
        ] {
            for dependency in added {
                let key = dependency.management_key();
                match list.iter_mut().find(|d| d.management_key() == key) {
                    Some(existing) => *existing = dependency.clone(),
                    None => list.push(dependency.clone()),
                }
            }
        }
    }
    Rc::new(merged)
}

/// Whether a profile's activation holds for the image (every condition it states must).
fn is_active(profile: &Profile) -> bool {
    let stated = profile.jdk.is_some() || !profile.os.is_empty() || profile.property.is_some();
    if !stated || profile.other_activation {
        return false;
    }
    let negatable = |value: &str, test: &dyn Fn(&str) -> bool| match value.strip_prefix('!') {
        Some(negated) => !test(negated),
        None => test(value),
    };
    let jdk_ok = profile.jdk.as_deref().is_none_or(|jdk| {
        negatable(jdk, &|value| {
            if value.starts_with(['[', '(']) {
                VersionRequirement::parse(value)
                    .is_ok_and(|range| range.contains(&MavenVersion::parse(JAVA_VERSION)))
            } else {
                JAVA_VERSION.starts_with(value)
            }
        })
    });
    let os_ok = profile.os.iter().all(|(key, value)| {
        negatable(value, &|value| match key.as_str() {
            "family" => value == OS_FAMILY,
            "name" => value == OS_NAME,
            "arch" => value == OS_ARCH || (value == "x86_64" && OS_ARCH == "amd64"),
            _ => false,
        })
    });
    // No system or user property is set when resolving for an image, so (as Maven's
    // `PropertyProfileActivator` decides) a value test holds only when negated (`!false`), and a
    // bare name only when negated (`!skipTests`).
    let property_ok = profile.property.as_ref().is_none_or(|(name, value)| {
        match value.as_deref().filter(|v| !v.is_empty()) {
            Some(value) => value.starts_with('!'),
            None => name.starts_with('!'),
        }
    });
    jdk_ok && os_ok && property_ok
}

/// The largest value interpolation may produce, in bytes (64 KiB): far above any real version,
/// coordinate or property, and small enough that a POM of a few hundred bytes whose properties
/// each repeat the previous one tenfold cannot make imglock allocate gigabytes. A value (or a
/// property it uses) that expands past it is an error naming the POM.
pub const MAX_EXPANDED: usize = 64 * 1024;

/// Replaces every `${name}` whose property is known, recursively; unknown ones stay as written
/// (Maven leaves them too). A property that refers back to itself, or a value that expands past
/// [`MAX_EXPANDED`], is an error. Each property is expanded once per call, so a value using
/// another many times costs what its expanded size does.
fn interpolate(
    text: &str,
    properties: &BTreeMap<String, String>,
    gav: &Gav,
) -> Result<String, ModelError> {
    let mut expansion = Expansion {
        properties,
        gav,
        active: Vec::new(),
        done: HashMap::new(),
    };
    expansion.expand(text)
}

/// The state of one interpolation: the properties being expanded (to find cycles) and those
/// already expanded.
struct Expansion<'a> {
    properties: &'a BTreeMap<String, String>,
    gav: &'a Gav,
    active: Vec<&'a str>,
    done: HashMap<&'a str, Rc<str>>,
}

impl<'a> Expansion<'a> {
    fn expand(&mut self, text: &str) -> Result<String, ModelError> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find('}') else {
                out.push_str(&rest[start..]);
                return self.bounded(out);
            };
            let name = &rest[start + 2..start + end];
            match self.properties.get_key_value(name) {
                Some((name, value)) => out.push_str(&self.property(name, value)?),
                None => out.push_str(&rest[start..start + end + 1]),
            }
            out = self.bounded(out)?;
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        self.bounded(out)
    }

    /// The expanded value of the property `name`.
    fn property(&mut self, name: &'a str, value: &'a str) -> Result<Rc<str>, ModelError> {
        if let Some(done) = self.done.get(name) {
            return Ok(done.clone());
        }
        if self.active.contains(&name) {
            return Err(ModelError::Invalid(format!(
                "{}: the property `{name}` refers to itself (through {})",
                self.gav,
                self.active.join(" → ")
            )));
        }
        self.active.push(name);
        let expanded: Rc<str> = self.expand(value)?.into();
        self.active.pop();
        self.done.insert(name, expanded.clone());
        Ok(expanded)
    }

    /// `out`, or an error if it is longer than [`MAX_EXPANDED`].
    fn bounded(&self, out: String) -> Result<String, ModelError> {
        if out.len() <= MAX_EXPANDED {
            return Ok(out);
        }
        let through = if self.active.is_empty() {
            String::new()
        } else {
            format!(" (through {})", self.active.join(" → "))
        };
        Err(ModelError::Invalid(format!(
            "the POM of {}: a value expands past 64 KiB{through}; imglock refuses interpolated \
             values larger than that: fix the properties of that POM or of its parents",
            self.gav
        )))
    }
}

#[cfg(test)]
mod tests;
