//! The conda part of the Dockerfile: one `RUN` per layer that downloads the layer's packages,
//! checks every sha256, writes an explicit environment file (`@EXPLICIT`, one `url#sha256` line
//! per package, dependencies first) and installs it into the image's prefix with micromamba or
//! conda. An explicit file is installed as written, with no solve; the step then compares the
//! prefix's `conda-meta` with what it held before plus the lock, and fails if the installer added
//! or removed anything else.
//!
//! The layer is the same bytes whenever it is built: the installer's package cache is a fixed
//! folder inside the step's work folder (`CONDA_PKGS_DIRS`, which conda and micromamba both read;
//! their `conda-meta` records name it), and the time the installer writes into
//! `conda-meta/history` for this install is replaced by [`SOURCE_DATE`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::conda::CondaInstaller;
use crate::emit::shell::{quote, words};
use crate::emit::step::{SOURCE_DATE, Source, artifact_mounts, fetch_verified, file_name};
use crate::lock::LockedPackage;

/// The folder the step works in, removed at its end.
const WORK: &str = "/tmp/imglock-conda";

/// The install step of a layer's conda packages.
pub fn install_step(
    layer: &str,
    packages: &[(&LockedPackage, Source)],
    prefix: &str,
    installer: CondaInstaller,
) -> String {
    let prefix = &quote(prefix);
    let ordered = install_order(packages);
    let names: Vec<&str> = ordered.iter().map(|(p, _)| p.name.as_str()).collect();
    let mut out = format!(
        "# layer `{layer}`, conda packages in dependency order: {}\nRUN",
        names.join(" ")
    );
    out.push_str(&artifact_mounts(packages));
    let _ = write!(
        out,
        " set -e; mkdir -p {WORK} {prefix}/conda-meta; cd {WORK} \\\n    && ls -1 {prefix}/conda-meta | grep '\\.json$' | sort > before.txt \\\n    && kept=$(($(cat {prefix}/conda-meta/history 2>/dev/null | wc -c)))"
    );
    let files: Vec<(&LockedPackage, &Source)> = ordered.iter().map(|(p, s)| (*p, s)).collect();
    out.push_str(&fetch_verified(
        &files,
        "sha256sums.txt",
        &format!("checksum mismatch for a conda package of layer `{layer}`: the channel serves other bytes than were locked"),
    ));
    let mut explicit = vec!["@EXPLICIT".to_string()];
    let mut expected = Vec::new();
    for (package, _) in &ordered {
        let file = file_name(package);
        explicit.push(format!("file://{WORK}/{file}#{}", package.sha256));
        expected.push(format!(
            "{}-{}-{}.json",
            package.name,
            package.version,
            package
                .details
                .conda()
                .map_or("", |conda| conda.build.as_str())
        ));
    }
    let _ = write!(
        out,
        " \\\n    && printf '%s\\n' {} > environment.txt",
        words(&explicit)
    );
    let install = match installer {
        CondaInstaller::Conda => {
            format!("conda install -y -p {prefix} --file {WORK}/environment.txt")
        }
        CondaInstaller::Micromamba => {
            format!("micromamba install -y -p {prefix} -f {WORK}/environment.txt")
        }
    };
    let _ = write!(out, " \\\n    && CONDA_PKGS_DIRS={WORK}/pkgs {install}");
    out.push_str(&history_dated(prefix));
    expected.sort();
    let _ = write!(
        out,
        " \\\n    && printf '%s\\n' {} | cat - before.txt | sort -u > wanted.txt \\\n    && ls -1 {prefix}/conda-meta | grep '\\.json$' | sort > after.txt \\\n    && {{ cmp -s wanted.txt after.txt || {{ echo 'imglock: the installer changed '{prefix}' beyond the lock (- missing, + unexpected):' >&2; diff wanted.txt after.txt >&2; exit 1; }}; }} \\\n    && cd / && rm -rf {WORK}\n",
        words(&expected)
    );
    out
}

/// The shell that replaces the times the install wrote into the prefix's `conda-meta/history`
/// (`==> 2024-05-01 12:00:00 <==` lines, after the `$kept` bytes it had before) by
/// [`SOURCE_DATE`]; what was there before is kept as it was.
fn history_dated(prefix: &str) -> String {
    let history = format!("{prefix}/conda-meta/history");
    let dated = quote(&format!(
        "s/^==> [0-9][0-9-]* [0-9][0-9:]* <==$/==> {SOURCE_DATE} <==/"
    ));
    format!(
        " \\\n    && if [ -f {history} ]; then {{ head -c \"$kept\" {history}; tail -c \"+$((kept + 1))\" {history} | sed {dated}; }} > history.txt && cat history.txt > {history}; fi"
    )
}

/// The packages with each one's dependencies (within the layer) before it, ties by name.
fn install_order<'a, 'b>(
    packages: &'b [(&'a LockedPackage, Source)],
) -> Vec<&'b (&'a LockedPackage, Source)> {
    let by_name: BTreeMap<&str, &'b (&'a LockedPackage, Source)> = packages
        .iter()
        .map(|entry| (entry.0.name.as_str(), entry))
        .collect();
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut ordered = Vec::new();
    while ordered.len() < by_name.len() {
        // The first (by name) package whose dependencies in this layer are all placed; a cycle,
        // which conda allows, is broken at its first package by name.
        let ready = by_name
            .iter()
            .filter(|(name, _)| !placed.contains(*name))
            .find(|(_, (package, _))| {
                package
                    .dependencies
                    .iter()
                    .all(|d| placed.contains(d.as_str()) || !by_name.contains_key(d.as_str()))
            })
            .or_else(|| by_name.iter().find(|(name, _)| !placed.contains(*name)));
        let Some((name, entry)) = ready else { break };
        placed.insert(name);
        ordered.push(*entry);
    }
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::Ecosystem;

    fn package(name: &str, dependencies: &[&str]) -> LockedPackage {
        LockedPackage {
            ecosystem: Ecosystem::Conda,
            name: name.into(),
            version: "1.0".into(),
            repository: "https://conda.example/main".into(),
            url: format!("https://conda.example/main/linux-64/{name}-1.0-h0_0.conda"),
            sha256: "a".repeat(64),
            size: 1,
            license: None,
            requested: false,
            dependencies: dependencies.iter().map(|d| d.to_string()).collect(),
            details: crate::package::PackageDetails::Conda(crate::conda::CondaBuild {
                build: "h0_0".into(),
                build_number: 0,
                subdir: "linux-64".into(),
                md5: None,
                depends: Vec::new(),
            }),
        }
    }

    #[test]
    fn dependencies_come_first_and_cycles_do_not_stall() {
        let locked = [
            package("zedtool", &["zedcli", "libzed"]),
            package("libzed", &["libzbase"]),
            package("zedcli", &["libzed", "python"]),
            package("libzbase", &[]),
            package("a-cycle", &["b-cycle"]),
            package("b-cycle", &["a-cycle"]),
        ];
        let entries: Vec<(&LockedPackage, Source)> = locked
            .iter()
            .map(|p| (p, Source::Url(p.url.clone())))
            .collect();
        let order: Vec<&str> = install_order(&entries)
            .iter()
            .map(|(p, _)| p.name.as_str())
            .collect();
        assert_eq!(
            order,
            [
                "libzbase", "libzed", "zedcli", "zedtool", "a-cycle", "b-cycle"
            ]
        );
    }

    #[test]
    fn the_step_verifies_installs_explicitly_and_checks_conda_meta() {
        let locked = [package("libzbase", &[]), package("libzed", &["libzbase"])];
        let entries: Vec<(&LockedPackage, Source)> = locked
            .iter()
            .map(|p| (p, Source::Url(p.url.clone())))
            .collect();
        let step = install_step("base", &entries, "/opt/conda", CondaInstaller::Micromamba);
        assert!(
            step.contains("sha256sum -c --quiet sha256sums.txt"),
            "{step}"
        );
        assert!(step.contains("@EXPLICIT \\\n"), "{step}");
        let zbase = step
            .find("file:///tmp/imglock-conda/libzbase-1.0-h0_0.conda#")
            .unwrap();
        let zed = step
            .find("file:///tmp/imglock-conda/libzed-1.0-h0_0.conda#")
            .unwrap();
        assert!(zbase < zed, "dependencies first: {step}");
        assert!(
            step.contains(
                "micromamba install -y -p /opt/conda -f /tmp/imglock-conda/environment.txt"
            )
        );
        assert!(step.contains("libzed-1.0-h0_0.json"), "{step}");
        let conda = install_step("base", &entries, "/env", CondaInstaller::Conda);
        assert!(
            conda.contains("conda install -y -p /env --file /tmp/imglock-conda/environment.txt")
        );
    }

    /// The check after the install names the prefix in its message: the prefix stays one quoted
    /// word there, so a prefix with shell text in it prints that text instead of running it (a
    /// fuzz finding: the quoted prefix was written inside the message's own single quotes).
    #[test]
    fn a_prefix_with_shell_text_is_printed_by_the_check_not_run() {
        let dir = tempfile::tempdir().unwrap();
        let planted = dir.path().join("planted");
        let prefix = format!("/opt/a b;touch {};echo", planted.display());
        let locked = [package("libzbase", &[])];
        let entries: Vec<(&LockedPackage, Source)> = locked
            .iter()
            .map(|p| (p, Source::Url(p.url.clone())))
            .collect();
        let step = install_step("base", &entries, &prefix, CondaInstaller::Micromamba);
        let start = step.find("{ cmp -s").expect("the check after the install");
        let end = start + step[start..].find("}; }").expect("the check's end") + 4;
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(&step[start..end])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(!planted.exists(), "the prefix ran as shell code: {stderr}");
        assert!(
            stderr.contains(&format!("the installer changed {prefix} beyond the lock")),
            "{stderr}"
        );
    }
}
