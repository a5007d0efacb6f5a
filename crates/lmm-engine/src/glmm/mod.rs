//! Generalised linear mixed models, as lme4's `glmer` and MixedModels.jl's
//! `GeneralizedLinearMixedModel` fit them, on the linear mixed model's formula, design and
//! blocked Cholesky factor.
//!
//! * [`family`] and [`link`]: binomial (logit, probit, cloglog), Poisson (log), negative
//!   binomial (log) and Gamma (inverse, log, identity), with R's numerics;
//! * [`aggregate`]: rows sharing every covariate as one row (the same likelihood);
//! * [`pirls`]: penalised iteratively reweighted least squares for the conditional modes, one
//!   weighted LMM solve per iteration, with step halving, warm-started to second order by
//!   [`sensitivity`];
//! * [`laplace`]: the Laplace deviance on lme4's scale (full conditional density), so that
//!   `logLik` equals lme4's; [`agq`]: adaptive Gauss–Hermite quadrature for a single scalar
//!   random-effects term (`nAGQ` up to 25);
//! * [`model`]: the model and its objectives; [`strategy`]: for canonical links with the
//!   Laplace approximation, projected BFGS over θ alone with β profiled out exactly
//!   ([`profile`]) on the exact gradients of [`gradient`]; otherwise the fast stage (θ only, β
//!   inside PIRLS — lme4's `nAGQ = 0`) then the joint (θ, β) BOBYQA stage, as glmer;
//!   [`negative_binomial`]: the outer search over the negative binomial's θ (`glmer.nb`);
//!   [`em_start`]: EM steps for θ before that search; [`curvature`]: the certificate's
//!   shifted evaluations, on a copy of the state at θ̂; [`convergence`]: the check at the optimum; [`result`]: the fitted values with lme4's
//!   conventions.

mod aggregate;
pub mod agq;
pub mod convergence;
mod curvature;
mod em_start;
pub mod family;
mod gradient;
pub mod laplace;
pub mod link;
pub mod model;
mod negative_binomial;
pub mod pirls;
mod profile;
pub mod result;
pub mod reweight;
mod sensitivity;
pub mod strategy;

pub use family::{Family, Shape};
pub use link::Link;
pub use model::GeneralizedLinearMixedModel;
pub(crate) use negative_binomial::fit_estimated_shape;
pub use result::GlmmInfo;
#[cfg(test)]
mod tests;
