//! [`BlockedCholesky`]: the lower Cholesky factor `L(θ)` of the scaled, augmented
//! cross-product matrix
//!
//! ```text
//!   [Λ'Z'ZΛ + I   Λ'Z'X   Λ'Z'y]
//!   [X'ZΛ         X'X     X'y  ]  =  L L'
//!   [y'ZΛ         y'X     y'y  ]
//! ```
//!
//! refreshed in place for each θ (MixedModels.jl's `updateL!`). Blocks follow the internal
//! term order of [`CrossProducts`]: block column 0 is the first (largest) term, columns
//! `1..m` the other terms, column `m` the fixed-effects-and-response block `[X y]`.
//!
//! * Column 0: the diagonal block is block-diagonal (one small Cholesky factor per level), the
//!   blocks below it keep the sparsity pattern of `Z_t'Z₀` ([`SparseBlockColumn`]), and the
//!   `[X y]` row is dense.
//! * Columns `1..=m`: dense blocks, left-looking: each block is scaled from the cross-products,
//!   downdated by the blocks to its left (sparse × sparse' from column 0, dense × dense' from
//!   the others), then the diagonal block is factored and the blocks below it right-solved.
//!
//! The per-evaluation cost depends on the number of random effects and on the sparsity of
//! `Z_t'Z₀`, never on the number of observations, and nothing is allocated on this path.

use faer::Par;

use crate::linalg::{
    cholesky_small, congruence, right_scale, right_solve, right_solve_small, sub_abt, DenseBlock,
    DenseCholesky, FAER_MIN_DIM,
};
use crate::lmm::crossprod::{dense_pair_index, CrossProducts, SparseBlockColumn, TermShape};
use crate::lmm::theta::ThetaLayout;

/// The factor could not be computed because a diagonal block lost positive definiteness.
/// For the random-effects blocks this cannot happen for finite θ (they are `Λ'Z'ZΛ + I`);
/// for the `[X y]` block it means X is rank deficient or y is fitted exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotPositiveDefinite {
    /// Block column whose diagonal block failed (`m` is the `[X y]` block).
    pub block: usize,
}

/// Position of dense block `(i, j)`, `1 ≤ j ≤ i ≤ m`, in the packed list of dense blocks.
/// Every block a given block is computed from has a smaller index.
fn block_index(i: usize, j: usize) -> usize {
    debug_assert!(1 <= j && j <= i);
    (i - 1) * i / 2 + (j - 1)
}

/// The blocked Cholesky factor `L(θ)` together with the cross-products it is computed from.
pub struct BlockedCholesky {
    a: CrossProducts,
    layout: ThetaLayout,
    /// Per internal term: λ (k×k, column-major, lower triangular).
    lambda: Vec<Vec<f64>>,
    /// Column 0, diagonal: per level of the first term, its k₀×k₀ factor.
    first_diagonal: Vec<f64>,
    /// Column 0, diagonal: reciprocals of the diagonals of those factors (k₀ per level).
    first_inverse_diagonal: Vec<f64>,
    /// Column 0, random rows: values on the pattern of `a.first_column[t - 1]`.
    first_column: Vec<Vec<f64>>,
    /// Column 0, `[X y]` row: `(p+1) × q₀`.
    fixed_first: DenseBlock,
    /// Dense blocks `(i, j)`, `1 ≤ j ≤ i ≤ m`, at [`block_index`].
    dense: Vec<DenseBlock>,
    cholesky: DenseCholesky,
    par: Par,
    /// Scratch for small-block products (2 · kmax²).
    tmp: Vec<f64>,
    /// Scratch for the right-solves of a block column: the transposed blocks below a large
    /// diagonal block, stacked (`size(j) × Σ size(i)`, column-major).
    solve_scratch: Vec<f64>,
    /// Per level of the first term, twice (one set per thread): cursor into its entries for
    /// the panelled downdate.
    cursor: Vec<usize>,
    /// Per sparse column-0 block: the destination column splitting its downdate between two
    /// threads (0: one thread).
    syrk_split: Vec<usize>,
    /// Whether the `[X y]` block's downdate by column 0 is accumulated level by level during
    /// the column-0 update (small p) rather than by a separate product afterwards.
    fuse_fixed_gram: bool,
    /// That accumulated downdate `Σ_l F_l F_l'` (lower triangle, `(p+1)²`).
    fixed_gram: Vec<f64>,
    /// `log|L|²` of the random-effects part, valid after a successful update.
    logdet_random: f64,
    /// Block columns `tail..` were left unfactored by the last update (`m`: none).
    tail: usize,
}

impl BlockedCholesky {
    /// Allocates the factor for the given cross-products. `layout` is the formula-order θ
    /// layout of the same terms.
    pub fn new(a: CrossProducts, layout: ThetaLayout) -> Self {
        let m = a.terms.len();
        let p1 = a.p + 1;
        let size = |t: usize| {
            if t == m {
                p1
            } else {
                a.terms[t].nranef()
            }
        };
        let lambda = a
            .terms
            .iter()
            .map(|t| {
                let k = t.width;
                let mut l = vec![0.0; k * k];
                for j in 0..k {
                    l[j + j * k] = 1.0;
                }
                l
            })
            .collect();
        let mut dense = Vec::new();
        for i in 1..=m {
            for j in 1..=i {
                debug_assert_eq!(dense.len(), block_index(i, j));
                dense.push(DenseBlock::zeros(size(i), size(j)));
            }
        }
        let max_dense = (1..=m).map(size).max().unwrap_or(1);
        // Parallel faer kernels pay off only on large dense blocks (crossed factors).
        let par = if max_dense >= 384 {
            Par::rayon(0)
        } else {
            Par::Seq
        };
        let kmax = a.terms.iter().map(|t| t.width).max().unwrap_or(1);
        let solve_len = (1..m)
            .filter(|&j| size(j) >= FAER_MIN_DIM)
            .map(|j| size(j) * (j + 1..=m).map(size).sum::<usize>())
            .max()
            .unwrap_or(0);
        Self {
            solve_scratch: vec![0.0; solve_len],
            fuse_fixed_gram: p1 < FAER_MIN_DIM / 2,
            fixed_gram: vec![0.0; p1 * p1],
            cursor: vec![0; 2 * a.terms[0].nlevels],
            syrk_split: a
                .first_column
                .iter()
                .enumerate()
                .map(|(t, pattern)| {
                    if par == Par::Seq {
                        0
                    } else {
                        syrk_split_point(pattern, a.terms[t + 1].nranef())
                    }
                })
                .collect(),
            first_diagonal: vec![0.0; a.diagonal[0].len()],
            first_inverse_diagonal: vec![0.0; a.terms[0].nranef()],
            first_column: a
                .first_column
                .iter()
                .map(|s| vec![0.0; s.values.len()])
                .collect(),
            fixed_first: DenseBlock::zeros(p1, a.terms[0].nranef()),
            dense,
            cholesky: DenseCholesky::new(max_dense, par),
            par,
            tmp: vec![0.0; 2 * kmax * kmax],
            logdet_random: 0.0,
            tail: m,
            lambda,
            layout,
            a,
        }
    }

    /// The cross-products the factor is computed from.
    pub fn cross_products(&self) -> &CrossProducts {
        &self.a
    }

    /// Terms in internal order.
    pub fn terms(&self) -> &[TermShape] {
        &self.a.terms
    }

    /// λ of internal term `t` as of the last update.
    pub fn lambda(&self, t: usize) -> &[f64] {
        &self.lambda[t]
    }

    /// Column 0 diagonal factors (k₀×k₀ per level).
    pub fn first_diagonal(&self) -> &[f64] {
        &self.first_diagonal
    }

    /// Column 0, rows of internal term `t ≥ 1`: pattern and values.
    pub fn first_column(&self, t: usize) -> (&SparseBlockColumn, &[f64]) {
        (&self.a.first_column[t - 1], &self.first_column[t - 1])
    }

    /// Column 0 diagonal factors' reciprocal diagonals (k₀ per level).
    pub fn first_inverse_diagonal(&self) -> &[f64] {
        &self.first_inverse_diagonal
    }

    /// Column 0, `[X y]` rows.
    pub fn fixed_first(&self) -> &DenseBlock {
        &self.fixed_first
    }

    /// Dense block `(i, j)`, `1 ≤ j ≤ i ≤ m` (`i == m` is the `[X y]` block row).
    pub fn dense(&self, i: usize, j: usize) -> &DenseBlock {
        &self.dense[block_index(i, j)]
    }

    /// The `[X y]` diagonal block: `[R_X' 0; c' r]` as a lower-triangular `(p+1)×(p+1)`.
    pub fn fixed_block(&self) -> &DenseBlock {
        let m = self.a.terms.len();
        self.dense(m, m)
    }

    /// `log|L|²` over the random-effects blocks.
    pub fn logdet_random(&self) -> f64 {
        self.logdet_random
    }

    /// Parallelism used for large dense blocks.
    pub fn par(&self) -> Par {
        self.par
    }

    /// Refactors for `theta` (formula order, length checked by the caller).
    pub fn update(&mut self, theta: &[f64]) -> Result<(), NotPositiveDefinite> {
        self.update_head(theta, self.a.terms.len())
    }

    /// Factors block columns `0..tail` only, for the θ of those terms, and leaves in the
    /// dense blocks `(i, j)`, `tail ≤ j ≤ i ≤ m`, the Schur complement of the head in the
    /// *unscaled* trailing system (λ = I for the trailing terms, no `+ I` on their diagonal).
    /// Scaling that complement by the trailing Λ and adding `I` gives the trailing system for
    /// any trailing θ — see [`crate::lmm::profiled_tail`]. `tail == m` is the full factorisation;
    /// `log|L|²` then covers every random block, otherwise the head blocks only.
    pub fn update_head(&mut self, theta: &[f64], tail: usize) -> Result<(), NotPositiveDefinite> {
        let m = self.a.terms.len();
        debug_assert!(1 <= tail && tail <= m);
        for (t, term) in self.a.terms.iter().enumerate() {
            if t < tail {
                self.layout
                    .fill_lambda(term.formula_index, theta, &mut self.lambda[t]);
            } else {
                let k = term.width;
                for (i, v) in self.lambda[t].iter_mut().enumerate() {
                    *v = if i % (k + 1) == 0 { 1.0 } else { 0.0 };
                }
            }
        }
        self.tail = tail;
        let mut logdet = self.update_first_column()?;
        for j in 1..=m {
            logdet += self.update_column(j)?;
        }
        self.logdet_random = logdet;
        Ok(())
    }

    /// First block column of the profiled tail (`m` after a full update).
    pub fn tail(&self) -> usize {
        self.tail
    }

    /// Column 0: per-level factors, the sparse blocks below them and the `[X y]` row.
    /// Returns this column's contribution to `log|L|²`.
    fn update_first_column(&mut self) -> Result<f64, NotPositiveDefinite> {
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
            let (out, tmp) = self.tmp.split_at_mut(kk);
            let w = k0 * p1;
            for c in 0..t0.nlevels {
                let lblk = &mut self.first_diagonal[c * kk..(c + 1) * kk];
                congruence(
                    lambda0,
                    k0,
                    &a00[c * kk..(c + 1) * kk],
                    lambda0,
                    k0,
                    out,
                    tmp,
                );
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
                let (out, tmp) = self.tmp.split_at_mut(blen.max(kk));
                for c in 0..pattern.ncols() {
                    let l00 = &self.first_diagonal[c * kk..(c + 1) * kk];
                    for e in pattern.col_ptr[c]..pattern.col_ptr[c + 1] {
                        let a = &pattern.values[e * blen..(e + 1) * blen];
                        congruence(lambda_t, kt, a, lambda0, k0, &mut out[..blen], tmp);
                        let v = &mut values[e * blen..(e + 1) * blen];
                        v.copy_from_slice(&out[..blen]);
                        right_solve_small(v, kt, kt, l00, k0, k0);
                    }
                }
            }
        }
        Ok(2.0 * logdet.ln())
    }

    /// Dense block column `j ≥ 1`: diagonal block, then the blocks below it. Returns the
    /// column's contribution to `log|L|²` (0 for the `[X y]` column).
    fn update_column(&mut self, j: usize) -> Result<f64, NotPositiveDefinite> {
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
                let (out, tmp) = self.tmp.split_at_mut(k * k);
                for (l, ablk) in self.a.diagonal[j].chunks_exact(k * k).enumerate() {
                    congruence(lambda, k, ablk, lambda, k, out, tmp);
                    let base = l * k;
                    for c in 0..k {
                        for r in c..k {
                            d.data[base + r + (base + c) * n] =
                                out[r + c * k] + if r == c { identity } else { 0.0 };
                        }
                    }
                }
                sparse_syrk_lower(
                    d,
                    &self.a.first_column[j - 1],
                    &self.first_column[j - 1],
                    &mut self.cursor,
                    self.syrk_split[j - 1],
                );
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
                scale_columns(b, lambda_j, kj);
                scale_rows(b, &self.lambda[i], ki);
                sparse_cross_sub(
                    b,
                    &self.a.first_column[i - 1],
                    &self.first_column[i - 1],
                    &self.a.first_column[j - 1],
                    &self.first_column[j - 1],
                );
            } else {
                b.data.copy_from_slice(&self.a.fixed_random[j]);
                scale_columns(b, lambda_j, kj);
                dense_sparse_sub(
                    b,
                    &self.fixed_first,
                    &self.a.first_column[j - 1],
                    &self.first_column[j - 1],
                );
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

/// Scalar sparse downdates with fewer updates than this run on one thread: a thread spawn
/// (~30 µs) must be small against the work (~1.3 ns per update).
const PARALLEL_SYRK_MIN_UPDATES: usize = 400_000;

/// Destination footprint of one panel of the scalar sparse downdate: small enough to stay
/// in a core's L2 cache while every column of the first term scatters into it.
const PANEL_BYTES: usize = 1 << 20;

/// The scalar downdate for destination columns `j_lo..j_hi` of `d`, which `cols` holds
/// (column `j` at `(j - j_lo) * n`), panel by panel; `cursor` needs one slot per column of
/// the first term.
fn scalar_syrk_panels(
    cols: &mut [f64],
    n: usize,
    j_lo: usize,
    j_hi: usize,
    pattern: &SparseBlockColumn,
    values: &[f64],
    cursor: &mut [usize],
) {
    let rows = &pattern.row_level;
    for (c, cur) in cursor.iter_mut().enumerate() {
        let (s, e) = (pattern.col_ptr[c], pattern.col_ptr[c + 1]);
        *cur = s + rows[s..e].partition_point(|&r| (r as usize) < j_lo);
    }
    let width = (PANEL_BYTES / (8 * n.max(1))).max(16);
    let mut j0 = j_lo;
    while j0 < j_hi {
        let j1 = (j0 + width).min(j_hi);
        for (c, cur) in cursor.iter_mut().enumerate() {
            let end = pattern.col_ptr[c + 1];
            let mut e2 = *cur;
            while e2 < end && (rows[e2] as usize) < j1 {
                let rj = rows[e2] as usize - j_lo;
                let f = values[e2];
                let col = &mut cols[rj * n..(rj + 1) * n];
                for (&ri, &vi) in rows[e2..end].iter().zip(&values[e2..end]) {
                    col[ri as usize] -= vi * f;
                }
                e2 += 1;
            }
            *cur = e2;
        }
        j0 = j1;
    }
}

/// Where to split the scalar downdate of a sparse column-0 block between two threads: the
/// destination column that halves the work (0: not worth a thread, below
/// [`PARALLEL_SYRK_MIN_UPDATES`] updates).
fn syrk_split_point(pattern: &SparseBlockColumn, n: usize) -> usize {
    if pattern.row_width != 1 || pattern.col_width != 1 {
        return 0;
    }
    let mut work = vec![0usize; n];
    for c in 0..pattern.ncols() {
        let (s, e) = (pattern.col_ptr[c], pattern.col_ptr[c + 1]);
        for x in s..e {
            work[pattern.row_level[x] as usize] += e - x;
        }
    }
    let total: usize = work.iter().sum();
    if total < PARALLEL_SYRK_MIN_UPDATES {
        return 0;
    }
    let mut acc = 0;
    for (j, w) in work.iter().enumerate() {
        acc += w;
        if 2 * acc >= total {
            return j + 1;
        }
    }
    0
}

/// `gram += v v'` on the lower triangle (column-major `n × n`).
#[inline]
fn add_outer_lower(gram: &mut [f64], v: &[f64], n: usize) {
    for c in 0..n {
        let vc = v[c];
        for r in c..n {
            gram[r + c * n] += v[r] * vc;
        }
    }
}

/// `Σ log xᵢ` for positive `xᵢ`, computed as the log of running products (rescaled before
/// they can overflow or underflow): one `ln` per many factors instead of one per factor.
#[derive(Debug, Clone, Copy)]
struct LogProduct {
    product: f64,
    log: f64,
}

impl Default for LogProduct {
    fn default() -> Self {
        Self {
            product: 1.0,
            log: 0.0,
        }
    }
}

impl LogProduct {
    #[inline]
    fn push(&mut self, x: f64) {
        self.product *= x;
        if !(1e-150..=1e150).contains(&self.product) {
            self.log += self.product.ln();
            self.product = 1.0;
        }
    }

    fn ln(self) -> f64 {
        self.log + self.product.ln()
    }
}

/// `b ← b Λ` where Λ = I ⊗ λ over the columns of `b` (blocks of `k` columns).
fn scale_columns(b: &mut DenseBlock, lambda: &[f64], k: usize) {
    let n = b.rows;
    if k == 1 {
        let s = lambda[0];
        b.data.iter_mut().for_each(|v| *v *= s);
        return;
    }
    for blk in b.data.chunks_exact_mut(n * k) {
        // Ascending c reads only columns d ≥ c, which are not yet overwritten.
        for c in 0..k {
            for r in 0..n {
                let mut s = 0.0;
                for d in c..k {
                    s += blk[r + d * n] * lambda[d + c * k];
                }
                blk[r + c * n] = s;
            }
        }
    }
}

/// `b ← Λ' b` where Λ = I ⊗ λ over the rows of `b` (blocks of `k` rows).
fn scale_rows(b: &mut DenseBlock, lambda: &[f64], k: usize) {
    if k == 1 {
        let s = lambda[0];
        b.data.iter_mut().for_each(|v| *v *= s);
        return;
    }
    let n = b.rows;
    for col in b.data.chunks_exact_mut(n) {
        for blk in col.chunks_exact_mut(k) {
            // Ascending r reads only rows d ≥ r, which are not yet overwritten.
            for r in 0..k {
                let mut s = 0.0;
                for d in r..k {
                    s += lambda[d + r * k] * blk[d];
                }
                blk[r] = s;
            }
        }
    }
}

/// Lower triangle of `d -= S S'` for a block-sparse column-0 block `S` (rows: levels of the
/// term of `d`). Only pairs of entries in the same column contribute.
///
/// Scalar terms (the common crossed case) go panel by panel over destination columns, so the
/// scattered updates hit a cache-resident part of `d`; `cursor` (one per column of `S`)
/// remembers where each column's entries for the current panel start.
fn sparse_syrk_lower(
    d: &mut DenseBlock,
    pattern: &SparseBlockColumn,
    values: &[f64],
    cursor: &mut [usize],
    split: usize,
) {
    let n = d.rows;
    let kr = pattern.row_width;
    let k0 = pattern.col_width;
    let blen = pattern.block_len();
    if kr == 1 && k0 == 1 {
        let (cursor, cursor_hi) = cursor.split_at_mut(pattern.ncols());
        if split == 0 || split >= n {
            scalar_syrk_panels(&mut d.data, n, 0, n, pattern, values, cursor);
        } else {
            // Two threads on disjoint column ranges of `d`, balanced by work.
            let (lo, hi) = d.data.split_at_mut(split * n);
            std::thread::scope(|scope| {
                scope.spawn(|| scalar_syrk_panels(hi, n, split, n, pattern, values, cursor_hi));
                scalar_syrk_panels(lo, n, 0, split, pattern, values, cursor);
            });
        }
        return;
    }
    for c in 0..pattern.ncols() {
        let (start, end) = (pattern.col_ptr[c], pattern.col_ptr[c + 1]);
        for e2 in start..end {
            let rj = pattern.row_level[e2] as usize * kr;
            let b2 = &values[e2 * blen..(e2 + 1) * blen];
            for e1 in e2..end {
                let ri = pattern.row_level[e1] as usize * kr;
                let b1 = &values[e1 * blen..(e1 + 1) * blen];
                for bc in 0..kr {
                    for br in 0..kr {
                        if ri + br < rj + bc {
                            continue;
                        }
                        let s: f64 = (0..k0).map(|h| b1[br + h * kr] * b2[bc + h * kr]).sum();
                        d.data[ri + br + (rj + bc) * n] -= s;
                    }
                }
            }
        }
    }
}

/// `d -= S_i S_j'` for two block-sparse column-0 blocks (rows: levels of terms i and j).
fn sparse_cross_sub(
    d: &mut DenseBlock,
    pattern_i: &SparseBlockColumn,
    values_i: &[f64],
    pattern_j: &SparseBlockColumn,
    values_j: &[f64],
) {
    let n = d.rows;
    let (ki, kj, k0) = (
        pattern_i.row_width,
        pattern_j.row_width,
        pattern_i.col_width,
    );
    let (bli, blj) = (pattern_i.block_len(), pattern_j.block_len());
    if ki == 1 && kj == 1 && k0 == 1 {
        for c in 0..pattern_j.ncols() {
            let (si, ei) = (pattern_i.col_ptr[c], pattern_i.col_ptr[c + 1]);
            let rows_i = &pattern_i.row_level[si..ei];
            let vals_i = &values_i[si..ei];
            let range = pattern_j.col_ptr[c]..pattern_j.col_ptr[c + 1];
            for (&rj, &f) in pattern_j.row_level[range.clone()]
                .iter()
                .zip(&values_j[range])
            {
                let rj = rj as usize;
                let col = &mut d.data[rj * n..(rj + 1) * n];
                for (&ri, &vi) in rows_i.iter().zip(vals_i) {
                    col[ri as usize] -= vi * f;
                }
            }
        }
        return;
    }
    for c in 0..pattern_j.ncols() {
        let (si, ei) = (pattern_i.col_ptr[c], pattern_i.col_ptr[c + 1]);
        for e2 in pattern_j.col_ptr[c]..pattern_j.col_ptr[c + 1] {
            let rj = pattern_j.row_level[e2] as usize * kj;
            let b2 = &values_j[e2 * blj..(e2 + 1) * blj];
            for e1 in si..ei {
                let ri = pattern_i.row_level[e1] as usize * ki;
                let b1 = &values_i[e1 * bli..(e1 + 1) * bli];
                for bc in 0..kj {
                    for br in 0..ki {
                        let s: f64 = (0..k0).map(|h| b1[br + h * ki] * b2[bc + h * kj]).sum();
                        d.data[ri + br + (rj + bc) * n] -= s;
                    }
                }
            }
        }
    }
}

/// `d -= F S_j'` for the dense `[X y]` row of column 0 and a block-sparse column-0 block.
fn dense_sparse_sub(
    d: &mut DenseBlock,
    f: &DenseBlock,
    pattern_j: &SparseBlockColumn,
    values_j: &[f64],
) {
    let n = d.rows;
    let (kj, k0) = (pattern_j.row_width, pattern_j.col_width);
    let blj = pattern_j.block_len();
    if kj == 1 && k0 == 1 {
        for c in 0..pattern_j.ncols() {
            let fcol = &f.data[c * n..(c + 1) * n];
            let range = pattern_j.col_ptr[c]..pattern_j.col_ptr[c + 1];
            for (&rj, &s) in pattern_j.row_level[range.clone()]
                .iter()
                .zip(&values_j[range])
            {
                let rj = rj as usize;
                let dcol = &mut d.data[rj * n..(rj + 1) * n];
                for (dv, &fv) in dcol.iter_mut().zip(fcol) {
                    *dv -= fv * s;
                }
            }
        }
        return;
    }
    for c in 0..pattern_j.ncols() {
        for e in pattern_j.col_ptr[c]..pattern_j.col_ptr[c + 1] {
            let rj = pattern_j.row_level[e] as usize * kj;
            let b = &values_j[e * blj..(e + 1) * blj];
            for bc in 0..kj {
                let dcol = &mut d.data[(rj + bc) * n..(rj + bc + 1) * n];
                for h in 0..k0 {
                    let s = b[bc + h * kj];
                    let fcol = &f.data[(c * k0 + h) * n..(c * k0 + h + 1) * n];
                    for (dv, &fv) in dcol.iter_mut().zip(fcol) {
                        *dv -= fv * s;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A random scalar block-sparse column block: `ncols` columns over `n` row levels.
    fn random_pattern(n: usize, ncols: usize, seed: u64) -> (SparseBlockColumn, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut col_ptr = vec![0];
        let mut row_level = Vec::new();
        for _ in 0..ncols {
            let mut rows: Vec<u32> = (0..rng.random_range(1..12))
                .map(|_| rng.random_range(0..n as u32))
                .collect();
            rows.sort_unstable();
            rows.dedup();
            row_level.extend(rows);
            col_ptr.push(row_level.len());
        }
        let values = (0..row_level.len())
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let pattern = SparseBlockColumn {
            row_width: 1,
            col_width: 1,
            col_ptr,
            values: vec![0.0; row_level.len()],
            row_level,
        };
        (pattern, values)
    }

    #[test]
    fn threaded_scalar_downdate_equals_the_sequential_one() {
        let (n, ncols) = (300, 500);
        let (pattern, values) = random_pattern(n, ncols, 5);
        let mut cursor = vec![0; 2 * ncols];
        let mut one = DenseBlock::zeros(n, n);
        sparse_syrk_lower(&mut one, &pattern, &values, &mut cursor, 0);
        for split in [1, 97, 150, n - 1] {
            let mut two = DenseBlock::zeros(n, n);
            sparse_syrk_lower(&mut two, &pattern, &values, &mut cursor, split);
            assert_eq!(one, two, "split {split}");
        }
        // And both equal the dense lower triangle of −S S'.
        for c in 0..ncols {
            let range = pattern.col_ptr[c]..pattern.col_ptr[c + 1];
            for a in range.clone() {
                for b in range.clone() {
                    let (ra, rb) = (pattern.row_level[a] as usize, pattern.row_level[b] as usize);
                    if ra >= rb {
                        one.data[ra + rb * n] += values[a] * values[b];
                    }
                }
            }
        }
        assert!(one.data.iter().all(|v| v.abs() < 1e-12));
        assert!(
            syrk_split_point(&pattern, n) == 0,
            "small work stays on one thread"
        );
    }
}
