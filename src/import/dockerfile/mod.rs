//! A Dockerfile read into a spec: `FROM` → the base image; each `RUN` that installs packages
//! (apt-get, pip, conda/mamba, R's `install.packages`, `BiocManager::install`,
//! `remotes::install_github`, littler's `install2.r`, `curl -O`/`wget` of a URL) → a layer of
//! its own holding them; `ENV`, `WORKDIR`, `COPY`, `USER` and every other `RUN` command → custom
//! steps in order (a step follows its layer's packages, so what comes before an install goes to
//! the layer below); `ENTRYPOINT`/`CMD` → the image's. The install plumbing imglock does itself
//! (`apt-get update`, clearing caches) and every instruction a spec cannot hold (`ARG`,
//! `LABEL`, `EXPOSE`, a second stage…) are noted.

mod r_calls;
mod run;

use std::path::{Path, PathBuf};

use super::{Entry, ImportError, Imported, Setting, Source, Step};
use crate::package::Ecosystem;

/// What a command is to the spec.
pub enum Meaning {
    /// Packages for a layer.
    Packages(Vec<(Ecosystem, Entry)>),
    /// Plumbing imglock's own install steps do: left out, with why.
    Plumbing(&'static str),
    /// Anything else: kept as a `run` step.
    Kept,
}

/// What a command is read against.
pub struct Context<'a> {
    /// Where repositories and notes go.
    pub imported: &'a mut Imported,
    /// `Dockerfile:line` of the `RUN`.
    pub place: &'a str,
    /// The working directory at the `RUN`.
    pub workdir: &'a str,
    /// The build context (the Dockerfile's folder), for `pip install -r FILE`.
    pub context_dir: PathBuf,
}

/// What one Dockerfile said.
pub fn read(source: &Source) -> Result<Imported, ImportError> {
    let mut builder = Builder {
        imported: Imported::default(),
        source,
        current: None,
        workdir: String::from("/"),
        stages: 0,
    };
    for (line, text) in instructions(source.text) {
        builder.instruction(line, &text)?;
    }
    Ok(builder.imported)
}

/// The instructions of a Dockerfile, continuations joined and comments dropped, each with its
/// first line's number.
fn instructions(text: &str) -> Vec<(usize, String)> {
    super::shell::logical_lines(text)
        .into_iter()
        .map(|(number, line)| (number, line.trim().to_string()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .collect()
}

/// The layers being built, and where the Dockerfile stands.
struct Builder<'a> {
    imported: Imported,
    source: &'a Source<'a>,
    /// The layer steps go to now, once there is one.
    current: Option<String>,
    /// The working directory the Dockerfile has set (for `curl -O`).
    workdir: String,
    /// How many `FROM`s were met.
    stages: usize,
}

impl Builder<'_> {
    fn instruction(&mut self, line: usize, text: &str) -> Result<(), ImportError> {
        let place = self.source.at(line);
        let (keyword, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        let rest = rest.trim();
        if self.stages > 1 {
            self.imported.note(
                &place,
                text,
                "in a later build stage: import the stage you ship as its own Dockerfile",
            );
            return Ok(());
        }
        match keyword.to_ascii_uppercase().as_str() {
            "FROM" => self.from(&place, rest),
            "ENV" => self.env(&place, rest),
            "WORKDIR" => {
                self.workdir = rest.to_string();
                self.step(Step::Workdir(rest.to_string()));
            }
            "USER" => self.step(Step::User(rest.to_string())),
            "COPY" | "ADD" => self.copy(&place, text, rest),
            "RUN" => self.run(&place, rest)?,
            "ENTRYPOINT" | "CMD" => self.command(&place, keyword, rest),
            _ => self
                .imported
                .note(&place, text, "an instruction a spec has no place for"),
        }
        Ok(())
    }

    fn from(&mut self, place: &str, rest: &str) {
        self.stages += 1;
        if self.stages > 1 {
            let text = format!("FROM {rest}");
            self.imported.note(
                place,
                &text,
                "a second build stage: only the first is imported",
            );
            return;
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        let image = words
            .iter()
            .find(|w| !w.starts_with("--"))
            .copied()
            .unwrap_or_default();
        if words.len() > 1 {
            self.imported.note(
                place,
                &format!("FROM {rest}"),
                "kept the image only (flags and `AS name` have no place in a spec)",
            );
        }
        self.imported.set_base(image, place);
    }

    fn env(&mut self, place: &str, rest: &str) {
        let words = super::shell::words(rest).unwrap_or_default();
        let pairs: Vec<(String, String)> = if words.iter().all(|w| w.contains('=')) {
            let pairs = words.iter().filter_map(|w| w.split_once('='));
            pairs.map(|(k, v)| (k.to_string(), v.to_string())).collect()
        } else {
            match rest.split_once(char::is_whitespace) {
                Some((name, value)) => vec![(name.to_string(), value.trim().to_string())],
                None => Vec::new(),
            }
        };
        if pairs.is_empty() {
            self.imported
                .note(place, &format!("ENV {rest}"), "not understood");
        } else {
            self.step(Step::Env(pairs));
        }
    }

    fn copy(&mut self, place: &str, text: &str, rest: &str) {
        let words = super::shell::words(rest).unwrap_or_default();
        let (flags, paths): (Vec<&String>, Vec<&String>) =
            words.iter().partition(|w| w.starts_with("--"));
        if let ([url, to], true) = (paths.as_slice(), text.starts_with("ADD"))
            && (url.starts_with("https://") || url.starts_with("http://"))
        {
            let entry = Entry::Table(vec![
                ("url".to_string(), Setting::Text(url.to_string())),
                ("target".to_string(), Setting::Text(to.to_string())),
            ]);
            self.install(None, vec![(Ecosystem::File, entry)]);
            return;
        }
        let ([source, to], true) = (paths.as_slice(), flags.is_empty()) else {
            self.imported.note(
                place,
                text,
                "only `COPY SOURCE DEST` of one file is a spec's `copy` step; copy it by hand",
            );
            return;
        };
        match self.copy_source(source) {
            Some(relative) => self.step(Step::Copy { source: relative, to: to.to_string() }),
            None => self.imported.note(place, text, "its source is not a file below the spec's folder; copy it there and add a `copy` step"),
        }
    }

    /// A copy source of the build context as the spec's folder sees it, when it is a file there.
    fn copy_source(&self, source: &str) -> Option<String> {
        let context = crate::files::parent_dir(self.source.path);
        let file = context.join(source);
        if !file.is_file() || source.starts_with("http") {
            return None;
        }
        let spec_dir = absolute(self.source.spec_dir);
        let relative = pathdiff::diff_paths(absolute(&file), spec_dir)?;
        let text = relative.to_str()?.to_string();
        crate::custom_steps::check_spec_source(&text)
            .ok()
            .map(|()| text)
    }

    fn command(&mut self, place: &str, keyword: &str, rest: &str) {
        let key = keyword.to_ascii_lowercase();
        let words = match serde_json::from_str::<Vec<String>>(rest) {
            Ok(words) => words,
            Err(_) => vec!["/bin/sh".to_string(), "-c".to_string(), rest.to_string()],
        };
        self.imported.set_image(&key, Setting::Words(words), place);
    }

    fn run(&mut self, place: &str, rest: &str) -> Result<(), ImportError> {
        let mut rest = rest;
        while let Some(flag) = rest
            .split_whitespace()
            .next()
            .filter(|w| w.starts_with("--"))
        {
            let reason = "a build flag of `RUN`: imglock's steps need none; add it by hand";
            self.imported.note(place, &format!("RUN {flag}"), reason);
            rest = rest[flag.len()..].trim_start();
        }
        let line = match serde_json::from_str::<Vec<String>>(rest) {
            Ok(words) => words.join(" "),
            Err(_) => rest.to_string(),
        };
        let mut kept: Vec<String> = Vec::new();
        let mut layer: Option<String> = None;
        for command in super::shell::commands(&line) {
            let mut context = Context {
                imported: &mut self.imported,
                place,
                workdir: &self.workdir,
                context_dir: crate::files::parent_dir(self.source.path),
            };
            match run::classify(&command, &mut context)? {
                Meaning::Kept => kept.push(command),
                Meaning::Plumbing(reason) => self.imported.note(place, &command, reason),
                Meaning::Packages(packages) => {
                    self.flush(&mut kept);
                    layer = Some(self.install(layer.take(), packages));
                }
            }
        }
        self.flush(&mut kept);
        Ok(())
    }

    /// Puts `packages` into `layer` (this instruction's, while no step follows its packages),
    /// else into a new layer; the layer's name.
    fn install(&mut self, layer: Option<String>, packages: Vec<(Ecosystem, Entry)>) -> String {
        let name = match layer {
            Some(name) if !self.has_steps(&name) => name,
            _ => self.new_layer(packages.first().map(|p| p.0)),
        };
        for (ecosystem, entry) in packages {
            self.imported.layer(&name).push(ecosystem, entry);
        }
        name
    }

    /// The commands in `kept` as one `run` step of the current layer.
    fn flush(&mut self, kept: &mut Vec<String>) {
        if !kept.is_empty() {
            self.step(Step::Run(kept.join(" && ")));
            kept.clear();
        }
    }

    fn has_steps(&self, name: &str) -> bool {
        self.imported
            .layers
            .iter()
            .any(|l| l.name == name && !l.steps.is_empty())
    }

    /// Starts a layer for packages of `ecosystem`, named after it (`-2`, `-3`… when taken).
    fn new_layer(&mut self, ecosystem: Option<Ecosystem>) -> String {
        let stem = match ecosystem {
            Some(Ecosystem::Apt) => "system",
            Some(Ecosystem::Pypi) => "python",
            Some(Ecosystem::Conda) => "environment",
            Some(Ecosystem::Maven | Ecosystem::File) => "downloads",
            Some(_) => "r-packages",
            None => self.source.layer,
        };
        let taken = |name: &str| self.imported.layers.iter().any(|l| l.name == name);
        let name = (1..)
            .map(|n| {
                if n == 1 {
                    stem.to_string()
                } else {
                    format!("{stem}-{n}")
                }
            })
            .find(|name| !taken(name))
            .unwrap_or_default();
        self.imported.layer(&name);
        self.current = Some(name.clone());
        name
    }

    /// Appends `step` to the current layer (a first layer of steps is made when there is none).
    fn step(&mut self, step: Step) {
        let name = match &self.current {
            Some(name) => name.clone(),
            None => self.new_layer(None),
        };
        self.imported.layer(&name).steps.push(step);
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
