//! The negative binomial GLMM with its shape θ estimated, as lme4's `glmer.nb` estimates it:
//! θ maximises the Laplace log-likelihood profiled over the other parameters. The search is
//! BOBYQA over log θ, each evaluation a whole GLMM fit with `negative.binomial(θ)` started
//! from the previous fit's random-effects θ, from the method-of-moments θ of the data around
//! a Poisson fit. `glmer.nb` uses `optimize()` over log θ ± 3 with tolerance 5e-5; this search
//! stops at a trust radius of 1e-6 in log θ, so its θ is at least as close to the maximum.

use crate::design::{GlmResponse, ModelMatrices};
use crate::lmm::fit_result::{ConvergenceStatus, FitResult};
use crate::lmm::ModelError;
use crate::optim::{minimize_bobyqa, BobyqaSettings};
use crate::options::FitOptions;

use super::family::Family;
use super::model::GeneralizedLinearMixedModel;
use super::result::GlmmInfo;

/// Smallest log θ searched (θ ≈ 4.5e-5: variance 22,000 μ²).
const LOG_THETA_MIN: f64 = -10.0;
/// Above this θ the data show no overdispersion: the negative binomial is the Poisson.
const THETA_POISSON: f64 = 1e6;

/// Fits `mm` with a negative binomial whose θ is estimated (`options.family` is
/// `NegativeBinomial(link, None)`).
pub(crate) fn fit_estimated_shape(
    mm: &ModelMatrices,
    response: &GlmResponse,
    options: &FitOptions,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<(FitResult, GlmmInfo), ModelError> {
    let link = options.family.link();
    let theta0 = moment_shape(mm, response, options, progress)?;
    let mut evaluations = 0usize;
    let mut pirls_iterations = 0usize;
    let mut warm: Option<Vec<f64>> = None;
    let mut failure: Option<ModelError> = None;
    let fit_at = |log_theta: f64,
                  warm: &mut Option<Vec<f64>>,
                  progress: &mut dyn FnMut(usize, f64)|
     -> Result<(FitResult, GlmmInfo), ModelError> {
        let family = Family::NegativeBinomial(link, None)
            .with_shape(log_theta.exp())
            .ok_or_else(|| ModelError::Optimizer(format!("θ = exp({log_theta}) is not valid")))?;
        let mut o = options.clone().with_family(family);
        if let Some(t) = warm.as_ref() {
            o = o.with_initial_theta(t.clone());
        }
        let mut model = GeneralizedLinearMixedModel::new(mm, response, family)?;
        let fitted = model.fit_with_progress(&o, progress)?;
        *warm = Some(fitted.0.theta.clone());
        Ok(fitted)
    };
    let outer = BobyqaSettings {
        rho_begin: 1.0,
        rho_end: 1e-6,
        ..options.bobyqa()
    };
    let search = minimize_bobyqa(
        |x: &[f64]| match fit_at(x[0], &mut warm, progress) {
            Ok((fit, info)) => {
                evaluations += fit.evaluations;
                pirls_iterations += info.pirls_iterations;
                fit.objective
            }
            Err(e) => {
                failure = Some(e);
                f64::INFINITY
            }
        },
        &[theta0.ln().max(LOG_THETA_MIN)],
        &[LOG_THETA_MIN],
        &outer,
    )
    .map_err(|e| failure.take().unwrap_or(e))?;
    let (mut fit, mut info) = fit_at(search.theta[0], &mut warm, progress)?;
    fit.evaluations += evaluations;
    info.pirls_iterations += pirls_iterations;
    fit.message = format!(
        "θ of the negative binomial by BOBYQA over log θ ({} GLMM fits: {}); the last fit: {}",
        search.evaluations, search.message, fit.message
    );
    if !search.converged && fit.convergence.status == ConvergenceStatus::Converged {
        fit.convergence.status = ConvergenceStatus::EvaluationLimit;
        fit.converged = false;
    }
    let theta = search.theta[0].exp();
    if theta > THETA_POISSON {
        info.notes.push(format!(
            "the negative binomial's θ is {theta:.3e}: no overdispersion, the Poisson model fits \
             as well"
        ));
    }
    Ok((fit, info))
}

/// The method-of-moments θ around a Poisson fit: Σ(y − μ)² = Σμ + Σμ²/θ over the data's
/// rows, or 10 when the data are not overdispersed.
fn moment_shape(
    mm: &ModelMatrices,
    response: &GlmResponse,
    options: &FitOptions,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<f64, ModelError> {
    let family = Family::Poisson(super::link::Link::Log);
    let mut model = GeneralizedLinearMixedModel::new(mm, response, family)?;
    model.fit_with_progress(&options.clone().with_family(family), progress)?;
    let mu = model.data_means();
    let (mut excess, mut mu2) = (0.0, 0.0);
    for (i, m) in mu.iter().enumerate() {
        let w = response.weights[i];
        excess += w * ((response.y[i] - m).powi(2) - m);
        mu2 += w * m * m;
    }
    Ok(if excess > 0.0 { mu2 / excess } else { 10.0 })
}
