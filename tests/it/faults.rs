//! Every fault of the loopback server against every ecosystem: the mixed example (CRAN,
//! Bioconductor, PyPI, conda and Maven layers, each repository on a server of its own) resolved
//! while one of an ecosystem's files (an index, a compressed index, an artifact) answers with a
//! fault. A transient fault is retried and the lock is the one a run that never saw a fault
//! writes; a lasting one fails the run (exit 2, no panic, no hang) naming the URL and the
//! fault. Either way, the next run against a healthy server writes that same lock: nothing bad
//! was kept in the cache. Small limits (`IMGLOCK_MAX_INDEX_BYTES`, the low-speed limit) make
//! the huge and dripping cases take seconds.

use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

use crate::support::mixed::MixedRepositories;
use crate::support::{Fault, Project, Server, gzip_bomb, output_within, stderr, zstd_bomb};

/// Every index size limit, far above the example's largest index (an 85 KB PyPI page).
const INDEX_LIMIT: usize = 1 << 20;

/// The limits every run has: an index limit of [`INDEX_LIMIT`], an artifact limit of 16 MiB
/// (the example's largest artifact is 155 KB), a drip is dropped after a second (a window long
/// enough that a loaded machine's slow answer is not taken for one), and a deadline backs them
/// up.
const ENV: [(&str, &str); 5] = [
    ("IMGLOCK_MAX_INDEX_BYTES", "1048576"),
    ("IMGLOCK_MAX_ARTIFACT_BYTES", "16777216"),
    ("IMGLOCK_HTTP_LOW_SPEED_LIMIT", "100"),
    ("IMGLOCK_HTTP_LOW_SPEED_TIME", "1"),
    ("IMGLOCK_HTTP_TIMEOUT", "20"),
];

/// How long one run may take before it counts as hung.
const RUN_LIMIT: Duration = Duration::from_secs(40);

/// The address space a run may use: a run that holds a huge or endless body in memory fails
/// instead of exhausting the machine.
const MEMORY_LIMIT: u64 = 4 << 30;

/// What a file is to its ecosystem.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Index,
    /// An index in gzip (`PACKAGES.gz`).
    Gzip,
    /// An index in zstd (`repodata.json.zst`): the fixture channels have none, so this file is
    /// only ever served by a fault.
    Zstd,
    Artifact,
}

/// One file of an ecosystem: the repository serving it (as the example's spec names it), its
/// path on that repository's server, and its kind.
struct Target {
    repository: &'static str,
    path: &'static str,
    kind: Kind,
}

/// What a run facing a fault must do.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Retry past it and write the lock a faultless run writes.
    Recovers,
    /// Fail (exit 2) naming the URL and each of these.
    Fails(&'static [&'static str]),
}

/// A fault, how often it is served, and what each kind of file must make of it.
struct Case {
    name: &'static str,
    faults: fn(&Target, &Server) -> Vec<Fault>,
    /// What an index must make of it; `None` when the case is not for indexes.
    index: Option<Expect>,
    /// What an artifact must make of it; `None` when the case is not for artifacts.
    artifact: Option<Expect>,
    /// Whether the case is only for compressed indexes (a compression bomb).
    compressed_only: bool,
}

fn drip() -> Fault {
    Fault::Drip {
        interval: Duration::from_millis(200),
        bytes: 50,
    }
}

/// Bytes that are no index of any format: not gzip, zstd, JSON or XML.
const GARBAGE: &[u8] = b"\x1f\x8b<{ this is not an index";

/// The file a target serves (a folder serves its PEP 691 page).
fn served(target: &Target) -> Vec<u8> {
    let file =
        MixedRepositories::folder(target.repository).join(target.path.trim_start_matches('/'));
    match file.is_dir() {
        true => std::fs::read(file.join("index.json")).unwrap(),
        false => std::fs::read(file).unwrap(),
    }
}

const RECOVERS: Option<Expect> = Some(Expect::Recovers);
const RETRIES_EXHAUSTED: Option<Expect> = Some(Expect::Fails(&["after 4 attempts"]));
const TOO_LARGE: Option<Expect> = Some(Expect::Fails(&["IMGLOCK_MAX_INDEX_BYTES"]));
const MISMATCH: Option<Expect> = Some(Expect::Fails(&["checksum mismatch"]));

const CASES: &[Case] = &[
    Case {
        name: "HTTP 503 once",
        faults: |_, _| vec![Fault::Status(503)],
        index: RECOVERS,
        artifact: RECOVERS,
        compressed_only: false,
    },
    Case {
        name: "HTTP 503 on every attempt",
        faults: |_, _| vec![Fault::Status(503); 4],
        index: Some(Expect::Fails(&["HTTP 503"])),
        artifact: Some(Expect::Fails(&["HTTP 503"])),
        compressed_only: false,
    },
    Case {
        name: "a reset once",
        faults: |_, _| vec![Fault::Reset],
        index: RECOVERS,
        artifact: RECOVERS,
        compressed_only: false,
    },
    Case {
        name: "a reset on every attempt",
        faults: |_, _| vec![Fault::Reset; 4],
        index: RETRIES_EXHAUSTED,
        artifact: RETRIES_EXHAUSTED,
        compressed_only: false,
    },
    Case {
        name: "a short body once",
        faults: |_, _| vec![Fault::Truncate],
        index: RECOVERS,
        artifact: RECOVERS,
        compressed_only: false,
    },
    Case {
        name: "a short body on every attempt",
        faults: |_, _| vec![Fault::Truncate; 4],
        index: RETRIES_EXHAUSTED,
        artifact: RETRIES_EXHAUSTED,
        compressed_only: false,
    },
    Case {
        name: "a long body (more bytes than announced)",
        faults: |_, _| vec![Fault::Long { extra: 4096 }; 8],
        index: RECOVERS,
        artifact: RECOVERS,
        compressed_only: false,
    },
    Case {
        name: "half the body, announced as whole",
        faults: |target, _| {
            let body = served(target);
            vec![Fault::Body(body[..body.len() / 2].to_vec()); 8]
        },
        index: Some(Expect::Fails(&[])),
        artifact: MISMATCH,
        compressed_only: false,
    },
    Case {
        name: "a drip once",
        faults: |_, _| vec![drip()],
        index: RECOVERS,
        artifact: RECOVERS,
        compressed_only: false,
    },
    Case {
        name: "a drip on every attempt",
        faults: |_, _| vec![drip(); 4],
        index: Some(Expect::Fails(&["IMGLOCK_HTTP_LOW_SPEED_LIMIT"])),
        artifact: Some(Expect::Fails(&["IMGLOCK_HTTP_LOW_SPEED_LIMIT"])),
        compressed_only: false,
    },
    Case {
        name: "a huge body (64 MiB announced)",
        faults: |_, _| vec![Fault::Huge { bytes: 64 << 20 }; 8],
        index: TOO_LARGE,
        artifact: Some(Expect::Fails(&["IMGLOCK_MAX_ARTIFACT_BYTES"])),
        compressed_only: false,
    },
    Case {
        name: "an endless body",
        faults: |_, _| vec![Fault::Endless; 8],
        index: TOO_LARGE,
        artifact: Some(Expect::Fails(&["IMGLOCK_MAX_ARTIFACT_BYTES"])),
        compressed_only: false,
    },
    Case {
        name: "a compression bomb",
        faults: |target, _| {
            let bomb = match target.kind {
                Kind::Zstd => zstd_bomb(64 * INDEX_LIMIT),
                _ => gzip_bomb(64 * INDEX_LIMIT),
            };
            vec![Fault::Body(bomb); 8]
        },
        index: TOO_LARGE,
        artifact: None,
        compressed_only: true,
    },
    Case {
        name: "a bad body, then 304 to its ETag",
        // Once for an index: the refetch after it must not present the bad body's ETag. On every
        // attempt for an artifact, which is never revalidated.
        faults: |target, _| match target.kind {
            Kind::Artifact => vec![Fault::BadThen304(GARBAGE.to_vec()); 4],
            _ => vec![Fault::BadThen304(GARBAGE.to_vec())],
        },
        index: RECOVERS,
        artifact: MISMATCH,
        compressed_only: false,
    },
    Case {
        name: "a redirect to a `file:` URL",
        faults: |target, _| {
            let file = MixedRepositories::folder(target.repository)
                .join(target.path.trim_start_matches('/'));
            let location = format!("file://{}", file.display());
            let redirect = Fault::Redirect {
                status: 302,
                location,
            };
            vec![redirect; 4]
        },
        index: Some(Expect::Fails(&["redirected to `file:"])),
        artifact: Some(Expect::Fails(&["redirected to `file:"])),
        compressed_only: false,
    },
    Case {
        name: "a redirect to another host",
        faults: |target, mirror| {
            let location = format!("{}{}", mirror.url(), target.path);
            vec![Fault::Redirect {
                status: 301,
                location,
            }]
        },
        index: RECOVERS,
        artifact: RECOVERS,
        compressed_only: false,
    },
];

/// What a case expects of a target, if the case is for it.
fn expectation(case: &Case, target: &Target) -> Option<Expect> {
    match (target.kind, case.compressed_only) {
        (Kind::Artifact, _) => case.artifact,
        (Kind::Index, true) => None,
        (Kind::Index | Kind::Gzip, _) => case.index,
        // The zstd file exists only as a bomb: every other fault is the plain index's.
        (Kind::Zstd, compressed_only) => compressed_only.then_some(case.index)?,
    }
}

/// `imglock resolve` in `project` with the limits of [`ENV`] and [`MEMORY_LIMIT`]; `None` when
/// it hung.
fn resolve(project: &Project) -> Option<std::process::Output> {
    let mut command = project.command(&["resolve"], &ENV);
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: MEMORY_LIMIT,
                rlim_max: MEMORY_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    output_within(command, RUN_LIMIT)
}

/// Checks what a run facing a fault did against what it should have done; `baseline` is the
/// normalized lock of a faultless run.
fn judge(
    output: &std::process::Output,
    expect: Expect,
    url: &str,
    lock: Option<String>,
    baseline: &str,
) -> Result<(), String> {
    let message = stderr(output);
    if message.contains("panicked") || output.status.code().is_none() {
        return Err(format!("crashed ({}):\n{message}", output.status));
    }
    match expect {
        Expect::Recovers if !output.status.success() => Err(format!("did not recover:\n{message}")),
        Expect::Recovers if lock.as_deref() != Some(baseline) => {
            Err("recovered with another lock than a faultless run's".to_string())
        }
        Expect::Recovers => Ok(()),
        Expect::Fails(_) if output.status.code() != Some(2) => Err(format!(
            "did not fail with exit 2 ({}):\n{message}",
            output.status
        )),
        Expect::Fails(_) if lock.is_some() => Err("failed but wrote a lock".to_string()),
        Expect::Fails(_) if cause_level_with_its_item(&message) => Err(format!(
            "a cause in a list of errors is not indented under its item:\n{message}"
        )),
        Expect::Fails(needles) => match std::iter::once(url)
            .chain(needles.iter().copied())
            .find(|needle| !message.contains(needle))
        {
            Some(missing) => Err(format!("the error does not name `{missing}`:\n{message}")),
            None => Ok(()),
        },
    }
}

/// Whether a `Caused by` line in a list of errors (`  - …` items) is level with the items'
/// dashes, instead of under its item's text.
fn cause_level_with_its_item(message: &str) -> bool {
    let mut in_list = false;
    message.lines().any(|line| {
        in_list |= line.starts_with("  - ");
        in_list && line.starts_with("  Caused by:")
    })
}

/// One fault against one target, on servers of its own, in a fresh project; then a clean run
/// in the same project (same cache).
fn run_case(target: &Target, case: &Case, expect: Expect, baseline: &str) -> Result<(), String> {
    let repositories = MixedRepositories::start();
    let mirror = Server::start(&MixedRepositories::folder(target.repository));
    let server = repositories.server(target.repository);
    let project = Project::new(&repositories.spec(None));
    server.inject(target.path, (case.faults)(target, &mirror));
    let output = resolve(&project);
    server.clear_faults(target.path);
    let url = format!("{}{}", server.url(), target.path);
    let lock = |project: &Project| project.lock().map(|lock| repositories.normalize(&lock));
    let output = output.ok_or("hung")?;
    judge(&output, expect, &url, lock(&project), baseline)?;
    let clean = resolve(&project).ok_or("the clean run hung")?;
    judge(&clean, Expect::Recovers, &url, lock(&project), baseline)
        .map_err(|error| format!("the clean run after it: {error}"))
}

/// How many cases run at once: most of a case's time is waiting (backoff, drips).
const WORKERS: usize = 4;

/// Every case against every target of one ecosystem, [`WORKERS`] at a time; a failure names
/// every (target, case) pair that misbehaved.
fn every_fault_against(targets: &[Target]) {
    let start = Instant::now();
    let repositories = MixedRepositories::start();
    let project = Project::new(&repositories.spec(None));
    let output = resolve(&project).expect("the faultless run hung");
    assert!(output.status.success(), "{}", stderr(&output));
    let baseline = repositories.normalize(&project.lock().unwrap());
    for target in targets {
        let hits = repositories.server(target.repository).hits(target.path);
        assert!(hits > 0, "{} is never fetched", target.path);
    }
    let pairs: Vec<(&Target, &Case, Expect)> = targets
        .iter()
        .flat_map(|target| CASES.iter().map(move |case| (target, case)))
        .filter_map(|(target, case)| Some((target, case, expectation(case, target)?)))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                while let Some((target, case, expect)) =
                    pairs.get(next.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
                {
                    if let Err(error) = run_case(target, case, *expect, &baseline) {
                        let failure = format!("{} × {}: {error}", target.path, case.name);
                        failures.lock().unwrap().push(failure);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!(
        "{} cases in {:.1} s",
        pairs.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases misbehaved:\n\n{}",
        failures.len(),
        pairs.len(),
        failures.join("\n\n")
    );
}

#[test]
fn cran() {
    every_fault_against(&[
        Target {
            repository: "cran",
            path: "/src/contrib/PACKAGES.gz",
            kind: Kind::Gzip,
        },
        Target {
            repository: "cran",
            path: "/src/contrib/plotkit_3.4.1.tar.gz",
            kind: Kind::Artifact,
        },
    ]);
}

#[test]
fn bioconductor() {
    every_fault_against(&[
        Target {
            repository: "bioc",
            path: "/packages/3.16/bioc/src/contrib/PACKAGES.gz",
            kind: Kind::Gzip,
        },
        Target {
            repository: "bioc",
            path: "/packages/3.16/bioc/src/contrib/SeqTools_1.4.0.tar.gz",
            kind: Kind::Artifact,
        },
    ]);
}

#[test]
fn pypi() {
    every_fault_against(&[
        Target {
            repository: "pypi/simple",
            path: "/simple/requests/",
            kind: Kind::Index,
        },
        Target {
            repository: "pypi/simple",
            path: "/files/2d/61/08076519c80041bc0ffa1a8af0cbd3bf3e2b62af10435d269a9d0f40564d/requests-2.27.1-py2.py3-none-any.whl.metadata",
            kind: Kind::Artifact,
        },
    ]);
}

#[test]
fn conda() {
    every_fault_against(&[
        Target {
            repository: "conda/channels",
            path: "/main/linux-64/repodata.json",
            kind: Kind::Index,
        },
        Target {
            repository: "conda/channels",
            path: "/main/linux-64/repodata.json.zst",
            kind: Kind::Zstd,
        },
    ]);
}

#[test]
fn maven() {
    every_fault_against(&[
        Target {
            repository: "maven/repo",
            path: "/org/imglock/fixture/app/1.0/app-1.0.pom",
            kind: Kind::Index,
        },
        Target {
            repository: "maven/repo",
            path: "/org/imglock/fixture/app/1.0/app-1.0.jar",
            kind: Kind::Artifact,
        },
        // The checksum the jar is verified against: read like an index.
        Target {
            repository: "maven/repo",
            path: "/org/imglock/fixture/app/1.0/app-1.0.jar.sha1",
            kind: Kind::Index,
        },
    ]);
}

/// A tarball whose first entry is `expanded` zero bytes (about a thousandth of that once
/// compressed), followed by the entries of the tarball `real`: a bomb that is still a package.
fn tar_gz_bomb(expanded: u64, real: &std::path::Path) -> Vec<u8> {
    use std::io::Read;
    let gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut builder = tar::Builder::new(gzip);
    let mut header = tar::Header::new_gnu();
    header.set_size(expanded);
    header.set_mode(0o644);
    header.set_cksum();
    let zeros = std::io::repeat(0).take(expanded);
    builder
        .append_data(&mut header, "corekit/aaa-zeros", zeros)
        .unwrap();
    let real = std::fs::File::open(real).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(real));
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let mut header = entry.header().clone();
        let path = entry.path().unwrap().into_owned();
        builder.append_data(&mut header, path, entry).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// A gzip an ecosystem reads beyond its indexes: the tarball of an archived CRAN version, read
/// for its DESCRIPTION and published with no checksum. One that expands past the index limit
/// before its DESCRIPTION (a bomb) is refused, naming the URL and the limit; the clean run
/// after it locks the version.
#[test]
fn an_archived_tarball_that_expands_past_the_limit_is_refused() {
    let server = Server::start(&crate::support::fixtures());
    let spec = crate::support::spec(
        &format!("cran = [\"{}/cran\"]", server.url()),
        "[[layer]]\nname = \"r\"\ncran = [\"corekit == 1.0.0\"]",
    );
    let path = "/cran/src/contrib/Archive/corekit/corekit_1.0.0.tar.gz";
    let real = crate::support::fixtures().join(path.trim_start_matches('/'));
    let bomb = tar_gz_bomb(64 * INDEX_LIMIT as u64, &real);
    let faultless = Project::new(&spec);
    let output = resolve(&faultless).expect("the faultless run hung");
    assert!(output.status.success(), "{}", stderr(&output));
    let baseline = faultless.lock().unwrap();

    let project = Project::new(&spec);
    server.inject(path, vec![Fault::Body(bomb); 4]);
    let output = resolve(&project).expect("hung");
    server.clear_faults(path);
    let url = format!("{}{path}", server.url());
    let expect = Expect::Fails(&["IMGLOCK_MAX_INDEX_BYTES"]);
    judge(&output, expect, &url, project.lock(), &baseline).unwrap();
    let clean = resolve(&project).expect("the clean run hung");
    judge(&clean, Expect::Recovers, &url, project.lock(), &baseline).unwrap();
}
