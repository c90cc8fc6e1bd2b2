//! The R code of `R -e "…"` / `Rscript -e "…"`: its top-level calls, each an install imglock
//! takes over — `install.packages(pkgs, repos = …)`, `BiocManager::install(pkgs, version =
//! …)`, `BiocInstaller::biocLite(pkgs)`, `remotes::install_github(repo, ref = …, subdir = …)`
//! (or devtools'), `remotes::install_version(pkg, version = …)` — or not; the calls that are
//! not are kept as a `run` step of their own (`Rscript -e '…'`).

use super::super::{Entry, Setting};
use super::{Context, Meaning};
use crate::package::Ecosystem;

/// CRAN mirrors that are CRAN itself (a package from one of them needs no repository of its
/// own).
const CRAN_MIRRORS: [&str; 4] = [
    "cloud.r-project.org",
    "cran.r-project.org",
    "cran.rstudio.com",
    "cran.us.r-project.org",
];

/// `R [flags] -e EXPR…` or `Rscript [flags] -e EXPR…`.
pub fn r_command(args: &[String], context: &mut Context) -> Meaning {
    let expressions: Vec<&String> = args
        .windows(2)
        .filter(|w| w[0] == "-e")
        .map(|w| &w[1])
        .collect();
    if expressions.is_empty() {
        return Meaning::Kept;
    }
    let mut packages = Vec::new();
    let mut others = Vec::new();
    for expression in expressions {
        for call in calls(expression) {
            match install(&call, context) {
                Some(found) => packages.extend(found),
                None => others.push(call),
            }
        }
    }
    if others.is_empty() {
        return Meaning::Packages(packages);
    }
    if !packages.is_empty() {
        let text = others.join("; ");
        context.imported.note(context.place, &text, "R code beside the installs: not kept (the installs are); add a `run` step if the image needs it");
        return Meaning::Packages(packages);
    }
    Meaning::Kept
}

/// The top-level calls of R code, split at `;` and line breaks outside strings and brackets.
fn calls(code: &str) -> Vec<String> {
    split_top(code, |c| c == ';' || c == '\n')
}

/// An argument of an R call: its name (none when positional) and its code.
type Argument = (Option<String>, String);

/// One call's function (namespace dropped) and arguments.
fn parse_call(call: &str) -> Option<(&str, Vec<Argument>)> {
    let open = call.find('(')?;
    let inner = call[open + 1..].strip_suffix(')')?;
    let function = call[..open].trim();
    let function = function.rsplit("::").next().unwrap_or(function);
    let args = split_top(inner, |c| c == ',')
        .into_iter()
        .map(|arg| match split_named(&arg) {
            Some((name, value)) => (Some(name), value),
            None => (None, arg),
        })
        .collect();
    Some((function, args))
}

/// `text` split where `separator` holds outside strings and brackets, each part trimmed.
fn split_top(text: &str, separator: impl Fn(char) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth -= 1,
            (None, c) if separator(c) && depth == 0 => {
                out.push(std::mem::take(&mut current).trim().to_string());
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current.trim().to_string());
    out.into_iter().filter(|p| !p.is_empty()).collect()
}

/// `name = value` → its parts (not `==`).
fn split_named(arg: &str) -> Option<(String, String)> {
    let (name, value) = arg.split_once('=')?;
    let name = name.trim();
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '_');
    (plain && !value.starts_with('=')).then(|| (name.to_string(), value.trim().to_string()))
}

/// The strings of `'a'` or `c("a", "b")`, or `None` when it is anything else.
fn strings(value: &str) -> Option<Vec<String>> {
    let value = value.trim();
    let items = match value.strip_prefix("c(").and_then(|v| v.strip_suffix(')')) {
        Some(inner) => split_top(inner, |c| c == ','),
        None => vec![value.to_string()],
    };
    items
        .iter()
        .map(|item| {
            let item = item.trim();
            let quote = item.chars().next().filter(|c| *c == '\'' || *c == '"')?;
            item.strip_prefix(quote)?
                .strip_suffix(quote)
                .map(str::to_string)
        })
        .collect()
}

/// The packages an install call asks for, or `None` when the call is not one.
fn install(call: &str, context: &mut Context) -> Option<Vec<(Ecosystem, Entry)>> {
    let (function, args) = parse_call(call)?;
    let named = |name: &str| {
        args.iter()
            .find(|(n, _)| n.as_deref() == Some(name))
            .map(|(_, v)| v.clone())
    };
    let first = args
        .iter()
        .find(|(n, _)| n.is_none())
        .map(|(_, v)| v.clone())
        .or_else(|| named("pkgs"))
        .or_else(|| named("repo"))
        .or_else(|| named("package"))?;
    let names = strings(&first)?;
    match function {
        "install.packages" => Some(cran(
            names,
            named("repos").and_then(|r| strings(&r)),
            context,
        )),
        "install" | "biocLite" => {
            if let Some(version) = named("version")
                .and_then(|v| strings(&v))
                .and_then(|v| v.into_iter().next())
            {
                context.imported.set_repository(
                    Ecosystem::Bioconductor.as_str(),
                    &version,
                    context.place,
                );
            }
            Some(
                names
                    .into_iter()
                    .map(|n| (Ecosystem::Bioconductor, Entry::Plain(n)))
                    .collect(),
            )
        }
        "install_github" => {
            let text = |key: &str| {
                named(key)
                    .and_then(|v| strings(&v))
                    .and_then(|v| v.into_iter().next())
            };
            let (subdir, reference) = (text("subdir"), text("ref"));
            Some(
                names
                    .into_iter()
                    .map(|repo| {
                        let mut entry = repo;
                        if let Some(subdir) = &subdir {
                            entry = format!("{entry}/{subdir}");
                        }
                        if let Some(reference) = &reference {
                            entry = format!("{entry}@{reference}");
                        }
                        (Ecosystem::Github, Entry::Plain(entry))
                    })
                    .collect(),
            )
        }
        "install_version" => {
            let version = named("version")
                .and_then(|v| strings(&v))
                .and_then(|v| v.into_iter().next())?;
            Some(
                names
                    .into_iter()
                    .map(|n| (Ecosystem::Cran, Entry::Plain(format!("{n} (== {version})"))))
                    .collect(),
            )
        }
        _ => None,
    }
}

/// `install.packages(names, repos = …)`: each name, from its own repository unless that is a
/// CRAN mirror; installers imglock does without left out and noted.
fn cran(
    names: Vec<String>,
    repos: Option<Vec<String>>,
    context: &mut Context,
) -> Vec<(Ecosystem, Entry)> {
    let repository = repos
        .and_then(|r| r.into_iter().next())
        .filter(|url| !CRAN_MIRRORS.iter().any(|m| url.contains(m)))
        .map(|url| url.trim_end_matches('/').to_string());
    let mut out = Vec::new();
    for name in names {
        if ["BiocManager", "BiocInstaller", "remotes", "devtools"].contains(&name.as_str()) {
            let text = format!("install.packages('{name}')");
            context.imported.note(
                context.place,
                &text,
                "an installer imglock does without; `imglock add` it if the image needs it",
            );
            continue;
        }
        out.push((
            Ecosystem::Cran,
            match &repository {
                Some(url) => Entry::Table(vec![
                    ("name".to_string(), Setting::Text(name)),
                    ("repository".to_string(), Setting::Text(url.clone())),
                ]),
                None => Entry::Plain(name),
            },
        ));
    }
    out
}
