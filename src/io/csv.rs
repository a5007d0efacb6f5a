//! Data files through polars, and the one conversion from a polars frame to the engine's
//! [`Table`]: polars types stop here (and in the gasoline panel's schema checks).
//!
//! [`read_table`] reads delimited text (comma, semicolon or tab, detected from the header
//! line), Parquet and Arrow IPC files, or CSV from standard input, then applies the type
//! rules of [`super::source`]: R's `Inf`/`-Inf`/`NaN` are numbers, `1,5` is a number in a
//! semicolon file (R's `read.csv2`), and a column of numbers with some text cells is an error
//! naming the first text cell rather than a silent switch to text.

use std::io::{Cursor, Read};
use std::path::Path;

use polars::prelude::*;

use lmm_engine::{Column as TableColumn, Table};

use super::regular::read_regular;
use super::source::{
    classify_text, detect_separator, DataFormat, DataSource, ReadOptions, TextColumn,
};
use super::DataError;

/// Rows used to infer column types on the first attempt. Few are enough: a later cell that
/// does not parse as the guessed type fails the read, which is then repeated with types
/// inferred from every row, and text columns (including a column empty in these rows) are
/// classified from every cell by [`classify_text`] — so the types never depend on where this
/// window ends (a test reads files whose columns change kind after it). Guessing from 10,000
/// rows instead took 3 ms of a 45 ms VerbAgg fit.
const QUICK_SCHEMA_ROWS: usize = 100;

/// Reads a comma-separated file with a header row. Empty cells and `NA` are missing values.
/// Column types are inferred from the first rows; if the file then fails to parse (an integer
/// column that turns fractional, a number column with text far down), it is read again with
/// types inferred from every row, so only unusual files pay for a full inference pass.
pub fn read_csv(path: &Path) -> Result<DataFrame, DataError> {
    let bytes = read_data_file(path)?;
    let nulls = ReadOptions::default().null_tokens();
    let read = |rows| {
        csv_options(b',', &nulls, rows)
            .into_reader_with_file_handle(Cursor::new(bytes.as_slice()))
            .finish()
    };
    read(Some(QUICK_SCHEMA_ROWS))
        .or_else(|_| read(None))
        .map_err(|e| read_error(path, e))
}

/// The bytes of a data file, which must be a regular file ([`read_regular`]): a missing path
/// is [`DataError::NotFound`], a FIFO, directory or device [`DataError::Read`] saying which.
pub fn read_data_file(path: &Path) -> Result<Vec<u8>, DataError> {
    read_regular(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DataError::NotFound {
            path: path.to_path_buf(),
        },
        _ => DataError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
    })
}

fn csv_options(separator: u8, nulls: &[String], infer_rows: Option<usize>) -> CsvReadOptions {
    let parse = CsvParseOptions::default()
        .with_separator(separator)
        .with_null_values(Some(NullValues::AllColumns(
            nulls.iter().map(|t| t.as_str().into()).collect(),
        )));
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(infer_rows)
        .with_parse_options(parse)
}

/// Reads `source` (delimited text, Parquet or Arrow IPC; see the module docs) into a table.
pub fn read_table(source: &DataSource, options: &ReadOptions) -> Result<Table, DataError> {
    let path = source.display_path();
    let format = DataFormat::of(source, options.format);
    let bytes = match source {
        DataSource::Path(p) => read_data_file(p)?,
        DataSource::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut bytes)
                .map_err(|e| DataError::Read {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            bytes
        }
    };
    let mut decimal_comma = false;
    let frame = match format {
        DataFormat::Csv | DataFormat::Tsv => {
            let separator = options.separator.unwrap_or(if format == DataFormat::Tsv {
                b'\t'
            } else {
                detect_separator(&bytes)
            });
            decimal_comma = separator == b';';
            let nulls = options.null_tokens();
            let read = |rows| {
                csv_options(separator, &nulls, rows)
                    .into_reader_with_file_handle(Cursor::new(bytes.as_slice()))
                    .finish()
            };
            // Last, every column as text, classified by the rules of `source` (integers beyond
            // i64, which polars cannot parse, are kept as text rather than failing the read).
            read(Some(QUICK_SCHEMA_ROWS))
                .or_else(|_| read(None))
                .or_else(|_| read(Some(0)))
        }
        DataFormat::Parquet => ParquetReader::new(Cursor::new(bytes)).finish(),
        DataFormat::Ipc => IpcReader::new(Cursor::new(bytes)).finish(),
    }
    .map_err(|e| read_error(&path, e))?;
    convert(&frame, &path, options, decimal_comma)
}

/// Converts a polars frame into a [`Table`]: integer columns become [`TableColumn::Integer`]
/// (kept exact, never through f64), floating-point columns [`TableColumn::Numeric`], text
/// [`TableColumn::Text`], and booleans the text `TRUE`/`FALSE` as R would read them.
pub fn frame_to_table(df: &DataFrame, path: &Path) -> Result<Table, DataError> {
    convert(df, path, &ReadOptions::default(), false)
}

/// [`frame_to_table`] with the type rules of `options`: a text column whose cells are all
/// numbers (R's `Inf`, `NaN`; `1,5` with `decimal_comma`) is numeric; one with at least as
/// many numbers as text cells is an error for the columns `options` checks.
fn convert(
    df: &DataFrame,
    path: &Path,
    options: &ReadOptions,
    decimal_comma: bool,
) -> Result<Table, DataError> {
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
            let cells: Vec<Option<&str>> = values.iter().collect();
            let declared_text = options.text_columns.contains(&name);
            match classify_text(&cells, decimal_comma) {
                TextColumn::Integers(integers) if !declared_text => TableColumn::Integer(integers),
                TextColumn::Numbers(numbers) if !declared_text => TableColumn::Numeric(numbers),
                TextColumn::NumbersWithText { row, text } if options.checks(&name) => {
                    return Err(DataError::TextAmongNumbers {
                        path: path.to_path_buf(),
                        column: name,
                        row: row + 1,
                        text,
                    })
                }
                _ => TableColumn::Text(cells.iter().map(|v| v.map(str::to_owned)).collect()),
            }
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
