//! Fitted values `Xβ̂ + Zb̂` and response residuals `y − Xβ̂ − Zb̂` for the rows the fit used
//! (lme4's `fitted()` and `residuals()`), in the order of those rows. The response is the
//! model's (after a transform such as `log(y)`); the fitted values include the `offset()`
//! terms, as lme4's (the model matrices' y has them subtracted, so the residuals are
//! `y − Xβ̂ − Zb̂` of those matrices).

use crate::design::ModelMatrices;
use crate::fit::Fit;

/// Fitted values and residuals.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedValues {
    /// `Xβ̂ + Zb̂`, one per row used.
    pub fitted: Vec<f64>,
    /// `y − fitted`.
    pub residuals: Vec<f64>,
}

/// `Xβ̂` plus, when `with_random`, `Zb̂`, for every row of `mm`.
pub fn linear_predictor(fit: &Fit, mm: &ModelMatrices, with_random: bool) -> Vec<f64> {
    let beta = fit.beta();
    let n = mm.nobs();
    let mut eta: Vec<f64> = (0..n)
        .map(|i| (0..beta.len()).map(|j| mm.x[(i, j)] * beta[j]).sum())
        .collect();
    if with_random {
        for (term, modes) in mm.terms.iter().zip(fit.conditional_modes()) {
            let k = term.width();
            for (i, e) in eta.iter_mut().enumerate() {
                let l = term.refs[i] as usize;
                *e += (0..k)
                    .map(|j| term.z[i * k + j] * modes.modes[l * k + j])
                    .sum::<f64>();
            }
        }
    }
    eta
}

/// lme4's `fitted(m)` and `residuals(m)`; `offsets` (the offset terms' sum per row, see
/// [`crate::inference::FittedModel::offsets`]) are added to the fitted values.
pub fn fitted_values(fit: &Fit, mm: &ModelMatrices, offsets: Option<&[f64]>) -> FittedValues {
    let mut fitted = linear_predictor(fit, mm, true);
    let residuals = mm.y.iter().zip(&fitted).map(|(y, f)| y - f).collect();
    if let Some(offsets) = offsets {
        for (f, o) in fitted.iter_mut().zip(offsets) {
            *f += o;
        }
    }
    FittedValues { fitted, residuals }
}
