//! The reproduction report: the post's own estimator ([`article`]), the log-determinant audit
//! ([`audit`]), a Bayesian fit by Gibbs sampling ([`bayes`]), the simulation design and
//! replicated study ([`simulation`], [`study`]), every reported number ([`results`]), the figures
//! ([`figures`]) and the rendering of Markdown and HTML ([`render`], [`mathml`]), with the
//! reproducibility facts ([`provenance`]).

pub mod article;
pub mod audit;
pub mod bayes;
pub mod figures;
pub mod format;
pub mod influence;
pub mod mathml;
pub mod provenance;
pub mod render;
pub mod results;
pub mod rounding;
pub mod simulation;
pub mod slopes;
pub mod study;

pub use render::{render, ReportConfig, ReportError};
