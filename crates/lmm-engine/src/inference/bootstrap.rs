//! The parametric bootstrap (MixedModels.jl's `parametricbootstrap`, lme4's `bootMer`):
//! `nsim` responses simulated from the fitted model, `y* = Xβ̂ + Zb* + ε*` with
//! `b* = σ̂Λ̂u*`, `u* ~ N(0, I)`, `ε* ~ N(0, σ̂²I)` (for prior weights `ε*ᵢ ~ N(0, σ̂²/wᵢ)`),
//! and the model refitted to each.
//!
//! * **Refits reuse the model's symbolic structure.** Each worker owns one
//!   [`LinearMixedModel`] built once from the fit's matrices; a replicate only replaces the
//!   response's row of the cross-products (O(n)) and reruns the fit's primary optimiser from
//!   θ̂ (projected BFGS with the exact gradient for one term, BOBYQA otherwise), without the
//!   convergence certificate (as `bootMer` refits without `lme4`'s derivative checks).
//! * **Deterministic for any thread count.** Replicate `r` draws from its own ChaCha8 stream
//!   (`seed`, stream `r`): first u* (terms in lme4's order, levels in order, columns within a
//!   level), then ε* in row order. Replicates run in parallel with rayon and are collected in
//!   replicate order, and a refit depends only on its response, so the results are identical
//!   for any `RAYON_NUM_THREADS`.

use std::sync::atomic::{AtomicUsize, Ordering};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::Serialize;

use super::{FittedModel, InferenceError};
use crate::lmm::LinearMixedModel;

/// One bootstrap replicate: the refit's estimates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replicate {
    /// Replicate number (0-based): its random stream.
    pub index: usize,
    /// Objective (deviance or REML criterion) at the refit's θ̂.
    pub objective: f64,
    /// σ̂.
    pub sigma: f64,
    /// θ̂ (lme4's layout).
    pub theta: Vec<f64>,
    /// β̂.
    pub beta: Vec<f64>,
    /// Whether the optimiser reported convergence.
    pub converged: bool,
}

/// The bootstrap's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootstrapOptions {
    /// Number of replicates.
    pub nsim: usize,
    /// Seed of the per-replicate streams.
    pub seed: u64,
}

/// A simulated response (on the scale of the model's cross-products, i.e. √w-scaled for
/// weighted fits) for replicate `index`.
fn simulate(
    fm: &FittedModel,
    scaled: &crate::design::ModelMatrices,
    beta: &[f64],
    lambdas: &[Vec<f64>],
    seed: u64,
    index: usize,
) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index as u64);
    let sigma = fm.fit.sigma();
    let n = scaled.nobs();
    let p = beta.len();
    let mut y: Vec<f64> = (0..n)
        .map(|i| (0..p).map(|j| scaled.x[(i, j)] * beta[j]).sum())
        .collect();
    for (term, lambda) in scaled.terms.iter().zip(lambdas) {
        let k = term.width();
        let mut b = vec![0.0; term.nranef()];
        let mut u = vec![0.0; k];
        for level in 0..term.nlevels() {
            for v in u.iter_mut() {
                *v = StandardNormal.sample(&mut rng);
            }
            for r in 0..k {
                b[level * k + r] = sigma * (0..=r).map(|c| lambda[r + c * k] * u[c]).sum::<f64>();
            }
        }
        for (i, yi) in y.iter_mut().enumerate() {
            let l = term.refs[i] as usize;
            *yi += (0..k)
                .map(|j| term.z[i * k + j] * b[l * k + j])
                .sum::<f64>();
        }
    }
    for yi in y.iter_mut() {
        let e: f64 = StandardNormal.sample(&mut rng);
        *yi += sigma * e;
    }
    y
}

/// Runs the parametric bootstrap; `progress(done)` is called (from any thread) as replicates
/// finish.
pub fn parametric_bootstrap(
    fm: &FittedModel,
    options: BootstrapOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<Replicate>, InferenceError> {
    if options.nsim == 0 {
        return Err(InferenceError::Input(
            "the bootstrap needs at least one replicate (--nsim)".to_owned(),
        ));
    }
    let scaled = fm.matrices.scaled_by_weights();
    let beta = fm.fit.beta();
    let theta = fm.fit.theta().to_vec();
    let layout = fm.model.theta_layout().clone();
    let lambdas: Vec<Vec<f64>> = (0..layout.nterms())
        .map(|t| {
            let k = layout.width(t);
            let mut l = vec![0.0; k * k];
            layout.fill_lambda(t, &theta, &mut l);
            l
        })
        .collect();
    let criterion = fm.fit.criterion();
    let refit_options = fm.options.clone();
    let done = AtomicUsize::new(0);
    // Fails early (and not once per replicate) if the model cannot be rebuilt.
    LinearMixedModel::new(&fm.matrices)?;
    let results: Vec<Result<Replicate, InferenceError>> = (0..options.nsim)
        .into_par_iter()
        .map_init(
            || LinearMixedModel::new(&fm.matrices),
            |model, index| {
                let model = model
                    .as_mut()
                    .map_err(|e| InferenceError::Model(e.clone()))?;
                let y = simulate(fm, &scaled, &beta, &lambdas, options.seed, index);
                model.replace_response(&scaled, &y);
                let refit = model.refit_from(&theta, &refit_options)?;
                let pd = model.pieces_at(&refit.theta)?;
                let fixed = model.fixed_at(&refit.theta)?;
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(finished);
                Ok(Replicate {
                    index,
                    objective: refit.objective,
                    sigma: pd.sigma_squared(criterion).sqrt(),
                    theta: refit.theta,
                    beta: fixed.beta,
                    converged: refit.converged,
                })
            },
        )
        .collect();
    results.into_iter().collect()
}
