//! pip's requirements files, as `uv pip compile` and `pip install -r` read them: one PEP 508
//! requirement a line (markers kept), `\` continuations, `#` comments, `-r`/`-c` includes
//! relative to the including file, `--index-url`/`--extra-index-url` as the PyPI repositories.
//! `--hash` values and other options have no place in a spec (the lock pins each file's sha256
//! itself): each is noted.

use std::path::{Path, PathBuf};

use super::{Entry, ImportError, Imported, Source};
use crate::package::Ecosystem;

/// What one requirements file (and its includes) said.
pub fn read(source: &Source) -> Result<Imported, ImportError> {
    let mut imported = Imported::default();
    let mut reader = Reader {
        imported: &mut imported,
        layer: source.layer,
        open: Vec::new(),
    };
    reader.file(source.path, source.text, Include::Requirements)?;
    Ok(imported)
}

/// How a file was included: its lines are requirements (`-r`) or constraints (`-c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Include {
    Requirements,
    Constraints,
}

struct Reader<'a> {
    imported: &'a mut Imported,
    layer: &'a str,
    /// The files being read, to refuse an include cycle.
    open: Vec<PathBuf>,
}

impl Reader<'_> {
    fn file(&mut self, path: &Path, text: &str, include: Include) -> Result<(), ImportError> {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if self.open.contains(&canonical) {
            return Err(ImportError::IncludeCycle {
                path: path.to_path_buf(),
            });
        }
        self.open.push(canonical);
        for (line_number, line) in super::shell::logical_lines(text) {
            let place = format!("{}:{line_number}", path.display());
            self.line(path, &place, &line, include)?;
        }
        self.open.pop();
        Ok(())
    }

    fn line(
        &mut self,
        path: &Path,
        place: &str,
        line: &str,
        include: Include,
    ) -> Result<(), ImportError> {
        let line = strip_comment(line);
        if line.is_empty() {
            return Ok(());
        }
        if line.starts_with('-') {
            return self.option(path, place, line, include);
        }
        let (requirement, hashes) = split_hashes(line);
        if hashes {
            self.imported.note(
                place,
                line,
                "`--hash` not kept: the lock pins every file's sha256 itself",
            );
        }
        if let Err(error) = requirement.parse::<pep508_rs::Requirement>() {
            let reason = format!(
                "not a PEP 508 requirement ({}); add it by hand",
                super::first_line(error)
            );
            self.imported.note(place, requirement, &reason);
            return Ok(());
        }
        match include {
            Include::Requirements => {
                let entry = Entry::Plain(requirement.to_string());
                self.imported.layer(self.layer).push(Ecosystem::Pypi, entry);
            }
            Include::Constraints => self.imported.note(
                place,
                requirement,
                "a constraint, not a request: a spec has no constraints; \
                 write the version into the requirement that needs it",
            ),
        }
        Ok(())
    }

    fn option(
        &mut self,
        path: &Path,
        place: &str,
        line: &str,
        include: Include,
    ) -> Result<(), ImportError> {
        let (flag, value) = split_option(line);
        // What a constraints file includes with `-r` is constraints too.
        let requirements = include;
        let pypi = Ecosystem::Pypi.as_str();
        match (flag, value) {
            ("-r" | "--requirement", Some(file)) => self.include(path, file, requirements),
            ("-c" | "--constraint", Some(file)) => self.include(path, file, Include::Constraints),
            ("-i" | "--index-url", Some(url)) => {
                self.imported.add_repository(pypi, url);
                Ok(())
            }
            ("--extra-index-url", Some(url)) => {
                self.imported.add_repository(pypi, url);
                self.imported.note(
                    place,
                    line,
                    "an extra index is listed after the others: imglock takes each project \
                     from the first index that has it (uv's `first-index`), not the newest of all",
                );
                Ok(())
            }
            _ => {
                self.imported
                    .note(place, line, "a pip option a spec has no place for");
                Ok(())
            }
        }
    }

    fn include(&mut self, from: &Path, file: &str, include: Include) -> Result<(), ImportError> {
        let path = crate::files::parent_dir(from).join(file);
        let text = super::read_text(&path)?;
        self.file(&path, &text, include)
    }
}

/// The line without a `#` comment (one at its start or after whitespace, as pip reads it).
fn strip_comment(line: &str) -> &str {
    let cut = line
        .char_indices()
        .find(|&(i, c)| c == '#' && (i == 0 || line[..i].ends_with(char::is_whitespace)))
        .map_or(line.len(), |(i, _)| i);
    line[..cut].trim()
}

/// A requirement line without its `--hash=…` options, and whether it had any.
fn split_hashes(line: &str) -> (&str, bool) {
    match line.find("--hash") {
        Some(cut) => (line[..cut].trim(), true),
        None => (line, false),
    }
}

/// `-r file`, `--requirement=file`, `-rfile` → the flag and its value.
fn split_option(line: &str) -> (&str, Option<&str>) {
    if let Some((flag, value)) = line.split_once('=').filter(|(f, _)| f.starts_with("--")) {
        return (flag.trim(), Some(value.trim()));
    }
    match line.split_once(char::is_whitespace) {
        Some((flag, value)) => (flag, Some(value.trim())),
        None if line.len() > 2 && !line.starts_with("--") => (&line[..2], Some(&line[2..])),
        None => (line, None),
    }
}
