//! CSV files through polars, and the one conversion from a polars frame to the engine's
//! [`Table`]: polars types stop here.

use std::path::Path;

use polars::prelude::*;

use lmm_engine::{Column as TableColumn, Table};

use super::DataError;

/// Rows used to infer column types on the first attempt.
const QUICK_SCHEMA_ROWS: usize = 10_000;

/// Reads a CSV file with a header row. Empty cells and `NA` are missing values. Column types
/// are inferred from the first rows; if the file then fails to parse (an integer column that
/// turns fractional, a number column with text far down), it is read again with types inferred
/// from every row, so only unusual files pay for a full inference pass.
pub fn read_csv(path: &Path) -> Result<DataFrame, DataError> {
    if !path.is_file() {
        return Err(DataError::NotFound {
            path: path.to_path_buf(),
        });
    }
    read_csv_inferring(path, Some(QUICK_SCHEMA_ROWS))
        .or_else(|_| read_csv_inferring(path, None))
        .map_err(|e| read_error(path, e))
}

fn read_csv_inferring(path: &Path, infer_rows: Option<usize>) -> PolarsResult<DataFrame> {
    let parse = CsvParseOptions::default()
        .with_null_values(Some(NullValues::AllColumns(vec!["".into(), "NA".into()])));
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(infer_rows)
        .with_parse_options(parse)
        .try_into_reader_with_file_path(Some(path.to_path_buf()))?
        .finish()
}

/// Converts a polars frame into a [`Table`]: integer columns become [`TableColumn::Integer`]
/// (kept exact, never through f64), floating-point columns [`TableColumn::Numeric`], text
/// [`TableColumn::Text`], and booleans the text `TRUE`/`FALSE` as R would read them.
pub fn frame_to_table(df: &DataFrame, path: &Path) -> Result<Table, DataError> {
    let mut table = Table::new();
    for column in df.columns() {
        let name = column.name().to_string();
        let dtype = column.dtype();
        let converted = if dtype.is_integer() {
            TableColumn::Integer(integer_values(column, path)?)
        } else if dtype.is_primitive_numeric() {
            TableColumn::Numeric(numeric_values(column, path)?)
        } else if dtype == &DataType::String {
            let values = column.str().map_err(|e| read_error(path, e))?;
            TableColumn::Text(values.iter().map(|v| v.map(str::to_owned)).collect())
        } else if dtype == &DataType::Boolean {
            let values = column.bool().map_err(|e| read_error(path, e))?;
            TableColumn::Text(
                values
                    .iter()
                    .map(|v| v.map(|b| if b { "TRUE" } else { "FALSE" }.to_owned()))
                    .collect(),
            )
        } else if dtype == &DataType::Null {
            // A column with no values at all: every cell missing.
            TableColumn::Numeric(vec![None; column.len()])
        } else {
            return Err(DataError::UnsupportedColumn {
                path: path.to_path_buf(),
                column: name,
                dtype: dtype.to_string(),
            });
        };
        table.push(name, converted);
    }
    Ok(table)
}

pub(super) fn read_error(path: &Path, e: PolarsError) -> DataError {
    DataError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn integer_values(column: &Column, path: &Path) -> Result<Vec<Option<i64>>, DataError> {
    // Strict: an unsigned value beyond i64::MAX is an error, not a wrapped number.
    let cast = column
        .strict_cast(&DataType::Int64)
        .map_err(|e| read_error(path, e))?;
    let values = cast.i64().map_err(|e| read_error(path, e))?;
    Ok(values.iter().collect())
}

pub(super) fn numeric_values(column: &Column, path: &Path) -> Result<Vec<Option<f64>>, DataError> {
    let cast = column
        .cast(&DataType::Float64)
        .map_err(|e| read_error(path, e))?;
    let values = cast.f64().map_err(|e| read_error(path, e))?;
    Ok(values.iter().collect())
}
