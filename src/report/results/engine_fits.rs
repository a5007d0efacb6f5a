//! The sparse engine on the gasoline model (ML and REML) through `lmm_engine::fit`, and the
//! sparsity patterns of Z and of the Cholesky factor for the figures.

use serde::Serialize;

use crate::io::GasolinePanel;
use lmm_engine::{Criterion, Fit, FitOptions, Formula, ModelMatrices};

use super::{Coefficient, ResultsError, GASOLINE_FORMULA};
use crate::report::rounding::{rounded, rounded_vec};

/// The sparse engine's fit of the gasoline model.
#[derive(Debug, Clone, Serialize)]
pub struct EngineEstimate {
    pub criterion: String,
    #[serde(serialize_with = "rounded")]
    pub sigma2: f64,
    #[serde(serialize_with = "rounded")]
    pub sigma_b2: f64,
    #[serde(serialize_with = "rounded")]
    pub theta: f64,
    pub beta: Vec<Coefficient>,
    #[serde(serialize_with = "rounded_vec")]
    pub std_errors: Vec<f64>,
    /// Deviance (ML) or REML criterion.
    #[serde(serialize_with = "rounded")]
    pub objective: f64,
    pub evaluations: usize,
    /// The optimiser path the engine took, as its fit recorded it ("projected BFGS with exact
    /// gradient", "BOBYQA", …): the report says how each number was computed from this.
    pub optimizer: String,
    pub converged: bool,
    pub singular: bool,
    /// Country conditional modes with their conditional standard deviations.
    pub country_effects: Vec<CountryEffect>,
    /// MixedModels.jl-style text summary.
    pub summary: String,
}

/// One country's conditional mode of the random intercept.
#[derive(Debug, Clone, Serialize)]
pub struct CountryEffect {
    pub country: String,
    #[serde(serialize_with = "rounded")]
    pub mode: f64,
    #[serde(serialize_with = "rounded")]
    pub conditional_sd: f64,
}

/// The gasoline model's matrices for the sparse engine, from the lme4 formula.
pub fn gasoline_matrices(panel: &GasolinePanel) -> Result<ModelMatrices, ResultsError> {
    let formula = Formula::parse(GASOLINE_FORMULA).map_err(lmm_engine::Error::from)?;
    Ok(ModelMatrices::build(&formula, &panel.to_table()).map_err(lmm_engine::Error::from)?)
}

/// The report's numbers from one engine fit.
pub fn engine_estimate(engine_fit: &Fit) -> EngineEstimate {
    let fit = engine_fit.result();
    let effects = &fit.random_effects[0];
    EngineEstimate {
        criterion: match fit.criterion {
            Criterion::Ml => "ML",
            Criterion::Reml => "REML",
        }
        .to_owned(),
        sigma2: fit.sigma.powi(2),
        sigma_b2: fit.variance_components[0].variances[0],
        theta: fit.theta[0],
        beta: fit
            .fixed
            .iter()
            .map(|f| Coefficient {
                name: f.name.clone(),
                estimate: f.estimate,
            })
            .collect(),
        std_errors: fit.std_errors(),
        objective: fit.objective,
        evaluations: fit.evaluations,
        optimizer: optimizer_of(&fit.message),
        converged: fit.converged,
        singular: fit.singular,
        country_effects: effects
            .levels
            .iter()
            .enumerate()
            .map(|(l, country)| CountryEffect {
                country: country.clone(),
                mode: effects.mode(l, 0),
                conditional_sd: effects.sd(l, 0),
            })
            .collect(),
        summary: engine_fit.to_string(),
    }
}

/// The optimiser named at the head of a fit's message ("BOBYQA: converged …" → "BOBYQA").
fn optimizer_of(message: &str) -> String {
    message
        .split_once(": ")
        .map_or(message, |(head, _)| head)
        .to_owned()
}

/// Fits the gasoline model with the sparse engine by ML and REML, through the engine's one
/// entry point as any user would.
pub fn fit_engine(panel: &GasolinePanel) -> Result<[Fit; 2], lmm_engine::Error> {
    let table = panel.to_table();
    let fit_by = |criterion| {
        lmm_engine::fit(
            GASOLINE_FORMULA,
            &table,
            &FitOptions::default().with_criterion(criterion),
        )
    };
    Ok([fit_by(Criterion::Ml)?, fit_by(Criterion::Reml)?])
}

/// Nonzeros of the lower Cholesky factor of the penalised system of a model with one scalar
/// random-effects term, at relative standard deviation `theta`, in the order (u, β).
pub fn factor_pattern(matrices: &ModelMatrices, theta: f64) -> (usize, Vec<(usize, usize)>) {
    let term = &matrices.terms[0];
    let (n, q, p) = (matrices.nobs(), term.nlevels(), matrices.x.ncols());
    let d = faer::Mat::from_fn(n, q + p, |i, j| {
        if j < q {
            if term.refs[i] as usize == j {
                theta * term.z[i]
            } else {
                0.0
            }
        } else {
            matrices.x[(i, j - q)]
        }
    });
    let mut a = d.transpose() * &d;
    for j in 0..q {
        a[(j, j)] += 1.0;
    }
    let pattern = match a.llt(faer::Side::Lower) {
        Ok(llt) => {
            let l = llt.L();
            let scale = (0..q + p).map(|j| l[(j, j)].abs()).fold(0.0, f64::max);
            (0..q + p)
                .flat_map(|i| (0..=i).map(move |j| (i, j)))
                .filter(|&(i, j)| l[(i, j)].abs() > 1e-12 * scale)
                .collect()
        }
        Err(_) => Vec::new(),
    };
    (q + p, pattern)
}
