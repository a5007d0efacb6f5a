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

use crate::linalg::dot;
use crate::lmm::factor::SelectedInverse;

use super::pirls::Pirls;

/// Most terms of the scalar-terms path (more go through the general one).
const SCALAR_TERMS: usize = 8;

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
        if m <= SCALAR_TERMS && widths.iter().all(|&k| k == 1) {
            return Some(self.scalar_gradient(&inverse));
        }
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
        let q_rest = inverse.offsets[m];
        let trailing: Vec<f64> = (0..q_rest)
            .flat_map(|c| inverse.trailing_col(c).iter().copied())
            .collect();
        // Per row: each trailing term's first row in P.
        let mut rows = vec![0usize; m];
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
                rows[t] = inverse.offsets[t] + terms[t].refs[i] as usize * widths[t];
            }
            for t in 1..m {
                let kt = widths[t];
                let e = entries[t - 1][i] as usize;
                let blk = &inverse.cross[t - 1][e * kt * k0..(e + 1) * kt * k0];
                for x in 0..kt {
                    let mut s: f64 = (0..k0).map(|c| blk[x + c * kt] * zt[c]).sum();
                    let col = &trailing[(rows[t] + x) * q_rest..(rows[t] + x + 1) * q_rest];
                    for u in 1..m {
                        let zu = &zt[starts[u]..starts[u + 1]];
                        let pu = &col[rows[u]..rows[u] + widths[u]];
                        s += pu.iter().zip(zu).map(|(p, z)| p * z).sum::<f64>();
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
            (a[i], weight[i], d[i]) = self.row_terms(i, h);
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
        let beta = self.x_transpose_times(&score);
        Some(LaplaceGradient {
            beta,
            theta: theta_grad,
        })
    }

    /// The gradient when every term is scalar (`(1 | g)`, the common case) and there are at
    /// most [`SCALAR_TERMS`] terms: the same formulas as [`Pirls::laplace_gradient`] in one
    /// pass over the rows for the leverages and one for the scores, with per-row values and
    /// the per-term sums in registers (`M` is the number of terms).
    fn scalar_gradient(&self, inverse: &SelectedInverse) -> LaplaceGradient {
        match self.factor_u.terms().len() {
            1 => self.scalar_gradient_for::<1>(inverse),
            2 => self.scalar_gradient_for::<2>(inverse),
            3 => self.scalar_gradient_for::<3>(inverse),
            4 => self.scalar_gradient_for::<4>(inverse),
            5 => self.scalar_gradient_for::<5>(inverse),
            6 => self.scalar_gradient_for::<6>(inverse),
            7 => self.scalar_gradient_for::<7>(inverse),
            _ => self.scalar_gradient_for::<SCALAR_TERMS>(inverse),
        }
    }

    fn scalar_gradient_for<const M: usize>(&self, inverse: &SelectedInverse) -> LaplaceGradient {
        let factor = &self.factor_u;
        let shapes = factor.terms();
        debug_assert_eq!(shapes.len(), M);
        let n = self.nobs();
        let entries = self.reweighter.entries();
        let terms: [_; M] = std::array::from_fn(|t| &self.terms[shapes[t].formula_index]);
        let lambda: [f64; M] = std::array::from_fn(|t| factor.lambda(t)[0]);
        let q_rest = inverse.offsets[M];
        let p_flat: Vec<f64> = (0..q_rest)
            .flat_map(|c| inverse.trailing_col(c).iter().copied())
            .collect();
        let mut a = vec![0.0; n];
        let mut weight = vec![0.0; n];
        let mut d = vec![0.0; n];
        let mut v: [Vec<f64>; M] = std::array::from_fn(|t| vec![0.0; shapes[t].nranef()]);
        let mut trace = [0.0f64; M];
        for i in 0..n {
            // z̃ₜ = λₜzₜ, y = (C⁻¹z̃ᵢ) at each term's level, P's row of each trailing level.
            let zt: [f64; M] = std::array::from_fn(|t| terms[t].z[i] * lambda[t]);
            let level: [usize; M] = std::array::from_fn(|t| terms[t].refs[i] as usize);
            let mut yt = [0.0f64; M];
            let mut rt = [0usize; M];
            yt[0] = inverse.first[level[0]] * zt[0];
            for t in 1..M {
                let c = inverse.cross[t - 1][entries[t - 1][i] as usize];
                yt[0] += c * zt[t];
                yt[t] = c * zt[0];
                rt[t] = inverse.offsets[t] + level[t];
            }
            for t in 1..M {
                let row = &p_flat[rt[t] * q_rest..(rt[t] + 1) * q_rest];
                for u in 1..M {
                    yt[t] += row[rt[u]] * zt[u];
                }
            }
            let h: f64 = (0..M).map(|t| zt[t] * yt[t]).sum();
            (a[i], weight[i], d[i]) = self.row_terms(i, h);
            for t in 0..M {
                v[t][level[t]] += a[i] * zt[t];
                trace[t] += weight[i] * terms[t].z[i] * yt[t];
            }
        }
        let mut theta = vec![0.0; self.layout.len()];
        let theta_at: [usize; M] =
            std::array::from_fn(|t| self.layout.term_range(shapes[t].formula_index).start);
        for t in 0..M {
            theta[theta_at[t]] = 2.0 * trace[t];
        }
        factor.forward_random(&mut v);
        factor.backward_random(&mut v);
        let us: [&[f64]; M] = std::array::from_fn(|t| &self.u[shapes[t].formula_index][..]);
        let mut score = vec![0.0; n];
        let mut response = [0.0f64; M];
        for i in 0..n {
            let level: [usize; M] = std::array::from_fn(|t| terms[t].refs[i] as usize);
            let mut zls = 0.0;
            for t in 0..M {
                zls += terms[t].z[i] * lambda[t] * v[t][level[t]];
            }
            let sc = d[i] + a[i] - weight[i] * zls;
            score[i] = sc;
            for t in 0..M {
                let l = level[t];
                response[t] += terms[t].z[i] * (sc * us[t][l] - 0.5 * d[i] * v[t][l]);
            }
        }
        for t in 0..M {
            theta[theta_at[t]] += response[t];
        }
        let beta = self.x_transpose_times(&score);
        LaplaceGradient { beta, theta }
    }

    /// `X'v`, over contiguous columns.
    fn x_transpose_times(&self, v: &[f64]) -> Vec<f64> {
        (0..self.x.ncols())
            .map(|j| match self.x.col(j).try_as_col_major() {
                Some(col) => dot(col.as_slice(), v),
                None => self.x.col(j).iter().zip(v).map(|(x, s)| x * s).sum(),
            })
            .collect()
    }

    /// For row i with leverage `h`: `aᵢ = hᵢW'ᵢ`, the working weight `Wᵢ` and
    /// `dᵢ = ∂devᵢ/∂ηᵢ` (canonical link).
    #[inline(always)]
    fn row_terms(&self, i: usize, h: f64) -> (f64, f64, f64) {
        let (mu, me) = (self.mu[i], self.mu_eta[i]);
        let second = self
            .family
            .link()
            .canonical_second_derivative(self.eta[i], mu, me)
            .unwrap_or(0.0);
        let w = self.weights[i];
        (
            h * w * second,
            w * me * me / self.family.variance(mu),
            -2.0 * w * (self.y[i] - mu),
        )
    }
}
