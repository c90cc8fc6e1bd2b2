//! The Python part of the Dockerfile: one `RUN` per layer that writes a requirements file of
//! exact files with `--hash` lines and installs it with `pip --no-deps --require-hashes`, so pip
//! installs exactly the lock: no resolution, no index, nothing unpinned. The image's own Python
//! is the environment, so pip is told to install into it even where the distribution marks it
//! as externally managed (PEP 668: Debian 12, Ubuntu 23.04); older pips ignore the setting.

use std::fmt::Write;

use crate::emit::shell::quote;
use crate::emit::step::{Source, context_mount};
use crate::lock::LockedPackage;

/// The install step of a layer's Python packages (wheels with `--only-binary :all:`; an sdist,
/// which the resolver allows only with static metadata, is built by pip in a second install).
pub fn install_step(layer: &str, packages: &[(&LockedPackage, Source)]) -> String {
    let mut names: Vec<&str> = packages.iter().map(|(p, _)| p.name.as_str()).collect();
    names.sort_unstable();
    let mut out = format!(
        "# layer `{layer}`, Python packages: {}\nRUN",
        names.join(" ")
    );
    out.push_str(context_mount(packages));
    let (wheels, sdists): (Vec<_>, Vec<_>) = packages
        .iter()
        .partition(|(package, _)| package.url.ends_with(".whl"));
    let mut commands = Vec::new();
    for (files, file_name, binary) in [
        (&wheels, "wheels", "--only-binary :all:"),
        (&sdists, "sdists", "--no-binary :all:"),
    ] {
        if files.is_empty() {
            continue;
        }
        let path = format!("/tmp/imglock-python-{file_name}.txt");
        let mut command = String::from("printf '%s\\n' \\\n");
        let mut lines: Vec<String> = files
            .iter()
            .map(|(package, source)| {
                let location = match source {
                    Source::Url(url) => url.clone(),
                    Source::Context(path) => format!("file:///imglock-context/{path}"),
                };
                format!(
                    "{} @ {location} --hash=sha256:{}",
                    package.name, package.sha256
                )
            })
            .collect();
        lines.sort();
        for line in lines {
            let _ = writeln!(command, "        {} \\", quote(&line));
        }
        let _ = write!(
            command,
            "        > {path} \\\n    && PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --no-deps --require-hashes {binary} --no-cache-dir --disable-pip-version-check -r {path} \\\n    && rm -f {path}"
        );
        commands.push(command);
    }
    let _ = writeln!(out, " {}", commands.join(" \\\n    && "));
    out
}
