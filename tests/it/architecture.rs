//! The shape of `src/`, checked: no two modules import each other (directly or around a
//! cycle), and no ecosystem's name is spelled as a string outside its own folder, the lock's
//! format and the spec's format. A new ecosystem that breaks either is pointed at here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every module of the library: its path (`crate::a::b`) and its source, without its tests.
fn modules() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                out.insert(module_path(&src, &path), code.to_string());
            }
        }
    }
    out.remove("crate::main");
    out
}

/// `src/a/b.rs` and `src/a/b/mod.rs` → `crate::a::b`; `src/lib.rs` → `crate`.
fn module_path(src: &Path, file: &Path) -> String {
    let relative: PathBuf = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    std::iter::once("crate".to_string())
        .chain(parts)
        .collect::<Vec<_>>()
        .join("::")
}

/// The modules `code` (of module `from`) names through `crate::`, `super::` or `self::` paths,
/// each resolved to the deepest module that exists.
fn imports(from: &str, code: &str, known: &BTreeSet<&str>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        for (root, base) in [
            ("crate::", "crate".to_string()),
            ("super::", parent(from)),
            ("self::", from.to_string()),
        ] {
            let mut rest = line;
            while let Some(at) = rest.find(root) {
                let preceded = rest[..at].chars().next_back();
                rest = &rest[at + root.len()..];
                if preceded.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let path: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let mut candidate = base.clone();
                let mut deepest = base.clone();
                for part in path.split("::").filter(|p| !p.is_empty()) {
                    candidate = format!("{candidate}::{part}");
                    if known.contains(candidate.as_str()) {
                        deepest = candidate.clone();
                    } else {
                        break;
                    }
                }
                out.insert(deepest);
            }
        }
    }
    out
}

/// The module `super` names from `module`.
fn parent(module: &str) -> String {
    module
        .rsplit_once("::")
        .map_or("crate".to_string(), |(p, _)| p.to_string())
}

/// Whether `a` is `b` or inside it.
fn within(a: &str, b: &str) -> bool {
    a == b || a.starts_with(&format!("{b}::"))
}

#[test]
fn no_module_imports_itself_around_a_cycle() {
    let modules = modules();
    let known: BTreeSet<&str> = modules.keys().map(String::as_str).collect();
    // A module's use of its own folder (a parent) is the folder's business: not an edge.
    let edges: BTreeMap<&str, BTreeSet<String>> = modules
        .iter()
        .map(|(module, code)| {
            let targets = imports(module, code, &known)
                .into_iter()
                .filter(|target| target != "crate" && !within(module, target))
                .collect();
            (module.as_str(), targets)
        })
        .collect();
    let mut cycles = Vec::new();
    for start in edges.keys() {
        if let Some(path) = path_back(start, &edges) {
            cycles.push(path.join(" → "));
        }
    }
    assert!(
        cycles.is_empty(),
        "module cycles (each module imports the next):\n{}",
        cycles.join("\n")
    );
}

/// A path of imports from `start` back to `start`, if there is one.
fn path_back(start: &str, edges: &BTreeMap<&str, BTreeSet<String>>) -> Option<Vec<String>> {
    let mut stack: Vec<Vec<String>> = vec![vec![start.to_string()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap();
        for next in edges.get(last.as_str()).into_iter().flatten() {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(next.clone());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push(longer);
            }
        }
    }
    None
}

#[test]
fn ecosystem_names_are_spelled_only_in_their_folders_and_the_file_formats() {
    // The lock's and the spec's formats name every ecosystem's keys; `package` spells the
    // `Ecosystem` values as the lock writes them.
    let formats = [
        "crate::lock::wire",
        "crate::lock::write",
        "crate::lock",
        "crate::spec::wire",
        "crate::package",
    ];
    let folders = ["cran", "pypi", "conda", "maven"];
    let names = ["cran", "bioconductor", "github", "pypi", "conda", "maven"];
    let mut found = Vec::new();
    for (module, code) in modules() {
        let own = folders
            .iter()
            .any(|folder| within(&module, &format!("crate::{folder}")));
        if own || formats.contains(&module.as_str()) {
            continue;
        }
        for name in names {
            for quoted in [format!("\"{name}\""), format!("\"{name}-")] {
                if code.contains(&quoted) {
                    found.push(format!("{module}: {quoted}"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "ecosystem names spelled outside their folders:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let modules = BTreeMap::from([
        ("crate::a".to_string(), "use crate::b::Thing;".to_string()),
        (
            "crate::b".to_string(),
            "fn f() { crate::a::g() }".to_string(),
        ),
        ("crate::c".to_string(), "use super::a;".to_string()),
    ]);
    let known: BTreeSet<&str> = modules.keys().map(String::as_str).collect();
    let edges: BTreeMap<&str, BTreeSet<String>> = modules
        .iter()
        .map(|(m, code)| (m.as_str(), imports(m, code, &known)))
        .collect();
    assert_eq!(
        path_back("crate::a", &edges).unwrap(),
        ["crate::a", "crate::b", "crate::a"]
    );
    assert_eq!(path_back("crate::c", &edges), None);
    assert!(edges["crate::c"].contains("crate::a"));
}

#[test]
fn no_function_is_longer_than_80_lines() {
    let mut long = Vec::new();
    for (module, code) in modules() {
        let lines: Vec<&str> = code.lines().collect();
        for (start, line) in lines.iter().enumerate() {
            let Some(indent) = function_start(line) else {
                continue;
            };
            if line.trim_end().ends_with('}') || line.trim_end().ends_with(';') {
                continue;
            }
            let close = format!("{indent}}}");
            let end = (start..lines.len())
                .find(|&i| lines[i] == close)
                .unwrap_or(lines.len() - 1);
            if end - start + 1 > 80 {
                long.push(format!(
                    "{module}: {} lines: {}",
                    end - start + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over 80 lines:\n{}",
        long.join("\n")
    );
}

/// The indentation of a line that starts a function (as rustfmt lays it out), if it does.
fn function_start(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    let mut rest = trimmed;
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    rest.starts_with("fn ").then_some(indent)
}
