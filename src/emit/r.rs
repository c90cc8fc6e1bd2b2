//! The R part of the Dockerfile: the installer helper, and one `RUN` per planned step.
//!
//! Every step mounts imglock's binary cache (`/var/cache/imglock`, a BuildKit/buildah cache
//! mount) and runs `imglock-r-install` once per package: a build of exactly that source for this
//! R version and platform is reinstalled from the cache, anything else is downloaded, verified
//! against the locked sha256 and built. A step's text holds exactly its packages' names,
//! versions, hashes and sources, so it changes only when they do.

use std::fmt::Write;

use sha2::{Digest, Sha256};

use super::Source;
use super::shell::quote;
use crate::lock::LockedPackage;

/// The installer every R step calls, written into the image by [`helper_step`].
const INSTALLER: &str = include_str!("imglock-r-install.sh");
const INSTALLER_PATH: &str = "/usr/local/bin/imglock-r-install";

/// Settings that apply to every R step.
pub struct RSettings {
    /// `<R version>/<platform>`: the binary cache key's prefix.
    pub cache_key: String,
    pub library: Option<String>,
    pub ncpus: u32,
}

/// The `RUN` that writes the installer into the image; its text never depends on the lock.
pub fn helper_step() -> String {
    let mut out =
        String::from("# imglock's R installer (the same for every lock)\nRUN printf '%s\\n' \\\n");
    for line in INSTALLER.lines() {
        let _ = writeln!(out, "        {} \\", quote(line));
    }
    let _ = writeln!(
        out,
        "        > {INSTALLER_PATH} && chmod 0755 {INSTALLER_PATH}"
    );
    out
}

/// One install step: a `RUN` installing `packages` in order.
pub fn install_step(
    title: &str,
    packages: &[(&LockedPackage, Source)],
    settings: &RSettings,
) -> String {
    let mut out =
        format!("# {title}\nRUN --mount=type=cache,target=/var/cache/imglock,sharing=locked");
    if packages
        .iter()
        .any(|(_, source)| matches!(source, Source::Context(_)))
    {
        out.push_str(" --mount=type=bind,target=/imglock-context");
    }
    out.push_str(" \\\n");
    let mut environment = vec![
        format!("IMGLOCK_R_KEY={}", quote(&settings.cache_key)),
        format!("SOURCE_DATE_EPOCH={}", source_date_epoch(packages)),
        format!("MAKEFLAGS=-j{}", settings.ncpus.max(1)),
    ];
    if let Some(library) = &settings.library {
        environment.push(format!("IMGLOCK_R_LIBRARY={}", quote(library)));
    }
    let _ = write!(out, "    export {}", environment.join(" "));
    for (package, source) in packages {
        let source = match source {
            Source::Url(url) => url.clone(),
            Source::Context(path) => format!("context:{path}"),
        };
        let _ = write!(
            out,
            " && \\\n    imglock-r-install {} {} {} {}",
            quote(&package.name),
            quote(&package.version),
            package.sha256,
            quote(&source)
        );
    }
    out.push('\n');
    out
}

/// A fixed build date for a step, derived from its packages' hashes: the same packages always
/// build with the same date, and no step embeds the time of the build.
fn source_date_epoch(packages: &[(&LockedPackage, Source)]) -> u64 {
    let mut hasher = Sha256::new();
    for (package, _) in packages {
        hasher.update(package.sha256.as_bytes());
    }
    let digest = hasher.finalize();
    let value = u64::from_be_bytes(digest[..8].try_into().unwrap_or_default());
    // Somewhere in 2020–2029: a plausible date that tools accept.
    const START: u64 = 1_577_836_800;
    const SPAN: u64 = 315_360_000;
    START + value % SPAN
}
