//! [`SingleTermGradient`]: the exact gradient of the profiled objective with respect to θ for
//! models with one random-effects term (any width k), read off the factor at θ.
//!
//! With one term, `M = Λ'Z'ZΛ + I` is block-diagonal (one k×k block `M_l = L_l L_l'` per
//! level), so the derivatives need only per-level k×k algebra — the gradient costs about as
//! much as the objective itself. For an element `λ_ab` (a ≥ b) of the term's λ, with
//! `A_l = Z_l'Z_l`, `B_l = Z_l'X`, the residual `e = y − ZΛû − Xβ̂` and `S = R_X'R_X`:
//!
//! ```text
//! ∂ log|M|   / ∂λ_ab = 2 Σ_l (M_l⁻¹ λ'A_l)_ba
//! ∂ r²       / ∂λ_ab = −2 Σ_l (Z_l'e)_a û_lb                     (envelope theorem)
//! ∂ log|H|   / ∂λ_ab = 2 Σ_l [(G_l λ'A_l)_ba − (B_l S⁻¹ V_l')_ab]
//! ```
//!
//! where `H` is the factored system without y (`log|H| = log|M| + log|R_X|²`),
//! `V_l = M_l⁻¹λ'B_l` and `G_l = M_l⁻¹ + V_l S⁻¹ V_l'` is the level's diagonal block of `H⁻¹`.
//! ML: `∇d = ∇log|M| + n ∇r²/r²`; REML: `∇d_R = ∇log|H| + (n − p) ∇r²/r²`.
//! `Z_l'e` comes from the cross-products (`Z_l'y − B_l β̂ − A_l λ û_l`), so nothing touches
//! the observations. No λ⁻¹ appears: the formulas hold on the boundary (zero diagonals) too.

use crate::lmm::deviance::Criterion;
use crate::lmm::factor::BlockedCholesky;

/// Workspace for the single-term gradient (allocated once per model).
#[derive(Debug, Clone)]
pub struct SingleTermGradient {
    k: usize,
    p: usize,
    beta: Vec<f64>,
    /// L_XX⁻¹ (p×p, column-major, lower).
    lxx_inv: Vec<f64>,
    q_sum: Vec<f64>,
    r_sum: Vec<f64>,
    u_sum: Vec<f64>,
    w_sum: Vec<f64>,
    // Per-level scratch.
    u: Vec<f64>,
    lu: Vec<f64>,
    ze: Vec<f64>,
    t: Vec<f64>,
    x: Vec<f64>,
    v: Vec<f64>,
    uu: Vec<f64>,
    y: Vec<f64>,
}

impl SingleTermGradient {
    /// Workspace for a term of width `k` and `p` fixed effects.
    pub fn new(k: usize, p: usize) -> Self {
        Self {
            k,
            p,
            beta: vec![0.0; p],
            lxx_inv: vec![0.0; p * p],
            q_sum: vec![0.0; k * k],
            r_sum: vec![0.0; k * k],
            u_sum: vec![0.0; k * k],
            w_sum: vec![0.0; k * k],
            u: vec![0.0; k],
            lu: vec![0.0; k],
            ze: vec![0.0; k],
            t: vec![0.0; k * k],
            x: vec![0.0; k * k],
            v: vec![0.0; k * p],
            uu: vec![0.0; k * p],
            y: vec![0.0; k * p],
        }
    }

    /// Writes ∂objective/∂θ into `grad` (θ in the term's packed lower-triangle order). The
    /// factor must be up to date and have exactly one random-effects term.
    pub fn compute(&mut self, factor: &BlockedCholesky, criterion: Criterion, grad: &mut [f64]) {
        let (k, p) = (self.k, self.p);
        let p1 = p + 1;
        let cp = factor.cross_products();
        let n = cp.nobs as f64;
        let fixed = factor.fixed_block();
        let r = fixed.get(p, p);
        let r2 = r * r;

        // β̂ from L_XX' β = l_yX.
        for i in (0..p).rev() {
            let mut s = fixed.get(p, i);
            for j in i + 1..p {
                s -= fixed.get(j, i) * self.beta[j];
            }
            self.beta[i] = s / fixed.get(i, i);
        }
        let reml = criterion == Criterion::Reml;
        if reml {
            for c in 0..p {
                self.lxx_inv[c + c * p] = 1.0 / fixed.get(c, c);
                for rr in c + 1..p {
                    let s: f64 = (c..rr)
                        .map(|h| fixed.get(rr, h) * self.lxx_inv[h + c * p])
                        .sum();
                    self.lxx_inv[rr + c * p] = -s / fixed.get(rr, rr);
                }
            }
        }

        self.q_sum.fill(0.0);
        self.r_sum.fill(0.0);
        self.u_sum.fill(0.0);
        self.w_sum.fill(0.0);
        if k == 1 {
            self.scalar_levels(factor, reml);
        } else if k == 2 {
            self.pair_levels(factor, reml);
        }
        let lambda = factor.lambda(0);
        let kk = k * k;
        let a00 = &cp.diagonal[0];
        let af0 = &cp.fixed_random[0];
        let ldiag = factor.first_diagonal();
        let linv = factor.first_inverse_diagonal();
        let f = &factor.fixed_first().data;
        let beta = &self.beta;

        for l in 0..if k <= 2 { 0 } else { cp.terms[0].nlevels } {
            let lf = &ldiag[l * kk..(l + 1) * kk];
            let li = &linv[l * k..(l + 1) * k];
            let a = &a00[l * kk..(l + 1) * kk];
            let col = |j: usize| (l * k + j) * p1;
            // û = L⁻ᵀ (c − F_X'β), c the y-row of F.
            for j in 0..k {
                let fc = &f[col(j)..col(j) + p1];
                self.u[j] = fc[p] - (0..p).map(|rr| fc[rr] * beta[rr]).sum::<f64>();
            }
            back_solve(lf, li, k, &mut self.u);
            // λû and Z'e = Z'y − B β − A λ û.
            for rr in 0..k {
                self.lu[rr] = (0..=rr).map(|c| lambda[rr + c * k] * self.u[c]).sum();
            }
            for j in 0..k {
                let bc = &af0[col(j)..col(j) + p1];
                self.ze[j] = bc[p]
                    - (0..p).map(|rr| bc[rr] * beta[rr]).sum::<f64>()
                    - (0..k).map(|c| a[j + c * k] * self.lu[c]).sum::<f64>();
            }
            for bb in 0..k {
                for aa in 0..k {
                    self.r_sum[aa + bb * k] += self.ze[aa] * self.u[bb];
                }
            }
            // T = λ'A; X = M⁻¹T = L⁻ᵀL⁻¹T.
            for c in 0..k {
                for rr in 0..k {
                    self.t[rr + c * k] = (rr..k).map(|d| lambda[d + rr * k] * a[d + c * k]).sum();
                }
            }
            self.x.copy_from_slice(&self.t);
            for c in 0..k {
                let xc = &mut self.x[c * k..(c + 1) * k];
                forward_solve(lf, li, k, xc);
                back_solve(lf, li, k, xc);
            }
            for (s, v) in self.q_sum.iter_mut().zip(&self.x) {
                *s += v;
            }
            if reml {
                // V = L⁻ᵀ F_X' (k×p), column rr of V is L⁻ᵀ (F_X row rr)'.
                for rr in 0..p {
                    let vc = &mut self.v[rr * k..(rr + 1) * k];
                    for (j, v) in vc.iter_mut().enumerate() {
                        *v = f[col(j) + rr];
                    }
                    back_solve(lf, li, k, vc);
                }
                // U = V L_XX⁻ᵀ, Y = B L_XX⁻ᵀ (both k×p): U[j, c] = Σ_h V[j, h] Linv[c, h].
                for c in 0..p {
                    for j in 0..k {
                        let (mut su, mut sy) = (0.0, 0.0);
                        for h in 0..=c {
                            let li = self.lxx_inv[c + h * p];
                            su += self.v[j + h * k] * li;
                            sy += af0[col(j) + h] * li;
                        }
                        self.uu[j + c * k] = su;
                        self.y[j + c * k] = sy;
                    }
                }
                // u_sum += U (U'T); w_sum += Y U'.
                for c in 0..k {
                    for h in 0..p {
                        let ut: f64 = (0..k).map(|d| self.uu[d + h * k] * self.t[d + c * k]).sum();
                        for rr in 0..k {
                            self.u_sum[rr + c * k] += self.uu[rr + h * k] * ut;
                        }
                    }
                    for rr in 0..k {
                        self.w_sum[rr + c * k] += (0..p)
                            .map(|h| self.y[rr + h * k] * self.uu[c + h * k])
                            .sum::<f64>();
                    }
                }
            }
        }

        let dof = if reml { n - p as f64 } else { n };
        let mut idx = 0;
        for b in 0..k {
            for a in b..k {
                let mut g = 2.0 * self.q_sum[b + a * k] - 2.0 * dof / r2 * self.r_sum[a + b * k];
                if reml {
                    g += 2.0 * (self.u_sum[b + a * k] - self.w_sum[a + b * k]);
                }
                grad[idx] = g;
                idx += 1;
            }
        }
    }
}

impl SingleTermGradient {
    /// The per-level sums for a scalar term (k = 1), where every block is a number.
    fn scalar_levels(&mut self, factor: &BlockedCholesky, reml: bool) {
        let p = self.p;
        let p1 = p + 1;
        let cp = factor.cross_products();
        let lambda = factor.lambda(0)[0];
        let a00 = &cp.diagonal[0];
        let af0 = &cp.fixed_random[0];
        let linv = factor.first_inverse_diagonal();
        let f = &factor.fixed_first().data;
        let beta = &self.beta;
        let (mut q, mut r, mut us, mut ws) = (0.0, 0.0, 0.0, 0.0);
        for (l, (&inv, &a)) in linv.iter().zip(a00).enumerate() {
            let fc = &f[l * p1..(l + 1) * p1];
            let bc = &af0[l * p1..(l + 1) * p1];
            let (mut fb, mut bb) = (fc[p], bc[p]);
            for h in 0..p {
                fb -= fc[h] * beta[h];
                bb -= bc[h] * beta[h];
            }
            let u = fb * inv;
            let ze = bb - a * lambda * u;
            r += ze * u;
            let t = lambda * a;
            q += t * inv * inv;
            if reml {
                // V = F_X' inv; U = V L_XX⁻ᵀ; Y = B L_XX⁻ᵀ.
                let (mut uu, mut yu) = (0.0, 0.0);
                for c in 0..p {
                    let (mut su, mut sy) = (0.0, 0.0);
                    for h in 0..=c {
                        let li = self.lxx_inv[c + h * p];
                        su += fc[h] * li;
                        sy += bc[h] * li;
                    }
                    su *= inv;
                    uu += su * su;
                    yu += sy * su;
                }
                us += uu * t;
                ws += yu;
            }
        }
        self.q_sum[0] = q;
        self.r_sum[0] = r;
        self.u_sum[0] = us;
        self.w_sum[0] = ws;
    }
}

impl SingleTermGradient {
    /// The per-level sums for a two-column term (`(1 + x | g)`), with every 2×2 block in
    /// registers: the same formulas as the general loop, unrolled.
    fn pair_levels(&mut self, factor: &BlockedCholesky, reml: bool) {
        let p = self.p;
        let p1 = p + 1;
        let cp = factor.cross_products();
        let lam = factor.lambda(0);
        let (l00, l10, l11) = (lam[0], lam[1], lam[3]);
        let a00 = &cp.diagonal[0];
        let af0 = &cp.fixed_random[0];
        let ldiag = factor.first_diagonal();
        let linv = factor.first_inverse_diagonal();
        let f = &factor.fixed_first().data;
        let beta = &self.beta;
        let mut q = [0.0; 4];
        let mut r = [0.0; 4];
        let mut us = [0.0; 4];
        let mut ws = [0.0; 4];
        for l in 0..cp.terms[0].nlevels {
            let e = ldiag[4 * l + 1];
            let (inv0, inv1) = (linv[2 * l], linv[2 * l + 1]);
            let a = &a00[4 * l..4 * l + 4];
            let fc = &f[2 * l * p1..2 * (l + 1) * p1];
            let bc = &af0[2 * l * p1..2 * (l + 1) * p1];
            let (f0, f1) = fc.split_at(p1);
            let (b0, b1) = bc.split_at(p1);
            let (mut c0, mut c1, mut z0, mut z1) = (f0[p], f1[p], b0[p], b1[p]);
            for h in 0..p {
                c0 -= f0[h] * beta[h];
                c1 -= f1[h] * beta[h];
                z0 -= b0[h] * beta[h];
                z1 -= b1[h] * beta[h];
            }
            // û = L⁻ᵀ c; Z'e = Z'y − Bβ − Aλû.
            let u1 = c1 * inv1;
            let u0 = (c0 - e * u1) * inv0;
            let (lu0, lu1) = (l00 * u0, l10 * u0 + l11 * u1);
            let ze0 = z0 - (a[0] * lu0 + a[2] * lu1);
            let ze1 = z1 - (a[1] * lu0 + a[3] * lu1);
            r[0] += ze0 * u0;
            r[1] += ze1 * u0;
            r[2] += ze0 * u1;
            r[3] += ze1 * u1;
            // T = λ'A, X = L⁻ᵀL⁻¹T.
            let t = [
                l00 * a[0] + l10 * a[1],
                l11 * a[1],
                l00 * a[2] + l10 * a[3],
                l11 * a[3],
            ];
            for c in 0..2 {
                let y0 = t[2 * c] * inv0;
                let y1 = (t[2 * c + 1] - e * y0) * inv1;
                let x1 = y1 * inv1;
                let x0 = (y0 - e * x1) * inv0;
                q[2 * c] += x0;
                q[2 * c + 1] += x1;
            }
            if reml {
                // U = V L_XX⁻ᵀ with V = L⁻ᵀ F_X'; Y = B L_XX⁻ᵀ; accumulate UU' and YU'.
                let (mut g00, mut g01, mut g11) = (0.0, 0.0, 0.0);
                let mut w = [0.0; 4];
                for c in 0..p {
                    let (mut s0, mut s1, mut y0, mut y1) = (0.0, 0.0, 0.0, 0.0);
                    for h in 0..=c {
                        let li = self.lxx_inv[c + h * p];
                        let v1 = f1[h] * inv1;
                        let v0 = (f0[h] - e * v1) * inv0;
                        s0 += v0 * li;
                        s1 += v1 * li;
                        y0 += b0[h] * li;
                        y1 += b1[h] * li;
                    }
                    g00 += s0 * s0;
                    g01 += s0 * s1;
                    g11 += s1 * s1;
                    w[0] += y0 * s0;
                    w[1] += y1 * s0;
                    w[2] += y0 * s1;
                    w[3] += y1 * s1;
                }
                for c in 0..2 {
                    let (t0, t1) = (t[2 * c], t[2 * c + 1]);
                    us[2 * c] += g00 * t0 + g01 * t1;
                    us[2 * c + 1] += g01 * t0 + g11 * t1;
                }
                for (acc, v) in ws.iter_mut().zip(w) {
                    *acc += v;
                }
            }
        }
        self.q_sum.copy_from_slice(&q);
        self.r_sum.copy_from_slice(&r);
        self.u_sum.copy_from_slice(&us);
        self.w_sum.copy_from_slice(&ws);
    }
}

/// Solves `L x = b` in place for a small lower-triangular `L` (k×k, column-major) whose
/// diagonal reciprocals are `inv`.
#[inline]
fn forward_solve(l: &[f64], inv: &[f64], k: usize, x: &mut [f64]) {
    for i in 0..k {
        let mut s = x[i];
        for c in 0..i {
            s -= l[i + c * k] * x[c];
        }
        x[i] = s * inv[i];
    }
}

/// Solves `L' x = b` in place for a small lower-triangular `L` (k×k, column-major) whose
/// diagonal reciprocals are `inv`.
#[inline]
fn back_solve(l: &[f64], inv: &[f64], k: usize, x: &mut [f64]) {
    for i in (0..k).rev() {
        let mut s = x[i];
        for r in i + 1..k {
            s -= l[r + i * k] * x[r];
        }
        x[i] = s * inv[i];
    }
}
