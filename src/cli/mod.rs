//! The command-line front end: `lmm-report` (the report), `lmm-report fit`, and
//! `lmm-report workload` (seeded benchmark data). Owns argument parsing, exit codes and
//! progress display; all numerical work is the engine's and the report's.

pub mod fit;
