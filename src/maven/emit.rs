//! The Maven part of the Dockerfile: one `RUN` per layer that puts every locked jar into the
//! layer's `maven-target` under Maven's file name (`artifact-version[-classifier].jar`), fetched
//! with curl (or copied from the build context) and checked with `sha256sum` before the step
//! ends; a jar with other bytes fails the build and is removed.

use std::fmt::Write;

use crate::emit::shell::quote;
use crate::emit::step::{Source, artifact_mounts, fetch_verified, file_name};
use crate::lock::LockedPackage;

/// The install step of a layer's Maven artifacts.
pub fn install_step(layer: &str, packages: &[(&LockedPackage, Source)], target: &str) -> String {
    let mut sorted: Vec<(&LockedPackage, &Source)> =
        packages.iter().map(|(p, s)| (*p, s)).collect();
    sorted.sort_by_key(|(package, _)| file_name(package));
    let names: Vec<String> = sorted.iter().map(|(p, _)| file_name(p)).collect();
    let mut out = format!(
        "# layer `{layer}`, Maven artifacts into {target}: {}\nRUN",
        names.join(" ")
    );
    out.push_str(&artifact_mounts(packages));
    let sums = "/tmp/imglock-maven.sha256";
    let quoted = quote(target);
    let _ = write!(out, " set -e; mkdir -p {quoted}; cd {quoted}");
    out.push_str(&fetch_verified(
        &sorted,
        sums,
        &format!(
            "checksum mismatch for a Maven artifact of layer `{layer}`: the repository serves other bytes than were locked"
        ),
    ));
    let _ = writeln!(out, " \\\n    && rm -f {sums}");
    out
}
