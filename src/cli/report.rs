//! `lmm-report` without a subcommand: render the report into `--out`, or compare with it
//! (`--check`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::stdout::{error_line, write_result};
use crate::io::output;
use crate::report::results::ResultsError;
use crate::report::{self, ReportConfig, ReportError};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The gasoline panel CSV.
    #[arg(long, default_value = "data/gasoline.csv")]
    pub data: PathBuf,
    /// Output directory.
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
    /// Directory holding the recorded reference fits.
    #[arg(long, default_value = "data/reference")]
    pub reference: PathBuf,
    /// Directory holding report.md.j2 and report.html.j2.
    #[arg(long, default_value = "templates")]
    pub templates: PathBuf,
    /// Render in memory and compare with the files in --out; exit 1 if any differ.
    #[arg(long)]
    pub check: bool,
}

/// Runs the report command.
pub fn run(args: ReportArgs) -> ExitCode {
    let config = ReportConfig {
        data: args.data,
        reference_dir: args.reference,
        templates: args.templates,
    };
    const COMMAND: &str = "lmm-report";
    let rendered = match report::render(&config) {
        Ok(r) => r,
        Err(e) => {
            error_line(COMMAND, &e.to_string());
            return ExitCode::from(exit_code(&e));
        }
    };
    let done = |message: String| match write_result(COMMAND, &format!("{message}\n")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    };
    if args.check {
        let drift = output::check(&args.out, &rendered.files);
        if drift.is_empty() {
            return done(format!(
                "{}: {} files up to date",
                args.out.display(),
                rendered.files.len()
            ));
        }
        let mut message = format!(
            "lmm-report: {} is out of date; regenerate with `cargo run --release`:",
            args.out.display()
        );
        for d in drift {
            message.push_str(&format!("\n  {d}"));
        }
        let _ = writeln!(std::io::stderr().lock(), "{message}");
        return ExitCode::from(1);
    }
    match output::replace_dir(&args.out, &rendered.files) {
        Ok(()) => done(format!(
            "wrote {} files to {}",
            rendered.files.len(),
            args.out.display()
        )),
        Err(e) => {
            error_line(COMMAND, &e.to_string());
            ExitCode::from(e.exit_code())
        }
    }
}

/// The exit code of a failed report: 2 for bad input (the data or a reference file), 1 for
/// everything else (templates, figures, a failing computation).
fn exit_code(e: &ReportError) -> u8 {
    match e {
        ReportError::Data(_) | ReportError::Results(ResultsError::Reference { .. }) => 2,
        _ => 1,
    }
}
