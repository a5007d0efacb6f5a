//! Wald intervals: β̂ ± z_{(1+level)/2}·SE(β̂) for the fixed effects, and none (`null`) for
//! the variance parameters, as lme4's `confint(m, method = "Wald")`.

use super::names::variance_parameters;
use super::ConfintRow;
use crate::fit::Fit;
use crate::inference::normal_quantile;

/// The Wald intervals of every parameter at confidence `level`.
pub fn wald(fit: &Fit, level: f64) -> Vec<ConfintRow> {
    let z = normal_quantile((1.0 + level) / 2.0);
    let mut rows: Vec<ConfintRow> = variance_parameters(fit.variance_components())
        .into_iter()
        .map(|(parameter, _)| ConfintRow {
            parameter,
            lower: None,
            upper: None,
        })
        .collect();
    rows.extend(fit.coefficients().iter().map(|c| ConfintRow {
        parameter: c.name.clone(),
        lower: Some(c.estimate - z * c.std_error),
        upper: Some(c.estimate + z * c.std_error),
    }));
    rows
}
