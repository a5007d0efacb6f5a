//! Writing a command's result to standard output without ever panicking: a closed pipe
//! (`lmm-report fit … | head`) ends the command quietly with exit 0, as `head` users expect;
//! any other failure (a full disk behind `> file`, `> /dev/full`) is one line naming standard
//! output, and exit 1. Messages on standard error are best effort: there is nowhere else to
//! report their failure.

use std::io::{ErrorKind, Write};
use std::process::ExitCode;

/// Writes `text` to standard output and flushes it. `Err` carries the exit code to end with
/// (after the one-line message, which it has already printed, for anything but a closed pipe).
pub(super) fn write_result(command: &str, text: &str) -> Result<(), ExitCode> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Err(ExitCode::SUCCESS),
        Err(e) => {
            error_line(command, &format!("could not write to standard output: {e}"));
            Err(ExitCode::from(1))
        }
    }
}

/// `command: error: message` on standard error, best effort.
pub(super) fn error_line(command: &str, message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{command}: error: {message}");
}

/// `command: note: message` on standard error, best effort.
pub(super) fn note_line(command: &str, message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{command}: note: {message}");
}
