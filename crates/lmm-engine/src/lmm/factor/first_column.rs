//! Block column 0 of the factor: one small Cholesky factor per level of the first term, the
//! sparse blocks below them, and the dense `[X y]` row.

use crate::linalg::{cholesky_small, congruence, right_scale, right_solve_small};

use super::downdate::*;
use super::logdet::LogProduct;
use super::{BlockedCholesky, NotPositiveDefinite};

impl BlockedCholesky {
    /// Column 0: per-level factors, the sparse blocks below them and the `[X y]` row.
    /// Returns this column's contribution to `log|L|²`.
    pub(super) fn update_first_column(&mut self) -> Result<f64, NotPositiveDefinite> {
        let t0 = &self.a.terms[0];
        let k0 = t0.width;
        let kk = k0 * k0;
        let p1 = self.a.p + 1;
        let lambda0 = &self.lambda[0];
        let a00 = &self.a.diagonal[0];
        let af0 = &self.a.fixed_random[0];
        let f = &mut self.fixed_first.data;
        // The [X y] diagonal block's downdate Σ_l F_l F_l' is accumulated here, level by level,
        // while F_l is in cache (small p) — see `fuse_fixed_gram`.
        let fuse = self.fuse_fixed_gram;
        let gram = &mut self.fixed_gram;
        gram.fill(0.0);
        let mut logdet = LogProduct::default();

        if k0 == 1 {
            let lam = lambda0[0];
            let l2 = lam * lam;
            for ((l, inv), &a) in self
                .first_diagonal
                .iter_mut()
                .zip(self.first_inverse_diagonal.iter_mut())
                .zip(a00)
            {
                *l = (l2 * a + 1.0).sqrt();
                *inv = 1.0 / *l;
            }
            for (c, (&l, &inv)) in self
                .first_diagonal
                .iter()
                .zip(&self.first_inverse_diagonal)
                .enumerate()
            {
                logdet.push(l);
                let s = lam * inv;
                let fc = &mut f[c * p1..(c + 1) * p1];
                for (v, &a) in fc.iter_mut().zip(&af0[c * p1..(c + 1) * p1]) {
                    *v = a * s;
                }
                if fuse {
                    add_outer_lower(gram, fc, p1);
                }
            }
        } else if k0 == 2 {
            // Closed forms for the common (1 + x | g) case: λ = [l00 0; l10 l11].
            let (l00, l10, l11) = (lambda0[0], lambda0[1], lambda0[3]);
            // Pass 1: the per-level factors. Each level is a short sqrt/divide chain; keeping
            // this loop free of other work lets the CPU overlap the chains of many levels.
            for ((lblk, inv), a) in self
                .first_diagonal
                .chunks_exact_mut(4)
                .zip(self.first_inverse_diagonal.chunks_exact_mut(2))
                .zip(a00.chunks_exact(4))
            {
                let (c0, c1) = (a[0] * l00 + a[2] * l10, a[1] * l00 + a[3] * l10);
                let m00 = l00 * c0 + l10 * c1 + 1.0;
                let m10 = l11 * c1;
                let m11 = l11 * l11 * a[3] + 1.0;
                let d0 = m00.sqrt();
                let inv0 = 1.0 / d0;
                let e = m10 * inv0;
                let d1 = (m11 - e * e).sqrt();
                lblk.copy_from_slice(&[d0, e, 0.0, d1]);
                inv[0] = inv0;
                inv[1] = 1.0 / d1;
            }
            // Pass 2: the [X y] row and the log-determinant.
            for c in 0..t0.nlevels {
                let lblk = &self.first_diagonal[c * 4..(c + 1) * 4];
                let (d0, e, d1) = (lblk[0], lblk[1], lblk[3]);
                // m11 − e² ≤ 0 (or NaN) leaves d1 NaN: not positive definite.
                if d1.is_nan() || d1 <= 0.0 {
                    return Err(NotPositiveDefinite { block: 0 });
                }
                logdet.push(d0 * d1);
                let (inv0, inv1) = (
                    self.first_inverse_diagonal[2 * c],
                    self.first_inverse_diagonal[2 * c + 1],
                );
                let (b, fc) = (
                    &af0[c * 2 * p1..(c + 1) * 2 * p1],
                    &mut f[c * 2 * p1..(c + 1) * 2 * p1],
                );
                for r in 0..p1 {
                    let (b0, b1) = (b[r], b[r + p1]);
                    let x0 = (b0 * l00 + b1 * l10) * inv0;
                    let x1 = (b1 * l11 - x0 * e) * inv1;
                    fc[r] = x0;
                    fc[r + p1] = x1;
                }
                if fuse {
                    add_outer_lower(gram, &fc[..p1], p1);
                    add_outer_lower(gram, &fc[p1..], p1);
                }
            }
        } else {
            let out = &mut self.tmp[..kk];
            let w = k0 * p1;
            for c in 0..t0.nlevels {
                let lblk = &mut self.first_diagonal[c * kk..(c + 1) * kk];
                congruence(lambda0, k0, &a00[c * kk..(c + 1) * kk], lambda0, k0, out);
                lblk.copy_from_slice(out);
                for d in 0..k0 {
                    lblk[d + d * k0] += 1.0;
                }
                if !cholesky_small(lblk, k0, k0) {
                    return Err(NotPositiveDefinite { block: 0 });
                }
                for d in 0..k0 {
                    logdet.push(lblk[d + d * k0]);
                    self.first_inverse_diagonal[c * k0 + d] = 1.0 / lblk[d + d * k0];
                }
                let fc = &mut f[c * w..(c + 1) * w];
                right_scale(&af0[c * w..(c + 1) * w], p1, p1, lambda0, k0, fc, p1);
                right_solve_small(fc, p1, p1, lblk, k0, k0);
                if fuse {
                    for h in 0..k0 {
                        add_outer_lower(gram, &fc[h * p1..(h + 1) * p1], p1);
                    }
                }
            }
        }

        // Random rows: L_t0 = Λ_t' A_t0 Λ₀ L₀₀^{-T}, entry by entry on the fixed pattern.
        for (ti, (pattern, values)) in self
            .a
            .first_column
            .iter()
            .zip(self.first_column.iter_mut())
            .enumerate()
        {
            let lambda_t = &self.lambda[ti + 1];
            let kt = pattern.row_width;
            let blen = pattern.block_len();
            if kt == 1 && k0 == 1 {
                let lt = lambda_t[0] * lambda0[0];
                for (c, &l00) in self.first_diagonal.iter().enumerate() {
                    let f = lt / l00;
                    let range = pattern.col_ptr[c]..pattern.col_ptr[c + 1];
                    for (v, &a) in values[range.clone()].iter_mut().zip(&pattern.values[range]) {
                        *v = a * f;
                    }
                }
            } else {
                let out = &mut self.tmp[..blen.max(kk)];
                for c in 0..pattern.ncols() {
                    let l00 = &self.first_diagonal[c * kk..(c + 1) * kk];
                    for e in pattern.col_ptr[c]..pattern.col_ptr[c + 1] {
                        let a = &pattern.values[e * blen..(e + 1) * blen];
                        congruence(lambda_t, kt, a, lambda0, k0, &mut out[..blen]);
                        let v = &mut values[e * blen..(e + 1) * blen];
                        v.copy_from_slice(&out[..blen]);
                        right_solve_small(v, kt, kt, l00, k0, k0);
                    }
                }
            }
        }
        Ok(2.0 * logdet.ln())
    }
}
