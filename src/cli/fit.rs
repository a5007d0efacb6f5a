//! `lmm-report fit`: a CSV file and an lme4 formula to a fitted model, through the engine's
//! one entry point [`lmm_engine::fit`]. Owns what the command adds to it: reading the file
//! ([`crate::io`]) and the exit code of each failure.

use std::path::{Path, PathBuf};

use lmm_engine::{Criterion, Fit, FitOptions, OptimizerChoice, Table};

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
