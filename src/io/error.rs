//! [`DataError`]: why a data file could not be used, naming the file, column and row.

use std::path::PathBuf;

/// Why a data file could not be used. Every variant names the file; cell-level variants name the
/// column and the 1-based data row (the CSV line is one more, for the header).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("data file {path} does not exist")]
    NotFound { path: PathBuf },
    #[error("could not read data file {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: required column '{column}' is missing (columns present: {present})")]
    MissingColumn {
        path: PathBuf,
        column: String,
        present: String,
    },
    #[error("{path}: column '{column}' must be numeric but holds {dtype} values")]
    NonNumericColumn {
        path: PathBuf,
        column: String,
        dtype: String,
    },
    #[error("{path}: column '{column}' must be text but holds {dtype} values")]
    NonTextColumn {
        path: PathBuf,
        column: String,
        dtype: String,
    },
    #[error("{path}: column '{column}' has an empty cell at data row {row} (line {line})", line = row + 1)]
    MissingValue {
        path: PathBuf,
        column: String,
        row: usize,
    },
    #[error("{path}: column '{column}' has the non-finite value {value} at data row {row} (line {line})", line = row + 1)]
    NonFinite {
        path: PathBuf,
        column: String,
        row: usize,
        value: f64,
    },
    #[error("{path}: column '{column}' has type {dtype}, which cannot be used in a model")]
    UnsupportedColumn {
        path: PathBuf,
        column: String,
        dtype: String,
    },
    #[error("{path}: {message}")]
    Shape { path: PathBuf, message: String },
    #[error(
        "{path}: column '{column}' holds numbers, but data row {row} (line {line}) has the text \
         '{text}'; if that means a missing value, add --na '{text}'; if the column is \
         categorical, declare it with --factor {column}",
        line = row + 1
    )]
    TextAmongNumbers {
        path: PathBuf,
        column: String,
        row: usize,
        text: String,
    },
}
