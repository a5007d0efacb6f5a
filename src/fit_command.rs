//! `lmm-report fit`: any CSV file and an lme4 formula to a fitted model. Owns the pipeline
//! CSV → [`Table`](crate::table::Table) → [`Formula`] → [`ModelMatrices`] →
//! [`LinearMixedModel`], and the notes a user should see about what was dropped on the way.

use std::path::{Path, PathBuf};

use crate::data::{self, DataError};
use crate::design::{DesignError, ModelMatrices};
use crate::formula::{Formula, FormulaError};
use crate::lmm::{Criterion, FitOptions, FitResult, LinearMixedModel, ModelError, OptimizerChoice};

/// What to fit.
#[derive(Debug, Clone)]
pub struct FitRequest {
    pub data: PathBuf,
    pub formula: String,
    pub criterion: Criterion,
    pub optimizer: OptimizerChoice,
}

/// Why a fit could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum FitCommandError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Formula(#[from] FormulaError),
    #[error(transparent)]
    Design(#[from] DesignError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl FitCommandError {
    /// 2 for anything the user's data or formula caused, 1 for a failure of the fit itself.
    pub fn exit_code(&self) -> i32 {
        match self {
            FitCommandError::Data(_) | FitCommandError::Formula(_) | FitCommandError::Design(_) => {
                2
            }
            FitCommandError::Model(
                ModelError::NoRandomEffects
                | ModelError::TooFewObservations { .. }
                | ModelError::NonFinite(_),
            ) => 2,
            FitCommandError::Model(_) => 1,
        }
    }
}

/// A finished fit with the notes about dropped rows and columns.
#[derive(Debug, Clone)]
pub struct FitOutcome {
    pub formula: Formula,
    pub fit: FitResult,
    /// Human-readable notes (lme4 prints the same facts as messages).
    pub notes: Vec<String>,
}

/// Reads `path` into a table.
pub fn load_table(path: &Path) -> Result<crate::table::Table, DataError> {
    let frame = data::read_csv(path)?;
    data::frame_to_table(&frame, path)
}

/// Builds the model matrices and the notes for a formula on a CSV file.
pub fn prepare(
    path: &Path,
    formula_text: &str,
) -> Result<(Formula, ModelMatrices, Vec<String>), FitCommandError> {
    let formula = Formula::parse(formula_text)?;
    let table = load_table(path)?;
    let matrices = ModelMatrices::build(&formula, &table)?;
    let mut notes = Vec::new();
    if matrices.rows_dropped > 0 {
        notes.push(format!(
            "{} of {} rows dropped for missing values in the formula's columns",
            matrices.rows_dropped,
            table.nrows()
        ));
    }
    if !matrices.dropped_fixed.is_empty() {
        let k = matrices.dropped_fixed.len();
        notes.push(format!(
            "fixed-effect model matrix is rank deficient so dropping {k} column{}: {}",
            if k == 1 { "" } else { "s" },
            matrices.dropped_fixed.join(", ")
        ));
    }
    Ok((formula, matrices, notes))
}

/// Runs the whole pipeline; `progress(evaluations, objective)` is called during the fit.
pub fn fit_csv(
    request: &FitRequest,
    progress: impl FnMut(usize, f64),
) -> Result<FitOutcome, FitCommandError> {
    let (formula, matrices, mut notes) = prepare(&request.data, &request.formula)?;
    let mut model = LinearMixedModel::new(&matrices)?;
    let options = FitOptions {
        optimizer: request.optimizer,
        ..FitOptions::default()
    };
    let fit = model.fit_with_progress(request.criterion, &options, progress)?;
    if !fit.converged {
        notes.push(format!(
            "the optimiser did not converge after {} evaluations: {}",
            fit.evaluations, fit.message
        ));
    }
    if fit.singular {
        notes.push("boundary (singular) fit: see the variance components".to_owned());
    }
    Ok(FitOutcome {
        formula,
        fit,
        notes,
    })
}
