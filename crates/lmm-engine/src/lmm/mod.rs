//! The linear mixed-model machinery behind [`crate::fit`]: maximum-likelihood and REML fits of
//! `y = Xβ + Zb + ε`, `b ~ N(0, σ²ΛΛ')`, `ε ~ N(0, σ²I)`, reproducing lme4's `lmer` and
//! MixedModels.jl's `fit(MixedModel, …)`.
//!
//! The engine follows MixedModels.jl's design (Bates, Mächler, Bolker and Walker 2015,
//! J. Stat. Softw. 67(1); MixedModels.jl `linearmixedmodel.jl`):
//!
//! * the model matrices are checked once ([`validate`]) and the cross-products of
//!   `[Z₁ … Z_m X y]` are formed once ([`crossprod`]), with the
//!   random-effects terms ordered internally by number of random effects, largest first, so
//!   that the leading diagonal block is block-diagonal and the blocks to its left stay sparse;
//! * each objective evaluation scales those blocks by `Λ(θ)` and refactors them in place with
//!   a blocked Cholesky factorisation ([`factor`]), whose cost depends on the number of random
//!   effects but not on the number of observations;
//! * the profiled deviance or REML criterion ([`deviance`]) is read off the factor, and a
//!   bound-constrained optimiser minimises it over `θ` ([`crate::optim`] explains the choice,
//!   with measurements): BOBYQA in general (as lme4 and MixedModels.jl); a projected BFGS
//!   with the exact gradient ([`gradient`]) for single-term models; BOBYQA over the leading
//!   terms with small trailing terms profiled out ([`profiled_tail`]) for crossed models with
//!   one large dense block ([`strategy`] picks the path); single-term models with many
//!   fixed effects evaluate the objective and gradient through q×q algebra
//!   ([`large_fixed`]) and refactor densely once at θ̂;
//! * the optimisers work on an internal θ̃ in which every random-effects column is
//!   standardised ([`scaling`]), so that fits do not depend on the user's units, and every
//!   optimum they report is checked by the convergence certificate ([`convergence`]) — after
//!   settling the boundary ([`boundary`]) and, when it fails, restarts ([`strategy`]);
//!   [`optimizers`] runs each optimiser, [`oracles`] gives the certificate the objective;
//! * at the optimum, [`estimates`] recovers `β̂`, its covariance, `σ̂`, the conditional modes and
//!   conditional variances of the random effects, and [`assemble`] packages them as a
//!   [`FitResult`] with lme4's conventions.
//!
//! The θ layout is in [`theta`]; the model state (cross-products, factor, evaluation) in
//! [`model`].

pub mod assemble;
pub mod boundary;
pub mod convergence;
pub mod crossprod;
pub mod deviance;
mod error;
pub mod estimates;
pub(crate) mod evaluate;
pub mod factor;
pub mod fit_result;
pub mod gradient;
pub mod large_fixed;
pub mod model;
pub mod optimizers;
pub mod oracles;
pub mod profiled_tail;
pub mod scaling;
pub mod strategy;
pub mod theta;
mod validate;

pub use deviance::Criterion;
pub use error::ModelError;
pub use fit_result::{
    ConditionalModes, Convergence, ConvergenceStatus, FitResult, FixedEffect, GroupingFactor,
    Optimizer, VarianceComponent,
};
pub use model::LinearMixedModel;
pub use theta::ThetaLayout;
