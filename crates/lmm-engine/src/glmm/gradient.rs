//! The exact gradient of the Laplace deviance with respect to β and θ, for a canonical link,
//! at a converged u-only PIRLS state — what lets the fit profile β out by Newton's method
//! and search θ with a gradient method instead of a derivative-free one over (θ, β).
//!
//! With `D = Σ devᵢ(ηᵢ) + ‖û‖² + log|C|`, `C = Λ'Z'WZΛ + I` at the modes û, and for a
//! canonical link (`∂²devᵢ/∂ηᵢ² = 2Wᵢ`, so the mode equations' Jacobian in u is `2C`):
//!
//! * the penalised deviance is stationary in u at û, so its total derivative is the
//!   partial one: `Σᵢ dᵢ ∂ηᵢ/∂·` at fixed u, with `dᵢ = ∂devᵢ/∂ηᵢ = −2wᵢ(yᵢ − μᵢ)`;
//! * `∂log|C|` has a part at fixed weights, `tr(C⁻¹ ∂C)` (for θ only:
//!   `2 Σᵢ Wᵢ (zᵢ∂Λ) C⁻¹ (ZΛ)ᵢ'`), and a part through the weights,
//!   `Σᵢ aᵢ dηᵢ`, with `aᵢ = hᵢ W'ᵢ`, `hᵢ = (ZΛ)ᵢ C⁻¹ (ZΛ)ᵢ'` the leverage of row i,
//!   `W'ᵢ = wᵢ d²μ/dη²`, and `dη = ∂η|_u + ZΛ dû` by implicit differentiation of the mode
//!   equations, `dû = −C⁻¹ ∂F`, `F = ½Λ'Z'd + u`.
//!
//! So with `s = C⁻¹Λ'Z'a`:
//!
//! ```text
//!   ∂D/∂β    = X'(d + a) − X'W ZΛs
//!   ∂D/∂θⱼ   = Σᵢ (dᵢ + aᵢ − WᵢκᵢS)(Z∂ⱼΛu)ᵢ + 2Σᵢ Wᵢ (zᵢ∂ⱼΛ)C⁻¹(ZΛ)ᵢ' − ½Σᵢ dᵢ(Z∂ⱼΛs)ᵢ
//! ```
//!
//! (`κᵢS = (ZΛs)ᵢ`): one selected inversion ([`crate::lmm::factor::SelectedInverse`]), one
//! solve with the factor and two passes over the rows.

use crate::lmm::factor::SelectedInverse;

use super::pirls::Pirls;

/// The exact gradient at a PIRLS state.
pub(crate) struct LaplaceGradient {
    /// `∂D/∂β`.
    pub(crate) beta: Vec<f64>,
    /// `∂D/∂θ` in lme4's θ layout (formula order).
    pub(crate) theta: Vec<f64>,
}

impl Pirls {
    /// The gradient at the current state, which must be a converged u-only PIRLS solution
    /// (the u-only factor at the state's working weights); `None` for a non-canonical link.
    pub(crate) fn laplace_gradient(&self) -> Option<LaplaceGradient> {
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
        let mut starts = vec![0usize; m + 1];
        for t in 0..m {
            starts[t + 1] = starts[t] + widths[t];
        }
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
        // Per row: z̃ = λ'zᵢ per term, and y = C⁻¹-row of term blocks times z̃, so hᵢ = z̃·y.
        let mut zt = vec![0.0; starts[m]];
        let mut yt = vec![0.0; starts[m]];
        let nt = self.layout.len();
        let mut theta_grad = vec![0.0; nt];
        let mut a = vec![0.0; n];
        let mut weight = vec![0.0; n];
        let mut d = vec![0.0; n];
        let mut v: Vec<Vec<f64>> = shapes.iter().map(|s| vec![0.0; s.nranef()]).collect();
        for i in 0..n {
            row_z(i, &mut zt);
            let l0 = terms[0].refs[i] as usize;
            let f = &inverse.first[l0 * kk0..(l0 + 1) * kk0];
            for r in 0..k0 {
                yt[r] = (0..k0).map(|c| f[r + c * k0] * zt[c]).sum();
            }
            for t in 1..m {
                let kt = widths[t];
                let e = entries[t - 1][i] as usize;
                let blk = &inverse.cross[t - 1][e * kt * k0..(e + 1) * kt * k0];
                let rt = inverse.offsets[t] + terms[t].refs[i] as usize * kt;
                for x in 0..kt {
                    let mut s: f64 = (0..k0).map(|c| blk[x + c * kt] * zt[c]).sum();
                    for u in 1..m {
                        let ku = widths[u];
                        let ru = inverse.offsets[u] + terms[u].refs[i] as usize * ku;
                        let col = inverse.trailing_col(rt + x);
                        for y in 0..ku {
                            s += col[ru + y] * zt[starts[u] + y];
                        }
                    }
                    yt[starts[t] + x] = s;
                }
                // The first term's row of the cross block: C⁻¹[(0, l₀), (t, l_t)] = blockᵀ.
                for c in 0..k0 {
                    yt[c] += (0..kt)
                        .map(|x| blk[x + c * kt] * zt[starts[t] + x])
                        .sum::<f64>();
                }
            }
            let h: f64 = zt.iter().zip(&yt).map(|(z, y)| z * y).sum();
            let (mu, me) = (self.mu[i], self.mu_eta[i]);
            let second = link
                .canonical_second_derivative(self.eta[i], mu, me)
                .unwrap_or(0.0);
            let w = self.weights[i];
            a[i] = h * w * second;
            weight[i] = w * me * me / self.family.variance(mu);
            d[i] = -2.0 * w * (self.y[i] - mu);
            for t in 0..m {
                let k = widths[t];
                let l = terms[t].refs[i] as usize * k;
                for c in 0..k {
                    v[t][l + c] += a[i] * zt[starts[t] + c];
                }
                // tr(C⁻¹∂C): 2Wᵢ zᵢ[r] y[c] for θ at (r, c) of this term's λ.
                let z = &terms[t].z[i * k..(i + 1) * k];
                let mut j = self.layout.term_range(shapes[t].formula_index).start;
                for c in 0..k {
                    for zr in &z[c..k] {
                        theta_grad[j] += 2.0 * weight[i] * zr * yt[starts[t] + c];
                        j += 1;
                    }
                }
            }
        }
        factor.forward_random(&mut v);
        factor.backward_random(&mut v);
        let mut score = vec![0.0; n];
        for i in 0..n {
            row_z(i, &mut zt);
            let mut zls = 0.0;
            for t in 0..m {
                let k = widths[t];
                let l = terms[t].refs[i] as usize * k;
                zls += (0..k).map(|c| zt[starts[t] + c] * v[t][l + c]).sum::<f64>();
            }
            score[i] = d[i] + a[i] - weight[i] * zls;
            // (Z∂ⱼΛu)ᵢ = zᵢ[r]·u[c] and (Z∂ⱼΛs)ᵢ = zᵢ[r]·s[c] for θ at (r, c).
            for t in 0..m {
                let k = widths[t];
                let l = terms[t].refs[i] as usize * k;
                let u = &self.u[shapes[t].formula_index][l..l + k];
                let s = &v[t][l..l + k];
                let z = &terms[t].z[i * k..(i + 1) * k];
                let mut j = self.layout.term_range(shapes[t].formula_index).start;
                for c in 0..k {
                    for zr in &z[c..k] {
                        theta_grad[j] += zr * (score[i] * u[c] - 0.5 * d[i] * s[c]);
                        j += 1;
                    }
                }
            }
        }
        let beta = (0..self.x.ncols())
            .map(|j| {
                let col = self.x.col(j);
                col.iter().zip(&score).map(|(x, s)| x * s).sum()
            })
            .collect();
        Some(LaplaceGradient {
            beta,
            theta: theta_grad,
        })
    }
}
