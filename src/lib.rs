//! lmm-report: a literate reproduction of a blog post on linear mixed models, built on the
//! `lmm-engine` crate, and the command-line front end to that engine.
//!
//! Data flow, one direction only:
//!
//! ```text
//! CSV ──[io] polars → lmm_engine::Table ──▶ lmm_engine::fit ──▶ Fit
//!                                                               │
//!   [report] article (the post's dense estimator), audit, study ─┴▶ results (every number)
//!            ──▶ figures (plotters) ──▶ render (minijinja → Markdown → HTML, MathML) ──▶ [io] output/
//!   [cli]    fit, workload: arguments, exit codes, progress
//! ```

pub mod cli;
pub mod io;
pub mod report;
pub mod workloads;

pub use lmm_engine as engine;
