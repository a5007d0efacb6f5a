//! The report's figures, each drawn as a self-contained SVG string with `plotters`.
//!
//! This module owns everything visual: panel layout, axis ranges and tick labels, colours and
//! fonts. It takes plain numbers (already computed by the data and model modules) and returns SVG
//! text; it never reads files or fits models. Three figures reproduce the blog post's exploratory
//! plots of the gasoline panel ([`trajectories`], [`between_within`], [`covariates`]); the others
//! show model output ([`deviance_profile`], [`caterpillar`], [`sparsity`], [`simulation_strip`],
//! [`posterior`](fn@posterior)).
//!
//! Rendering is deterministic: the same input gives the same bytes. The SVG backend writes no ids
//! or timestamps, no hash-ordered container is iterated while drawing, and the jitter of
//! [`simulation_strip`] is a fixed low-discrepancy sequence rather than a random generator.
//!
//! Text is measured with plotters' naive font metrics (no system fonts are needed), so label areas
//! are sized here from character counts with a generous per-character width.
//!
//! One figure family per file ([`gasoline`], [`profile`], [`caterpillar`], [`influence`],
//! [`sparsity`], [`strip`], [`posterior`](mod@posterior)) on shared [`style`], [`axis`] and
//! [`panel`] helpers.

mod axis;
mod caterpillar;
mod gasoline;
mod influence;
mod panel;
mod posterior;
mod profile;
mod sparsity;
mod strip;
mod style;
#[cfg(test)]
mod tests;

use plotters::prelude::DrawingAreaErrorKind;

pub use caterpillar::caterpillar;
pub use gasoline::{between_within, covariates, trajectories};
pub use influence::{influence, InfluencePanel};
pub use posterior::{posterior, PosteriorPanel};
pub use profile::deviance_profile;
pub use sparsity::sparsity;
pub use strip::simulation_strip;

/// One country's time series in the gasoline panel. All quantities except `year` are natural
/// logs (`LCarPCap`, `LIncomeP`, `LRPMG`); the four vectors are parallel.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CountrySeries {
    /// Country name.
    pub country: String,
    /// Calendar year (1960..1978 in the data).
    pub year: Vec<f64>,
    /// Log cars per capita (`LCarPCap`).
    pub car_per_cap: Vec<f64>,
    /// Log real income per capita (`LIncomeP`).
    pub income_per_cap: Vec<f64>,
    /// Log real gasoline price (`LRPMG`).
    pub gas_price: Vec<f64>,
}

/// Why a figure could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FigureError {
    /// The plotting library failed (its error rendered as text, since its error type is generic
    /// over the backend).
    #[error("drawing the figure failed: {0}")]
    Drawing(String),
    /// The input cannot describe a figure (mismatched lengths, out-of-range indices, a canvas
    /// too small to hold the axes).
    #[error("invalid figure input: {0}")]
    InvalidInput(String),
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for FigureError {
    fn from(err: DrawingAreaErrorKind<E>) -> Self {
        FigureError::Drawing(err.to_string())
    }
}
