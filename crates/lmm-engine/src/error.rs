//! [`Error`]: the one error type of [`crate::fit`], wrapping the formula, design and model
//! errors so that a caller matches on one enum and still gets each stage's precise message.

use crate::design::DesignError;
use crate::formula::FormulaError;
use crate::lmm::ModelError;

/// Why [`crate::fit`] produced no fit. Each variant says which stage failed; the message is
/// the stage's own (a caret under the formula position, the column and row of a bad cell, …).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The formula text could not be parsed.
    #[error(transparent)]
    Formula(#[from] FormulaError),
    /// The formula does not fit the table (unknown column, bad value, degenerate factor).
    #[error(transparent)]
    Design(#[from] DesignError),
    /// The model could not be set up or fitted.
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl Error {
    /// True when the input (formula or data) is at fault rather than the fit itself: what a
    /// command-line front end reports as a usage or input error.
    pub fn is_input_error(&self) -> bool {
        match self {
            Error::Formula(_) | Error::Design(_) => true,
            Error::Model(e) => e.is_input_error(),
        }
    }
}
