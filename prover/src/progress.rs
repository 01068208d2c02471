//! Staged progress for long steps (keygen, proving): a spinner on a terminal, and a log line
//! with the elapsed time when the stage ends either way.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// A running stage; call [`Stage::finish`] when done (dropping it also reports).
#[derive(Debug)]
pub struct Stage {
    name: String,
    started: Instant,
    spinner: Option<ProgressBar>,
    done: bool,
}

impl Stage {
    /// Starts a stage named `name`.
    pub fn start(name: impl Into<String>) -> Self {
        let name = name.into();
        tracing::info!("{name} ...");
        let spinner = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template"));
            bar.set_message(name.clone());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self { name, started: Instant::now(), spinner, done: false }
    }

    /// Ends the stage and returns its duration.
    pub fn finish(mut self) -> Duration {
        self.report()
    }

    fn report(&mut self) -> Duration {
        let elapsed = self.started.elapsed();
        if !self.done {
            self.done = true;
            if let Some(bar) = self.spinner.take() {
                bar.finish_and_clear();
            }
            tracing::info!("{} done in {:.2} s", self.name, elapsed.as_secs_f64());
        }
        elapsed
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        self.report();
    }
}
