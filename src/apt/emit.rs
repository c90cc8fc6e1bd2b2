//! The Debian part of the Dockerfile: one `RUN` per layer, before the layer's other steps, that
//! installs exactly the .debs the lock pins.
//!
//! The step snapshots dpkg's status, downloads every .deb (or copies it from the build context)
//! and checks each sha256 (`sha256sum -c`: one differing file fails the build), then installs the
//! files with `apt-get install ./x.deb …` run on an empty configuration of its own: no sources, an
//! empty lists folder and a cache folder in the step's work folder. apt sees the image's installed
//! packages and these files and nothing else, so it cannot download or pick anything the lock
//! does not name: a dependency the files and the image do not meet fails the step, and
//! `--no-remove` refuses to remove anything. apt (rather than a bare `dpkg -i`) orders the
//! unpacking and configuring as every Debian install does: `Pre-Depends` and what the essential
//! set needs configured first, triggers after. The packages the lock says were pulled in, new to
//! the image, are marked automatically installed (`apt-mark auto`), as apt would have marked
//! them. Then dpkg's status must be what it was before with each locked package installed at its
//! locked version and architecture, and nothing else changed; otherwise the step fails showing
//! the difference. The work folder goes at the end: no .deb, list or cache stays in the layer.
//! apt's and dpkg's logs are written there too, and ldconfig's timed `aux-cache` is removed, so
//! the layer holds nothing from the clock: built twice, it is the same bytes.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::emit::shell::{quote, words};
use crate::emit::step::{Source, StepError, artifact_mounts, fetch_verified, file_name};
use crate::lock::LockedPackage;

/// The folder the step works in, removed at its end.
const WORK: &str = "/tmp/imglock-apt";

/// ldconfig's record of the libraries it saw, with their times: a cache it rebuilds when missing,
/// removed so that the layer is the same whenever it is built (as Debian's reproducible images
/// do).
const LDCONFIG_CACHE: &str = "/var/cache/ldconfig/aux-cache";

/// How dpkg-query prints a package for the check: one line per package, sortable, compared
/// whole. Single-quoted in the step: the shell passes `${…}` to dpkg-query as written.
const STATUS_FORMAT: &str = "${Package} ${Architecture} ${Version} ${db:Status-Status}\\n";

/// apt's options that point it at the step's empty configuration instead of the image's.
fn apt_options() -> String {
    [
        format!("Dir::Etc::SourceList={WORK}/sources.list"),
        format!("Dir::Etc::SourceParts={WORK}/sources.list.d"),
        format!("Dir::State::Lists={WORK}/lists"),
        format!("Dir::Cache={WORK}/cache"),
        // apt's logs (history, term, the planner's) carry the clock: they go with the work folder.
        format!("Dir::Log={WORK}/log"),
    ]
    .iter()
    .map(|option| format!("-o {option}"))
    .collect::<Vec<_>>()
    .join(" ")
}

/// The install step of layer `layer`'s Debian packages, whose values [`check`] accepted.
pub fn install_step(layer: &str, packages: &[(&LockedPackage, Source)]) -> String {
    let mut sorted: Vec<(&LockedPackage, &Source)> =
        packages.iter().map(|(p, s)| (*p, s)).collect();
    sorted.sort_by(|(a, _), (b, _)| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    let listed: Vec<String> = sorted
        .iter()
        .map(|(p, _)| format!("{} {}", p.name, p.version))
        .collect();
    let mut out = format!(
        "# layer `{}`, Debian packages: {}\nRUN",
        layer,
        listed.join(", ")
    );
    out.push_str(&artifact_mounts(packages));
    let query = format!("dpkg-query -W -f '{STATUS_FORMAT}' | LC_ALL=C sort");
    let _ = write!(
        out,
        " set -e; rm -rf {WORK}; mkdir -p {WORK}/sources.list.d {WORK}/lists/partial {WORK}/cache/archives/partial {WORK}/log; cd {WORK} \\\n    && : > sources.list \\\n    && {query} > before.txt"
    );
    out.push_str(&fetch_verified(
        &sorted,
        "sha256sums.txt",
        &format!(
            "checksum mismatch for a Debian package of layer `{layer}`: the archive serves other bytes than were locked"
        ),
    ));
    let files: Vec<String> = sorted
        .iter()
        .map(|(p, _)| format!("./{}", file_name(p)))
        .collect();
    let options = apt_options();
    let _ = write!(
        out,
        " \\\n    && DEBIAN_FRONTEND=noninteractive apt-get {options} -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--log={WORK}/log/dpkg.log install -y --no-install-recommends --no-remove {}",
        words(&files)
    );
    out.push_str(&mark_auto(&sorted, &options));
    let locked: Vec<String> = sorted
        .iter()
        .map(|(p, _)| format!("{} {} {} installed", p.name, architecture(p), p.version))
        .collect();
    let _ = write!(
        out,
        " \\\n    && printf '%s\\n' {} | LC_ALL=C sort > locked.txt \\\n    && awk 'NR == FNR {{ locked[$1] = 1; next }} !($1 in locked)' locked.txt before.txt | cat - locked.txt | LC_ALL=C sort > wanted.txt \\\n    && {query} > after.txt \\\n    && {{ cmp -s wanted.txt after.txt || {{ echo {} >&2; diff -u wanted.txt after.txt >&2; exit 1; }}; }} \\\n    && cd / && rm -rf {WORK} {LDCONFIG_CACHE}\n",
        words(&locked),
        quote(&format!(
            "imglock: dpkg's status after layer `{layer}` is not the lock's (- locked but not so installed, + changed beyond the lock):"
        )),
    );
    out
}

/// The command that marks the packages pulled in (not requested) that the image did not have
/// before as automatically installed, as apt marks what it installs for a dependency.
fn mark_auto(packages: &[(&LockedPackage, &Source)], options: &str) -> String {
    let pulled: Vec<String> = packages
        .iter()
        .filter(|(p, _)| !p.requested)
        .map(|(p, _)| quote(&p.name))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if pulled.is_empty() {
        return String::new();
    }
    format!(
        " \\\n    && cut -d' ' -f1 before.txt > before-names.txt \\\n    && set -- && for name in {}; do grep -qxF \"$name\" before-names.txt || set -- \"$@\" \"$name\"; done \\\n    && if [ \"$#\" -gt 0 ]; then apt-mark {options} auto \"$@\" >/dev/null; fi",
        pulled.join(" ")
    )
}

/// The architecture dpkg records for a locked package.
fn architecture(package: &LockedPackage) -> &str {
    package
        .details
        .apt()
        .map_or("", |details| details.architecture.as_str())
}

/// Refuses two packages of layer `layer` whose URLs end in the same file name: the step keeps
/// each .deb under that name, so one would replace the other. Nothing else is refused here: every
/// value is quoted into the step, and a value that is not what the .deb holds fails the build
/// (its sha256, then the check of dpkg's status against the locked name, architecture and
/// version).
pub fn check(layer: &str, packages: &[&LockedPackage]) -> Result<(), StepError> {
    let mut files = BTreeSet::new();
    for package in packages {
        let file = file_name(package);
        if !files.insert(file.clone()) {
            return Err(StepError::InvalidLock(format!(
                "Debian package `{}` of layer `{layer}` has the file name `{}` of another package of the layer in its URL; re-run `imglock resolve`",
                package.name.escape_debug(),
                file.escape_debug()
            )));
        }
    }
    Ok(())
}
