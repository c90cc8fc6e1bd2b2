//! Parsing Debian bookworm's whole main Packages index for amd64 (about 63,000 stanzas, the
//! recorded fixtures/debian): decompressing the `.xz`, and reading every stanza into a
//! `BinaryPackage` (versions and relation fields included) from the decompressed text;
//! verifying bookworm's InRelease (150 KB, two signatures) against Debian's keyring; and
//! resolving `r-base-dev` over that index with bookworm-security's, on a minbase (every
//! required and essential package and their dependencies installed).

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
    for (source, (root, suite)) in [
        ("debian", "bookworm"),
        ("debian-security", "bookworm-security"),
    ]
    .into_iter()
    .enumerate()
    {
        let origin = Origin {
            uri: url::Url::parse(&format!("http://deb.debian.org/{root}/")).unwrap(),
            suite: suite.to_string(),
            component: "main".to_string(),
            architecture: "amd64".to_string(),
            source,
        };
        index.add(
            origin,
            packages(&format!(
                "{root}/dists/{suite}/main/binary-amd64/Packages.xz"
            )),
        );
    }
    index
}

fn bench_solve(c: &mut Criterion) {
    let index = bookworm();
    let options = SolveOptions::new("amd64");
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
    let base: Vec<Installed> = solve(&index, &[], &required, &options)
        .unwrap()
        .into_iter()
        .map(|p| Installed {
            name: p.name,
            version: p.version,
            architecture: p.architecture,
            provides: p.candidate.package.provides.clone(),
        })
        .collect();
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

criterion_group!(benches, bench, bench_solve);
criterion_main!(benches);
