//! Command-line entry point; all work is done by the `lmm_report` library ([`lmm_report::cli`]).

use std::process::ExitCode;

fn main() -> ExitCode {
    lmm_report::cli::run()
}
