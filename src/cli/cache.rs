//! `imglock cache`: both caches. The local cache of downloads and indexes (`dir`, `clean`, and
//! `prune` without `--binary-cache`: [`crate::fetch::Cache::prune`] says what it removes), and
//! the shared R binary cache of `emit --binary-cache`, an OCI registry repository: which entries
//! a lock needs and whether it holds them (`list`), deleting what no lock needs (`prune
//! --binary-cache`), and filling it for a lock (`warm`: the lock's image built once here, with
//! push credentials, by buildah or docker, so that every other builder pulls instead of compiling).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

use super::{Format, exit_code};
use crate::cran::binary_cache::registry::{CacheError, CacheRegistry, Listed};
use crate::cran::binary_cache::{SECRET_ID, entries};
use crate::emit::{DockerfileOptions, EmitOptions, emit};
use crate::error::Error;

/// `imglock cache`: the local cache (where it is, cleaning and pruning it) and the shared R
/// binary cache (what it holds for locks, pruning and warming it).
#[derive(Debug, Subcommand)]
pub(super) enum CacheCommand {
    /// Print the local cache's folder (`--cache-dir`, else $IMGLOCK_CACHE_DIR, else `imglock`
    /// under the user's cache folder).
    Dir,
    /// Remove the local cache, everything in it; say how many files and bytes were removed.
    Clean,
    /// List the shared binary cache's entries a lock's R packages need and whether it has them;
    /// exit 1 when any is missing.
    List {
        #[command(flatten)]
        cache: CacheArgs,
        /// The lock whose R packages are listed.
        #[arg(long, default_value = crate::lock::DEFAULT_LOCK)]
        lock: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Without --binary-cache: remove from the local cache only what no run can use (temporaries
    /// of killed runs, 404s remembered over a day ago, damaged entries, records of blobs that
    /// are gone), keeping every body and blob: safe while imglock runs. With --binary-cache:
    /// delete the shared cache's entries no given lock needs (with --older-than, only those
    /// pushed longer ago).
    Prune {
        /// The shared binary cache to prune: oci://HOST/REPOSITORY.
        #[arg(long, value_name = "URL")]
        binary_cache: Option<crate::cran::binary_cache::CacheLocation>,
        /// With --binary-cache: a file holding one line USER:PASSWORD.
        #[arg(long, value_name = "FILE", requires = "binary_cache")]
        credentials: Option<PathBuf>,
        /// With --binary-cache: a lock whose entries are kept (repeatable).
        #[arg(long = "keep", value_name = "LOCK", requires = "binary_cache")]
        keep: Vec<PathBuf>,
        /// With --binary-cache: delete only entries pushed more than DAYS days ago.
        #[arg(long, value_name = "DAYS", requires = "binary_cache")]
        older_than: Option<u64>,
        /// Say what would be deleted, delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Fill the shared binary cache with every R binary a lock needs: build the lock's image once, here, with
    /// push credentials (each package the cache lacks is compiled and pushed), then list.
    Warm {
        #[command(flatten)]
        cache: CacheArgs,
        /// The lock whose R packages are built.
        #[arg(long, default_value = crate::lock::DEFAULT_LOCK)]
        lock: PathBuf,
        /// The builder that runs the build.
        #[arg(long, value_enum, default_value_t = Builder::Buildah)]
        builder: Builder,
        /// Build up to N R packages of a step at once (as `emit --jobs`).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        jobs: Option<u32>,
    },
}

/// Where the shared binary cache is and how to log in to it.
#[derive(Debug, Args)]
pub(super) struct CacheArgs {
    /// The cache: oci://HOST/REPOSITORY.
    #[arg(long, value_name = "URL")]
    binary_cache: crate::cran::binary_cache::CacheLocation,
    /// A file holding one line USER:PASSWORD (the file builds get as the secret imglock-cache).
    #[arg(long, value_name = "FILE")]
    credentials: Option<PathBuf>,
}

impl CacheArgs {
    /// A client of the cache, logged in with the credentials given, if any.
    fn registry(&self) -> Result<CacheRegistry, CacheError> {
        CacheRegistry::new(self.binary_cache.clone(), self.credentials.as_deref())
    }
}

/// The program that builds the image when the cache is warmed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum Builder {
    /// `buildah bud --layers`.
    Buildah,
    /// `docker build` (BuildKit).
    Docker,
}

pub(super) fn cache_command(command: CacheCommand) -> Result<ExitCode, Error> {
    match command {
        CacheCommand::List {
            cache,
            lock,
            format,
        } => {
            let lock = crate::lock::Lock::read(&lock)?;
            let registry = cache.registry()?;
            let listed = registry.list(entries(&lock))?;
            print_listed(&listed, format);
            Ok(exit_code(listed.iter().all(|l| l.present)))
        }
        CacheCommand::Dir => {
            let cache = crate::fetch::Cache::from_env();
            let _ = writeln!(std::io::stdout(), "{}", cache.root().display());
            Ok(ExitCode::SUCCESS)
        }
        CacheCommand::Clean => clean(),
        CacheCommand::Prune {
            binary_cache: None,
            dry_run,
            ..
        } => prune_local(dry_run),
        CacheCommand::Prune {
            binary_cache: Some(binary_cache),
            credentials,
            keep,
            older_than,
            dry_run,
        } => {
            let cache = CacheArgs {
                binary_cache,
                credentials,
            };
            let mut kept = std::collections::BTreeSet::new();
            for path in &keep {
                let lock = crate::lock::Lock::read(path)?;
                kept.extend(entries(&lock).into_iter().map(|e| e.tag));
            }
            let registry = cache.registry()?;
            let seconds = older_than.map(|days| days.saturating_mul(86_400));
            let verb = if dry_run { "would delete" } else { "deleted" };
            for tag in registry.prune(&kept, seconds, dry_run)? {
                let _ = writeln!(std::io::stdout(), "{verb} {tag}");
            }
            Ok(ExitCode::SUCCESS)
        }
        CacheCommand::Warm {
            cache,
            lock,
            builder,
            jobs,
        } => warm(cache, &lock, builder, jobs),
    }
}

/// `imglock cache clean`: removes the local cache and says how much it held.
fn clean() -> Result<ExitCode, Error> {
    let cache = crate::fetch::Cache::from_env();
    let root = cache.root().to_path_buf();
    let removed = cache.clean().map_err(|source| Error::Write {
        path: root.clone(),
        source,
    })?;
    let _ = writeln!(
        std::io::stdout(),
        "Removed {}: {} files, {} bytes",
        root.display(),
        removed.files,
        removed.bytes
    );
    Ok(ExitCode::SUCCESS)
}

/// `imglock cache prune` without `--binary-cache`: removes what no run can use from the local
/// cache and says what, kind by kind.
fn prune_local(dry_run: bool) -> Result<ExitCode, Error> {
    let cache = crate::fetch::Cache::from_env();
    let root = cache.root().to_path_buf();
    let removed = cache.prune(dry_run).map_err(|source| Error::Write {
        path: root.clone(),
        source,
    })?;
    let verb = if dry_run { "Would remove" } else { "Removed" };
    let mut stdout = std::io::stdout();
    for kind in removed.iter().filter(|r| r.files > 0) {
        let _ = writeln!(
            stdout,
            "{verb} {} {} ({} bytes)",
            kind.files, kind.kind, kind.bytes
        );
    }
    let (files, bytes) = removed
        .iter()
        .fold((0, 0), |(f, b), r| (f + r.files, b + r.bytes));
    let _ = writeln!(
        stdout,
        "{verb} {files} files, {bytes} bytes, from {}",
        root.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints each entry and whether the cache has it.
fn print_listed(listed: &[Listed], format: Format) {
    let mut stdout = std::io::stdout();
    match format {
        Format::Json => {
            let text = serde_json::to_string_pretty(&listed).unwrap_or_default();
            let _ = writeln!(stdout, "{text}");
        }
        Format::Text => {
            for l in listed {
                let state = if l.present { "present" } else { "missing" };
                let _ = writeln!(
                    stdout,
                    "{state} {} {} {}",
                    l.entry.name, l.entry.version, l.entry.tag
                );
            }
        }
    }
}

/// `imglock cache warm`: builds the lock's image, emitted for the cache, with the credentials as
/// the build's secret, when the cache lacks any of its entries; then lists them (exit 1 when one
/// is still missing).
fn warm(
    cache: CacheArgs,
    lock_path: &Path,
    builder: Builder,
    jobs: Option<u32>,
) -> Result<ExitCode, Error> {
    let lock = crate::lock::Lock::read(lock_path)?;
    let Some(credentials) = cache.credentials.as_deref() else {
        return Err(Error::Usage(
            "imglock cache warm pushes what it builds: give the registry's credentials with --credentials FILE (one line USER:PASSWORD)".into(),
        ));
    };
    let registry = cache.registry()?;
    let missing = registry
        .list(entries(&lock))?
        .into_iter()
        .filter(|l| !l.present)
        .count();
    let mut stderr = std::io::stderr();
    if missing > 0 {
        let context = tempfile::Builder::new()
            .prefix(".imglock-cache-warm-")
            .tempdir_in(crate::files::parent_dir(lock_path))
            .map_err(|source| Error::Write {
                path: crate::files::parent_dir(lock_path),
                source,
            })?;
        emit(&EmitOptions {
            lock: lock_path.to_path_buf(),
            dockerfile: context.path().join("Dockerfile"),
            content: DockerfileOptions {
                library: None,
                jobs,
                ncpus: None,
                apt: false,
                binary_cache: Some(cache.binary_cache.clone()),
            },
        })?;
        let _ = writeln!(
            stderr,
            "Building the image of {} to push the {missing} R binaries {} lacks...",
            lock_path.display(),
            cache.binary_cache
        );
        run_build(builder, context.path(), credentials)?;
    }
    let listed = registry.list(entries(&lock))?;
    print_listed(&listed, Format::Text);
    Ok(exit_code(listed.iter().all(|l| l.present)))
}

/// Runs `builder` on the build context `context`, with `credentials` as the cache's secret (its
/// output goes to this process's), every step run anew, then removes the image it made: only the
/// pushed binaries stay.
fn run_build(builder: Builder, context: &Path, credentials: &Path) -> Result<(), Error> {
    let secret = format!("id={SECRET_ID},src={}", credentials.display());
    let image_id = context.join(".image-id");
    // Every step runs: a layer the builder kept from an earlier build would skip the R steps,
    // and with them the pushes this build is for (the cache may have lost those entries since).
    let (program, build): (&str, &[&str]) = match builder {
        Builder::Buildah => ("buildah", &["bud", "--no-cache"]),
        Builder::Docker => ("docker", &["build", "--no-cache"]),
    };
    use std::ffi::OsStr;
    let run = |args: &[&OsStr]| {
        std::process::Command::new(program)
            .args(args)
            .status()
            .map_err(|source| {
                Error::Usage(format!(
                    "cannot run {program}: {source}; install it, or choose another --builder"
                ))
            })
    };
    let mut args: Vec<&OsStr> = build.iter().map(OsStr::new).collect();
    args.extend([
        OsStr::new("--secret"),
        OsStr::new(&secret),
        OsStr::new("--iidfile"),
    ]);
    args.extend([image_id.as_os_str(), context.as_os_str()]);
    let status = run(&args)?;
    if !status.success() {
        return Err(Error::Usage(format!(
            "{program} failed ({status}) building the image to warm the cache; its output above says why"
        )));
    }
    if let Ok(id) = std::fs::read_to_string(&image_id) {
        let _ = run(&[OsStr::new("rmi"), OsStr::new(id.trim())]);
    }
    Ok(())
}
