//! [`ProfiledTail`]: profiling out small trailing random-effects terms.
//!
//! Block column `j` of the factor depends on the θ of terms `0..=j` only. When a large dense
//! block (a crossed factor with many levels, e.g. InstEval's lectures) is followed by terms
//! with few random effects (InstEval's 14 departments), the θ of those trailing terms change
//! nothing but small blocks. [`BlockedCholesky::update_head`] factors the head once, leaving
//! the Schur complement `S` of the head in the unscaled trailing system `[Z_tail X y]`; for
//! any trailing θ the rest of the factor is then the Cholesky factor of
//!
//! ```text
//!   D' S D + diag(I, 0),    D = blockdiag(Λ_tail, I_{p+1})
//! ```
//!
//! a matrix of size `q_tail + p + 1`. The optimiser then minimises over the head θ only,
//! with the trailing θ optimised exactly (and cheaply) inside each evaluation: the same
//! optimum, fewer expensive evaluations (for the InstEval-shaped workload about 30 instead of
//! 55–110).

use crate::linalg::{DenseBlock, DenseCholesky};
use crate::lmm::deviance::{Criterion, ProfiledDeviance};
use crate::lmm::factor::BlockedCholesky;
use crate::lmm::theta::ThetaLayout;

/// A trailing term's place in the Schur complement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TailTerm {
    formula_index: usize,
    width: usize,
    nlevels: usize,
    offset: usize,
}

/// The profiled trailing system of a factor.
pub struct ProfiledTail {
    /// First internal term of the tail.
    tail: usize,
    terms: Vec<TailTerm>,
    layout: ThetaLayout,
    q_tail: usize,
    p: usize,
    nobs: usize,
    sum_log_weights: f64,
    /// Full symmetric Schur complement, `q × q` column-major.
    schur: Vec<f64>,
    work: DenseBlock,
    lambda: Vec<Vec<f64>>,
    head_logdet: f64,
    cholesky: DenseCholesky,
}

impl ProfiledTail {
    /// The tail of `factor` starting at internal term `tail` (≥ 1, < number of terms).
    pub fn new(factor: &BlockedCholesky, layout: &ThetaLayout, tail: usize) -> Self {
        let cp = factor.cross_products();
        let mut offset = 0;
        let terms: Vec<TailTerm> = cp.terms[tail..]
            .iter()
            .map(|t| {
                let term = TailTerm {
                    formula_index: t.formula_index,
                    width: t.width,
                    nlevels: t.nlevels,
                    offset,
                };
                offset += t.nranef();
                term
            })
            .collect();
        let q = offset + cp.p + 1;
        Self {
            tail,
            lambda: terms.iter().map(|t| vec![0.0; t.width * t.width]).collect(),
            terms,
            layout: layout.clone(),
            q_tail: offset,
            p: cp.p,
            nobs: cp.nobs,
            sum_log_weights: cp.sum_log_weights,
            schur: vec![0.0; q * q],
            work: DenseBlock::zeros(q, q),
            head_logdet: 0.0,
            cholesky: DenseCholesky::new(q, factor.par()),
        }
    }

    /// θ positions (formula order) of the trailing terms.
    pub fn theta_indices(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = self
            .terms
            .iter()
            .flat_map(|t| self.layout.term_range(t.formula_index))
            .collect();
        idx.sort_unstable();
        idx
    }

    /// Copies the Schur complement out of a factor just updated with
    /// `update_head(θ, tail)`.
    pub fn load(&mut self, factor: &BlockedCholesky) {
        debug_assert_eq!(factor.tail(), self.tail);
        let m = factor.terms().len();
        let q = self.work.rows;
        let offset = |i: usize| {
            if i == m {
                self.q_tail
            } else {
                self.terms[i - self.tail].offset
            }
        };
        for i in self.tail..=m {
            for j in self.tail..=i {
                let b = factor.dense(i, j);
                let (oi, oj) = (offset(i), offset(j));
                for c in 0..b.cols {
                    // Diagonal blocks hold their lower triangle only.
                    let r0 = if i == j { c } else { 0 };
                    for r in r0..b.rows {
                        let v = b.get(r, c);
                        self.schur[(oi + r) + (oj + c) * q] = v;
                        self.schur[(oj + c) + (oi + r) * q] = v;
                    }
                }
            }
        }
        self.head_logdet = factor.logdet_random();
    }

    /// The profiled objective at the trailing θ taken from `theta` (full, formula order),
    /// for the head θ of the last [`ProfiledTail::load`]. +∞ when not positive definite.
    pub fn objective(&mut self, theta: &[f64], criterion: Criterion) -> f64 {
        let q = self.work.rows;
        self.work.data.copy_from_slice(&self.schur);
        for (t, lam) in self.terms.iter().zip(self.lambda.iter_mut()) {
            self.layout.fill_lambda(t.formula_index, theta, lam);
            let k = t.width;
            let w = &mut self.work.data;
            for l in 0..t.nlevels {
                let o = t.offset + l * k;
                // Columns o..o+k ← columns · λ (ascending c reads only columns ≥ c).
                for c in 0..k {
                    for r in 0..q {
                        let mut s = 0.0;
                        for d in c..k {
                            s += w[r + (o + d) * q] * lam[d + c * k];
                        }
                        w[r + (o + c) * q] = s;
                    }
                }
                // Rows o..o+k ← λ' · rows (ascending r reads only rows ≥ r).
                for col in 0..q {
                    for r in 0..k {
                        let mut s = 0.0;
                        for d in r..k {
                            s += lam[d + r * k] * w[(o + d) + col * q];
                        }
                        w[(o + r) + col * q] = s;
                    }
                }
            }
        }
        for i in 0..self.q_tail {
            self.work.data[i + i * q] += 1.0;
        }
        if !self.cholesky.factor(&mut self.work) {
            return f64::INFINITY;
        }
        let diag = |i: usize| self.work.data[i + i * q];
        let logdet_tail: f64 = 2.0 * (0..self.q_tail).map(|i| diag(i).ln()).sum::<f64>();
        let logdet_fixed: f64 = 2.0 * (self.q_tail..q - 1).map(|i| diag(i).ln()).sum::<f64>();
        let r = diag(q - 1);
        let pd = ProfiledDeviance {
            logdet_random: self.head_logdet + logdet_tail,
            logdet_fixed,
            pwrss: r * r,
            nobs: self.nobs,
            p: self.p,
            sum_log_weights: self.sum_log_weights,
        };
        let f = pd.objective(criterion);
        if f.is_finite() {
            f
        } else {
            f64::INFINITY
        }
    }
}
