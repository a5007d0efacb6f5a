//! Command-line entry point; all work is done by the `lmm_report` library ([`lmm_report::cli`]).

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    lmm_report::cli::run()
}
