//! Kenward–Roger's adjusted covariance of β̂ and denominator degrees of freedom, as pbkrtest
//! 0.5.2 computes them (`vcovAdj`, `Lb_ddf`; Kenward and Roger 1997, Biometrics 53) and
//! lmerTest reports them (`summary(m, ddf = "Kenward-Roger")`).
//!
//! The variance parameters are pbkrtest's γ: per random-effects term the lower triangle of its
//! covariance matrix (column-major), then σ²; `Σ = Σ_i γ_i G_i` with `G_i = Z_t (I ⊗ E_i) Z_t'`
//! (`E_i` the symmetric unit matrix of the entry) and `G_last = I`. With `Φ = Var(β̂)`,
//! `P_i = −X'Σ⁻¹G_iΣ⁻¹X`, `Q_ij = X'Σ⁻¹G_iΣ⁻¹G_jΣ⁻¹X`, the expected information
//! `I_ij = tr(Σ⁻¹G_iΣ⁻¹G_j) − 2 tr(Φ Q_ij) + tr(Φ P_i Φ P_j)` and `W = 2 I⁻¹`, the adjusted
//! covariance is `Φ_A = Φ + 2Φ[Σ_ij W_ij (Q_ij − P_i Φ P_j)]Φ`. All derivatives are exact
//! (Σ is linear in γ).
//!
//! pbkrtest forms Σ⁻¹ and every `G_iΣ⁻¹` as dense n×n matrices; so does this module, which
//! therefore refuses models with more than [`MAX_OBSERVATIONS`] observations (memory
//! `(len(γ) + 2)·n²` doubles) rather than run for minutes.

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};

use super::satterthwaite::invert;
use super::tests_df::CoefficientTest;
use super::{FittedModel, InferenceError};
use crate::lmm::deviance::Criterion;

/// The largest model (observations) Kenward–Roger is computed for.
pub const MAX_OBSERVATIONS: usize = 2000;

/// The adjusted covariance and what the df need.
#[derive(Debug, Clone, PartialEq)]
pub struct KenwardRoger {
    /// Unadjusted Var(β̂) = Φ, row-major p×p.
    pub phi: Vec<f64>,
    /// Adjusted Var(β̂) = Φ_A, row-major p×p.
    pub adjusted: Vec<f64>,
    /// P_i, row-major p×p each.
    p_matrices: Vec<Vec<f64>>,
    /// W = 2 I⁻¹, row-major.
    w: Vec<f64>,
}

fn to_mat(v: &[f64], p: usize) -> Mat<f64> {
    Mat::from_fn(p, p, |r, c| v[r * p + c])
}

fn to_vec(m: &Mat<f64>) -> Vec<f64> {
    let p = m.nrows();
    (0..p * p).map(|i| m[(i / p, i % p)]).collect()
}

/// Σ_ab A_ab B_ab.
fn sum_product(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let mut s = 0.0;
    for c in 0..a.ncols() {
        for r in 0..a.nrows() {
            s += a[(r, c)] * b[(r, c)];
        }
    }
    s
}

/// tr(AB) = Σ_ab A_ab B_ba.
fn trace_product(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let mut s = 0.0;
    for c in 0..a.ncols() {
        for r in 0..a.nrows() {
            s += a[(r, c)] * b[(c, r)];
        }
    }
    s
}

impl KenwardRoger {
    /// pbkrtest's `vcovAdj` for a REML fit.
    pub fn compute(fm: &FittedModel) -> Result<Self, InferenceError> {
        let fit = &fm.fit;
        if fit.criterion() != Criterion::Reml {
            return Err(InferenceError::NeedsReml("Kenward-Roger"));
        }
        let mm = &fm.matrices;
        if mm.weights.is_some() {
            return Err(InferenceError::Input(
                "Kenward-Roger is not implemented for prior weights".to_owned(),
            ));
        }
        let n = mm.nobs();
        if n > MAX_OBSERVATIONS {
            return Err(InferenceError::TooLarge {
                method: "Kenward-Roger",
                n,
                limit: MAX_OBSERVATIONS,
            });
        }
        let p = mm.x.ncols();
        let sigma2 = fit.sigma() * fit.sigma();
        // γ and G_i, terms in lme4's order.
        let mut gamma: Vec<f64> = Vec::new();
        let mut g: Vec<Mat<f64>> = Vec::new();
        for (term, vc) in mm.terms.iter().zip(fit.variance_components()) {
            let k = term.width();
            let mut by_level: Vec<Vec<usize>> = vec![Vec::new(); term.nlevels()];
            for (i, &l) in term.refs.iter().enumerate() {
                by_level[l as usize].push(i);
            }
            for j in 0..k {
                for i in j..k {
                    let cov = vc.correlation(i, j) * vc.std_devs[i] * vc.std_devs[j];
                    gamma.push(if i == j {
                        vc.variances[i]
                    } else if cov.is_nan() {
                        0.0
                    } else {
                        cov
                    });
                    let mut gi = Mat::<f64>::zeros(n, n);
                    for rows in &by_level {
                        for &a in rows {
                            for &b in rows {
                                let za = &term.z[a * k..(a + 1) * k];
                                let zb = &term.z[b * k..(b + 1) * k];
                                gi[(a, b)] = if i == j {
                                    za[i] * zb[i]
                                } else {
                                    za[i] * zb[j] + za[j] * zb[i]
                                };
                            }
                        }
                    }
                    g.push(gi);
                }
            }
        }
        gamma.push(sigma2);
        g.push(Mat::<f64>::identity(n, n));
        let ng = gamma.len();
        let mut sigma = Mat::<f64>::zeros(n, n);
        for (gi, &c) in g.iter().zip(&gamma) {
            sigma += gi * faer::Scale(c);
        }
        let sigma_inv = sigma
            .llt(Side::Lower)
            .map_err(|_| {
                InferenceError::Numerical("Σ = ZΣ_bZ' + σ²I is not positive definite".to_owned())
            })?
            .inverse();
        let x = Mat::from_fn(n, p, |r, c| mm.x[(r, c)]);
        let phi = to_mat(&fit.result().fixed_covariance, p);
        let tt = &sigma_inv * &x;
        let hh: Vec<Mat<f64>> = g.iter().map(|gi| gi * &sigma_inv).collect();
        let oo: Vec<Mat<f64>> = hh.iter().map(|h| h * &x).collect();
        let pp: Vec<Mat<f64>> = oo
            .iter()
            .map(|o| {
                let m = o.transpose() * &tt * faer::Scale(-1.0);
                // forceSymmetric (the upper triangle).
                Mat::from_fn(p, p, |r, c| if r <= c { m[(r, c)] } else { m[(c, r)] })
            })
            .collect();
        let sinv_oo: Vec<Mat<f64>> = oo.iter().map(|o| &sigma_inv * o).collect();
        let mut qq = vec![vec![Mat::<f64>::zeros(p, p); ng]; ng];
        for r in 0..ng {
            for s in r..ng {
                let q = oo[r].transpose() * &sinv_oo[s];
                qq[s][r] = q.transpose().to_owned();
                qq[r][s] = q;
            }
        }
        let mut info = vec![0.0; ng * ng];
        for i in 0..ng {
            let phi_p = &phi * &pp[i];
            for j in i..ng {
                let k_trace = trace_product(&hh[i], &hh[j]);
                let pj_phi = &pp[j] * &phi;
                let v = k_trace - 2.0 * sum_product(&phi, &qq[i][j]) + sum_product(&phi_p, &pj_phi);
                info[i * ng + j] = v;
                info[j * ng + i] = v;
            }
        }
        let w: Vec<f64> = invert(&info, ng)
            .ok_or_else(|| {
                InferenceError::Numerical(
                    "the expected information of the variance parameters is singular".to_owned(),
                )
            })?
            .iter()
            .map(|v| 2.0 * v)
            .collect();
        let mut uu = Mat::<f64>::zeros(p, p);
        for i in 0..ng {
            for j in i + 1..ng {
                let term = &qq[i][j] - &pp[i] * &phi * &pp[j];
                uu += term * faer::Scale(w[i * ng + j]);
            }
        }
        uu = &uu + uu.transpose();
        for i in 0..ng {
            let term = &qq[i][i] - &pp[i] * &phi * &pp[i];
            uu += term * faer::Scale(w[i * ng + i]);
        }
        let adjusted = &phi + &phi * &uu * &phi * faer::Scale(2.0);
        Ok(Self {
            phi: to_vec(&phi),
            adjusted: to_vec(&adjusted),
            p_matrices: pp.iter().map(to_vec).collect(),
            w,
        })
    }

    /// pbkrtest's `Lb_ddf` for one contrast `l` (q = 1).
    pub fn df(&self, l: &[f64]) -> f64 {
        let p = l.len();
        let phi = to_mat(&self.phi, p);
        let lv = Mat::from_fn(p, 1, |r, _| l[r]);
        let var = (lv.transpose() * &phi * &lv)[(0, 0)];
        let theta = &lv * lv.transpose() * faer::Scale(1.0 / var);
        let theta_phi = &theta * &phi;
        let ng = self.p_matrices.len();
        let u: Vec<Mat<f64>> = self
            .p_matrices
            .iter()
            .map(|pm| &theta_phi * to_mat(pm, p) * &phi)
            .collect();
        let trace = |m: &Mat<f64>| (0..p).map(|i| m[(i, i)]).sum::<f64>();
        let (mut a1, mut a2) = (0.0, 0.0);
        for i in 0..ng {
            for j in i..ng {
                let e = if i == j { 1.0 } else { 2.0 };
                let wij = self.w[i * ng + j];
                a1 += e * wij * trace(&u[i]) * trace(&u[j]);
                a2 += e * wij * trace_product(&u[i], &u[j]);
            }
        }
        let q = 1.0;
        let b = (a1 + 6.0 * a2) / (2.0 * q);
        let g = ((q + 1.0) * a1 - (q + 4.0) * a2) / ((q + 2.0) * a2);
        let denom = 3.0 * q + 2.0 * (1.0 - g);
        let c1 = g / denom;
        let c2 = (q - g) / denom;
        let c3 = (q + 2.0 - g) / denom;
        let mut v0 = 1.0 + c1 * b;
        let v1 = 1.0 - c2 * b;
        let v2 = 1.0 - c3 * b;
        if v0.abs() < 1e-10 {
            v0 = 0.0;
        }
        let x = 1.0 - a2 / q;
        let ratio = if x.abs() < 1e-14 && v1.abs() < 1e-14 {
            1.0
        } else {
            x / v1
        };
        let rho = ratio * ratio * v0 / (q * v2);
        4.0 + (q + 2.0) / (q * rho - 1.0)
    }
}

/// The Kenward–Roger t tests of every fixed effect (adjusted standard errors).
pub fn tests(fm: &mut FittedModel) -> Result<Vec<CoefficientTest>, InferenceError> {
    let kr = KenwardRoger::compute(fm)?;
    let p = fm.matrices.x.ncols();
    Ok(fm
        .fit
        .coefficients()
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let mut l = vec![0.0; p];
            l[j] = 1.0;
            CoefficientTest::new(
                &c.name,
                c.estimate,
                kr.adjusted[j * p + j].sqrt(),
                kr.df(&l),
            )
        })
        .collect())
}
