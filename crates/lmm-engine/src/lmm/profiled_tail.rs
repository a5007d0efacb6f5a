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
//!
//! [`TailProfile`] wraps this for the fit, on the internal θ̃ ([`crate::lmm::scaling`]): the
//! profiled outer objective (head θ̃ → trailing θ̃ minimised, warm-started), and the full
//! objective at any θ̃ with the head factorisation kept between calls that share it — which
//! is what makes the convergence certificate's stencil cheap on this path.

use crate::linalg::{DenseBlock, DenseCholesky};
use crate::lmm::deviance::{Criterion, ProfiledDeviance};
use crate::lmm::factor::{BlockedCholesky, NotPositiveDefinite};
use crate::lmm::scaling::ThetaScaling;
use crate::lmm::theta::ThetaLayout;
use crate::optim::{minimize_bobyqa, BobyqaSettings};

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

/// The profiled-tail evaluations of a fit, on the internal θ̃.
pub struct TailProfile {
    tail: ProfiledTail,
    /// First internal term of the tail.
    first: usize,
    /// θ̃ positions of the leading terms.
    head: Vec<usize>,
    /// θ̃ positions of the trailing terms.
    trailing: Vec<usize>,
    trailing_lower: Vec<f64>,
    /// The trailing θ̃ the next inner search starts from.
    warm: Vec<f64>,
    /// Whether the next inner search is the first (full initial trust region).
    first_inner: bool,
    /// Inner (trailing-system) evaluations so far.
    pub inner_evaluations: usize,
    /// θ̃ whose head the factor holds (`None` after anything else touched the factor).
    loaded: Option<Vec<f64>>,
    user: Vec<f64>,
}

impl TailProfile {
    /// The profile of `factor` with the terms from internal term `first` on profiled out.
    pub fn new(factor: &BlockedCholesky, layout: &ThetaLayout, first: usize) -> Self {
        let tail = ProfiledTail::new(factor, layout, first);
        let trailing = tail.theta_indices();
        let head = (0..layout.len())
            .filter(|i| !trailing.contains(i))
            .collect();
        let lower = layout.lower_bounds();
        Self {
            trailing_lower: trailing.iter().map(|&i| lower[i]).collect(),
            warm: trailing.iter().map(|_| 0.0).collect(),
            first_inner: true,
            inner_evaluations: 0,
            loaded: None,
            user: vec![0.0; layout.len()],
            tail,
            first,
            head,
            trailing,
        }
    }

    /// θ̃ positions of the leading terms.
    pub fn head(&self) -> &[usize] {
        &self.head
    }

    /// Starts the next inner searches from the trailing part of `theta`, with a full initial
    /// trust region.
    pub fn restart_from(&mut self, theta: &[f64]) {
        self.warm = self.trailing.iter().map(|&i| theta[i]).collect();
        self.first_inner = true;
    }

    /// Forgets the loaded head (call after anything else updated the factor).
    pub fn invalidate(&mut self) {
        self.loaded = None;
    }

    /// Whether the factor holds the head of `theta`.
    pub fn is_loaded(&self, theta: &[f64]) -> bool {
        self.loaded
            .as_ref()
            .is_some_and(|l| self.head.iter().all(|&i| l[i] == theta[i]))
    }

    /// Factors the leading terms at the head of θ̃ unless the factor already holds it;
    /// `Ok(true)` when it factored.
    pub fn load(
        &mut self,
        factor: &mut BlockedCholesky,
        scaling: &ThetaScaling,
        theta: &[f64],
    ) -> Result<bool, NotPositiveDefinite> {
        if self.is_loaded(theta) {
            return Ok(false);
        }
        self.loaded = None;
        scaling.user_into(theta, &mut self.user);
        factor.update_head(&self.user, self.first)?;
        self.tail.load(factor);
        self.loaded = Some(theta.to_vec());
        Ok(true)
    }

    /// The full objective at θ̃, whose head must be loaded ([`TailProfile::load`]).
    pub fn objective(
        &mut self,
        scaling: &ThetaScaling,
        theta: &[f64],
        criterion: Criterion,
    ) -> f64 {
        debug_assert!(self.is_loaded(theta));
        scaling.user_into(theta, &mut self.user);
        self.tail.objective(&self.user, criterion)
    }

    /// The profiled objective at the head of θ̃: the trailing θ̃ minimised by BOBYQA on the
    /// small trailing system, warm-started from the previous optimum. Returns the objective
    /// and the full θ̃ with the optimal trailing part (+∞ when the head cannot be factored).
    pub fn profile(
        &mut self,
        factor: &mut BlockedCholesky,
        scaling: &ThetaScaling,
        theta: &[f64],
        rho_begin: f64,
        criterion: Criterion,
    ) -> (f64, Vec<f64>) {
        let mut full = theta.to_vec();
        if self.load(factor, scaling, &full).is_err() {
            return (f64::INFINITY, full);
        }
        let scale = self.warm.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let settings = BobyqaSettings {
            rho_begin: if self.first_inner {
                rho_begin
            } else {
                (0.5 * scale).clamp(0.02, rho_begin)
            },
            rho_end: 1e-10,
            ftol_abs: None,
            max_evaluations: 2_000,
        };
        let (trailing, lower, warm) = (
            self.trailing.clone(),
            self.trailing_lower.clone(),
            self.warm.clone(),
        );
        let mut inner_full = full.clone();
        let inner = minimize_bobyqa(
            |t| {
                for (&i, &v) in trailing.iter().zip(t) {
                    inner_full[i] = v;
                }
                self.objective(scaling, &inner_full, criterion)
            },
            &warm,
            &lower,
            &settings,
        );
        match inner {
            Ok(o) => {
                self.inner_evaluations += o.evaluations;
                self.first_inner = false;
                self.warm.clone_from(&o.theta);
                for (&i, &v) in self.trailing.iter().zip(&o.theta) {
                    full[i] = v;
                }
                (o.objective, full)
            }
            Err(_) => (f64::INFINITY, full),
        }
    }
}
