//! Likelihood-ratio tests between nested models, as lme4's `anova(m0, m1, …)`: every model is
//! fitted by maximum likelihood (lme4 refits REML fits by ML: "refitting model(s) with ML
//! (instead of REML)"), the models are ordered by their number of parameters (stably), and each
//! is tested against the one before it: `χ² = deviance₀ − deviance₁` (at least 0) on
//! `npar₁ − npar₀` degrees of freedom.
//!
//! Models fitted to different rows (different missing-value patterns in the columns their
//! formulas use) are an error, naming the two formulas — lme4 checks only the number of rows.

use serde::Serialize;

use super::distributions::chi_squared_upper;
use super::InferenceError;
use crate::fit::{fit, Fit};
use crate::formula::Formula;
use crate::lmm::Criterion;
use crate::options::FitOptions;
use crate::table::Table;

/// One model's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnovaModel {
    /// Formula as written.
    pub formula: String,
    /// Number of parameters (p + len(θ) + 1).
    pub npar: usize,
    /// AIC of the ML fit.
    pub aic: f64,
    /// BIC of the ML fit.
    pub bic: f64,
    /// Log-likelihood of the ML fit.
    pub loglik: f64,
    /// Deviance (−2 logLik).
    pub deviance: f64,
}

/// The test of a model against the one before it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnovaTest {
    /// χ² = deviance before − deviance (0 when negative).
    pub chisq: f64,
    /// Difference in the number of parameters.
    pub df: i64,
    /// `P(χ²_df > chisq)`; `null` when `df ≤ 0`.
    pub p_value: Option<f64>,
}

/// The anova table: models in order of their number of parameters, and one test per model
/// after the first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anova {
    /// The models.
    pub models: Vec<AnovaModel>,
    /// The tests, `tests[i]` compares `models[i + 1]` with `models[i]`.
    pub tests: Vec<AnovaTest>,
}

/// The rows of `table` a formula uses: those with every used column (and the weights)
/// present.
pub(crate) fn rows_used(formula: &Formula, table: &Table, options: &FitOptions) -> Vec<bool> {
    let mut columns = formula.used_columns();
    columns.extend(options.weights.iter().cloned());
    (0..table.nrows())
        .map(|row| {
            columns
                .iter()
                .all(|c| table.get(c).is_none_or(|col| !col.is_missing(row)))
        })
        .collect()
}

/// lme4's `anova(m0, m1, …)` for `formulas` fitted to `table` (by ML; `options.criterion` is
/// ignored).
pub fn anova(
    formulas: &[String],
    table: &Table,
    options: &FitOptions,
) -> Result<Anova, InferenceError> {
    if formulas.len() < 2 {
        return Err(InferenceError::Input(
            "anova compares at least two models (give --formula twice or more)".to_owned(),
        ));
    }
    let ml = FitOptions {
        criterion: Criterion::Ml,
        ..options.clone()
    };
    let mut fits: Vec<(String, Fit)> = Vec::with_capacity(formulas.len());
    let mut first_rows: Option<(String, Vec<bool>)> = None;
    for f in formulas {
        let parsed = Formula::parse(f).map_err(crate::error::Error::from)?;
        let rows = rows_used(&parsed, table, options);
        match &first_rows {
            None => first_rows = Some((f.clone(), rows)),
            Some((f0, r0)) if *r0 != rows => {
                let n0 = r0.iter().filter(|&&u| u).count();
                let n1 = rows.iter().filter(|&&u| u).count();
                let row = r0.iter().zip(&rows).position(|(a, b)| a != b).unwrap_or(0);
                return Err(InferenceError::Input(format!(
                    "models were fitted to different rows: '{f0}' uses {n0} rows and '{f}' {n1} \
                     (first difference at data row {}, missing values in the columns one of \
                     them uses); drop those rows from the data first",
                    row + 1
                )));
            }
            Some(_) => {}
        }
        fits.push((f.clone(), fit(f, table, &ml)?));
    }
    fits.sort_by_key(|(_, fit)| fit.result().dof);
    let models: Vec<AnovaModel> = fits
        .iter()
        .map(|(formula, fit)| AnovaModel {
            formula: formula.clone(),
            npar: fit.result().dof,
            aic: fit.aic(),
            bic: fit.bic(),
            loglik: fit.loglik(),
            deviance: fit.objective(),
        })
        .collect();
    let tests = models
        .windows(2)
        .map(|w| {
            let chisq = (w[0].deviance - w[1].deviance).max(0.0);
            let df = w[1].npar as i64 - w[0].npar as i64;
            AnovaTest {
                chisq,
                df,
                p_value: (df > 0).then(|| chi_squared_upper(chisq, df as f64)),
            }
        })
        .collect();
    Ok(Anova { models, tests })
}
