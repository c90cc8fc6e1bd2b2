//! Progress bars for long work: drawn on a terminal, silent in CI and when output is piped.
//! Every ecosystem works at once, so their bars share one [`MultiProgress`]: each gets a line of
//! its own instead of drawing over the others.

use std::io::IsTerminal;
use std::sync::OnceLock;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// The one set of bars drawn on stderr.
fn bars() -> &'static MultiProgress {
    static BARS: OnceLock<MultiProgress> = OnceLock::new();
    BARS.get_or_init(MultiProgress::new)
}

/// Whether progress is drawn; cloned into every part of the pipeline that reports it.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    enabled: bool,
}

impl Progress {
    /// Progress on stderr when it is a terminal and `CI` is not set.
    pub fn from_env() -> Self {
        let in_ci =
            std::env::var_os("CI").is_some_and(|value| !value.is_empty() && value != "false");
        Self {
            enabled: std::io::stderr().is_terminal() && !in_ci,
        }
    }

    /// No progress at all (tests, benchmarks, `--quiet`).
    pub fn hidden() -> Self {
        Self { enabled: false }
    }

    /// A bar of `len` steps with a message, hidden when progress is off.
    pub fn bar(&self, len: u64, message: &str) -> ProgressBar {
        if !self.enabled {
            return ProgressBar::hidden();
        }
        let bar = bars().add(ProgressBar::new(len));
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.to_string());
        bar
    }
}
