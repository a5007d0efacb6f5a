//! Input and output files: CSV through polars ([`csv`], the only place polars types appear),
//! the gasoline panel's schema ([`gasoline`]), and the atomic writes and `--check` comparison of
//! the report directory ([`output`]).
//!
//! Everything downstream receives plain Rust values ([`lmm_engine::Table`], [`GasolinePanel`]).

mod csv;
mod error;
mod gasoline;
pub mod output;

pub use csv::{frame_to_table, read_csv};
pub use error::DataError;
pub use gasoline::{
    CountryMeans, GasolinePanel, GASOLINE_COUNTRIES, GASOLINE_NUMERIC_COLUMNS, GASOLINE_YEARS,
    TIME_ORIGIN,
};
