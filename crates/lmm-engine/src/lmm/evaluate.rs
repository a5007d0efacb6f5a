//! What post-fit inference ([`crate::inference`]) asks of a [`LinearMixedModel`] besides a
//! fit: the pieces of the profiled objective and the unscaled covariance of β̂ at any θ, a
//! new response in the cross-products (a parametric-bootstrap replicate), and a bare refit
//! (the optimiser alone, without the convergence certificate or the assembled result).
//! Everything reuses the model's cross-products and factor: no pass over the rows except
//! the O(n) one that puts a new response into the cross-products.

use crate::design::ModelMatrices;
use crate::lmm::deviance::{Criterion, ProfiledDeviance};
use crate::lmm::estimates;
use crate::lmm::fit_result::Optimizer;
use crate::lmm::model::LinearMixedModel;
use crate::lmm::optimizers::Budget;
use crate::lmm::ModelError;
use crate::options::FitOptions;

/// The fixed effects at one θ: β̂(θ) and (R_X'R_X)⁻¹ (row-major p×p), the covariance of β̂
/// divided by σ².
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FixedAt {
    pub(crate) beta: Vec<f64>,
    pub(crate) unscaled_covariance: Vec<f64>,
}

/// The outcome of a bare refit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refit {
    /// θ̂ (the user's scale).
    pub(crate) theta: Vec<f64>,
    /// The objective at θ̂.
    pub(crate) objective: f64,
    /// Whether the optimiser reported convergence.
    pub(crate) converged: bool,
}

impl LinearMixedModel {
    /// The pieces of the profiled objective at `theta` (the user's θ).
    pub(crate) fn pieces_at(&mut self, theta: &[f64]) -> Result<ProfiledDeviance, ModelError> {
        self.refactor(theta)?;
        Ok(ProfiledDeviance::from_factor(&self.factor))
    }

    /// β̂(θ) and (R_X'R_X)⁻¹ at `theta`.
    pub(crate) fn fixed_at(&mut self, theta: &[f64]) -> Result<FixedAt, ModelError> {
        self.refactor(theta)?;
        let p = self.nfixed();
        let (beta, linv) = estimates::fixed_effects(&self.factor);
        Ok(FixedAt {
            beta,
            unscaled_covariance: estimates::fixed_covariance(&linv, p, 1.0),
        })
    }

    /// Replaces the response by `y` in the cross-products: the `y` row of every `[X y]'Z_t`
    /// block and of `[X y]'[X y]`. `mm` must be the (√w-scaled, for weighted fits) matrices
    /// the model was built from, and `y` on the same scale.
    pub(crate) fn replace_response(&mut self, mm: &ModelMatrices, y: &[f64]) {
        self.factored = false;
        let cp = self.factor.cross_products_mut();
        let p = cp.p;
        let p1 = p + 1;
        for (t, shape) in cp.terms.iter().enumerate() {
            let term = &mm.terms[shape.formula_index];
            let k = shape.width;
            let block = &mut cp.fixed_random[t];
            for c in 0..shape.nranef() {
                block[p + c * p1] = 0.0;
            }
            for (i, (&level, &yi)) in term.refs.iter().zip(y).enumerate() {
                let base = level as usize * k;
                for c in 0..k {
                    block[p + (base + c) * p1] += term.z[i * k + c] * yi;
                }
            }
        }
        for a in 0..p {
            let col = mm.x.col(a);
            let s: f64 = (0..y.len()).map(|i| col[i] * y[i]).sum();
            cp.fixed[a + p * p1] = s;
            cp.fixed[p + a * p1] = s;
        }
        cp.fixed[p + p * p1] = y.iter().map(|v| v * v).sum();
        if self.low_rank.is_some() {
            self.low_rank = crate::lmm::large_fixed::LowRankFixed::new(cp, None);
        }
    }

    /// Minimises the objective from `start` (the user's θ) with the fit's primary optimiser
    /// (projected BFGS with the exact gradient for one term, BOBYQA otherwise), and nothing
    /// else: no boundary check, certificate or restarts. For refits that start next to the
    /// optimum (bootstrap replicates, profiles).
    pub(crate) fn refit_from(
        &mut self,
        start: &[f64],
        options: &FitOptions,
    ) -> Result<Refit, ModelError> {
        let criterion: Criterion = options.criterion;
        let start = self.scaling.to_internal(start);
        let mut quiet = |_: usize, _: f64| {};
        let mut budget = Budget::new(options.max_evaluations, &mut quiet);
        self.tail_profile = None;
        let optimizer = if self.factor.terms().len() == 1 {
            Optimizer::ProjectedBfgs
        } else {
            Optimizer::Bobyqa
        };
        let outcome = self.run_optimizer(optimizer, &start, criterion, options, &mut budget)?;
        Ok(Refit {
            theta: self.scaling.to_user(&outcome.theta),
            objective: outcome.objective,
            converged: outcome.converged,
        })
    }
}
