//! The URL artifacts' part of the Dockerfile: one `RUN` per layer that fetches every locked file
//! with curl (or copies it from the build context, for `file:` URLs) into a scratch folder,
//! checks each sha256 with `sha256sum -c` before anything is installed, then installs each one
//! at its target with its mode (`install -D -m`), or unpacks it there (`tar -xf`), and removes
//! the scratch folder. A file with other bytes than were locked fails the build.

use std::fmt::Write;

use super::details::FileDetails;
use crate::emit::shell::quote;
use crate::emit::step::{Source, artifact_mounts, fetch_verified, file_name};
use crate::lock::LockedPackage;

/// Where the step downloads the layer's files before installing them.
const SCRATCH: &str = "/tmp/imglock-files";

/// The install step of a layer's URL artifacts.
pub fn install_step(layer: &str, files: &[(&LockedPackage, Source, &FileDetails)]) -> String {
    let mut sorted: Vec<_> = files.iter().map(|(p, s, d)| (*p, s, *d)).collect();
    sorted.sort_by_key(|(package, ..)| file_name(package));
    let described: Vec<String> = sorted
        .iter()
        .map(|(package, _, details)| {
            let how = if details.extract {
                "unpacked into"
            } else {
                "to"
            };
            format!("{} {how} {}", file_name(package), details.target)
        })
        .collect();
    let mut out = format!(
        "# layer `{layer}`, files from URLs: {}\nRUN",
        described.join(", ")
    );
    let sources: Vec<(&LockedPackage, Source)> =
        files.iter().map(|(p, s, _)| (*p, s.clone())).collect();
    out.push_str(&artifact_mounts(&sources));
    let _ = write!(out, " set -e; mkdir -p {SCRATCH}; cd {SCRATCH}");
    let fetched: Vec<(&LockedPackage, &Source)> = sorted.iter().map(|(p, s, _)| (*p, *s)).collect();
    out.push_str(&fetch_verified(
        &fetched,
        &format!("{SCRATCH}/imglock.sha256"),
        &format!(
            "checksum mismatch for a file of layer `{layer}`: its URL serves other bytes than were locked"
        ),
    ));
    for (package, _, details) in &sorted {
        let file = quote(&file_name(package));
        match details.installed_path(&package.url) {
            Some(path) => {
                let mode = quote(details.mode());
                let dest = quote(&format!("/{path}"));
                let _ = write!(out, " \\\n    && install -D -m {mode} {file} {dest}");
            }
            None => {
                let target = quote(&details.target);
                let _ = write!(
                    out,
                    " \\\n    && mkdir -p {target} && tar -xf {file} -C {target}"
                );
            }
        }
    }
    let _ = writeln!(out, " \\\n    && cd / && rm -rf {SCRATCH}");
    out
}
