//! The fuzz harness, on the stable toolchain: proptest's [`TestRunner`] driven for a time budget
//! over mutations of real inputs ([`mutate`]) or structured values, catching panics, flagging any
//! input that takes more than [`SLOW`], and saving what fails for a regression test.
//!
//! Only compiled for the library's own tests (`#[cfg(test)]`), so each target lives beside the
//! private parser it drives (`src/cran/fuzz.rs`, `src/lock/fuzz.rs`, …) and nothing is made
//! public for it. A target runs for `IMGLOCK_FUZZ_SECONDS` (default [`DEFAULT_SECONDS`]) and
//! prints `fuzz NAME: N executions in S s, F failures` to stderr; by hand:
//! `IMGLOCK_FUZZ_SECONDS=300 cargo test --lib fuzz -- --nocapture`. A failing input is shrunk,
//! printed and written to `target/fuzz-failures/NAME/`; once fixed, it goes to
//! `fuzz/regressions/NAME/`, which [`replay`] runs on every `cargo test`.

pub(crate) mod mutate;
pub(crate) mod seeds;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

/// Seconds per target when `IMGLOCK_FUZZ_SECONDS` is not set: short enough that every target
/// together adds well under a minute to `cargo test` on two cores.
pub(crate) const DEFAULT_SECONDS: f64 = 2.0;

/// One input taking longer than this is a failure: no parser should need it for anything real.
/// One second of optimised code; `cargo test` runs the crate's own code unoptimised, five to ten
/// times slower (262,144 blank lines take a PACKAGES reader 0.2 s there), so five seconds then.
/// An input that makes a parser superlinear takes minutes either way.
pub(crate) const SLOW: Duration = if cfg!(debug_assertions) {
    Duration::from_secs(5)
} else {
    Duration::from_secs(1)
};

/// What one input did wrong: the property's message.
pub(crate) type Outcome = Result<(), String>;

/// The time budget of one target.
pub(crate) fn budget() -> Duration {
    let seconds = std::env::var("IMGLOCK_FUZZ_SECONDS")
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
        .unwrap_or(DEFAULT_SECONDS);
    Duration::from_secs_f64(seconds)
}

/// Fuzzes `property` with byte inputs: `seeds` mutated by [`mutate::inputs`], with the target's
/// `dictionary` of tokens worth inserting.
pub(crate) fn bytes(
    name: &str,
    seeds: Vec<Vec<u8>>,
    dictionary: &'static [&'static str],
    property: impl Fn(&[u8]) -> Outcome,
) {
    assert!(!seeds.is_empty(), "fuzz {name}: no seeds");
    run(
        name,
        mutate::inputs(seeds, dictionary),
        Clone::clone,
        |input| property(input),
    );
}

/// Fuzzes `property` with values of `strategy` until the budget is spent or an input fails;
/// `as_bytes` gives a value as a regression file holds it. A failing value is shrunk, saved and
/// reported in the panic that fails the test.
pub(crate) fn run<S: Strategy>(
    name: &str,
    strategy: S,
    as_bytes: impl Fn(&S::Value) -> Vec<u8>,
    property: impl Fn(&S::Value) -> Outcome,
) {
    let started = Instant::now();
    let deadline = started + budget();
    let executions = Cell::new(0u64);
    let config = Config {
        cases: 32,
        failure_persistence: None,
        max_shrink_time: 30_000,
        max_shrink_iters: 4096,
        ..Config::default()
    };
    // A runner counts its cases: each batch gets a fresh one, seeded from this one's random seed.
    let mut seeder = TestRunner::new(config.clone());
    let mut failure = None;
    while failure.is_none() && (Instant::now() < deadline || executions.get() == 0) {
        let mut runner = TestRunner::new_with_rng(config.clone(), seeder.new_rng());
        let result = runner.run(&strategy, |value| {
            executions.set(executions.get() + 1);
            let at = Instant::now();
            let outcome = property(&value).and_then(|()| slow(at.elapsed()));
            outcome.map_err(TestCaseError::fail)
        });
        failure = result.err();
    }
    eprintln!(
        "fuzz {name}: {} executions in {:.1} s, {} failures",
        executions.get(),
        started.elapsed().as_secs_f64(),
        usize::from(failure.is_some())
    );
    match failure {
        None => {}
        Some(TestError::Abort(reason)) => panic!("fuzz {name} stopped: {reason}"),
        Some(TestError::Fail(reason, value)) => {
            let input = as_bytes(&value);
            let saved = save(name, &input);
            panic!(
                "fuzz {name} found a failure: {reason}\ninput ({} bytes, saved to {}): {}\nFix it, then move the file to fuzz/regressions/{name}/ so `replay` keeps it fixed.",
                input.len(),
                saved.display(),
                shown(&input)
            );
        }
    }
}

/// An error when one input took longer than [`SLOW`].
fn slow(took: Duration) -> Outcome {
    if took > SLOW {
        Err(format!(
            "one input took {:.2} s (more than {} s)",
            took.as_secs_f64(),
            SLOW.as_secs()
        ))
    } else {
        Ok(())
    }
}

/// The input as text for a message: escaped, and cut after 2,000 characters.
pub(crate) fn shown(input: &[u8]) -> String {
    let text = String::from_utf8_lossy(input);
    let escaped: String = text.escape_debug().take(2000).collect();
    if escaped.len() < text.escape_debug().count() {
        format!("\"{escaped}\"…")
    } else {
        format!("\"{escaped}\"")
    }
}

/// Writes a failing input to `target/fuzz-failures/NAME/<hash>`, and says where.
fn save(name: &str, input: &[u8]) -> PathBuf {
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    });
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/fuzz-failures")
        .join(name);
    let path = dir.join(format!("{hash:016x}"));
    let _ = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, input));
    path
}

/// The folder of the regression inputs of target `name`: `fuzz/regressions/NAME/`.
pub(crate) fn regressions_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(name)
}

/// Runs `property` on every committed input of target `name` that once failed; each must pass
/// (without a panic, and within [`SLOW`]). Returns how many there were.
pub(crate) fn replay(name: &str, property: impl Fn(&[u8]) -> Outcome) -> usize {
    let Ok(entries) = std::fs::read_dir(regressions_dir(name)) else {
        return 0;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    paths.sort();
    let mut failed = Vec::new();
    for path in &paths {
        let input = std::fs::read(path).expect("read a regression input");
        let at = Instant::now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| property(&input)))
            .unwrap_or_else(|panic| Err(format!("panicked: {}", panic_message(&panic))))
            .and_then(|()| slow(at.elapsed()));
        if let Err(message) = outcome {
            failed.push(format!("{}: {message}", path.display()));
        }
    }
    assert!(
        failed.is_empty(),
        "fuzz {name}: regression inputs fail again:\n{}",
        failed.join("\n")
    );
    paths.len()
}

/// The message of a caught panic.
fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_else(|| "a panic without a message".into())
}
