//! `kill -9` at random instants: `imglock resolve` (the mixed example over loopback servers
//! answering with a little latency) and `imglock emit` (the same example read through `file:`
//! paths, so its artifacts are copied into the build context) are killed 50 times each while
//! they run, between two specs (two locks) whose outputs differ. After each kill the output is
//! exactly the old bytes or exactly the new ones, never partial and never missing once it
//! existed; the next, unkilled run succeeds, writes the right bytes and leaves no temporary
//! file behind, in the project or in the cache. The seed is printed (and read from
//! `IMGLOCK_KILL_SEED`, to replay a run).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::Digest;

use crate::support::mixed::MixedRepositories;
use crate::support::{Project, fixtures, stderr};

const KILLS: usize = 50;

/// A small seeded generator (splitmix64): the instants to kill at.
struct Random(u64);

impl Random {
    /// Seeded from `IMGLOCK_KILL_SEED`, else from the clock; the seed is printed.
    fn new() -> Self {
        let seed = std::env::var("IMGLOCK_KILL_SEED")
            .ok()
            .and_then(|seed| seed.parse().ok())
            .unwrap_or_else(|| {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
                now.unwrap().as_nanos() as u64
            });
        eprintln!("kill instants from IMGLOCK_KILL_SEED={seed}");
        Self(seed)
    }

    /// A duration drawn uniformly from `[0, up_to)`.
    fn below(&mut self, up_to: Duration) -> Duration {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        up_to.mul_f64((z >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// Every file under `dir` whose name marks it as a temporary (`.<name>.tmp-<pid>-<random>`).
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if entry.file_name().to_string_lossy().contains(".tmp-") {
                found.push(path);
            }
        }
    }
    found
}

/// Runs `imglock ARGS` in `project` unkilled: it must succeed, and leave no temporary file in
/// the project or its cache. Gives how long it took.
fn run_whole(project: &Project, args: &[&str]) -> Duration {
    let start = Instant::now();
    let output = project.run(args);
    let took = start.elapsed();
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    for dir in [project.dir.path(), project.cache.path()] {
        let left = temporaries(dir);
        assert!(left.is_empty(), "{args:?} left temporaries: {left:#?}");
    }
    took
}

/// Starts `imglock ARGS` in `project` and SIGKILLs it after `delay` (if it still runs).
fn run_killed(project: &Project, args: &[&str], delay: Duration) {
    let mut child = project
        .command(args, &[])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run imglock");
    std::thread::sleep(delay);
    // `Child::kill` sends SIGKILL.
    let _ = child.kill();
    let _ = child.wait();
}

/// The two specs, as the example writes it and without `usehdr` (whose closure then leaves
/// the lock): their outputs differ.
fn two_specs(example: &str) -> [String; 2] {
    let without = example.replace(
        r#"cran = ["plotkit (>= 3.0)", "usehdr"]"#,
        r#"cran = ["plotkit (>= 3.0)"]"#,
    );
    assert_ne!(without, example, "the example's r-core layer changed");
    [example.to_string(), without]
}

/// Kills `imglock ARGS` (after `prepare(i)` for kill `i`) at random instants below 1.1 times
/// `window`, the time an unkilled run takes (so that the last instants, when the output is
/// written, are covered too, as the killed runs' times vary); `output` is the file it writes, and `expected(i)` the bytes kill
/// `i`'s run writes whole. After every kill the output is the old or the new bytes, and the
/// next unkilled run writes the new ones.
fn kill_loop(
    project: &Project,
    args: &[&str],
    output: &Path,
    window: Duration,
    mut prepare: impl FnMut(usize),
    expected: impl Fn(usize) -> Vec<u8>,
    mut check_partial: impl FnMut(),
) {
    let mut random = Random::new();
    let start = Instant::now();
    let mut changed = 0;
    for kill in 0..KILLS {
        prepare(kill);
        let old = std::fs::read(output).ok();
        let new = expected(kill);
        run_killed(project, args, random.below(window.mul_f64(1.1)));
        let after = std::fs::read(output).ok();
        match &after {
            None => assert!(old.is_none(), "kill {kill}: the output disappeared"),
            Some(bytes) => assert!(
                Some(bytes) == old.as_ref() || *bytes == new,
                "kill {kill}: the output is neither the old nor the new bytes:\n{}",
                String::from_utf8_lossy(bytes)
            ),
        }
        changed += usize::from(after.as_ref() == Some(&new) && old.as_ref() != Some(&new));
        check_partial();
        run_whole(project, args);
        assert_eq!(
            std::fs::read(output).unwrap(),
            new,
            "kill {kill}: the next run"
        );
    }
    eprintln!(
        "{KILLS} kills of {args:?} within {window:?} in {:.1} s; {changed} after the new bytes were written",
        start.elapsed().as_secs_f64()
    );
}

/// Empties the folder `dir`.
fn empty(dir: &Path) {
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::create_dir(dir).unwrap();
}

#[test]
fn a_killed_resolve_leaves_the_old_or_the_new_lock() {
    let repositories = MixedRepositories::start();
    // Some latency makes a resolve take long enough to be killed at many points of it.
    for written in [
        "cran",
        "bioc",
        "pypi/simple",
        "conda/channels",
        "maven/repo",
    ] {
        let server = repositories.server(written);
        server.set_latency(Duration::from_millis(5));
    }
    let specs = two_specs(&repositories.spec(None));
    let project = Project::new(&specs[1]);
    let lock = project.path("imglock.lock");
    // Each lock once, unkilled, the first with a cold cache and the second with a warm one.
    let [(lock_b, cold), (lock_a, warm)] = [1, 0].map(|i| {
        project.write_spec(&specs[i]);
        let took = run_whole(&project, &["resolve"]);
        (std::fs::read(&lock).unwrap(), took)
    });
    assert_ne!(lock_a, lock_b);
    // Every other kill is of a run with a cold cache, which writes the cache as it goes: the
    // temporaries of cache entries and of artifacts streaming in can be left too.
    kill_loop(
        &project,
        &["resolve"],
        &lock,
        cold.max(warm),
        |kill| {
            project.write_spec(&specs[(kill + 1) % 2]);
            if kill % 2 == 0 {
                empty(project.cache.path());
            }
        },
        |kill| [&lock_a, &lock_b][(kill + 1) % 2].clone(),
        || {},
    );
}

/// `name → sha256` of every artifact a lock's Dockerfile copies into the build context.
fn artifact_digests(lock: &str) -> Vec<(String, String)> {
    let value: toml::Value = toml::from_str(lock).unwrap();
    value["layer"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|layer| {
            layer
                .get("package")
                .and_then(|p| p.as_array())
                .cloned()
                .unwrap_or_default()
        })
        .map(|p| {
            let url = p["url"].as_str().unwrap();
            let name = url.rsplit('/').next().unwrap().to_string();
            (name, p["sha256"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn a_killed_emit_leaves_the_old_or_the_new_dockerfile() {
    let example = std::fs::read_to_string(crate::support::mixed::example_spec()).unwrap();
    let absolute = format!("\"file://{}/", fixtures().display());
    let specs = two_specs(&example.replace("\"file:../../fixtures/", &absolute));
    let project = Project::new(&specs[0]);
    let mut digests = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        project.write_spec(spec);
        let name = format!("lock-{i}.lock");
        run_whole(&project, &["resolve", "--lock", &name]);
        digests.extend(artifact_digests(
            &std::fs::read_to_string(project.path(&name)).unwrap(),
        ));
    }
    let emit = ["emit", "--lock", "imglock.lock", "--out", "build"];
    let dockerfiles = [0, 1].map(|i| {
        std::fs::copy(
            project.path(&format!("lock-{i}.lock")),
            project.path("imglock.lock"),
        )
        .unwrap();
        let took = run_whole(&project, &emit);
        (
            std::fs::read(project.path("build/Dockerfile")).unwrap(),
            took,
        )
    });
    assert_ne!(dockerfiles[0].0, dockerfiles[1].0);
    let window = dockerfiles[0].1.max(dockerfiles[1].1);
    let artifacts = project.path("build/imglock-artifacts");
    kill_loop(
        &project,
        &emit,
        &project.path("build/Dockerfile"),
        window,
        |kill| {
            let from = project.path(&format!("lock-{}.lock", kill % 2));
            std::fs::copy(from, project.path("imglock.lock")).unwrap();
        },
        |kill| dockerfiles[kill % 2].0.clone(),
        // Every artifact in the build context is whole: its bytes have the lock's sha256.
        || {
            for entry in std::fs::read_dir(&artifacts).unwrap().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.contains(".tmp-") {
                    continue;
                }
                let sha256 =
                    hex::encode(sha2::Sha256::digest(std::fs::read(entry.path()).unwrap()));
                assert!(
                    digests.contains(&(name.clone(), sha256)),
                    "{name} in the build context is not the artifact the locks name"
                );
            }
        },
    );
}
