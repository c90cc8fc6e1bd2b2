//! The R part of the Dockerfile: the installer helper and one `RUN` per step [`plan`] forms;
//! with `--apt`, a note per layer naming the `apt` entries its packages' `SystemRequirements`
//! call for (the Debian packages themselves are locked and installed by the apt ecosystem).
//!
//! Every step mounts imglock's binary cache (`/var/cache/imglock`, a BuildKit/buildah cache
//! mount) and hands its packages to `imglock-r-jobs` (`imglock-r-jobs.sh`), which runs
//! `imglock-r-install` once per package, several at once (`emit --jobs`, by default the
//! builder's cores), each only when the packages of the step it needs are in. Any build on the
//! builder can write to that cache, so the installer takes a binary from it only when the lock
//! records the binary's sha256 (`binary-sha256`, recorded by `imglock verify IMAGE
//! --record-binaries`) and the cached file has it; anything else is downloaded, verified
//! against the locked sha256 and built. A
//! step's text holds exactly its packages' names, versions, hashes (source and binary) and
//! sources, so it changes only when they do.
//!
//! With `emit --binary-cache oci://HOST/REPOSITORY` every R step also mounts the secret
//! `imglock-cache` and names the registry, and the installer pulls a binary from it before
//! building and pushes what it builds (`imglock-r-cache.sh`, see [`crate::cran::binary_cache`]).

mod plan;
mod system_requirements;

pub use super::cache_key::{LockedR, binary_cache_key, package_cache_key};

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::built_binaries::BuiltBinaries;
use crate::cran::binary_cache::{CacheLocation, SECRET_ID};
use crate::emit::shell::quote;
use crate::emit::step::{
    DockerfileOptions, NETRC_PATH, Source, Step, StepContext, StepError, artifact_mounts,
    cache_mount, needs_netrc, script_step,
};
use crate::lock::{Lock, LockedLayer, LockedPackage};
use crate::package::Ecosystem;

/// The installer every R step calls, written into the image by [`preamble`]'s step.
const INSTALLER: &str = include_str!("imglock-r-install.sh");
const INSTALLER_PATH: &str = "/usr/local/bin/imglock-r-install";
/// The scheduler every R step calls: it runs the installer for several packages at once.
const SCHEDULER: &str = include_str!("imglock-r-jobs.sh");
const SCHEDULER_PATH: &str = "/usr/local/bin/imglock-r-jobs";
/// The shared binary cache's client the installer calls, written beside it when the Dockerfile
/// names a cache (`emit --binary-cache`).
const CACHE_CLIENT: &str = include_str!("imglock-r-cache.sh");
const CACHE_CLIENT_PATH: &str = "/usr/local/bin/imglock-r-cache";

/// Settings that apply to every R step.
struct RSettings {
    /// The binary cache key's part every package shares: see [`binary_cache_key`].
    cache_key: String,
    library: Option<String>,
    /// Packages built at once (`IMGLOCK_R_JOBS`); the builder's cores when not given.
    jobs: Option<u32>,
    /// The most make jobs one package's build gets (`IMGLOCK_R_MAKE_JOBS`); by default its share
    /// of the jobs.
    make_jobs: Option<u32>,
    binary_cache: Option<CacheLocation>,
}

/// The R binaries the installer builds, and the records it leaves in the image.
pub(crate) const BUILT: BuiltBinaries = BuiltBinaries {
    what: "R package",
    records: "usr/local/share/imglock/r-binaries",
    header: "# imglock R binary record 1",
    serves: Ecosystem::is_r,
    cache_key: |lock, package| Some(package_cache_key(lock, package)),
};

impl RSettings {
    /// How `lock`'s R packages are installed: the binary cache key, the library and the make
    /// jobs.
    fn new(lock: &Lock, options: &DockerfileOptions) -> Self {
        Self {
            cache_key: binary_cache_key(lock),
            // `--library` wins over the spec's `r-library`, which the lock records.
            library: options
                .library
                .clone()
                .or_else(|| lock.image.r_library.clone()),
            jobs: options.jobs,
            make_jobs: options.ncpus,
            binary_cache: options.binary_cache.clone(),
        }
    }
}

/// The Dockerfile's first R lines, when the lock has R packages: the header line naming the
/// library, and the step that writes the installer and the scheduler every R step calls.
pub fn preamble(lock: &Lock, options: &DockerfileOptions) -> (String, Step) {
    let settings = RSettings::new(lock, options);
    let header = format!(
        "# R library: {}\n",
        settings.library.as_deref().unwrap_or("R's site library")
    );
    let mut scripts = vec![(INSTALLER, INSTALLER_PATH), (SCHEDULER, SCHEDULER_PATH)];
    if settings.binary_cache.is_some() {
        scripts.push((CACHE_CLIENT, CACHE_CLIENT_PATH));
    }
    let text = script_step("imglock's R installer and step scheduler", &scripts);
    let step = Step {
        layer: None,
        text,
        packages: 0,
    };
    (header, step)
}

/// The steps of a layer's R packages (and with `--apt` the note of its missing Debian packages):
/// one install step per group [`plan::plan`] forms.
pub fn install_steps(
    lock: &Lock,
    layer: &LockedLayer,
    packages: &[&LockedPackage],
    options: &DockerfileOptions,
    context: &mut StepContext,
) -> Result<Vec<Step>, StepError> {
    let settings = RSettings::new(lock, options);
    let mut steps = Vec::new();
    if options.apt {
        suggest_apt(lock, layer, packages, &mut context.notes);
    }
    let planned = plan::plan(packages);
    let locked = LockedR::new(lock);
    for (number, step) in planned.iter().enumerate() {
        let sources = context.sources_of(step)?;
        let names: Vec<&str> = step.iter().map(|p| p.name.as_str()).collect();
        let title = format!(
            "layer `{}`, R step {} of {}: {}",
            layer.name,
            number + 1,
            planned.len(),
            names.join(" ")
        );
        steps.push(Step {
            layer: Some(layer.name.clone()),
            text: install_step(&title, &sources, &settings, &locked),
            packages: step.len(),
        });
    }
    Ok(steps)
}

/// With `--apt`: the Debian packages the layer's R packages name in `SystemRequirements` (by
/// the rule table) that no layer up to this one locks, as a note (shown under `--verbose`)
/// telling the user which `apt = [...]` entries to add to the spec. Nothing unpinned is installed.
fn suggest_apt(
    lock: &Lock,
    layer: &LockedLayer,
    packages: &[&LockedPackage],
    notes: &mut Vec<String>,
) {
    let locked: BTreeSet<&str> = lock
        .layers
        .iter()
        .take_while(|l| l.name != layer.name)
        .chain([layer])
        .flat_map(|l| &l.packages)
        .filter(|p| p.ecosystem == Ecosystem::Apt)
        .map(|p| p.name.as_str())
        .collect();
    let mut missing = BTreeSet::new();
    let mut needing = BTreeSet::new();
    for package in packages {
        let Some(requirements) = package
            .details
            .r()
            .and_then(|r| r.system_requirements.as_ref())
        else {
            continue;
        };
        let (found, unmatched) = system_requirements::packages_for(requirements);
        for debian in found.into_iter().filter(|d| !locked.contains(d)) {
            missing.insert(debian);
            needing.insert(package.name.as_str());
        }
        for part in unmatched {
            notes.push(format!(
                "{}: no apt rule for `{part}`; make sure the base image or an `apt` entry of the spec provides it",
                package.name
            ));
        }
    }
    if missing.is_empty() {
        return;
    }
    let entries: Vec<String> = missing.iter().map(|d| format!("\"{d}\"")).collect();
    let needing: Vec<&str> = needing.into_iter().collect();
    notes.push(format!(
        "layer `{}`: the SystemRequirements of {} name Debian packages no layer up to it locks; unless the base image has them, add `apt = [{}]` to this layer or one below it in the spec and re-run `imglock resolve`",
        layer.name,
        needing.join(", "),
        entries.join(", ")
    ));
}

/// One install step: a `RUN` handing `packages` to the scheduler, which installs them in the
/// order given, several at once, each after the packages of the step it needs.
fn install_step(
    title: &str,
    packages: &[(&LockedPackage, Source)],
    settings: &RSettings,
    locked: &LockedR<'_>,
) -> String {
    let mut out = format!(
        "# {title}\nRUN{}{}{} \\\n",
        cache_mount("/var/cache/imglock"),
        artifact_mounts(packages),
        secret_mount(settings)
    );
    let mut environment = vec![format!("IMGLOCK_R_KEY={}", quote(&settings.cache_key))];
    if let Some(jobs) = settings.jobs {
        environment.push(format!("IMGLOCK_R_JOBS={}", jobs.max(1)));
    }
    if let Some(make_jobs) = settings.make_jobs {
        environment.push(format!("IMGLOCK_R_MAKE_JOBS={}", make_jobs.max(1)));
    }
    if let Some(cache) = &settings.binary_cache {
        environment.push(format!("IMGLOCK_R_CACHE={}", quote(&cache.to_string())));
    }
    if let Some(library) = &settings.library {
        environment.push(format!("IMGLOCK_R_LIBRARY={}", quote(library)));
    }
    if needs_netrc(packages) {
        environment.push(format!("IMGLOCK_NETRC={NETRC_PATH}"));
    }
    let _ = write!(
        out,
        "    export {} && \\\n    imglock-r-jobs",
        environment.join(" ")
    );
    out.push_str(&job_list(packages, &|package| locked.linked_key(package)));
    out.push('\n');
    out
}

/// The scheduler's arguments: per package, a line calling the installer with its arguments and,
/// when it needs packages of the same step (Depends, Imports, LinkingTo), a line `--after` naming
/// them. `linked` gives a package's linked-packages key (the installer's sixth argument).
fn job_list(
    packages: &[(&LockedPackage, Source)],
    linked: &dyn Fn(&LockedPackage) -> String,
) -> String {
    let in_step: BTreeSet<&str> = packages.iter().map(|(p, _)| p.name.as_str()).collect();
    let mut out = String::new();
    for (package, source) in packages {
        let source = match source {
            Source::Url(url) | Source::Authenticated(url) => url.clone(),
            Source::Context(path) => format!("context:{path}"),
        };
        let binary = package
            .details
            .r()
            .and_then(|r| r.binary_sha256.as_deref())
            .unwrap_or("-");
        let _ = write!(
            out,
            " \\\n        imglock-r-install {} {} {} {} {binary} {}",
            quote(&package.name),
            quote(&package.version),
            package.sha256,
            quote(&source),
            linked(package)
        );
        for (field, value) in description_fields(package) {
            let _ = write!(out, " {}", quote(&format!("{field}: {value}")));
        }
        let after: BTreeSet<&str> = package
            .dependencies
            .iter()
            .map(String::as_str)
            .filter(|d| in_step.contains(d) && *d != package.name)
            .collect();
        if !after.is_empty() {
            let names: Vec<String> = after.into_iter().map(quote).collect();
            let _ = write!(out, " \\\n            --after {}", names.join(" "));
        }
    }
    out
}

/// With a shared binary cache, the mount of its credentials: a secret the builder is given
/// (`--secret id=imglock-cache,src=FILE`), never part of a layer; without it the cache is read
/// anonymously.
fn secret_mount(settings: &RSettings) -> String {
    match settings.binary_cache {
        Some(_) => format!(" --mount=type=secret,id={SECRET_ID},target=/run/secrets/{SECRET_ID}"),
        None => String::new(),
    }
}

/// The DESCRIPTION fields a GitHub package gets before its build (see
/// [`crate::cran::github::GithubSource::description_fields`]); none for any other package.
fn description_fields(package: &LockedPackage) -> Vec<(&'static str, String)> {
    match package.details.r().and_then(|r| r.github.as_ref()) {
        Some(github) => github.description_fields(&package.repository),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::plan::tests::package;
    use super::*;

    #[test]
    fn the_job_list_calls_the_installer_per_package_after_its_dependencies_in_the_step() {
        let mut packages = [
            package("twinsum", "0.3.1", &[]),
            package("fastsum", "0.3.1", &["corekit"]),
            package(
                "usehdr",
                "0.1.0",
                &["fastsum", "headerlib", "twinsum", "usehdr"],
            ),
        ];
        if let crate::package::PackageDetails::R(r) = &mut packages[1].details {
            r.binary_sha256 = Some("b".repeat(64));
        }
        let step: Vec<(&LockedPackage, Source)> = packages
            .iter()
            .map(|p| (p, Source::Url(p.url.clone())))
            .collect();
        let linked = |p: &LockedPackage| format!("{:x<64}", p.name);
        let (zeros, b) = ("0".repeat(64), "b".repeat(64));
        let url = |name: &str, version: &str| {
            format!("https://cran.example/src/contrib/{name}_{version}.tar.gz")
        };
        assert_eq!(
            job_list(&step, &linked),
            format!(
                " \\\n        imglock-r-install twinsum 0.3.1 {zeros} {} - {}\
                 \x20\\\n        imglock-r-install fastsum 0.3.1 {zeros} {} {b} {}\
                 \x20\\\n        imglock-r-install usehdr 0.1.0 {zeros} {} - {}\
                 \x20\\\n            --after fastsum twinsum",
                url("twinsum", "0.3.1"),
                linked(&packages[0]),
                url("fastsum", "0.3.1"),
                linked(&packages[1]),
                url("usehdr", "0.1.0"),
                linked(&packages[2]),
            )
        );
    }
}
