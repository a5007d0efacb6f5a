//! The parameters of a fit in lme4's `confint(…, oldNames = FALSE)` order and naming: per
//! random-effects term (lme4's order), its standard deviations and correlations in θ's
//! layout (the lower triangle column by column: `sd_(Intercept)|Subject`,
//! `cor_Days.(Intercept)|Subject`, `sd_Days|Subject`), then `sigma`, then the fixed effects;
//! and the map from (θ, σ) to those standard deviations and correlations.

use crate::lmm::theta::relative_covariance;
use crate::lmm::{ThetaLayout, VarianceComponent};

/// The kind of a variance parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A standard deviation (≥ 0).
    StdDev,
    /// A correlation (in [−1, 1]).
    Correlation,
    /// The residual standard deviation (> 0).
    Sigma,
}

/// The names and kinds of the variance parameters (sds, correlations, sigma).
pub fn variance_parameters(components: &[VarianceComponent]) -> Vec<(String, Kind)> {
    let mut out = Vec::new();
    for vc in components {
        let k = vc.columns.len();
        for j in 0..k {
            for i in j..k {
                if i == j {
                    out.push((format!("sd_{}|{}", vc.columns[i], vc.group), Kind::StdDev));
                } else {
                    out.push((
                        format!("cor_{}.{}|{}", vc.columns[i], vc.columns[j], vc.group),
                        Kind::Correlation,
                    ));
                }
            }
        }
    }
    out.push(("sigma".to_owned(), Kind::Sigma));
    out
}

/// lme4's θ names (`Subject.(Intercept)`, `Subject.Days.(Intercept)`, `Subject.Days`), as
/// `getME(m, "theta")` names them.
pub fn theta_names(components: &[VarianceComponent]) -> Vec<String> {
    let mut out = Vec::new();
    for vc in components {
        let k = vc.columns.len();
        for j in 0..k {
            for i in j..k {
                if i == j {
                    out.push(format!("{}.{}", vc.group, vc.columns[i]));
                } else {
                    out.push(format!("{}.{}.{}", vc.group, vc.columns[i], vc.columns[j]));
                }
            }
        }
    }
    out
}

/// The sds and correlations (θ's layout) and σ for (θ, σ); a correlation of a zero
/// variance is NaN, as lme4.
pub fn sdcor(layout: &ThetaLayout, theta: &[f64], sigma: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(theta.len() + 1);
    for t in 0..layout.nterms() {
        let k = layout.width(t);
        let mut lambda = vec![0.0; k * k];
        layout.fill_lambda(t, theta, &mut lambda);
        let rel = relative_covariance(k, &lambda);
        for j in 0..k {
            for i in j..k {
                if i == j {
                    out.push(sigma * rel[i + i * k].sqrt());
                } else {
                    let d = (rel[i + i * k] * rel[j + j * k]).sqrt();
                    out.push(if d > 0.0 {
                        rel[i + j * k] / d
                    } else {
                        f64::NAN
                    });
                }
            }
        }
    }
    out.push(sigma);
    out
}

/// The inverse of [`sdcor`]: θ and σ from sds, correlations and σ, or `None` when the
/// correlations do not form a positive semi-definite matrix or σ ≤ 0. A zero standard
/// deviation gives a zero column of λ.
pub fn theta_from_sdcor(layout: &ThetaLayout, phi: &[f64]) -> Option<(Vec<f64>, f64)> {
    let sigma = *phi.last()?;
    if sigma.is_nan() || sigma <= 0.0 {
        return None;
    }
    let mut theta = Vec::with_capacity(layout.len());
    let mut pos = 0;
    for t in 0..layout.nterms() {
        let k = layout.width(t);
        let n = k * (k + 1) / 2;
        let packed = &phi[pos..pos + n];
        pos += n;
        // Σ_b / σ², column-major.
        let mut sd = vec![0.0; k];
        let mut idx = 0;
        let mut cov = vec![0.0; k * k];
        let mut cors = vec![0.0; k * k];
        for j in 0..k {
            for i in j..k {
                if i == j {
                    sd[i] = packed[idx];
                } else {
                    cors[i + j * k] = packed[idx];
                }
                idx += 1;
            }
        }
        if sd.iter().any(|s| s.is_nan() || *s < 0.0) {
            return None;
        }
        for j in 0..k {
            for i in j..k {
                let c = if i == j {
                    sd[i] * sd[i]
                } else {
                    cors[i + j * k] * sd[i] * sd[j]
                } / (sigma * sigma);
                cov[i + j * k] = c;
                cov[j + i * k] = c;
            }
        }
        // Cholesky allowing zero pivots (semi-definite covariances).
        let mut l = vec![0.0; k * k];
        for j in 0..k {
            let d = cov[j + j * k] - (0..j).map(|h| l[j + h * k] * l[j + h * k]).sum::<f64>();
            let scale = cov[j + j * k].abs().max(1e-300);
            if d < -1e-10 * scale {
                return None;
            }
            let pivot = if d > 1e-14 * scale { d.sqrt() } else { 0.0 };
            l[j + j * k] = pivot;
            for i in j + 1..k {
                let s = cov[i + j * k] - (0..j).map(|h| l[i + h * k] * l[j + h * k]).sum::<f64>();
                l[i + j * k] = if pivot > 0.0 {
                    s / pivot
                } else if s.abs() <= 1e-10 * (cov[i + i * k] * cov[j + j * k]).sqrt().max(1e-300) {
                    0.0
                } else {
                    return None;
                };
            }
        }
        for j in 0..k {
            for i in j..k {
                theta.push(l[i + j * k]);
            }
        }
    }
    Some((theta, sigma))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdcor_round_trips() {
        let layout = ThetaLayout::new(&[2, 1]);
        let theta = [0.9, 0.2, 0.3, 0.5];
        let phi = sdcor(&layout, &theta, 2.0);
        let (back, sigma) = theta_from_sdcor(&layout, &phi).unwrap();
        assert_eq!(sigma, 2.0);
        for (a, b) in back.iter().zip(&theta) {
            assert!((a - b).abs() < 1e-12, "{back:?}");
        }
        // |ρ| > 1 is not a covariance.
        let mut bad = phi.clone();
        bad[1] = 1.5;
        assert!(theta_from_sdcor(&layout, &bad).is_none());
    }
}
