//! Progress bars for long work: drawn on a terminal, silent in CI and when output is piped.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

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
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.to_string());
        bar
    }
}
