//! Satterthwaite's denominator degrees of freedom for the fixed effects, as lmerTest computes
//! them (Kuznetsova, Brockhoff and Christensen 2017, J. Stat. Softw. 82(13)).
//!
//! lmerTest works with the variance parameters φ = (θ, σ) and the deviance (ML) or REML
//! criterion *not* profiled over σ,
//!
//! ```text
//! d(θ, σ) = log|L_θ|² (+ log|R_X|² for REML) + r²(θ)/σ² + dof·log(2πσ²),   dof = n (ML), n − p (REML)
//! ```
//!
//! takes `Var(φ̂) = 2·H⁻¹` with H the Hessian of d at (θ̂, σ̂), and the Jacobian of
//! `Var(β̂)(φ) = σ²(R_X'R_X)⁻¹(θ)`. For a contrast `ℓ` (here each unit vector) the df are
//! `2 (ℓ'Vℓ)² / (g'Var(φ̂)g)` with `g_i = ℓ'(∂V/∂φ_i)ℓ`.
//!
//! **Derivatives.** Everything in σ is exact (d is explicit in σ: `∂²d/∂σ² = 6r²/σ⁴ −
//! 2dof/σ²`, `∂²d/∂σ∂θ = −2(∂r²/∂θ)/σ³`, `∂V/∂σ = 2σ(R_X'R_X)⁻¹`). The θ-derivatives of
//! `log|L|² (+ log|R_X|²)`, `r²` and `(R_X'R_X)⁻¹` are central finite differences on the
//! internal, unit-free θ̃ of the fit (each random-effects column standardised, θ̃ = s·θ with
//! `s` a power of two), with steps `h = 10⁻³·max(1, |θ̃ᵢ|)` and `h/2` combined by Richardson
//! extrapolation (error O(h⁴) ≈ 10⁻¹², rounding ≈ 10⁻¹⁰ relative). lmerTest differentiates
//! on lme4's θ with numDeriv; the df are invariant under the linear map θ̃ = s·θ (H ↦ SHS,
//! g ↦ Sg), so the two agree to the accuracy of the differences.
//!
//! **Cost.** One factorisation at each of `1 + 2·(2m + 2m(m−1))` points for m = len(θ)
//! (37 for m = 3): O(m²) objective evaluations, each costing what one optimiser iteration of
//! the fit costs — for crossed designs dominated by the dense block of the second grouping
//! factor (cubic in its number of levels, linear in the number of levels of the first).

use super::tests_df::CoefficientTest;
use super::{FittedModel, InferenceError};
use crate::lmm::deviance::Criterion;

/// Relative finite-difference step on θ̃ (see the module docs).
const STEP: f64 = 1e-3;

/// The pieces of d at one θ̃: the θ-dependent log-determinants, r², and (R_X'R_X)⁻¹.
fn evaluate(
    fm: &mut FittedModel,
    internal: &[f64],
    scales: &[f64],
    criterion: Criterion,
) -> Result<Vec<f64>, InferenceError> {
    let user: Vec<f64> = internal.iter().zip(scales).map(|(t, s)| t / s).collect();
    let model = fm.model_mut();
    let pieces = model.pieces_at(&user)?;
    let fixed = model.fixed_at(&user)?;
    let logdet = pieces.logdet_random
        + match criterion {
            Criterion::Ml => 0.0,
            Criterion::Reml => pieces.logdet_fixed,
        };
    let mut out = Vec::with_capacity(2 + fixed.unscaled_covariance.len());
    out.push(logdet);
    out.push(pieces.pwrss);
    out.extend_from_slice(&fixed.unscaled_covariance);
    Ok(out)
}

/// Gradient and Hessian (per output component) of a vector-valued function by central
/// differences with Richardson extrapolation.
struct Derivatives {
    /// `gradient[i][c]`: ∂f_c/∂x_i.
    gradient: Vec<Vec<f64>>,
    /// `hessian[i][j][c]`: ∂²f_c/∂x_i∂x_j.
    hessian: Vec<Vec<Vec<f64>>>,
    /// f at the centre.
    centre: Vec<f64>,
}

fn derivatives(
    x: &[f64],
    mut f: impl FnMut(&[f64]) -> Result<Vec<f64>, InferenceError>,
) -> Result<Derivatives, InferenceError> {
    let m = x.len();
    let centre = f(x)?;
    let k = centre.len();
    let base: Vec<f64> = x.iter().map(|v| STEP * v.abs().max(1.0)).collect();
    // One set of differences per step size h and h/2.
    let mut grads = Vec::new();
    let mut hessians = Vec::new();
    for scale in [1.0, 0.5] {
        let h: Vec<f64> = base.iter().map(|b| b * scale).collect();
        let mut point = x.to_vec();
        let mut plus = Vec::with_capacity(m);
        let mut minus = Vec::with_capacity(m);
        for i in 0..m {
            point[i] = x[i] + h[i];
            plus.push(f(&point)?);
            point[i] = x[i] - h[i];
            minus.push(f(&point)?);
            point[i] = x[i];
        }
        let mut grad = vec![vec![0.0; k]; m];
        let mut hess = vec![vec![vec![0.0; k]; m]; m];
        for i in 0..m {
            for c in 0..k {
                grad[i][c] = (plus[i][c] - minus[i][c]) / (2.0 * h[i]);
                hess[i][i][c] = (plus[i][c] - 2.0 * centre[c] + minus[i][c]) / (h[i] * h[i]);
            }
            for j in 0..i {
                let mut corner = |si: f64, sj: f64| {
                    let mut p = x.to_vec();
                    p[i] += si * h[i];
                    p[j] += sj * h[j];
                    f(&p)
                };
                let pp = corner(1.0, 1.0)?;
                let pm = corner(1.0, -1.0)?;
                let mp = corner(-1.0, 1.0)?;
                let mm = corner(-1.0, -1.0)?;
                for c in 0..k {
                    let v = (pp[c] - pm[c] - mp[c] + mm[c]) / (4.0 * h[i] * h[j]);
                    hess[i][j][c] = v;
                    hess[j][i][c] = v;
                }
            }
        }
        grads.push(grad);
        hessians.push(hess);
    }
    let richardson = |coarse: f64, fine: f64| (4.0 * fine - coarse) / 3.0;
    let gradient = (0..m)
        .map(|i| {
            (0..k)
                .map(|c| richardson(grads[0][i][c], grads[1][i][c]))
                .collect()
        })
        .collect();
    let hessian = (0..m)
        .map(|i| {
            (0..m)
                .map(|j| {
                    (0..k)
                        .map(|c| richardson(hessians[0][i][j][c], hessians[1][i][j][c]))
                        .collect()
                })
                .collect()
        })
        .collect();
    Ok(Derivatives {
        gradient,
        hessian,
        centre,
    })
}

/// lmerTest's ingredients at (θ̂, σ̂), on the parameters φ = (θ̃, σ) (θ̃ the internal θ).
#[derive(Debug, Clone, PartialEq)]
pub struct VarianceParameters {
    /// `Var(φ̂) = 2H⁻¹`, row-major (len(θ) + 1)².
    pub covariance: Vec<f64>,
    /// Per φ element, `∂Var(β̂)/∂φ_i`, row-major p×p.
    pub jacobian: Vec<Vec<f64>>,
    /// `Var(β̂)` at (θ̂, σ̂), row-major p×p.
    pub beta_covariance: Vec<f64>,
}

impl VarianceParameters {
    /// Computes the ingredients for `fm` (see the module docs).
    pub fn compute(fm: &mut FittedModel) -> Result<Self, InferenceError> {
        let criterion = fm.fit.criterion();
        let sigma = fm.fit.sigma();
        let theta = fm.fit.theta().to_vec();
        let scales = fm.model.internal_scale().to_vec();
        let internal: Vec<f64> = theta.iter().zip(&scales).map(|(t, s)| t * s).collect();
        let n = fm.matrices.nobs() as f64;
        let p = fm.matrices.x.ncols();
        let dof = match criterion {
            Criterion::Ml => n,
            Criterion::Reml => n - p as f64,
        };
        let d = derivatives(&internal, |x| evaluate(fm, x, &scales, criterion))?;
        let m = internal.len();
        let s2 = sigma * sigma;
        let r2 = d.centre[1];
        let dim = m + 1;
        let mut h = vec![0.0; dim * dim];
        for i in 0..m {
            for j in 0..m {
                h[i * dim + j] = d.hessian[i][j][0] + d.hessian[i][j][1] / s2;
            }
            let cross = -2.0 * d.gradient[i][1] / (s2 * sigma);
            h[i * dim + m] = cross;
            h[m * dim + i] = cross;
        }
        h[m * dim + m] = 6.0 * r2 / (s2 * s2) - 2.0 * dof / s2;
        let inverse = invert(&h, dim).ok_or_else(|| {
            InferenceError::Numerical(
                "the Hessian of the deviance in (θ, σ) is singular: Satterthwaite's df are \
                 undefined"
                    .to_owned(),
            )
        })?;
        let covariance = inverse.iter().map(|v| 2.0 * v).collect();
        let unscaled = &d.centre[2..];
        let mut jacobian: Vec<Vec<f64>> = (0..m)
            .map(|i| d.gradient[i][2..].iter().map(|g| s2 * g).collect())
            .collect();
        jacobian.push(unscaled.iter().map(|v| 2.0 * sigma * v).collect());
        Ok(Self {
            covariance,
            jacobian,
            beta_covariance: unscaled.iter().map(|v| s2 * v).collect(),
        })
    }

    /// Satterthwaite's df for the contrast `l` (length p).
    pub fn df(&self, l: &[f64]) -> f64 {
        let p = l.len();
        let qform = |a: &[f64]| -> f64 {
            (0..p)
                .map(|r| (0..p).map(|c| l[r] * a[r * p + c] * l[c]).sum::<f64>())
                .sum()
        };
        let var = qform(&self.beta_covariance);
        let g: Vec<f64> = self.jacobian.iter().map(|j| qform(j)).collect();
        let dim = g.len();
        let denom: f64 = (0..dim)
            .map(|a| {
                (0..dim)
                    .map(|b| g[a] * self.covariance[a * dim + b] * g[b])
                    .sum::<f64>()
            })
            .sum();
        2.0 * var * var / denom
    }
}

/// Inverse of a small dense matrix (row-major) by Gauss–Jordan elimination with partial
/// pivoting; `None` when it is (numerically) singular.
pub(crate) fn invert(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    let scale = a.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    for c in 0..n {
        let pivot = (c..n).max_by(|&x, &y| m[x * n + c].abs().total_cmp(&m[y * n + c].abs()))?;
        let pivot_value = m[pivot * n + c].abs();
        if pivot_value.is_nan() || pivot_value <= 1e-14 * scale {
            return None;
        }
        if pivot != c {
            for k in 0..n {
                m.swap(c * n + k, pivot * n + k);
                inv.swap(c * n + k, pivot * n + k);
            }
        }
        let d = m[c * n + c];
        for k in 0..n {
            m[c * n + k] /= d;
            inv[c * n + k] /= d;
        }
        for r in 0..n {
            if r != c {
                let f = m[r * n + c];
                if f != 0.0 {
                    for k in 0..n {
                        m[r * n + k] -= f * m[c * n + k];
                        inv[r * n + k] -= f * inv[c * n + k];
                    }
                }
            }
        }
    }
    Some(inv)
}

/// The Satterthwaite t tests of every fixed effect.
pub fn tests(fm: &mut FittedModel) -> Result<Vec<CoefficientTest>, InferenceError> {
    let vp = VarianceParameters::compute(fm)?;
    let p = fm.matrices.x.ncols();
    Ok(fm
        .fit
        .coefficients()
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let mut l = vec![0.0; p];
            l[j] = 1.0;
            CoefficientTest::new(&c.name, c.estimate, c.std_error, vp.df(&l))
        })
        .collect())
}
