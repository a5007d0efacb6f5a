//! Bound-constrained minimisers of the profiled objective: BOBYQA ([`bobyqa`], derivative-free,
//! as lme4 and MixedModels.jl) and a projected BFGS with exact gradients
//! ([`projected_bfgs`]). The module documentation of [`bobyqa`] explains, with measurements,
//! which one runs when.

pub mod bobyqa;
pub mod projected_bfgs;

pub use bobyqa::{minimize_bobyqa, BobyqaSettings, OptimizerOutcome};
