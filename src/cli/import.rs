//! The commands that write the spec for the user: `init` (a commented starter spec), `import`
//! (other tools' manifests into a new or existing spec), `add` and `remove` (one request at a
//! time, then the resolve command's own run). Each edits the spec through toml_edit and writes
//! it atomically, and only once it reads as a spec; `add` and `remove` put the old spec back
//! when the resolve fails, as `uv add` does.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::error::Error;
use crate::import::write::{WriteError, parse, read_spec, write_checked};
use crate::import::{self, ImportError, Kind, Note, starter};
use crate::package::Ecosystem;
use crate::progress::Progress;
use crate::spec::DEFAULT_SPEC;

/// The arguments of `imglock init`.
#[derive(Debug, Args)]
pub(super) struct InitArgs {
    /// The base image, a tag or `…@sha256:<digest>`.
    #[arg(long, default_value = starter::DEFAULT_BASE)]
    base: String,
    /// The spec to write (never overwritten).
    #[arg(long, default_value = DEFAULT_SPEC)]
    spec: PathBuf,
    /// The image's name [default: the spec's folder's name].
    #[arg(long)]
    name: Option<String>,
}

/// The arguments of `imglock import`.
#[derive(Debug, Args)]
pub(super) struct ImportArgs {
    /// The manifests: requirements.txt, environment.yml, renv.lock, DESCRIPTION, pom.xml,
    /// a doAzureParallel cluster.json, a Dockerfile.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The spec to write, or to add the imported layers to when it exists.
    #[arg(long, default_value = DEFAULT_SPEC)]
    spec: PathBuf,
    /// The layer the packages go to [default: one named after the format].
    #[arg(long, value_name = "NAME")]
    layer: Option<String>,
    /// Read every file as this format instead of telling by its name or content.
    #[arg(long, value_enum, value_name = "KIND")]
    from: Option<Kind>,
}

/// The arguments of `imglock add`.
#[derive(Debug, Args)]
pub(super) struct AddArgs {
    /// The requests, in the list's own grammar (`numpy>=1.26`, `ggplot2 (>= 3.4)`,
    /// `conda-forge::tini`, `org.jdbi:jdbi:2.78`…).
    #[arg(required = true)]
    requests: Vec<String>,
    /// The spec to edit.
    #[arg(long, default_value = DEFAULT_SPEC)]
    spec: PathBuf,
    /// The layer to add to (made on top when the spec has none of that name) [default: the top
    /// layer].
    #[arg(long, value_name = "NAME")]
    layer: Option<String>,
    /// The list to add to [default: the layer's one list].
    #[arg(long, value_name = "KIND", value_parser = list_kind)]
    ecosystem: Option<Ecosystem>,
    /// Edit the spec only; do not resolve it.
    #[arg(long)]
    no_resolve: bool,
}

/// The arguments of `imglock remove`.
#[derive(Debug, Args)]
pub(super) struct RemoveArgs {
    /// The packages, by name (`numpy`, `ggplot2`, `org.jdbi:jdbi`, `rAzureBatch`…).
    #[arg(required = true)]
    packages: Vec<String>,
    /// The spec to edit.
    #[arg(long, default_value = DEFAULT_SPEC)]
    spec: PathBuf,
    /// Remove from this layer only.
    #[arg(long, value_name = "NAME")]
    layer: Option<String>,
    /// Edit the spec only; do not resolve it.
    #[arg(long)]
    no_resolve: bool,
}

/// A layer's list named on the command line (`--ecosystem cran`): its ecosystem.
fn list_kind(text: &str) -> Result<Ecosystem, String> {
    // `files` entries are tables, which a command-line request is not.
    let lists = import::document::LISTS
        .into_iter()
        .filter(|e| *e != Ecosystem::File);
    let keys: Vec<&str> = lists.clone().map(import::document::list_key).collect();
    lists
        .into_iter()
        .find(|e| import::document::list_key(*e) == text)
        .ok_or_else(|| format!("one of {}", keys.join(", ")))
}

pub(super) fn init_command(args: InitArgs) -> Result<ExitCode, Error> {
    if args.spec.exists() {
        return Err(WriteError::Exists { path: args.spec }.into());
    }
    let name = args.name.unwrap_or_else(|| folder_name(&args.spec));
    let text = starter::starter_spec(&name, &args.base);
    write_checked(&args.spec, &text, None)?;
    let _ = writeln!(
        std::io::stderr(),
        "Wrote {} (image `{name}` on {})",
        args.spec.display(),
        args.base
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn import_command(args: ImportArgs) -> Result<ExitCode, Error> {
    let spec_dir = crate::files::parent_dir(&args.spec);
    let imported = import::read_files(&args.files, args.from, args.layer.as_deref(), &spec_dir)
        .map_err(WriteError::from)?;
    let mut notes = imported.notes.clone();
    let existing = args.spec.exists();
    if imported.is_empty() {
        print_notes(&notes);
        let files: Vec<String> = args
            .files
            .iter()
            .map(|f| format!("`{}`", f.display()))
            .collect();
        return Err(WriteError::from(ImportError::Nothing {
            files: files.join(", "),
        })
        .into());
    }
    let original = if existing {
        Some(read_spec(&args.spec)?)
    } else {
        None
    };
    let start = match &original {
        Some(text) => text.clone(),
        None => new_spec_text(&imported, &args.spec),
    };
    let mut doc = parse(&args.spec, &start)?;
    import::document::apply(&mut doc, &imported, &mut notes);
    write_checked(&args.spec, &doc.to_string(), original.as_deref())?;
    print_notes(&notes);
    let layers = imported.layers.iter().filter(|l| !l.is_empty()).count();
    let verb = if existing { "Updated" } else { "Wrote" };
    let _ = writeln!(
        std::io::stderr(),
        "{verb} {} ({} imported, {})",
        args.spec.display(),
        counted(layers, "layer"),
        counted(notes.len(), "note")
    );
    Ok(ExitCode::SUCCESS)
}

/// The starter spec a new import begins from: the imported image's name and base, else the
/// folder's name and a base for what it installs.
fn new_spec_text(imported: &import::Imported, spec: &Path) -> String {
    let text = |key: &str| {
        imported.image.iter().find_map(|(k, v)| match v {
            import::Setting::Text(text) if k == key => Some(text.clone()),
            _ => None,
        })
    };
    let name = text("name").unwrap_or_else(|| folder_name(spec));
    let base = text("base").unwrap_or_else(|| import::default_base(imported));
    starter::header(&name, &base)
}

pub(super) fn add_command(
    args: AddArgs,
    verbose: bool,
    progress: Progress,
) -> Result<ExitCode, Error> {
    let (original, added) = edit_spec(&args.spec, |doc| {
        import::edit::add(doc, args.layer.as_deref(), args.ecosystem, &args.requests)
    })?;
    for a in &added {
        let what = match &a.replaced {
            Some(old) => format!("replaced {old} with"),
            None => "added".to_string(),
        };
        let list = import::document::list_key(a.ecosystem);
        let _ = writeln!(
            std::io::stderr(),
            "{what} \"{}\" in layer `{}` ({list})",
            a.request,
            a.layer
        );
    }
    resolve_or_restore(&args.spec, &original, args.no_resolve, verbose, progress)
}

pub(super) fn remove_command(
    args: RemoveArgs,
    verbose: bool,
    progress: Progress,
) -> Result<ExitCode, Error> {
    let (original, removed) = edit_spec(&args.spec, |doc| {
        import::edit::remove(doc, args.layer.as_deref(), &args.packages)
    })?;
    for (layer, request) in &removed {
        let _ = writeln!(std::io::stderr(), "removed {request} from layer `{layer}`");
    }
    resolve_or_restore(&args.spec, &original, args.no_resolve, verbose, progress)
}

/// Applies `edit` to the spec's document and writes it (once it reads as a spec): the spec's
/// text before, and what `edit` said.
fn edit_spec<T>(
    spec: &Path,
    edit: impl FnOnce(&mut toml_edit::DocumentMut) -> Result<T, import::edit::EditError>,
) -> Result<(String, T), WriteError> {
    let original = read_spec(spec)?;
    let mut doc = parse(spec, &original)?;
    let said = edit(&mut doc)?;
    write_checked(spec, &doc.to_string(), Some(&original))?;
    Ok((original, said))
}

/// Runs `imglock resolve` on the edited spec; puts `original` back when it fails.
fn resolve_or_restore(
    spec: &Path,
    original: &str,
    no_resolve: bool,
    verbose: bool,
    progress: Progress,
) -> Result<ExitCode, Error> {
    if no_resolve {
        return Ok(ExitCode::SUCCESS);
    }
    let args = super::ResolveArgs {
        spec: spec.to_path_buf(),
        lock: None,
        offline: false,
        refresh: false,
        upgrade: false,
        upgrade_package: Vec::new(),
        exclude_newer: None,
        no_build: false,
        no_build_package: Vec::new(),
        dry_run: false,
        locked: false,
        frozen: false,
    };
    match super::resolve_command(args, verbose, progress) {
        Ok(code) => Ok(code),
        Err(error) => {
            crate::files::write_atomic(spec, original.as_bytes()).map_err(|source| {
                WriteError::Write {
                    path: spec.to_path_buf(),
                    source,
                }
            })?;
            let _ = writeln!(
                std::io::stderr(),
                "{} put back as it was: the edit did not resolve",
                spec.display()
            );
            Err(error)
        }
    }
}

/// `1 layer`, `2 layers`.
fn counted(count: usize, what: &str) -> String {
    match count {
        1 => format!("1 {what}"),
        _ => format!("{count} {what}s"),
    }
}

/// What was left out, one line each, on stderr.
fn print_notes(notes: &[Note]) {
    let mut stderr = std::io::stderr();
    for note in notes {
        let _ = writeln!(stderr, "note: {note}");
    }
}

/// The name of the folder `spec` is in (`image` when it has none).
fn folder_name(spec: &Path) -> String {
    std::path::absolute(spec)
        .ok()
        .and_then(|p| {
            p.parent()?
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "image".to_string())
}
