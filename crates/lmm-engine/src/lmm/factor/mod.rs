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

//!
//! One operation per file: the storage and entry points are here; [`first_column`] updates
//! block column 0, [`column`] the dense block columns and their right-solves, [`downdate`]
//! holds the sparse and dense downdate kernels, [`logdet`] the log-determinant accumulator,
//! [`solve`] the triangular solves with the random-effects part and [`inverse`] the entries
//! of `(LL')⁻¹` on the pattern of the factor (selected inversion).

mod column;
mod downdate;
mod first_column;
mod inverse;
mod logdet;
mod solve;

use faer::Par;

use crate::linalg::{DenseBlock, DenseCholesky, FAER_MIN_DIM};
use crate::lmm::crossprod::{CrossProducts, SparseBlockColumn, TermShape};
use crate::lmm::theta::ThetaLayout;

use downdate::syrk_split_point;
pub use inverse::SelectedInverse;

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
#[derive(Clone)]
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
    /// Per sparse column-0 block: whether it is dense (fully crossed scalar terms,
    /// [`SparseBlockColumn::is_dense`]), so that its products go through faer.
    first_dense: Vec<bool>,
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
            first_dense: a
                .first_column
                .iter()
                .enumerate()
                .map(|(t, pattern)| pattern.is_dense(a.terms[t + 1].nranef()))
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

    /// The cross-products, for refilling their values in place: a new response (a
    /// parametric-bootstrap replicate) or the GLMM's reweighted system (same terms, sparsity
    /// pattern and p). Call [`BlockedCholesky::update`] before reading the factor again.
    pub fn cross_products_mut(&mut self) -> &mut CrossProducts {
        &mut self.a
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

    /// Column 0, rows of internal term `t ≥ 1`, as a dense `q_t × q₀` matrix when the
    /// block is dense (fully crossed scalar terms).
    pub fn first_column_dense(&self, t: usize) -> Option<faer::MatRef<'_, f64>> {
        dense_first(
            &self.first_dense,
            &self.first_column,
            self.a.terms[t].nranef(),
            t,
        )
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
}

/// Column 0's block for the rows of term `t ≥ 1` (`rows` of them) as a dense `rows × q₀`
/// matrix, when `dense[t − 1]` says it is: from the fields, so that the update can read it
/// while it writes the dense blocks.
fn dense_first<'a>(
    dense: &[bool],
    values: &'a [Vec<f64>],
    rows: usize,
    t: usize,
) -> Option<faer::MatRef<'a, f64>> {
    dense[t - 1].then(|| {
        let v = &values[t - 1];
        faer::MatRef::from_column_major_slice(v, rows, v.len() / rows)
    })
}
