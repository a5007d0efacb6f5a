//! lmm-report: a literate reproduction of a blog post on linear mixed models, and a linear
//! mixed-model engine in the style of lme4 and MixedModels.jl.
//!
//! Data flow: [`data`] reads CSV files with polars → [`article`] (the post's dense estimator) and
//! the engine → [`results`] (every number) → [`figures`] and [`report`] → [`output`].

pub mod article;
pub mod audit;
pub mod data;
pub mod design;
pub mod figures;
pub mod fit_command;
pub mod formula;
pub mod lmm;
pub mod mathml;
pub mod output;
pub mod provenance;
pub mod report;
pub mod results;
pub mod simulate;
pub mod study;
pub mod table;
pub mod workloads;
