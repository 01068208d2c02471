//! Numbered stage lines with timings: `[3/7] circuits ...`, indented detail lines, and
//! `done in 12.3 s`.

use std::time::Instant;

/// The demo's stages.
pub(crate) struct Stages {
    total: usize,
    current: usize,
    started: Option<Instant>,
}

impl Stages {
    /// `total` stages.
    pub(crate) fn new(total: usize) -> Self {
        Self { total, current: 0, started: None }
    }

    /// Starts the next stage.
    pub(crate) fn start(&mut self, name: &str) {
        self.current += 1;
        self.started = Some(Instant::now());
        println!("\n[{}/{}] {name}", self.current, self.total);
    }

    /// A detail line of the current stage.
    pub(crate) fn line(&self, text: impl AsRef<str>) {
        println!("      {}", text.as_ref());
    }

    /// Ends the current stage with its time.
    pub(crate) fn done(&mut self) {
        if let Some(t) = self.started.take() {
            println!("      done in {:.1} s", t.elapsed().as_secs_f64());
        }
    }
}
