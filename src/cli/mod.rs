//! The command-line front end: `lmm-report` (the report), `lmm-report fit` (with post-fit
//! inference), `lmm-report anova`, `lmm-report predict`, and
//! `lmm-report workload` (seeded benchmark data; `simulate` is an alias). Owns argument parsing, exit codes and
//! progress display; all numerical work is the engine's and the report's.

pub mod anova;
pub mod fit;
pub mod fit_inference;
pub mod predict;
mod progress;
pub mod report;
mod stdout;
pub mod workload;

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};

/// Regenerates the reproduction report (Markdown, HTML, SVG figures, results.json), or fits a
/// linear mixed model to any data file with `lmm-report fit`.
#[derive(Debug, Parser)]
#[command(
    name = "lmm-report",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    report: report::ReportArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fit a linear mixed model given by an lme4 formula to a data file (CSV, TSV, Parquet,
    /// Arrow IPC, or CSV on standard input).
    Fit(Box<fit::FitArgs>),
    /// Likelihood-ratio tests between nested models (lme4's anova(m0, m1, …)): give
    /// --formula two or more times.
    Anova(anova::AnovaArgs),
    /// Predictions for new data from a model fitted to training data (lme4's predict()).
    Predict(predict::PredictArgs),
    /// Write a seeded synthetic data set (the benchmark workloads) as CSV.
    #[command(visible_alias = "simulate")]
    Workload(workload::WorkloadArgs),
}

/// Parses the command line and runs the chosen command; the process exit code is 0 on
/// success, 1 for a runtime failure and 2 for a usage or input error. No command panics on a
/// closed or full standard output (see [`stdout`]).
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(&e),
    };
    match cli.command {
        Some(Command::Fit(args)) => fit::run(*args),
        Some(Command::Anova(args)) => anova::run(args),
        Some(Command::Predict(args)) => predict::run(args),
        Some(Command::Workload(args)) => workload::run(args),
        None => report::run(cli.report),
    }
}

/// `--help`, `--version` (exit 0) and usage errors (exit 2), written as clap would but through
/// [`stdout`], so that a closed or full standard output cannot panic or go unreported.
fn usage(e: &clap::Error) -> ExitCode {
    let text = e.render().to_string();
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            match stdout::write_result("lmm-report", &text) {
                Ok(()) => ExitCode::SUCCESS,
                Err(code) => code,
            }
        }
        _ => {
            use std::io::Write;
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
            ExitCode::from(2)
        }
    }
}
