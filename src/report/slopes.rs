//! The post's own lead: "how [Z] would change if we added a time random effect". The gasoline
//! model refitted by ML with a correlated `(1 + Time | Country)` and an uncorrelated
//! `(1 + Time || Country)` random effect, compared with the random-intercept model by
//! likelihood-ratio tests and information criteria (the engine's [`lmm_engine::inference::anova`],
//! lme4's `anova`, on ML fits), with the nonzero pattern of the new Z for the figure.

use serde::Serialize;

use crate::io::GasolinePanel;
use crate::report::rounding::{rounded, rounded_option, rounded_vec};
use lmm_engine::inference::anova::anova;
use lmm_engine::{Criterion, Fit, FitOptions};

/// The three nested models, in order of their number of parameters.
pub const FORMULAS: [&str; 3] = [
    "LCarPCap ~ 1 + Time + LIncomeP + LRPMG + (1|Country)",
    "LCarPCap ~ 1 + Time + LIncomeP + LRPMG + (1 + Time||Country)",
    "LCarPCap ~ 1 + Time + LIncomeP + LRPMG + (1 + Time|Country)",
];

/// Short names of [`FORMULAS`].
pub const NAMES: [&str; 3] = ["random intercept", "uncorrelated slope", "correlated slope"];

/// One ML fit.
#[derive(Debug, Clone, Serialize)]
pub struct ModelFit {
    pub name: String,
    pub formula: String,
    /// Number of parameters (β, θ and σ).
    pub npar: usize,
    #[serde(serialize_with = "rounded")]
    pub deviance: f64,
    #[serde(serialize_with = "rounded")]
    pub aic: f64,
    #[serde(serialize_with = "rounded")]
    pub bic: f64,
    #[serde(serialize_with = "rounded")]
    pub sigma2: f64,
    /// Variance of the country intercepts.
    #[serde(serialize_with = "rounded")]
    pub intercept_variance: f64,
    /// Variance of the country Time slopes (0 for the random-intercept model).
    #[serde(serialize_with = "rounded")]
    pub slope_variance: f64,
    /// Correlation of intercept and slope (only the correlated model estimates one).
    #[serde(serialize_with = "rounded_option")]
    pub correlation: Option<f64>,
    #[serde(serialize_with = "rounded_vec")]
    pub beta: Vec<f64>,
    #[serde(serialize_with = "rounded_vec")]
    pub std_errors: Vec<f64>,
    pub evaluations: usize,
    pub converged: bool,
    pub singular: bool,
}

/// A likelihood-ratio test of a smaller model against a larger one.
#[derive(Debug, Clone, Serialize)]
pub struct LikelihoodRatio {
    /// Indices into the fits: the smaller model and the larger one.
    pub smaller: usize,
    pub larger: usize,
    #[serde(serialize_with = "rounded")]
    pub chisq: f64,
    pub df: usize,
    /// Upper-tail χ² probability (conservative when the smaller model puts a variance on its
    /// boundary: the exact null distribution is a mixture with less mass in the tail).
    #[serde(serialize_with = "rounded")]
    pub p_value: f64,
}

/// The comparison.
#[derive(Debug, Clone, Serialize)]
pub struct RandomSlopes {
    pub fits: Vec<ModelFit>,
    pub tests: Vec<LikelihoodRatio>,
    /// Z of the correlated-slope model: rows, columns and structural nonzeros `(row, column)`.
    #[serde(skip)]
    pub z_shape: (usize, usize),
    #[serde(skip)]
    pub z_pattern: Vec<(usize, usize)>,
}

fn summarise(name: &str, fit: &Fit) -> ModelFit {
    let r = fit.result();
    let vc = fit.variance_components();
    // `||` gives two terms of one column each; `|` one term of two columns.
    let variances: Vec<f64> = vc
        .iter()
        .flat_map(|c| c.variances.iter().copied())
        .collect();
    let correlation = vc
        .iter()
        .find(|c| c.columns.len() == 2)
        .map(|c| c.correlation(0, 1));
    ModelFit {
        name: name.to_owned(),
        formula: fit.formula().text().to_owned(),
        npar: r.dof,
        deviance: r.objective,
        aic: r.aic,
        bic: r.bic,
        sigma2: r.residual_variance(),
        intercept_variance: variances.first().copied().unwrap_or(f64::NAN),
        slope_variance: variances.get(1).copied().unwrap_or(0.0),
        correlation,
        beta: fit.beta(),
        std_errors: fit.std_errors(),
        evaluations: r.evaluations,
        converged: r.converged,
        singular: r.singular,
    }
}

/// Why the comparison failed.
#[derive(Debug, thiserror::Error)]
pub enum SlopesError {
    /// A fit failed.
    #[error(transparent)]
    Fit(#[from] lmm_engine::Error),
    /// The likelihood-ratio tests failed.
    #[error("anova: {0}")]
    Anova(#[from] lmm_engine::inference::InferenceError),
    /// anova's ML fits disagree with the report's (they are the same fits, so this is a bug).
    #[error("anova's deviance of {formula} is {anova}, the report's fit {report}")]
    Disagree {
        formula: String,
        anova: f64,
        report: f64,
    },
}

/// Fits the three models by ML and compares them.
pub fn run(panel: &GasolinePanel) -> Result<RandomSlopes, SlopesError> {
    let table = panel.to_table();
    let options = FitOptions::default().with_criterion(Criterion::Ml);
    let mut fits = Vec::new();
    for (name, formula) in NAMES.iter().zip(FORMULAS) {
        fits.push(summarise(
            name,
            &lmm_engine::fit(formula, &table, &options)?,
        ));
    }
    // The nested pairs (0, 1), (1, 2) from one anova of all three, and (0, 2) from a second;
    // the FORMULAS are already in order of their number of parameters, as anova orders them.
    let formulas = FORMULAS.map(str::to_owned);
    let all = anova(&formulas, &table, &options)?;
    let outer = anova(
        &[formulas[0].clone(), formulas[2].clone()],
        &table,
        &options,
    )?;
    for (model, fit) in all.models.iter().zip(&fits) {
        if model.formula != fit.formula || (model.deviance - fit.deviance).abs() > 1e-9 {
            return Err(SlopesError::Disagree {
                formula: model.formula.clone(),
                anova: model.deviance,
                report: fit.deviance,
            });
        }
    }
    let test = |smaller: usize, larger: usize, t: &lmm_engine::inference::anova::AnovaTest| {
        LikelihoodRatio {
            smaller,
            larger,
            chisq: t.chisq,
            df: usize::try_from(t.df).unwrap_or(0),
            p_value: t.p_value.unwrap_or(f64::NAN),
        }
    };
    let tests = vec![
        test(0, 1, &all.tests[0]),
        test(1, 2, &all.tests[1]),
        test(0, 2, &outer.tests[0]),
    ];
    // Z of `(1 + Time | Country)`: columns 2c (intercept) and 2c + 1 (Time) of each country c,
    // level-major as lme4 orders them; both are structural nonzeros even where Time = 0.
    let m = panel.countries.len();
    let z_pattern = panel
        .country_index
        .iter()
        .enumerate()
        .flat_map(|(i, &c)| [(i, 2 * c), (i, 2 * c + 1)])
        .collect();
    Ok(RandomSlopes {
        fits,
        tests,
        z_shape: (panel.nrows(), 2 * m),
        z_pattern,
    })
}
