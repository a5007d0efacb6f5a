//! Triangular solves with the random-effects part `L_ZZ` of a [`BlockedCholesky`]: forward
//! (`L_ZZ w = v`) and backward (`L_ZZ' s = w`), so that `(Λ'Z'WZΛ + I)⁻¹ v` is one of each.
//! Vectors are per internal term, level-major, as the factor stores its blocks. The backward
//! solve is also how the conditional modes are recovered ([`crate::lmm::estimates`]).

use super::BlockedCholesky;

impl BlockedCholesky {
    /// Solves `L_ZZ w = v` in place (`v[t]` has the random effects of internal term `t`).
    pub fn forward_random(&self, v: &mut [Vec<f64>]) {
        let terms = self.terms();
        let m = terms.len();
        let k0 = terms[0].width;
        let kk = k0 * k0;
        let diag = self.first_diagonal();
        for (c, x) in v[0].chunks_exact_mut(k0).enumerate() {
            let l = &diag[c * kk..(c + 1) * kk];
            for a in 0..k0 {
                let s: f64 = (0..a).map(|r| l[a + r * k0] * x[r]).sum();
                x[a] = (x[a] - s) / l[a + a * k0];
            }
        }
        for j in 1..m {
            let (done, rest) = v.split_at_mut(j);
            let vj = &mut rest[0];
            let (pattern, values) = self.first_column(j);
            let kj = pattern.row_width;
            let blen = pattern.block_len();
            if let Some(dense) = self.first_column_dense(j) {
                // Fully crossed: vⱼ −= B w₀ as one product.
                faer::linalg::matmul::matmul(
                    faer::ColMut::from_slice_mut(vj).as_mat_mut(),
                    faer::Accum::Add,
                    dense,
                    faer::ColRef::from_slice(&done[0]).as_mat(),
                    -1.0,
                    faer::Par::Seq,
                );
            } else {
                for (c, w0) in done[0].chunks_exact(k0).enumerate() {
                    for e in pattern.col_ptr[c]..pattern.col_ptr[c + 1] {
                        let r = pattern.row_level[e] as usize * kj;
                        let blk = &values[e * blen..(e + 1) * blen];
                        for a in 0..kj {
                            vj[r + a] -= (0..k0).map(|h| blk[a + h * kj] * w0[h]).sum::<f64>();
                        }
                    }
                }
            }
            for (s, ws) in done.iter().enumerate().skip(1) {
                let b = self.dense(j, s);
                for (c, wc) in ws.iter().enumerate() {
                    for (r, x) in vj.iter_mut().enumerate() {
                        *x -= b.get(r, c) * wc;
                    }
                }
            }
            let x = faer::ColMut::from_slice_mut(vj);
            faer::linalg::triangular_solve::solve_lower_triangular_in_place(
                self.dense(j, j).as_ref(),
                x.as_mat_mut(),
                self.par(),
            );
        }
    }

    /// Solves `L_ZZ' s = w` in place, last term first.
    pub fn backward_random(&self, w: &mut [Vec<f64>]) {
        let terms = self.terms();
        let m = terms.len();
        for j in (0..m).rev() {
            let (head, solved) = w.split_at_mut(j + 1);
            let rhs = &mut head[j];
            if j == 0 {
                let k0 = terms[0].width;
                for (i, ui) in solved.iter().enumerate() {
                    if let Some(dense) = self.first_column_dense(i + 1) {
                        // Fully crossed: w₀ −= B' uᵢ as one product.
                        faer::linalg::matmul::matmul(
                            faer::ColMut::from_slice_mut(rhs).as_mat_mut(),
                            faer::Accum::Add,
                            dense.transpose(),
                            faer::ColRef::from_slice(ui).as_mat(),
                            -1.0,
                            faer::Par::Seq,
                        );
                        continue;
                    }
                    let (pattern, values) = self.first_column(i + 1);
                    let ki = pattern.row_width;
                    let blen = pattern.block_len();
                    for c in 0..pattern.ncols() {
                        for e in pattern.col_ptr[c]..pattern.col_ptr[c + 1] {
                            let r = pattern.row_level[e] as usize * ki;
                            let blk = &values[e * blen..(e + 1) * blen];
                            for h in 0..k0 {
                                let s: f64 = (0..ki).map(|a| blk[a + h * ki] * ui[r + a]).sum();
                                rhs[c * k0 + h] -= s;
                            }
                        }
                    }
                }
                let kk = k0 * k0;
                let diag = self.first_diagonal();
                for c in 0..terms[0].nlevels {
                    let l = &diag[c * kk..(c + 1) * kk];
                    let x = &mut rhs[c * k0..(c + 1) * k0];
                    for a in (0..k0).rev() {
                        let s: f64 = (a + 1..k0).map(|r| l[r + a * k0] * x[r]).sum();
                        x[a] = (x[a] - s) / l[a + a * k0];
                    }
                }
            } else {
                for (i, ui) in solved.iter().enumerate() {
                    let b = self.dense(j + 1 + i, j);
                    for (c, v) in rhs.iter_mut().enumerate() {
                        *v -= (0..b.rows).map(|r| b.get(r, c) * ui[r]).sum::<f64>();
                    }
                }
                let x = faer::ColMut::from_slice_mut(rhs);
                faer::linalg::triangular_solve::solve_upper_triangular_in_place(
                    self.dense(j, j).as_ref().transpose(),
                    x.as_mat_mut(),
                    self.par(),
                );
            }
        }
    }
}
