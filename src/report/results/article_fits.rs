//! The article's dense estimator on the gasoline panel (as published and corrected) and on
//! the post's simulated data, reduced to the numbers the report shows.

use serde::Serialize;

use crate::io::GasolinePanel;
use crate::report::article::{ArticleError, ArticleFit, DenseRandomIntercept, NelderMeadOptions};
use crate::report::simulation::RandomInterceptDesign;

use super::{Coefficient, FIXED_NAMES};
use crate::report::rounding::{round_sig, rounded, SIMULATION_DIGITS};

/// One run of the article's dense estimator.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleEstimate {
    pub variant: String,
    pub logdet_weight: u8,
    #[serde(serialize_with = "rounded")]
    pub sigma2: f64,
    #[serde(serialize_with = "rounded")]
    pub sigma_b2: f64,
    #[serde(serialize_with = "rounded")]
    pub sigma: f64,
    #[serde(serialize_with = "rounded")]
    pub sigma_b: f64,
    pub beta: Vec<Coefficient>,
    /// The minimised function's value (the article's constant).
    #[serde(serialize_with = "rounded")]
    pub objective: f64,
    /// The true marginal deviance at the estimate.
    #[serde(serialize_with = "rounded")]
    pub deviance: f64,
    pub iterations: u64,
    pub evaluations: u64,
    pub termination: String,
    pub converged: bool,
}

impl ArticleEstimate {
    /// The report's numbers from one fit of the article's estimator.
    pub fn from_fit(fit: &ArticleFit) -> Self {
        Self {
            variant: fit.weight.label().to_owned(),
            logdet_weight: fit.weight.weight() as u8,
            sigma2: fit.sigma * fit.sigma,
            sigma_b2: fit.sigma_b * fit.sigma_b,
            sigma: fit.sigma,
            sigma_b: fit.sigma_b,
            beta: FIXED_NAMES
                .iter()
                .zip(&fit.beta)
                .map(|(name, &estimate)| Coefficient {
                    name: (*name).to_owned(),
                    estimate,
                })
                .collect(),
            objective: fit.objective,
            deviance: fit.deviance,
            iterations: fit.optimiser.iterations,
            evaluations: fit.optimiser.evaluations,
            termination: fit.optimiser.termination.clone(),
            converged: fit.optimiser.converged,
        }
    }
}

/// The article's simulation check, both objectives on one seeded data set.
#[derive(Debug, Clone, Serialize)]
pub struct SimulationCheck {
    pub design: RandomInterceptDesign,
    pub seed: u64,
    pub nobs: usize,
    pub truth: [f64; 2],
    pub published: [f64; 2],
    pub corrected: [f64; 2],
    pub published_evaluations: u64,
    pub corrected_evaluations: u64,
}

/// The article's dense problem for the gasoline panel.
pub fn gasoline_dense(panel: &GasolinePanel) -> Result<DenseRandomIntercept, ArticleError> {
    let x: Vec<Vec<f64>> = panel.fixed_design().iter().map(|r| r.to_vec()).collect();
    DenseRandomIntercept::new(
        &x,
        &panel.country_index,
        panel.countries.len(),
        &panel.lcarpcap,
    )
}

/// Fits the gasoline model with both objectives.
pub fn fit_article_variants(panel: &GasolinePanel) -> Result<[ArticleFit; 2], ArticleError> {
    gasoline_dense(panel)?.fit_both(NelderMeadOptions::default())
}

/// Runs the article's simulation check with both objectives.
pub fn simulation_check(seed: u64) -> Result<SimulationCheck, ArticleError> {
    let design = RandomInterceptDesign::ARTICLE;
    let data = design.simulate(seed);
    let model = DenseRandomIntercept::new(&data.x, &data.group, design.groups, &data.y)?;
    let [published, corrected] = model.fit_both(NelderMeadOptions::default())?;
    let variances = |f: &ArticleFit| {
        [
            round_sig(f.sigma * f.sigma, SIMULATION_DIGITS),
            round_sig(f.sigma_b * f.sigma_b, SIMULATION_DIGITS),
        ]
    };
    Ok(SimulationCheck {
        design,
        seed,
        nobs: design.nobs(),
        truth: [design.sigma2, design.sigma_b2],
        published: variances(&published),
        corrected: variances(&corrected),
        published_evaluations: published.optimiser.evaluations,
        corrected_evaluations: corrected.optimiser.evaluations,
    })
}
