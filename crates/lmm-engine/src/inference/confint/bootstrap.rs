//! Parametric-bootstrap percentile intervals (lme4's `confint(m, method = "boot")` with
//! `boot.type = "perc"`): per parameter, the (1 − level)/2 and (1 + level)/2 sample quantiles
//! (R's default type 7) of the replicates' values; sds and correlations from each
//! replicate's (θ, σ). Replicates whose value is undefined (a correlation of a zero variance)
//! are left out of that parameter's quantiles.

use super::names::{sdcor, variance_parameters};
use super::ConfintRow;
use crate::fit::Fit;
use crate::inference::bootstrap::Replicate;
use crate::lmm::ThetaLayout;

/// R's type-7 quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let h = (n - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The percentile intervals at `level` from `replicates` of `fit`.
pub fn percentile(
    fit: &Fit,
    layout: &ThetaLayout,
    replicates: &[Replicate],
    level: f64,
) -> Vec<ConfintRow> {
    let names: Vec<String> = variance_parameters(fit.variance_components())
        .into_iter()
        .map(|(n, _)| n)
        .chain(fit.coefficients().iter().map(|c| c.name.clone()))
        .collect();
    let values: Vec<Vec<f64>> = replicates
        .iter()
        .map(|r| {
            let mut v = sdcor(layout, &r.theta, r.sigma);
            v.extend_from_slice(&r.beta);
            v
        })
        .collect();
    names
        .into_iter()
        .enumerate()
        .map(|(i, parameter)| {
            let mut column: Vec<f64> = values
                .iter()
                .map(|v| v[i])
                .filter(|v| v.is_finite())
                .collect();
            column.sort_by(f64::total_cmp);
            let (lower, upper) = if column.is_empty() {
                (None, None)
            } else {
                (
                    Some(quantile(&column, (1.0 - level) / 2.0)),
                    Some(quantile(&column, (1.0 + level) / 2.0)),
                )
            };
            ConfintRow {
                parameter,
                lower,
                upper,
            }
        })
        .collect()
}
