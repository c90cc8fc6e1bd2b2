//! Parsing Debian bookworm's whole main Packages index for amd64 (about 63,000 stanzas, the
//! recorded fixtures/debian): decompressing the `.xz`, and reading every stanza into a
//! `BinaryPackage` (versions and relation fields included) from the decompressed text;
//! verifying bookworm's InRelease (150 KB, two signatures) against Debian's keyring; and
//! resolving `r-base-dev` over that index with bookworm-security's, on a minbase (every
//! required and essential package and their dependencies installed).
//!
//! Against apt itself in the same run (when `apt-get` is on the machine): `apt-get install
//! --simulate --no-install-recommends r-base-dev` over the same two suites (fetched once by
//! `apt-get update` from the fixtures as `file:` sources) on the same minbase (written as a dpkg
//! status file), once with apt's binary cache rebuilt from the lists (its parse and solve: what
//! imglock does on every resolve) and once with the cache kept; beside it imglock parses both
//! decompressed indexes and solves.

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use imglock::apt::Keyring;
use imglock::apt::index::{AptIndex, Origin};
use imglock::apt::packages::{Priority, parse_packages};
use imglock::apt::solve::{Installed, SolveOptions, solve};

fn fixture(path: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/debian")
        .join(path);
    std::fs::read(path).expect("the recorded fixtures (scripts/record-debian.sh)")
}

fn bench(c: &mut Criterion) {
    let compressed = fixture("debian/dists/bookworm/main/binary-amd64/Packages.xz");
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut lzma_rust2::XzReader::new(&compressed[..], true),
        &mut text,
    )
    .unwrap();
    let mut group = c.benchmark_group("apt");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("parse bookworm main amd64 Packages (63k stanzas)", |b| {
        b.iter(|| {
            let packages = parse_packages(&text, "Packages").unwrap();
            assert!(packages.len() > 60_000);
        });
    });
    group.bench_function("decompress bookworm main amd64 Packages.xz", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            std::io::Read::read_to_end(
                &mut lzma_rust2::XzReader::new(&compressed[..], true),
                &mut out,
            )
            .unwrap();
            out.len()
        });
    });
    let keyring = Keyring::from_bytes(&fixture("debian-archive-keyring.gpg"), "keyring").unwrap();
    let release = String::from_utf8(fixture("debian/dists/bookworm/InRelease")).unwrap();
    group.bench_function("verify bookworm InRelease", |b| {
        b.iter(|| {
            keyring
                .verify_clearsigned(&release, "InRelease")
                .unwrap()
                .len()
        });
    });
    group.finish();
}

/// The packages of a recorded Packages.xz below fixtures/debian.
fn packages(path: &str) -> Vec<imglock::apt::packages::BinaryPackage> {
    let compressed = fixture(path);
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut lzma_rust2::XzReader::new(&compressed[..], true),
        &mut text,
    )
    .unwrap();
    parse_packages(&text, path).unwrap()
}

fn bookworm() -> AptIndex {
    let mut index = AptIndex::default();
    for source in 0..2 {
        let origin = index_origin(source);
        let path = format!(
            "{}/dists/{}/main/binary-amd64/Packages.xz",
            origin.uri.path().trim_matches('/'),
            origin.suite
        );
        index.add(origin, packages(&path));
    }
    index
}

fn bench_solve(c: &mut Criterion) {
    let index = bookworm();
    let options = SolveOptions::new("amd64");
    let base = minbase(&index, &options);
    let requests = vec!["r-base-dev".to_string()];
    let mut group = c.benchmark_group("apt");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function(
        "solve r-base-dev over bookworm + security on a minbase",
        |b| {
            b.iter(|| {
                let planned = solve(&index, &base, &requests, &options).unwrap();
                assert!(planned.len() > 100);
            });
        },
    );
    group.finish();
}

/// The minbase: every required and essential package, and what they depend on.
fn minbase(index: &AptIndex, options: &SolveOptions) -> Vec<Installed> {
    let required: Vec<String> = index
        .package_names()
        .filter(|name| {
            index
                .candidates(name)
                .iter()
                .any(|c| c.package.essential || c.package.priority == Some(Priority::Required))
        })
        .map(str::to_string)
        .collect();
    solve(index, &[], &required, options)
        .unwrap()
        .into_iter()
        .map(|p| Installed {
            name: p.name,
            version: p.version,
            architecture: p.architecture,
            provides: p.candidate.package.provides.clone(),
        })
        .collect()
}

/// A dpkg status file of `installed`: each package's whole stanza from the indexes' `texts`,
/// marked installed. (A stanza with fewer fields is, to apt, another build of the same version,
/// which it reinstalls.)
fn status_file(installed: &[Installed], texts: &[String]) -> String {
    let wanted: std::collections::HashSet<(&str, &str)> = installed
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    let mut out = String::new();
    for stanza in texts.iter().flat_map(|text| text.split("\n\n")) {
        let field = |name: &str| {
            stanza
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
        };
        let (Some(name), Some(version)) = (field("Package"), field("Version")) else {
            continue;
        };
        if wanted.contains(&(name, version)) {
            let (first, rest) = stanza
                .trim()
                .split_once('\n')
                .unwrap_or((stanza.trim(), ""));
            out.push_str(&format!(
                "{first}\nStatus: install ok installed\n{rest}\n\n"
            ));
        }
    }
    out
}

/// apt pointed at the fixtures and a status file in `dir`: its `-o` options.
fn apt_options(dir: &Path) -> Vec<String> {
    let d = dir.display();
    [
        format!("Dir::Etc::SourceList={d}/sources.list"),
        "Dir::Etc::SourceParts=/nonexistent".to_string(),
        "Dir::Etc::Preferences=/nonexistent".to_string(),
        "Dir::Etc::PreferencesParts=/nonexistent".to_string(),
        format!("Dir::State::Lists={d}/lists"),
        format!("Dir::State::status={d}/status"),
        format!("Dir::State::extended_states={d}/extended_states"),
        format!("Dir::Cache={d}/cache"),
        "Acquire::Languages=none".to_string(),
        "Acquire::Check-Valid-Until=false".to_string(),
        "APT::Architecture=amd64".to_string(),
        "APT::Architectures=amd64".to_string(),
        "Debug::NoLocking=1".to_string(),
    ]
    .into_iter()
    .flat_map(|option| ["-o".to_string(), option])
    .collect()
}

/// Runs apt-get with `options` and `args`; its standard output. The machine's apt.conf.d is not
/// read (its AppStream or Contents targets would be fetched too): `APT_CONFIG`, read first,
/// points the parts folder elsewhere.
fn apt_get(options: &[String], args: &[&str]) -> String {
    let config = options
        .iter()
        .find_map(|o| o.strip_prefix("Dir::Etc::SourceList="))
        .map(|list| list.replace("sources.list", "apt.conf"))
        .unwrap();
    std::fs::write(&config, "Dir::Etc::Parts \"/nonexistent\";\n").unwrap();
    let output = std::process::Command::new("apt-get")
        .env("APT_CONFIG", &config)
        .args(options)
        .args(args)
        .output()
        .expect("apt-get runs");
    assert!(
        output.status.success(),
        "apt-get {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn bench_against_apt(c: &mut Criterion) {
    if std::process::Command::new("apt-get")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("apt bench: apt-get is not installed; the comparison with apt is skipped");
        return;
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/debian");
    let index = bookworm();
    let options = SolveOptions::new("amd64");
    let base = minbase(&index, &options);
    let dir = tempfile::tempdir().unwrap();
    let keyring = fixtures.join("debian-archive-keyring.gpg");
    let sources = format!(
        "deb [signed-by={k}] file:{f}/debian bookworm main\ndeb [signed-by={k}] file:{f}/debian-security bookworm-security main\n",
        k = keyring.display(),
        f = fixtures.display()
    );
    std::fs::write(dir.path().join("sources.list"), sources).unwrap();
    let texts: Vec<String> = [
        "debian/dists/bookworm",
        "debian-security/dists/bookworm-security",
    ]
    .iter()
    .map(|suite| {
        let mut text = String::new();
        let compressed = fixture(&format!("{suite}/main/binary-amd64/Packages.xz"));
        std::io::Read::read_to_string(
            &mut lzma_rust2::XzReader::new(&compressed[..], true),
            &mut text,
        )
        .unwrap();
        text
    })
    .collect();
    std::fs::write(dir.path().join("status"), status_file(&base, &texts)).unwrap();
    for sub in ["lists/partial", "cache/archives/partial"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    let apt = apt_options(dir.path());
    apt_get(&apt, &["update", "-qq"]);
    let install = [
        "install",
        "--simulate",
        "--no-install-recommends",
        "-qq",
        "r-base-dev",
    ];
    let inst = |out: &str| out.lines().filter(|l| l.starts_with("Inst ")).count();
    // `Inst name [old] (version …)`: the name and version apt installs.
    let installs = |out: &str| -> std::collections::BTreeSet<String> {
        out.lines()
            .filter_map(|l| l.strip_prefix("Inst "))
            .filter_map(|l| {
                let name = l.split(' ').next()?;
                let version = l.split_once('(')?.1.split(' ').next()?;
                Some(format!("{name} {version}"))
            })
            .collect()
    };
    let requests = vec!["r-base-dev".to_string()];
    let ours: std::collections::BTreeSet<String> = solve(&index, &base, &requests, &options)
        .unwrap()
        .iter()
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
    let theirs = installs(&apt_get(&apt, &install));
    eprintln!(
        "apt bench: r-base-dev on a minbase installs {} packages (imglock), {} (apt); imglock only {:?}, apt only {:?}",
        ours.len(),
        theirs.len(),
        ours.difference(&theirs).collect::<Vec<_>>(),
        theirs.difference(&ours).collect::<Vec<_>>()
    );

    let mut group = c.benchmark_group("apt vs apt-get");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let caches = [
        dir.path().join("cache/pkgcache.bin"),
        dir.path().join("cache/srcpkgcache.bin"),
    ];
    group.bench_function(
        "apt-get --simulate r-base-dev, cache rebuilt from the lists",
        |b| {
            b.iter_batched(
                || caches.iter().for_each(|c| drop(std::fs::remove_file(c))),
                |()| assert!(inst(&apt_get(&apt, &install)) > 100),
                criterion::BatchSize::PerIteration,
            );
        },
    );
    group.bench_function("apt-get --simulate r-base-dev, binary cache kept", |b| {
        b.iter(|| assert!(inst(&apt_get(&apt, &install)) > 100));
    });
    group.bench_function("imglock: parse both indexes and solve r-base-dev", |b| {
        b.iter(|| {
            let mut index = AptIndex::default();
            for (source, text) in texts.iter().enumerate() {
                let origin = index_origin(source);
                index.add(origin, parse_packages(text, "Packages").unwrap());
            }
            assert!(solve(&index, &base, &requests, &options).unwrap().len() > 100);
        });
    });
    group.finish();
}

/// The origin of the fixture suite number `source` (bookworm, bookworm-security).
fn index_origin(source: usize) -> Origin {
    let (root, suite) = [
        ("debian", "bookworm"),
        ("debian-security", "bookworm-security"),
    ][source];
    Origin {
        uri: url::Url::parse(&format!("http://deb.debian.org/{root}/")).unwrap(),
        suite: suite.to_string(),
        component: "main".to_string(),
        architecture: "amd64".to_string(),
        source,
    }
}

criterion_group!(benches, bench, bench_solve, bench_against_apt);
criterion_main!(benches);
