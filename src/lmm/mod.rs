//! The linear mixed-model engine: maximum-likelihood and REML fits of
//! `y = Xβ + Zb + ε`, `b ~ N(0, σ²ΛΛ')`, `ε ~ N(0, σ²I)`, reproducing lme4's `lmer` and
//! MixedModels.jl's `fit(MixedModel, …)`.
//!
//! The engine follows MixedModels.jl's design (Bates, Mächler, Bolker and Walker 2015,
//! J. Stat. Softw. 67(1); MixedModels.jl `linearmixedmodel.jl`):
//!
//! * the cross-products of `[Z₁ … Z_m X y]` are formed once ([`crossprod`]), with the
//!   random-effects terms ordered internally by number of random effects, largest first, so
//!   that the leading diagonal block is block-diagonal and the blocks to its left stay sparse;
//! * each objective evaluation scales those blocks by `Λ(θ)` and refactors them in place with
//!   a blocked Cholesky factorisation ([`cholesky`]), whose cost depends on the number of random
//!   effects but not on the number of observations;
//! * the profiled deviance or REML criterion ([`deviance`]) is read off the factor, and a
//!   bound-constrained optimiser minimises it over `θ` ([`optimizer`] explains the choice,
//!   with measurements): BOBYQA in general (as lme4 and MixedModels.jl); a projected BFGS
//!   ([`quasi_newton`]) with the exact gradient ([`gradient`]) for single-term models; BOBYQA
//!   over the leading terms with small trailing terms profiled out ([`profiled_tail`]) for
//!   crossed models with one large dense block;
//! * at the optimum, [`estimates`] recovers `β̂`, its covariance, `σ̂`, the conditional modes and
//!   conditional variances of the random effects, and [`result`] packages them with lme4's
//!   conventions; [`summary`] prints a MixedModels.jl-style summary and [`json`] serialises
//!   the fit.
//!
//! Small dense kernels live in [`dense`], the θ layout in [`theta`], the normal tail
//! probabilities in [`normal`].
//!
//! Public entry point: [`LinearMixedModel`].
//!
//! ```ignore
//! # fn demo(mm: &lmm_report::design::ModelMatrices) -> Result<(), lmm_report::lmm::ModelError> {
//! use lmm_report::lmm::{Criterion, FitOptions, LinearMixedModel};
//! let mut model = LinearMixedModel::new(mm)?;
//! let fit = model.fit(Criterion::Reml, &FitOptions::default())?;
//! println!("{}", fit.summary("y ~ 1 + x + (1 + x|g)"));
//! # Ok(()) }
//! ```

pub mod cholesky;
pub mod crossprod;
pub mod dense;
pub mod deviance;
pub mod estimates;
pub mod gradient;
pub mod json;
pub mod model;
pub mod normal;
pub mod optimizer;
pub mod profiled_tail;
pub mod quasi_newton;
pub mod result;
pub mod summary;
pub mod theta;

#[cfg(test)]
mod dense_check;
#[cfg(test)]
mod reference_tests;
#[cfg(test)]
mod test_data;

pub use deviance::Criterion;
pub use json::FitJson;
pub use model::LinearMixedModel;
pub use optimizer::{FitOptions, OptimizerChoice};
pub use result::{ConditionalModes, FitResult, FixedEffect, GroupingFactor, VarianceComponent};
pub use summary::FitSummary;
pub use theta::ThetaLayout;

/// Why a model could not be set up or fitted. Every variant is reachable from user input
/// (data and formula), so each message says what is wrong in the user's terms.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The model has no random-effects terms: that is a linear model, not a mixed model.
    #[error("the model has no random-effects terms")]
    NoRandomEffects,
    /// Fewer observations than the model needs.
    #[error("{nobs} observations are too few for {what}")]
    TooFewObservations {
        /// Number of observations.
        nobs: usize,
        /// What needs more observations, e.g. "4 fixed-effects parameters".
        what: String,
    },
    /// Inconsistent dimensions in the model matrices (a bug in whoever built them).
    #[error("inconsistent model matrices: {0}")]
    Dimension(String),
    /// A NaN or infinite value in y, X or Z.
    #[error("non-finite value in {0}")]
    NonFinite(String),
    /// The θ vector passed in has the wrong length.
    #[error("theta has {got} elements, the model has {expected}")]
    ThetaLength {
        /// Length passed in.
        got: usize,
        /// Length the model needs.
        expected: usize,
    },
    /// The fixed-effects block lost positive definiteness: X is (numerically) rank deficient
    /// given the random effects, or the response is fitted exactly.
    #[error("the fixed-effects cross-product is not positive definite ({0})")]
    NotPositiveDefinite(String),
    /// The optimiser could not run (invalid settings) or never found a finite objective.
    #[error("optimiser failure: {0}")]
    Optimizer(String),
}
