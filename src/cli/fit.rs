//! `lmm-report fit`: a CSV file and an lme4 formula to a fitted model, through the engine's
//! one entry point [`lmm_engine::fit`]. Owns what the command adds to it: reading the file
//! ([`crate::io`]) and the exit code of each failure.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use lmm_engine::{Criterion, Fit, FitOptions, OptimizerChoice, Table};

use super::progress::Progress;
use crate::io::{self, DataError};

/// What to fit.
#[derive(Debug, Clone)]
pub struct FitRequest {
    /// The CSV file.
    pub data: PathBuf,
    /// The lme4 formula.
    pub formula: String,
    /// ML or REML.
    pub criterion: Criterion,
    /// Which optimiser.
    pub optimizer: OptimizerChoice,
}

/// Why a fit could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum FitCommandError {
    /// The data file could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The engine failed (formula, design or model).
    #[error(transparent)]
    Engine(#[from] lmm_engine::Error),
}

impl FitCommandError {
    /// 2 for anything the user's data or formula caused, 1 for a failure of the fit itself.
    pub fn exit_code(&self) -> u8 {
        match self {
            FitCommandError::Data(_) => 2,
            FitCommandError::Engine(e) if e.is_input_error() => 2,
            FitCommandError::Engine(_) => 1,
        }
    }
}

/// Reads `path` into a table.
pub fn load_table(path: &Path) -> Result<Table, DataError> {
    let frame = io::read_csv(path)?;
    io::frame_to_table(&frame, path)
}

/// Runs the whole pipeline; `progress(evaluations, objective)` is called during the fit.
pub fn fit_csv(
    request: &FitRequest,
    progress: impl FnMut(usize, f64),
) -> Result<Fit, FitCommandError> {
    // The formula is parsed before the file is read, so that a typo is reported at once
    // (and with its position) even for a large file.
    lmm_engine::Formula::parse(&request.formula).map_err(lmm_engine::Error::from)?;
    let table = load_table(&request.data)?;
    let options = FitOptions::default()
        .with_criterion(request.criterion)
        .with_optimizer(request.optimizer);
    Ok(lmm_engine::fit_with_progress(
        &request.formula,
        &table,
        &options,
        progress,
    )?)
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// CSV file with a header row; empty cells and NA are missing values.
    #[arg(long)]
    pub data: PathBuf,
    /// lme4 formula, e.g. "Reaction ~ 1 + Days + (1 + Days | Subject)".
    #[arg(long)]
    pub formula: String,
    /// Fit by REML instead of maximum likelihood.
    #[arg(long)]
    pub reml: bool,
    /// Print the fit as JSON instead of a text summary.
    #[arg(long)]
    pub json: bool,
    /// `auto`: exact-gradient projected BFGS for models with one random-effects term, BOBYQA
    /// otherwise; `bobyqa`: derivative-free BOBYQA for every model (lme4's default optimiser).
    #[arg(long, default_value = "auto", value_parser = ["auto", "bobyqa"])]
    pub optimizer: String,
}

/// Runs the fit command.
pub fn run(args: FitArgs) -> ExitCode {
    let request = FitRequest {
        data: args.data,
        formula: args.formula,
        criterion: if args.reml {
            Criterion::Reml
        } else {
            Criterion::Ml
        },
        optimizer: if args.optimizer == "bobyqa" {
            OptimizerChoice::Bobyqa
        } else {
            OptimizerChoice::Auto
        },
    };
    let mut progress = Progress::new();
    let outcome = fit_csv(&request, |e, f| progress.update(e, f));
    progress.finish();
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("lmm-report fit: error: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    for note in outcome.notes() {
        eprintln!("lmm-report fit: note: {note}");
    }
    if args.json {
        println!("{}", outcome.to_json().to_string_pretty());
    } else {
        print!("{outcome}");
    }
    ExitCode::SUCCESS
}
