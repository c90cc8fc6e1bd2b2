//! Parsing Debian bookworm's whole main Packages index for amd64 (about 63,000 stanzas, the
//! recorded fixtures/debian): decompressing the `.xz`, and reading every stanza into a
//! `BinaryPackage` (versions and relation fields included) from the decompressed text.

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use imglock::apt::packages::parse_packages;

fn packages_xz() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/debian/debian/dists/bookworm/main/binary-amd64/Packages.xz");
    std::fs::read(path).expect("the recorded Packages.xz (scripts/record-debian.sh)")
}

fn bench(c: &mut Criterion) {
    let compressed = packages_xz();
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
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
