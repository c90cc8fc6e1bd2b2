//! Memory stays bounded against hostile indexes: a compressed bomb (a `repodata.json.zst` or a
//! `PACKAGES.gz` that expands to gigabytes) and an endless body are refused at their limit, fast,
//! with the URL and the limit named, and the process never holds more than about the limit.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::support::conda::conda_spec;
use crate::support::{Fault, Project, Server, fixture_copy, spec, stderr};

const MIB: u64 = 1 << 20;

/// Runs `imglock ARGS` in `project` with `env`, under GNU time (`/usr/bin/time`, which
/// scripts/test.sh installs): the output, the wall time, and the peak resident memory in bytes
/// (none only outside CI, where a missing GNU time skips the memory check).
fn run_measured(
    project: &Project,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Output, Duration, Option<u64>) {
    let time = Path::new("/usr/bin/time");
    let report = project.path("rss.txt");
    let measured = crate::support::available(
        time.is_file(),
        "GNU time (/usr/bin/time, Debian's `time`) to measure peak memory",
    );
    let mut command = if measured {
        let mut command = Command::new(time);
        command
            .arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&report)
            .arg(env!("CARGO_BIN_EXE_imglock"));
        command
    } else {
        Command::new(env!("CARGO_BIN_EXE_imglock"))
    };
    command
        .args(args)
        .current_dir(project.dir.path())
        .env("IMGLOCK_CACHE_DIR", project.cache.path())
        .env_remove("RAYON_NUM_THREADS")
        .envs(env.iter().copied());
    let start = Instant::now();
    let output = command.output().expect("run imglock");
    let rss = std::fs::read_to_string(&report)
        .ok()
        .and_then(|text| text.lines().last()?.trim().parse::<u64>().ok())
        .map(|kib| kib * 1024);
    (output, start.elapsed(), rss)
}

/// `copies` concatenated zstd frames, each `frame` zero bytes once decompressed: a bomb of
/// `copies * frame` bytes that costs one small compression.
fn zstd_bomb(frame: u64, copies: usize) -> Vec<u8> {
    let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
    let zeros = vec![0u8; MIB as usize];
    for _ in 0..frame / MIB {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.finish().unwrap().repeat(copies)
}

/// A gzip stream of `size` zero bytes.
fn gzip_bomb(size: u64) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; MIB as usize];
    for _ in 0..size / MIB {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.finish().unwrap()
}

/// The refusal names the URL and the limit, came fast, and held at most `rss_bound` bytes.
fn assert_refused(
    (output, elapsed, rss): &(Output, Duration, Option<u64>),
    url: &str,
    limit: &str,
    rss_bound: u64,
) {
    let text = stderr(output);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains(url), "the URL `{url}` is not named: {text}");
    assert!(
        text.contains(limit),
        "the limit `{limit}` is not named: {text}"
    );
    assert!(
        *elapsed < Duration::from_secs(10),
        "took {elapsed:?}: {text}"
    );
    if let Some(rss) = rss {
        assert!(*rss < rss_bound, "peak RSS {} MiB: {text}", rss / MIB);
    }
}

#[test]
fn a_zstd_bomb_repodata_is_refused_at_its_limit() {
    let channels = tempfile::tempdir().unwrap();
    let subdir = channels.path().join("bomb/linux-64");
    std::fs::create_dir_all(&subdir).unwrap();
    // 1 GiB of zeros in ~40 KB, against a 64 MiB limit.
    let bomb = zstd_bomb(128 * MIB, 8);
    assert!(bomb.len() < 200_000, "{}", bomb.len());
    std::fs::write(subdir.join("repodata.json.zst"), bomb).unwrap();
    let server = Server::start(channels.path());
    let project = Project::new(&conda_spec(
        &[format!("{}/bomb", server.url())],
        "",
        &[("env", &["python"])],
    ));
    let run = run_measured(
        &project,
        &["resolve"],
        &[("IMGLOCK_MAX_INDEX_BYTES", "67108864")],
    );
    let url = format!("{}/bomb/linux-64/repodata.json.zst", server.url());
    assert_refused(&run, &url, "larger than 64 MiB", 200 * MIB);
}

#[test]
fn a_gzip_bomb_packages_index_is_refused_at_its_limit() {
    let repos = fixture_copy();
    // 256 MiB of zeros in ~250 KB, against a 16 MiB limit.
    let bomb = gzip_bomb(256 * MIB);
    std::fs::write(repos.path().join("cran/src/contrib/PACKAGES.gz"), bomb).unwrap();
    let server = Server::start(repos.path());
    let project = Project::new(&spec(
        &format!("cran = [\"{}/cran\"]", server.url()),
        "[[layer]]\nname = \"r\"\ncran = [\"tinyleaf\"]\n",
    ));
    let run = run_measured(
        &project,
        &["resolve"],
        &[("IMGLOCK_MAX_INDEX_BYTES", "16777216")],
    );
    let url = format!("{}/cran/src/contrib/PACKAGES.gz", server.url());
    assert_refused(&run, &url, "larger than 16 MiB", 100 * MIB);
}

#[test]
fn an_endless_or_oversized_index_body_is_refused_as_it_streams() {
    let repos = fixture_copy();
    let packages = repos.path().join("cran/src/contrib/PACKAGES.gz");
    let server = Server::start(repos.path());
    let project = Project::new(&spec(
        &format!("cran = [\"{}/cran\"]", server.url()),
        "[[layer]]\nname = \"r\"\ncran = [\"tinyleaf\"]\n",
    ));
    let url = format!("{}/cran/src/contrib/PACKAGES.gz", server.url());
    let env = [
        ("IMGLOCK_MAX_INDEX_BYTES", "8388608"),
        // Without a size limit, the endless body would run into this deadline instead.
        ("IMGLOCK_HTTP_TIMEOUT", "20"),
    ];
    // No length announced: counted as it arrives.
    server.inject("/cran/src/contrib/PACKAGES.gz", vec![Fault::Endless; 4]);
    let run = run_measured(&project, &["resolve"], &env);
    assert_refused(&run, &url, "the body is larger than 8 MiB", 100 * MIB);
    assert_eq!(
        server.hits("/cran/src/contrib/PACKAGES.gz"),
        1,
        "a refusal is not retried"
    );

    // A length past the limit, announced: refused before the body is read.
    std::fs::write(&packages, vec![0u8; 9 << 20]).unwrap();
    let run = run_measured(&project, &["resolve"], &env);
    assert_refused(&run, &url, "the body is larger than 8 MiB", 100 * MIB);
}

#[test]
fn a_500_mib_artifact_is_pinned_with_flat_memory() {
    // A channel whose one record gives no digest: resolving downloads the package to pin it.
    let channels = tempfile::tempdir().unwrap();
    for subdir in ["linux-64", "noarch"] {
        std::fs::create_dir_all(channels.path().join(format!("big/{subdir}"))).unwrap();
    }
    std::fs::write(
        channels.path().join("big/linux-64/repodata.json"),
        r#"{"info":{"subdir":"linux-64"},"packages":{"bigpkg-1.0-0.tar.bz2":{"name":"bigpkg","version":"1.0","build":"0","build_number":0,"depends":[],"subdir":"linux-64"}}}"#,
    )
    .unwrap();
    std::fs::write(
        channels.path().join("big/noarch/repodata.json"),
        r#"{"info":{"subdir":"noarch"},"packages":{}}"#,
    )
    .unwrap();
    let server = Server::start(channels.path());
    let size = 500 * MIB;
    server.inject(
        "/big/linux-64/bigpkg-1.0-0.tar.bz2",
        vec![Fault::Huge { bytes: size }],
    );
    let project = Project::new(&conda_spec(
        &[format!("{}/big", server.url())],
        "",
        &[("env", &["bigpkg"])],
    ));
    let (output, _, rss) = run_measured(&project, &["resolve"], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    let zeros = {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        let chunk = vec![0u8; MIB as usize];
        for _ in 0..size / MIB {
            hasher.update(&chunk);
        }
        hex::encode(hasher.finalize())
    };
    assert!(lock.contains(&format!("sha256 = \"{zeros}\"")), "{lock}");
    assert!(lock.contains(&format!("size = {size}")), "{lock}");
    if let Some(rss) = rss {
        assert!(rss < 100 * MIB, "peak RSS {} MiB", rss / MIB);
    }
}
