//! The command line: clap definitions, one function per command, exit codes.
//!
//! Exit codes: 0 success; 1 "stale" for `check`; 2 an error, printed once with its causes.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::emit::{DockerfileOptions, EmitOptions, emit};
use crate::error::{Error, chain};
use crate::fetch::Cache;
use crate::progress::Progress;
use crate::resolve::{LockWrite, ResolveOptions, lock_path_for, resolve};
use crate::spec::DEFAULT_SPEC;

mod cache;
mod check;
mod diff;
mod export;
mod import;
mod manual;
mod tree;

/// Lock the packages of every layer of a data-science image.
#[derive(Debug, Parser)]
#[command(name = "imglock", version, about)]
struct Cli {
    /// Tell more: which repository supplied a package, which pins changed.
    #[arg(long, short, global = true)]
    verbose: bool,

    /// Show no progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,

    /// The local cache of downloads and indexes [default: $IMGLOCK_CACHE_DIR, else `imglock`
    /// under the user's cache folder].
    #[arg(long, global = true, value_name = "DIR")]
    cache_dir: Option<PathBuf>,

    /// Use a temporary local cache, removed when the command ends: everything is fetched anew
    /// and nothing is kept.
    #[arg(long, global = true, conflicts_with = "cache_dir")]
    no_cache: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a commented starter spec for a base image (never over an existing file).
    Init(import::InitArgs),
    /// Read requirements.txt, environment.yml, renv.lock, DESCRIPTION, pom.xml, cluster.json
    /// or a Dockerfile into a new spec, or into the spec's layers; list what was left out.
    Import(import::ImportArgs),
    /// Add requests to a layer of the spec (comments kept), then resolve.
    Add(import::AddArgs),
    /// Remove a package's requests from the spec (comments kept), then resolve.
    Remove(import::RemoveArgs),
    /// Resolve the spec and write the lock.
    Resolve(ResolveArgs),
    /// Write a Dockerfile that installs exactly the lock, every download verified.
    Emit(EmitArgs),
    /// Show what changed between two locks; exit 1 when they differ.
    Diff(DiffArgs),
    /// Check that a built image contains exactly what the lock says; exit 1 when it does not.
    Verify(VerifyArgs),
    /// Exit 0 if the lock matches the spec, 1 if it is stale, a line per reason (the layer and
    /// item that changed, what to do); without a lock, check the spec and say so (no network).
    Check(check::CheckArgs),
    /// The local cache of downloads and indexes (`dir`, `clean`, `prune`), and the shared R
    /// binary cache in an OCI registry (`list`, `prune --binary-cache`, `warm`; see `emit
    /// --binary-cache`).
    #[command(subcommand)]
    Cache(cache::CacheCommand),
    /// Show the lock's dependency tree: what each layer asked for and what that brought in
    /// (`(*)`: shown above).
    Tree(TreeArgs),
    /// Show why a package is in the lock: the chains of dependents from the layers' requests.
    Why(WhyArgs),
    /// Write the lock in another tool's format: a pip requirements file, a conda explicit
    /// file, an renv.lock, or a CycloneDX or SPDX SBOM of every package.
    Export(ExportArgs),
    /// Print the shell completion script for SHELL (e.g. `imglock completions bash >
    /// /etc/bash_completion.d/imglock`).
    Completions {
        /// The shell the script is for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print imglock's manual page, or COMMAND's (`imglock-COMMAND(1)`), in roff (e.g.
    /// `imglock man resolve > /usr/local/share/man/man1/imglock-resolve.1`).
    Man {
        /// The command whose page is printed (imglock's own when none is given).
        command: Option<String>,
    },
}

/// The arguments of `imglock resolve`.
#[derive(Debug, Args)]
struct ResolveArgs {
    /// The spec to read.
    #[arg(long, default_value = DEFAULT_SPEC)]
    spec: PathBuf,
    /// The lock to write [default: imglock.lock beside the spec].
    #[arg(long)]
    lock: Option<PathBuf>,
    /// Use only the on-disk cache; never touch the network.
    #[arg(long)]
    offline: bool,
    /// Revalidate everything the cache holds, files that never change and 404s it remembers
    /// included (by default only indexes are revalidated, and a 404 is not asked again for a day).
    #[arg(long, conflicts_with = "offline")]
    refresh: bool,
    /// Ignore the existing lock's pins and take the newest versions that fit.
    #[arg(long)]
    upgrade: bool,
    /// Re-resolve this package (repeatable), keeping every other pin.
    #[arg(long, value_name = "NAME")]
    upgrade_package: Vec<String>,
    /// Ignore files uploaded after this UTC instant (`2022-06-01T00:00:00Z` or `2022-06-01`),
    /// for a reproducible re-resolution; recorded in the lock.
    #[arg(long, value_name = "TIME")]
    exclude_newer: Option<crate::exclude_newer::ExcludeNewer>,
    /// Never build an sdist's metadata: an sdist without static metadata is an error.
    #[arg(long)]
    no_build: bool,
    /// Never build this package's sdist metadata (repeatable).
    #[arg(long, value_name = "NAME")]
    no_build_package: Vec<String>,
    /// Resolve and say what would change, writing nothing.
    #[arg(long, conflicts_with = "locked")]
    dry_run: bool,
    /// Fail, writing nothing, when the lock is not what the spec resolves to (for CI).
    #[arg(long, conflicts_with = "frozen")]
    locked: bool,
    /// Use the lock as it is: do not read the spec or resolve; only check that the lock exists
    /// and is valid, and write nothing (as `uv lock --frozen`).
    #[arg(long, conflicts_with_all = ["dry_run", "upgrade", "upgrade_package", "refresh"])]
    frozen: bool,
}

/// The arguments of `imglock emit`.
#[derive(Debug, Args)]
struct EmitArgs {
    /// The lock to read.
    #[arg(long, default_value = crate::lock::DEFAULT_LOCK)]
    lock: PathBuf,
    /// Write `DIR/Dockerfile` (and any artifacts the build needs) [default: ./Dockerfile.imglock].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Install R packages into this library [default: the spec's `r-library`, else R's site library].
    #[arg(long, value_name = "PATH", value_parser = image_path)]
    library: Option<String>,
    /// Build up to N R packages of a step at once, each once the packages it needs are in
    /// [default: the builder's cores, read at build time].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    jobs: Option<u32>,
    /// At most N make jobs for one package's compiled code [default: its share of the step's
    /// jobs: the jobs divided by the packages building at once].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    ncpus: Option<u32>,
    /// Suggest (with --verbose) the `apt` entries for the Debian build dependencies that R
    /// packages' SystemRequirements name and the lock does not install.
    #[arg(long)]
    apt: bool,
    /// Pull R binaries from this shared cache before building them, and push what is built when
    /// the build is given the secret `imglock-cache` (a file `USER:PASSWORD`): oci://HOST/REPOSITORY.
    #[arg(long, value_name = "URL")]
    binary_cache: Option<crate::cran::binary_cache::CacheLocation>,
    /// First check, as `resolve --locked` does, that the lock is what the spec resolves to;
    /// fail, writing nothing, when it is not.
    #[arg(long, conflicts_with = "frozen")]
    locked: bool,
    /// Emit from the lock as it is, never opening the spec (what emit always does without
    /// --locked; say it to make a CI step's intent explicit).
    #[arg(long)]
    frozen: bool,
    /// With --locked: the spec to resolve.
    #[arg(long, default_value = DEFAULT_SPEC, requires = "locked")]
    spec: PathBuf,
    /// With --locked: resolve from the on-disk cache only.
    #[arg(long, requires = "locked")]
    offline: bool,
}

/// The arguments of `imglock diff`.
#[derive(Debug, Args)]
struct DiffArgs {
    /// The old lock (omit with --git).
    old: Option<PathBuf>,
    /// The new lock (omit with --git).
    new: Option<PathBuf>,
    /// Compare the lock at this git revision with the working tree's lock.
    #[arg(long, value_name = "REV", conflicts_with_all = ["old", "new"])]
    git: Option<String>,
    /// The lock to compare with --git.
    #[arg(long, default_value = crate::lock::DEFAULT_LOCK)]
    lock: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
}

/// The arguments of `imglock verify`.
#[derive(Debug, Args)]
struct VerifyArgs {
    /// A root filesystem folder, a `docker save` tar, an OCI archive tar or an OCI layout folder.
    image: PathBuf,
    /// The lock to compare with.
    #[arg(long, default_value = crate::lock::DEFAULT_LOCK)]
    lock: PathBuf,
    /// The R library the packages were installed into [default: the lock's `r-library`].
    #[arg(long, value_name = "PATH", value_parser = image_path)]
    library: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
    format: VerifyFormat,
    /// When the image matches, write the sha256 of each R binary its build recorded into the
    /// lock, so later builds may take those binaries from the binary cache.
    #[arg(long)]
    record_binaries: bool,
    /// Also check that each R package is the binary this shared binary cache
    /// (oci://HOST/REPOSITORY) holds for it: the same bytes a build pulling from it installs.
    #[arg(long, value_name = "URL")]
    binary_cache: Option<crate::cran::binary_cache::CacheLocation>,
    /// With --binary-cache: a file holding one line USER:PASSWORD for the registry.
    #[arg(long, value_name = "FILE", requires = "binary_cache")]
    credentials: Option<PathBuf>,
}

/// The arguments of `imglock tree`.
#[derive(Debug, Args)]
struct TreeArgs {
    /// Only the tree below this package (or above it, with --invert).
    package: Option<String>,
    /// Show what depends on the package instead of what it depends on.
    #[arg(long, requires = "package")]
    invert: bool,
    /// Only this layer's part of the tree.
    #[arg(long, value_name = "NAME")]
    layer: Option<String>,
    /// The lock to read.
    #[arg(long, default_value = crate::lock::DEFAULT_LOCK)]
    lock: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// The arguments of `imglock why`.
#[derive(Debug, Args)]
struct WhyArgs {
    /// The package to explain.
    package: String,
    /// The lock to read.
    #[arg(long, default_value = crate::lock::DEFAULT_LOCK)]
    lock: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// The arguments of `imglock export`.
#[derive(Debug, Args)]
struct ExportArgs {
    /// The format: `requirements`, `conda-explicit` and `renv` take their ecosystem's packages;
    /// `cyclonedx` and `spdx` every package.
    #[arg(long, value_enum)]
    format: crate::export::ExportFormat,
    /// Only this layer's packages (repeatable; every layer when none is given).
    #[arg(long, value_name = "NAME")]
    layer: Vec<String>,
    /// The lock to read.
    #[arg(long, default_value = crate::lock::DEFAULT_LOCK)]
    lock: PathBuf,
    /// Write here (atomically) instead of to stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

// Each command's formats are a closed set of their own, so `--help` and completion offer only
// what the command prints: text for people, JSON for programs, and for CI GitHub Actions
// annotations (`github`), JUnit XML (`junit`) or a pull-request comment (`markdown`).

/// How a lock diff is printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum DiffFormat {
    Text,
    /// For a pull-request comment or `$GITHUB_STEP_SUMMARY`.
    Markdown,
    Json,
    /// GitHub Actions annotations, on the new lock's lines.
    Github,
}

/// How a verification report is printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum VerifyFormat {
    Text,
    Json,
    /// JUnit XML, a test case per package, for CI test reports.
    Junit,
    /// GitHub Actions annotations, on the lock's lines.
    Github,
}

/// How `imglock check`'s verdict is printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum CheckFormat {
    Text,
    Json,
    /// GitHub Actions annotations.
    Github,
}

/// How a report is printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: {}", chain(&error));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Error> {
    // Held to the end of the command: the temporary cache of --no-cache is removed with it.
    let _temporary_cache = choose_cache(cli.cache_dir.clone(), cli.no_cache)?;
    let progress = if cli.quiet {
        Progress::hidden()
    } else {
        Progress::from_env()
    };
    match cli.command {
        Command::Init(args) => import::init_command(args),
        Command::Import(args) => import::import_command(args),
        Command::Add(args) => import::add_command(args, cli.verbose, progress),
        Command::Remove(args) => import::remove_command(args, cli.verbose, progress),
        Command::Resolve(args) => resolve_command(args, cli.verbose, progress),
        Command::Emit(args) => emit_command(args, cli.verbose, progress),
        Command::Diff(args) => diff::diff_command(args),
        Command::Verify(args) => verify_command(args),
        Command::Check(args) => check::check_command(args, progress),
        Command::Cache(command) => cache::cache_command(command),
        Command::Tree(args) => tree::tree_command(args),
        Command::Why(args) => tree::why_command(args),
        Command::Export(args) => export::export_command(args),
        Command::Completions { shell } => manual::completions_command(shell),
        Command::Man { command } => manual::man_command(command.as_deref()),
    }
}

// Messages go through unlocked handles: each write takes the lock for itself. Holding stderr's
// lock across a command would deadlock every other thread that draws progress on a terminal.

/// Makes every command use the cache `--cache-dir` names, or (with `--no-cache`) a new
/// temporary one, returned so that the caller removes it when the command ends.
fn choose_cache(
    cache_dir: Option<PathBuf>,
    no_cache: bool,
) -> Result<Option<tempfile::TempDir>, Error> {
    if no_cache {
        let temporary = tempfile::Builder::new()
            .prefix("imglock-no-cache-")
            .tempdir()
            .map_err(|source| Error::Write {
                path: std::env::temp_dir(),
                source,
            })?;
        Cache::choose(temporary.path().to_path_buf());
        return Ok(Some(temporary));
    }
    if let Some(dir) = cache_dir {
        Cache::choose(dir);
    }
    Ok(None)
}

fn resolve_command(
    args: ResolveArgs,
    verbose: bool,
    progress: Progress,
) -> Result<ExitCode, Error> {
    if args.frozen {
        return frozen_command(&lock_path_for(&args.spec, args.lock.as_deref()));
    }
    let report = resolve(&ResolveOptions {
        spec: args.spec,
        lock: args.lock,
        offline: args.offline,
        refresh: args.refresh,
        upgrade: args.upgrade,
        upgrade_packages: args.upgrade_package,
        exclude_newer: args.exclude_newer,
        no_build: args.no_build,
        no_build_packages: args.no_build_package,
        cache: Cache::from_env(),
        progress,
        write: if args.dry_run {
            LockWrite::DryRun
        } else if args.locked {
            LockWrite::Locked
        } else {
            LockWrite::Write
        },
    })?;
    if verbose {
        for note in &report.notes {
            let _ = writeln!(std::io::stderr(), "note: {note}");
        }
    }
    for change in &report.changes {
        let _ = writeln!(std::io::stderr(), "{change}");
    }
    let count: usize = report.lock.layers.iter().map(|l| l.packages.len()).sum();
    let verb = match (report.changed, args.dry_run) {
        (true, true) => "Would write",
        (true, false) => "Wrote",
        (false, _) => "Unchanged:",
    };
    let _ = writeln!(
        std::io::stderr(),
        "{verb} {} ({count} packages in {} layers)",
        report.lock_path.display(),
        report.lock.layers.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Resolves `spec` as `resolve --locked` does: an error, writing nothing, when `lock` is not
/// what it resolves to.
fn resolve_locked(
    spec: PathBuf,
    lock: PathBuf,
    offline: bool,
    progress: Progress,
) -> Result<crate::resolve::ResolveReport, Error> {
    resolve(&ResolveOptions {
        spec,
        lock: Some(lock),
        offline,
        refresh: false,
        upgrade: false,
        upgrade_packages: Vec::new(),
        exclude_newer: None,
        no_build: false,
        no_build_packages: Vec::new(),
        cache: Cache::from_env(),
        progress,
        write: LockWrite::Locked,
    })
}

/// `resolve --frozen`: the lock, read and validated as it is; the spec is never opened.
fn frozen_command(lock: &std::path::Path) -> Result<ExitCode, Error> {
    let summary = frozen_lock(lock)?;
    let _ = writeln!(
        std::io::stderr(),
        "Frozen: {summary} used as it is, not resolved"
    );
    Ok(ExitCode::SUCCESS)
}

/// The lock at `path`, read and validated without its spec (`--frozen`), in words: its path
/// and how many packages and layers it holds.
fn frozen_lock(path: &std::path::Path) -> Result<String, Error> {
    let lock = crate::lock::Lock::read(path)?;
    let count: usize = lock.layers.iter().map(|l| l.packages.len()).sum();
    Ok(format!(
        "{} ({count} packages in {} layers)",
        path.display(),
        lock.layers.len()
    ))
}

fn emit_command(args: EmitArgs, verbose: bool, progress: Progress) -> Result<ExitCode, Error> {
    if args.locked {
        resolve_locked(args.spec, args.lock.clone(), args.offline, progress)?;
    }
    let dockerfile = match args.out {
        Some(dir) => dir.join("Dockerfile"),
        None => PathBuf::from("Dockerfile.imglock"),
    };
    let report = emit(&EmitOptions {
        lock: args.lock,
        dockerfile,
        content: DockerfileOptions {
            library: args.library,
            jobs: args.jobs,
            ncpus: args.ncpus,
            apt: args.apt,
            binary_cache: args.binary_cache,
        },
    })?;
    if verbose {
        for note in &report.notes {
            let _ = writeln!(std::io::stderr(), "note: {note}");
        }
    }
    let _ = writeln!(
        std::io::stderr(),
        "Wrote {} ({} install steps)",
        report.dockerfile.display(),
        report.install_steps
    );
    Ok(ExitCode::SUCCESS)
}

fn verify_command(args: VerifyArgs) -> Result<ExitCode, Error> {
    let registry = match args.binary_cache {
        Some(location) => Some(crate::cran::binary_cache::registry::CacheRegistry::new(
            location,
            args.credentials.as_deref(),
        )?),
        None => None,
    };
    let report = crate::verify::verify_with(
        &args.image,
        &args.lock,
        &crate::verify::VerifyOptions {
            library: args.library.as_deref(),
            limits: crate::verify::Limits::default(),
            record: args.record_binaries,
            binary_cache: registry.as_ref(),
        },
    )?;
    let rendered = match args.format {
        VerifyFormat::Text => crate::verify::text(&report),
        VerifyFormat::Json => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        VerifyFormat::Junit => crate::verify::junit(&report),
        VerifyFormat::Github => {
            crate::verify::github(&report, &crate::lock::PackageLines::read(&args.lock))
        }
    };
    let _ = write!(std::io::stdout(), "{rendered}");
    if let Some(recorded) = &report.recorded {
        tell_recorded(recorded, &args.lock);
    }
    Ok(exit_code(report.matches()))
}

/// Says on stderr what `verify --record-binaries` put into `lock`, and what it ignored.
fn tell_recorded(recorded: &crate::verify::Recorded, lock: &std::path::Path) {
    let mut stderr = std::io::stderr();
    if recorded.recordings.is_empty() {
        let _ = writeln!(
            stderr,
            "nothing recorded: the image does not match the lock {}",
            lock.display()
        );
        return;
    }
    for recording in &recorded.recordings {
        for ignored in &recording.ignored {
            let _ = writeln!(stderr, "note: {ignored}");
        }
        let _ = writeln!(stderr, "{} in {}", recording.summary, lock.display());
    }
    if !recorded.written {
        let _ = writeln!(stderr, "{} already says so: unchanged", lock.display());
    }
}

/// 0 when the answer is "yes" (same, fresh, matching), 1 when it is "no".
fn exit_code(yes: bool) -> ExitCode {
    if yes {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// A path in the image given on the command line, checked as the spec's are.
fn image_path(text: &str) -> Result<String, String> {
    crate::dockerfile_values::check_image_path(text).map(|()| text.to_string())
}
