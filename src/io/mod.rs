//! Input and output files: data through polars ([`csv`]: delimited text, Parquet, Arrow IPC,
//! standard input; with the gasoline panel's schema checks ([`gasoline`]) the only place polars
//! types appear), where data come from and the type rules ([`source`], no polars), and the
//! atomic writes and `--check` comparison of the report directory ([`output`]).
//!
//! Everything downstream receives plain Rust values ([`lmm_engine::Table`], [`GasolinePanel`]).

mod csv;
mod error;
mod gasoline;
pub mod output;
pub mod regular;
pub mod source;

pub use csv::{frame_to_table, read_csv, read_data_file, read_table};
pub use error::DataError;
pub use gasoline::{
    CountryMeans, GasolinePanel, GASOLINE_COUNTRIES, GASOLINE_NUMERIC_COLUMNS, GASOLINE_YEARS,
    TIME_ORIGIN,
};
