//! Progress of a long fit on stderr: only on a terminal, only after half a second, at most ten
//! updates a second, so that stdout carries only the result.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Progress on stderr for fits that take longer than a moment, only on a terminal.
pub(super) struct Progress {
    enabled: bool,
    start: Instant,
    last: Option<Instant>,
}

impl Progress {
    const DELAY: Duration = Duration::from_millis(500);
    const INTERVAL: Duration = Duration::from_millis(100);

    pub(super) fn new() -> Self {
        Self {
            enabled: std::io::stderr().is_terminal(),
            start: Instant::now(),
            last: None,
        }
    }

    pub(super) fn update(&mut self, evaluations: usize, objective: f64) {
        if !self.enabled || self.start.elapsed() < Self::DELAY {
            return;
        }
        let now = Instant::now();
        if self.last.is_some_and(|t| now - t < Self::INTERVAL) {
            return;
        }
        self.last = Some(now);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\rfitting: {evaluations} evaluations, objective {objective:.6}   "
        );
        let _ = err.flush();
    }

    pub(super) fn finish(&self) {
        if self.last.is_some() {
            eprint!("\r{:60}\r", "");
        }
    }
}
