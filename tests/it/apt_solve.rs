//! apt resolution on Debian bookworm's real indexes (fixtures/debian, main and
//! bookworm-security for amd64, fetched and verified from a loopback server): requests of
//! data-science images resolved on a minbase (every `Priority: required` and `Essential: yes`
//! package installed, as debootstrap makes it), and each plan checked on its own: every
//! dependency of the final system met, no `Conflicts`/`Breaks` hit, nothing installed reinstalled.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Instant;

use imglock::apt::index::Candidate;
use imglock::apt::packages::{BinaryPackage, Priority};
use imglock::apt::relation::{Alternatives, Dependency};
use imglock::apt::solve::{Installed, Planned, SolveError, SolveOptions, solve};
use imglock::apt::{AptIndex, Keyring, fetch_index};

use crate::support::{Server, fixtures, library_fetcher};

/// Bookworm main and bookworm-security, fetched once for the module's tests.
pub fn bookworm() -> &'static AptIndex {
    static INDEX: OnceLock<AptIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let root = fixtures().join("debian");
        let server = Server::start(&root);
        let lines = [
            format!("deb {}/debian bookworm main", server.url()),
            format!(
                "deb {}/debian-security bookworm-security main",
                server.url()
            ),
        ];
        let sources =
            imglock::apt::sources::parse_one_line(lines.iter().map(String::as_str), "test")
                .unwrap();
        let keyring = Keyring::from_files(&[&root.join("debian-archive-keyring.gpg")]).unwrap();
        let cache = tempfile::tempdir().unwrap();
        // The security suite's Release is valid for a week from its Date: check it then.
        let now = "2026-12-04T04:00:00Z".parse().unwrap();
        fetch_index(
            &library_fetcher(cache.path()),
            &sources,
            "amd64",
            &keyring,
            now,
        )
        .unwrap()
    })
}

/// A minbase as debootstrap makes it: every `Priority: required` or `Essential: yes` package
/// of bookworm and what they depend on (resolved here, the security updates taken), computed
/// once.
fn minbase(index: &'static AptIndex) -> &'static [(Installed, &'static Candidate)] {
    static BASE: OnceLock<Vec<(Installed, &'static Candidate)>> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut required: Vec<String> = index
            .package_names()
            .filter(|name| {
                index.candidates(name).iter().any(|c| {
                    index.origins()[c.origin].suite == "bookworm"
                        && (c.package.essential || c.package.priority == Some(Priority::Required))
                })
            })
            .map(str::to_string)
            .collect();
        required.sort_unstable();
        let planned = solve(index, &[], &required, &SolveOptions::new("amd64")).unwrap();
        assert!(
            planned.len() > required.len(),
            "the required packages' dependencies are added"
        );
        planned
            .into_iter()
            .map(|p| {
                let installed = Installed {
                    name: p.name,
                    version: p.version,
                    architecture: p.architecture,
                    provides: p.candidate.package.provides.clone(),
                };
                (installed, p.candidate)
            })
            .collect()
    })
}

/// Resolves `requests` on the minbase, checks the plan and returns it.
fn plan(requests: &[&str]) -> Vec<Planned<'static>> {
    let index = bookworm();
    let base = minbase(index);
    let installed: Vec<Installed> = base.iter().map(|(i, _)| i.clone()).collect();
    assert!(
        installed.iter().any(|i| i.name == "libc6"),
        "the minbase has libc6"
    );
    let requests: Vec<String> = requests.iter().map(|r| r.to_string()).collect();
    let started = Instant::now();
    let planned = solve(index, &installed, &requests, &SolveOptions::new("amd64")).unwrap();
    eprintln!(
        "{requests:?}: {} packages in {:?}",
        planned.len(),
        started.elapsed()
    );
    let mut system: HashMap<&str, &BinaryPackage> = base
        .iter()
        .map(|(i, c)| (i.name.as_str(), &c.package))
        .collect();
    for package in &planned {
        let kept = base.iter().find(|(i, _)| i.name == package.name);
        assert!(
            kept.is_none_or(|(i, _)| i.version != package.version),
            "{} reinstalled",
            package.name
        );
        system.insert(&package.name, &package.candidate.package);
    }
    check_consistent(&system);
    planned
}

/// Whether `dependency` is met by the system: a real package at an admitted version, or a
/// provider (an unversioned Provides only for an unversioned dependency).
pub fn met(system: &HashMap<&str, &BinaryPackage>, dependency: &Dependency) -> bool {
    let admits =
        |v: &imglock::apt::Version| dependency.constraint.as_ref().is_none_or(|c| c.admits(v));
    system
        .get(dependency.name.as_str())
        .is_some_and(|p| admits(&p.version))
        || system.values().any(|p| {
            p.provides.iter().any(|provided| {
                provided.name == dependency.name
                    && match (&dependency.constraint, &provided.version) {
                        (None, _) => true,
                        (Some(_), Some(version)) => admits(version),
                        (Some(_), None) => false,
                    }
            })
        })
}

pub fn check_consistent(system: &HashMap<&str, &BinaryPackage>) {
    for package in system.values() {
        for group in package.pre_depends.0.iter().chain(&package.depends.0) {
            let Alternatives(alternatives) = group;
            assert!(
                alternatives.iter().any(|d| met(system, d)),
                "{}: `{group}` is not met",
                package.name
            );
        }
        for group in package.conflicts.0.iter().chain(&package.breaks.0) {
            for dependency in &group.0 {
                let hit_real = dependency.name != package.name
                    && system.get(dependency.name.as_str()).is_some_and(|other| {
                        dependency
                            .constraint
                            .as_ref()
                            .is_none_or(|c| c.admits(&other.version))
                    });
                let hit_virtual = system.values().any(|other| {
                    other.name != package.name
                        && other.provides.iter().any(|provided| {
                            provided.name == dependency.name
                                && match (&dependency.constraint, &provided.version) {
                                    (None, _) => true,
                                    (Some(c), Some(version)) => c.admits(version),
                                    (Some(_), None) => false,
                                }
                        })
                });
                assert!(
                    !hit_real && !hit_virtual,
                    "{}: `{dependency}` is hit",
                    package.name
                );
            }
        }
    }
}

fn names<'p>(planned: &'p [Planned<'_>]) -> Vec<&'p str> {
    planned.iter().map(|p| p.name.as_str()).collect()
}

#[test]
fn r_base_dev_pulls_the_toolchain_and_keeps_the_base() {
    let planned = plan(&["r-base-dev"]);
    let names = names(&planned);
    for wanted in [
        "r-base-dev",
        "r-base-core",
        "gcc-12",
        "g++-12",
        "gfortran-12",
        "make",
        "libblas-dev",
    ] {
        assert!(names.contains(&wanted), "{wanted} missing from {names:?}");
    }
    assert!(!names.contains(&"libc6"), "libc6 is installed already");
    let gcc = planned.iter().find(|p| p.name == "gcc-12").unwrap();
    assert_eq!(gcc.via.0[0], "r-base-dev", "{}", gcc.via);
    assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted by name");
}

#[test]
fn a_dependency_an_installed_provider_meets_installs_nothing() {
    // x11-common depends on `lsb-base (>= 1.3-9ubuntu2)`, which the essential sysvinit-utils
    // meets with `Provides: lsb-base (= 11.1.0)`: apt installs no lsb-base (r-base-dev's 153
    // packages on this minbase are apt's exactly, `cargo bench --bench apt`).
    let planned = plan(&["x11-common"]);
    let names = names(&planned);
    assert!(names.contains(&"x11-common"), "{names:?}");
    assert!(!names.contains(&"lsb-base"), "{names:?}");
}

#[test]
fn openjdk_pulls_its_runtime_and_certificates() {
    let planned = plan(&["openjdk-17-jdk-headless"]);
    let names = names(&planned);
    for wanted in [
        "openjdk-17-jre-headless",
        "ca-certificates-java",
        "ca-certificates",
        "java-common",
    ] {
        assert!(names.contains(&wanted), "{wanted} missing from {names:?}");
    }
}

#[test]
fn build_essential_and_development_headers() {
    let names_of = |requests: &[&str]| {
        names(&plan(requests))
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
    };
    let build = names_of(&["build-essential"]);
    for wanted in ["gcc", "g++", "make", "dpkg-dev", "libc6-dev"] {
        assert!(
            build.contains(&wanted.to_string()),
            "{wanted} missing from {build:?}"
        );
    }
    let headers = names_of(&["libxml2-dev", "libcurl4-openssl-dev", "libssl-dev"]);
    for wanted in ["libxml2", "libicu-dev", "libcurl4", "libc6-dev"] {
        assert!(
            headers.contains(&wanted.to_string()),
            "{wanted} missing from {headers:?}"
        );
    }
    assert!(
        !headers.iter().any(|n| n.starts_with("libcurl4-gnutls")),
        "{headers:?}"
    );
}

#[test]
fn samtools_and_python3_pip() {
    let samtools = plan(&["samtools"]);
    assert!(
        names(&samtools).contains(&"libhts3"),
        "{:?}",
        names(&samtools)
    );
    let pip = plan(&["python3-pip"]);
    for wanted in [
        "python3",
        "python3.11",
        "python3-setuptools",
        "python3-wheel",
    ] {
        assert!(
            names(&pip).contains(&wanted),
            "{wanted} missing from {:?}",
            names(&pip)
        );
    }
}

#[test]
fn a_security_update_is_taken_over_the_release() {
    let index = bookworm();
    let planned = plan(&["libssl-dev"]);
    let ssl = planned.iter().find(|p| p.name == "libssl-dev").unwrap();
    let latest = index
        .candidates("libssl-dev")
        .iter()
        .map(|c| &c.package.version)
        .max()
        .unwrap();
    assert_eq!(&ssl.version, latest);
    assert_eq!(
        index.origins()[ssl.candidate.origin].suite,
        "bookworm-security"
    );
}

#[test]
fn a_misspelled_request_is_refused_with_the_closest_name() {
    let index = bookworm();
    let base: Vec<Installed> = minbase(index).iter().map(|(i, _)| i.clone()).collect();
    let error = solve(
        index,
        &base,
        &["libxml2-dve".to_string()],
        &SolveOptions::new("amd64"),
    )
    .unwrap_err();
    assert!(
        matches!(error, SolveError::UnknownPackage { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("did you mean `libxml2-dev`?"),
        "{error}"
    );
    let pinned = solve(
        index,
        &base,
        &["ca-certificates-java (= 1.0)".to_string()],
        &SolveOptions::new("amd64"),
    )
    .unwrap_err();
    assert!(pinned.to_string().contains("20230710~deb12u1"), "{pinned}");
}

#[test]
fn conflicting_requests_are_explained_in_debian_terms() {
    let index = bookworm();
    let base: Vec<Installed> = minbase(index).iter().map(|(i, _)| i.clone()).collect();
    let requests = [
        "libcurl4-openssl-dev".to_string(),
        "libcurl4-gnutls-dev".to_string(),
    ];
    let error = solve(index, &base, &requests, &SolveOptions::new("amd64")).unwrap_err();
    eprintln!("{error}");
    assert!(matches!(error, SolveError::Unsolvable { .. }), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("libcurl4-gnutls-dev") && text.contains("libcurl4-openssl-dev"),
        "{text}"
    );
}
