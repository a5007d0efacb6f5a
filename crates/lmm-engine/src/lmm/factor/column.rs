//! Dense block columns `1..=m` of the factor, left-looking: scale from the cross-products,
//! downdate by the blocks to the left, factor the diagonal block, right-solve the blocks below.

use faer::Par;

use crate::linalg::{
    congruence, right_solve, scale_columns, scale_rows, sub_abt, sub_abt_faer, FAER_MIN_DIM,
};
use crate::lmm::crossprod::dense_pair_index;

use super::downdate::*;
use super::logdet::LogProduct;
use super::{block_index, dense_first, BlockedCholesky, NotPositiveDefinite};

impl BlockedCholesky {
    /// Dense block column `j ≥ 1`: diagonal block, then the blocks below it. Returns the
    /// column's contribution to `log|L|²` (0 for the `[X y]` column).
    pub(super) fn update_column(&mut self, j: usize) -> Result<f64, NotPositiveDefinite> {
        let m = self.a.terms.len();
        let par = self.par;
        // Columns of the profiled tail are downdated by the head only and left unfactored.
        let head = j < self.tail || self.tail == m;
        let downdate_to = j.min(self.tail);
        let identity = if head { 1.0 } else { 0.0 };

        // Diagonal block.
        {
            let dj = block_index(j, j);
            let (left, rest) = self.dense.split_at_mut(dj);
            let d = &mut rest[0];
            if j < m {
                d.zero_lower();
                let term = &self.a.terms[j];
                let k = term.width;
                let lambda = &self.lambda[j];
                let n = d.rows;
                let out = &mut self.tmp[..k * k];
                for (l, ablk) in self.a.diagonal[j].chunks_exact(k * k).enumerate() {
                    congruence(lambda, k, ablk, lambda, k, out);
                    let base = l * k;
                    for c in 0..k {
                        for r in c..k {
                            d.data[base + r + (base + c) * n] =
                                out[r + c * k] + if r == c { identity } else { 0.0 };
                        }
                    }
                }
                if let Some(v) = dense_first(&self.first_dense, &self.first_column, n, j) {
                    sub_abt_faer(d, v, v, true, Par::Seq);
                } else {
                    sparse_syrk_lower(
                        d,
                        &self.a.first_column[j - 1],
                        &self.first_column[j - 1],
                        &mut self.cursor,
                        self.syrk_split[j - 1],
                    );
                }
            } else {
                d.data.copy_from_slice(&self.a.fixed);
                if self.fuse_fixed_gram {
                    for (v, g) in d.data.iter_mut().zip(&self.fixed_gram) {
                        *v -= g;
                    }
                } else {
                    sub_abt(d, &self.fixed_first, &self.fixed_first, true, par);
                }
            }
            for h in 1..downdate_to {
                let ljh = &left[block_index(j, h)];
                sub_abt(d, ljh, ljh, true, par);
            }
            if head && !self.cholesky.factor(d) {
                return Err(NotPositiveDefinite { block: j });
            }
        }

        // Blocks below the diagonal.
        for i in j + 1..=m {
            let bij = block_index(i, j);
            let (left, rest) = self.dense.split_at_mut(bij);
            let b = &mut rest[0];
            let kj = self.a.terms[j].width;
            let lambda_j = &self.lambda[j];
            if i < m {
                b.data
                    .copy_from_slice(&self.a.dense[dense_pair_index(i, j)]);
                let ki = self.a.terms[i].width;
                scale_columns(&mut b.data, b.rows, lambda_j, kj);
                scale_rows(&mut b.data, b.rows, &self.lambda[i], ki);
                let dense_i = dense_first(&self.first_dense, &self.first_column, b.rows, i);
                let dense_j = dense_first(&self.first_dense, &self.first_column, b.cols, j);
                if let (Some(vi), Some(vj)) = (dense_i, dense_j) {
                    sub_abt_faer(b, vi, vj, false, Par::Seq);
                } else {
                    sparse_cross_sub(
                        b,
                        &self.a.first_column[i - 1],
                        &self.first_column[i - 1],
                        &self.a.first_column[j - 1],
                        &self.first_column[j - 1],
                    );
                }
            } else {
                b.data.copy_from_slice(&self.a.fixed_random[j]);
                scale_columns(&mut b.data, b.rows, lambda_j, kj);
                if let Some(vj) = dense_first(&self.first_dense, &self.first_column, b.cols, j) {
                    sub_abt_faer(b, self.fixed_first.as_ref(), vj, false, Par::Seq);
                } else {
                    dense_sparse_sub(
                        b,
                        &self.fixed_first,
                        &self.a.first_column[j - 1],
                        &self.first_column[j - 1],
                    );
                }
            }
            for h in 1..downdate_to {
                sub_abt(
                    b,
                    &left[block_index(i, h)],
                    &left[block_index(j, h)],
                    false,
                    par,
                );
            }
        }
        if !head {
            return Ok(0.0);
        }
        self.right_solve_column(j);

        if j == m {
            return Ok(0.0);
        }
        let d = &self.dense[block_index(j, j)];
        let mut logdet = LogProduct::default();
        for r in 0..d.rows {
            logdet.push(d.get(r, r));
        }
        Ok(2.0 * logdet.ln())
    }
}

impl BlockedCholesky {
    /// `L_ij ← L_ij L_jj^{-T}` for every block below diagonal block `j`. Below a large diagonal
    /// block the blocks are few-rowed (later terms, `[X y]`), so they are stacked transposed
    /// into one column-major right-hand side and solved in a single faer call, which reads
    /// `L_jj` once instead of once per block and works on unit-stride columns.
    fn right_solve_column(&mut self, j: usize) {
        let m = self.a.terms.len();
        if j == m {
            return;
        }
        let (left, rest) = self.dense.split_at_mut(block_index(j + 1, j));
        let l = &left[block_index(j, j)];
        let n = l.rows;
        if n < FAER_MIN_DIM {
            for i in j + 1..=m {
                let b = &mut rest[block_index(i, j) - block_index(j + 1, j)];
                right_solve(b, l, self.par);
            }
            return;
        }
        let base = block_index(j + 1, j);
        let total: usize = (j + 1..=m)
            .map(|i| rest[block_index(i, j) - base].rows)
            .sum();
        let scratch = &mut self.solve_scratch[..n * total];
        let mut col = 0;
        for i in j + 1..=m {
            let b = &rest[block_index(i, j) - base];
            for r in 0..b.rows {
                let dst = &mut scratch[(col + r) * n..(col + r + 1) * n];
                for (c, v) in dst.iter_mut().enumerate() {
                    *v = b.data[r + c * b.rows];
                }
            }
            col += b.rows;
        }
        faer::linalg::triangular_solve::solve_lower_triangular_in_place(
            l.as_ref(),
            faer::MatMut::from_column_major_slice_mut(scratch, n, total),
            self.par,
        );
        let mut col = 0;
        for i in j + 1..=m {
            let b = &mut rest[block_index(i, j) - base];
            let rows = b.rows;
            for r in 0..rows {
                let src = &scratch[(col + r) * n..(col + r + 1) * n];
                for (c, &v) in src.iter().enumerate() {
                    b.data[r + c * rows] = v;
                }
            }
            col += rows;
        }
    }
}
