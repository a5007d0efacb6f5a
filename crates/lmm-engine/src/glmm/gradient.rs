//! The exact gradient with respect to β of the Laplace deviance at fixed θ, for a canonical
//! link, at a converged u-only PIRLS state — what lets the fit profile β out of the Laplace
//! objective by Newton's method instead of searching over (θ, β) with a derivative-free
//! optimiser.
//!
//! With `D(β) = Σ devᵢ(ηᵢ) + ‖û‖² + log|C|`, `C = Λ'Z'WZΛ + I` at the modes `û(β)`:
//!
//! * the penalised deviance is stationary in u at `û`, so its total derivative is the
//!   partial one, `X'd` with `dᵢ = ∂devᵢ/∂ηᵢ = −2wᵢ(yᵢ − μᵢ)`;
//! * `∂log|C|/∂β = Σᵢ hᵢ W'ᵢ ∂ηᵢ/∂β`, with `hᵢ = (ZΛ)ᵢ C⁻¹ (ZΛ)ᵢ'` the leverage of row i
//!   ([`crate::lmm::factor::SelectedInverse`]), `W'ᵢ = wᵢ d²μ/dη²` and
//!   `∂η/∂β = X − ZΛ C⁻¹ Λ'Z'WX` (implicit differentiation of the mode equations, whose
//!   Hessian in u is `2C` exactly for a canonical link).
//!
//! So with `a = h ⊙ W'`: `∇D = X'(d + a) − X'W ZΛ C⁻¹ Λ'Z'a` — one selected inversion, one
//! solve with the factor and two passes over the rows.

use super::pirls::Pirls;
use crate::lmm::factor::SelectedInverse;

impl Pirls {
    /// `∂D/∂β` at the current state, which must be a converged u-only PIRLS solution (the
    /// u-only factor at the state's working weights); `None` for a non-canonical link.
    pub(crate) fn laplace_beta_gradient(&self) -> Option<Vec<f64>> {
        if !self.family.is_canonical() {
            return None;
        }
        let link = self.family.link();
        let factor = &self.factor_u;
        let shapes = factor.terms();
        let m = shapes.len();
        let n = self.nobs();
        let inverse: SelectedInverse = factor.selected_inverse();
        let entries = self.reweighter.entries();
        let terms: Vec<_> = shapes
            .iter()
            .map(|s| &self.terms[s.formula_index])
            .collect();
        let widths: Vec<usize> = shapes.iter().map(|s| s.width).collect();
        let starts: Vec<usize> = widths
            .iter()
            .scan(0, |acc, k| {
                let s = *acc;
                *acc += k;
                Some(s)
            })
            .collect();
        let ktotal: usize = widths.iter().sum();
        // z̃ = λ'zᵢ per internal term, for one row.
        let mut zt = vec![0.0; ktotal];
        let row_z = |i: usize, zt: &mut [f64]| {
            for t in 0..m {
                let k = widths[t];
                let lambda = factor.lambda(t);
                let z = &terms[t].z[i * k..(i + 1) * k];
                for c in 0..k {
                    zt[starts[t] + c] = (c..k).map(|r| z[r] * lambda[r + c * k]).sum();
                }
            }
        };
        let k0 = widths[0];
        let kk0 = k0 * k0;
        let mut a = vec![0.0; n];
        let mut weight = vec![0.0; n];
        let mut score = vec![0.0; n];
        let mut v: Vec<Vec<f64>> = shapes.iter().map(|s| vec![0.0; s.nranef()]).collect();
        for i in 0..n {
            row_z(i, &mut zt);
            let l0 = terms[0].refs[i] as usize;
            let z0 = &zt[..k0];
            let f = &inverse.first[l0 * kk0..(l0 + 1) * kk0];
            let mut h = quadratic(f, z0, z0, k0, k0);
            for t in 1..m {
                let kt = widths[t];
                let e = entries[t - 1][i] as usize;
                let blk = &inverse.cross[t - 1][e * kt * k0..(e + 1) * kt * k0];
                let ztt = &zt[starts[t]..starts[t] + kt];
                h += 2.0 * quadratic(blk, ztt, z0, kt, k0);
                let rt = inverse.offsets[t] + terms[t].refs[i] as usize * kt;
                for s in 1..m {
                    let ks = widths[s];
                    let rs = inverse.offsets[s] + terms[s].refs[i] as usize * ks;
                    let zs = &zt[starts[s]..starts[s] + ks];
                    for (x, zx) in ztt.iter().enumerate() {
                        for (y, zy) in zs.iter().enumerate() {
                            h += zx * inverse.trailing_at(rt + x, rs + y) * zy;
                        }
                    }
                }
            }
            let (mu, me) = (self.mu[i], self.mu_eta[i]);
            let second = link
                .canonical_second_derivative(self.eta[i], mu, me)
                .unwrap_or(0.0);
            let w = self.weights[i];
            a[i] = h * w * second;
            weight[i] = w * me * me / self.family.variance(mu);
            score[i] = -2.0 * w * (self.y[i] - mu) + a[i];
            for t in 0..m {
                let k = widths[t];
                let l = terms[t].refs[i] as usize * k;
                for c in 0..k {
                    v[t][l + c] += a[i] * zt[starts[t] + c];
                }
            }
        }
        factor.forward_random(&mut v);
        factor.backward_random(&mut v);
        for i in 0..n {
            row_z(i, &mut zt);
            let mut s = 0.0;
            for t in 0..m {
                let k = widths[t];
                let l = terms[t].refs[i] as usize * k;
                s += (0..k).map(|c| zt[starts[t] + c] * v[t][l + c]).sum::<f64>();
            }
            score[i] -= weight[i] * s;
        }
        Some(
            (0..self.x.ncols())
                .map(|j| {
                    let col = self.x.col(j);
                    col.iter().zip(&score).map(|(x, s)| x * s).sum()
                })
                .collect(),
        )
    }
}

/// `a' B b` for a `ka × kb` column-major block `B`.
#[inline]
fn quadratic(block: &[f64], a: &[f64], b: &[f64], ka: usize, kb: usize) -> f64 {
    let mut s = 0.0;
    for (c, bc) in b.iter().enumerate().take(kb) {
        for (r, ar) in a.iter().enumerate().take(ka) {
            s += ar * block[r + c * ka] * bc;
        }
    }
    s
}
