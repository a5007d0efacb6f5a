//! The fault suite's hook into the writers. When `LMM_REPORT_FAULT_STEP_DELAY_US` is set, each
//! step of a write is announced on stderr and followed by a pause of that many microseconds,
//! so that `tests/faults.rs` can kill the process at a chosen point *inside* the write phase
//! (a kill at a random instant of a whole run almost always lands in the rendering). Unset, as
//! in every normal run, a step costs one cached environment lookup.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

/// The environment variable holding the pause in microseconds.
pub const STEP_DELAY_VAR: &str = "LMM_REPORT_FAULT_STEP_DELAY_US";

fn delay() -> Option<Duration> {
    static DELAY: OnceLock<Option<Duration>> = OnceLock::new();
    *DELAY.get_or_init(|| {
        std::env::var(STEP_DELAY_VAR)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_micros)
    })
}

/// Marks the end of one step of a write.
pub fn step(what: &str) {
    if let Some(pause) = delay() {
        let _ = writeln!(std::io::stderr().lock(), "lmm-report: fault point: {what}");
        std::thread::sleep(pause);
    }
}
