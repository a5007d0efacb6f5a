//! The log-determinant audit: how much the article's doubled log|Z'Z/σ² + I/σ_b²| moves its
//! estimates, and a test of the article's explanation that the differences from MixedModels.jl
//! come from the optimiser. Each objective is minimised by two unrelated optimisers —
//! Nelder–Mead (argmin) and BOBYQA (bobyqa), from several starts — and the spread between them
//! is set against the distance between the two objectives' optima. Also the profiles of both
//! objectives against θ = σ_b/σ for the figure.

use serde::Serialize;

use crate::report::article::{ArticleError, ArticleFit, DenseRandomIntercept, LogDetWeight};
use crate::report::rounding::{round_sig, rounded};
use lmm_engine::{minimize_bobyqa, BobyqaSettings};

/// One optimiser run on one objective.
#[derive(Debug, Clone, Serialize)]
pub struct OptimiserRun {
    pub objective: String,
    pub optimiser: String,
    /// Starting (σ, σ_b).
    pub start: [f64; 2],
    #[serde(serialize_with = "rounded")]
    pub sigma2: f64,
    #[serde(serialize_with = "rounded")]
    pub sigma_b2: f64,
    #[serde(serialize_with = "rounded")]
    pub value: f64,
    pub evaluations: u64,
}

/// Both objectives' profiles against θ = σ_b/σ (σ profiled out), each shifted so that its
/// minimum over the grid is 0. Figure data only: not part of `results.json`.
#[derive(Debug, Clone, Default)]
pub struct ThetaProfile {
    pub published: Vec<(f64, f64)>,
    pub corrected: Vec<(f64, f64)>,
}

/// What the audit found.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// log|Z'Z/σ² + I/σ_b²| at each variant's optimum.
    #[serde(serialize_with = "rounded")]
    pub logdet_at_published: f64,
    #[serde(serialize_with = "rounded")]
    pub logdet_at_corrected: f64,
    /// θ̂ = σ̂_b/σ̂ of each variant.
    #[serde(serialize_with = "rounded")]
    pub theta_published: f64,
    #[serde(serialize_with = "rounded")]
    pub theta_corrected: f64,
    /// Every optimiser run, both objectives.
    pub runs: Vec<OptimiserRun>,
    /// Largest relative difference in σ² or σ_b² between any two runs on the same objective:
    /// what changing the optimiser can do.
    pub optimiser_spread: f64,
    /// Relative difference in σ² between the two objectives' optima: what changing the
    /// objective does.
    pub objective_shift_sigma2: f64,
    #[serde(skip)]
    pub profile: ThetaProfile,
}

/// Starting points (σ, σ_b) for the optimiser comparison: the article's (1, 1) and three
/// others spread over an order of magnitude.
pub const STARTS: [[f64; 2]; 4] = [[1.0, 1.0], [0.3, 3.0], [3.0, 0.3], [0.1, 0.1]];

fn bobyqa_options() -> BobyqaSettings {
    BobyqaSettings {
        rho_begin: 0.5,
        rho_end: 1e-10,
        ftol_abs: None,
        max_evaluations: 5_000,
    }
}

/// Minimises the article's objective over log(σ, σ_b) with BOBYQA (unbounded).
fn bobyqa_run(
    model: &DenseRandomIntercept,
    weight: LogDetWeight,
    start: [f64; 2],
) -> Result<OptimiserRun, ArticleError> {
    let mut evaluations = 0u64;
    let outcome = minimize_bobyqa(
        |x| {
            evaluations += 1;
            model.objective([x[0], x[1]], weight)
        },
        &[start[0].ln(), start[1].ln()],
        &[f64::NEG_INFINITY, f64::NEG_INFINITY],
        &bobyqa_options(),
    )
    .map_err(|e| ArticleError::Optimiser(e.to_string()))?;
    Ok(OptimiserRun {
        objective: weight.label().to_owned(),
        optimiser: "BOBYQA (bobyqa)".to_owned(),
        start,
        sigma2: (2.0 * outcome.theta[0]).exp(),
        sigma_b2: (2.0 * outcome.theta[1]).exp(),
        value: outcome.objective,
        evaluations,
    })
}

fn nelder_mead_run(fit: &ArticleFit) -> OptimiserRun {
    OptimiserRun {
        objective: fit.weight.label().to_owned(),
        optimiser: "Nelder–Mead (argmin)".to_owned(),
        start: [1.0, 1.0],
        sigma2: fit.sigma.powi(2),
        sigma_b2: fit.sigma_b.powi(2),
        value: fit.objective,
        evaluations: fit.optimiser.evaluations,
    }
}

/// Minimum over log σ of the objective at fixed θ = σ_b/σ, by BOBYQA in one dimension.
fn profile_at(model: &DenseRandomIntercept, weight: LogDetWeight, theta: f64, start: f64) -> f64 {
    let options = BobyqaSettings {
        rho_begin: 0.2,
        rho_end: 1e-8,
        ..bobyqa_options()
    };
    minimize_bobyqa(
        |x| model.objective([x[0], x[0] + theta.ln()], weight),
        &[start],
        &[f64::NEG_INFINITY],
        &options,
    )
    .map(|o| o.objective)
    .unwrap_or(f64::NAN)
}

fn shifted(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let min = points
        .iter()
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    points.into_iter().map(|(x, y)| (x, y - min)).collect()
}

/// Runs the audit on the gasoline model given both Nelder–Mead fits.
pub fn run(
    model: &DenseRandomIntercept,
    published: &ArticleFit,
    corrected: &ArticleFit,
) -> Result<Audit, ArticleError> {
    let mut runs = vec![nelder_mead_run(published), nelder_mead_run(corrected)];
    for fit in [published, corrected] {
        for start in STARTS {
            runs.push(bobyqa_run(model, fit.weight, start)?);
        }
    }
    runs.sort_by_key(|r| r.objective != "as published");
    let rel = |a: f64, b: f64| ((a - b) / b).abs();
    let mut optimiser_spread: f64 = 0.0;
    for a in &runs {
        for b in runs.iter().filter(|b| b.objective == a.objective) {
            optimiser_spread = optimiser_spread
                .max(rel(a.sigma2, b.sigma2))
                .max(rel(a.sigma_b2, b.sigma_b2));
        }
    }
    let theta_published = published.sigma_b / published.sigma;
    let theta_corrected = corrected.sigma_b / corrected.sigma;
    let grid: Vec<f64> = (0..=80)
        .map(|i| 4.0 * (12.0_f64 / 4.0).powf(i as f64 / 80.0))
        .collect();
    let profile_of = |fit: &ArticleFit| {
        shifted(
            grid.iter()
                .map(|&t| (t, profile_at(model, fit.weight, t, fit.sigma.ln())))
                .collect(),
        )
    };
    Ok(Audit {
        logdet_at_published: model.log_det_precision(published.sigma, published.sigma_b),
        logdet_at_corrected: model.log_det_precision(corrected.sigma, corrected.sigma_b),
        theta_published,
        theta_corrected,
        runs,
        optimiser_spread: round_sig(optimiser_spread, 1),
        objective_shift_sigma2: round_sig(rel(published.sigma.powi(2), corrected.sigma.powi(2)), 6),
        profile: ThetaProfile {
            published: profile_of(published),
            corrected: profile_of(corrected),
        },
    })
}
