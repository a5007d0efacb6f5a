//! One run of each [`Optimizer`] over the internal θ̃ ([`crate::lmm::scaling`]), from a given
//! start, against the fit's shared evaluation [`Budget`]. [`super::strategy`] decides which
//! runs happen; this file only knows how to run each one.

use crate::lmm::deviance::Criterion;
use crate::lmm::fit_result::Optimizer;
use crate::lmm::gradient::SingleTermGradient;
use crate::lmm::model::LinearMixedModel;
use crate::lmm::ModelError;
use crate::optim::projected_bfgs::{minimize_projected_bfgs, BfgsOutcome, BfgsSettings};
use crate::optim::{minimize_bobyqa, BobyqaSettings, OptimizerOutcome};
use crate::options::FitOptions;

/// The evaluation budget of a fit (`FitOptions::max_evaluations`), shared by every optimiser
/// run and the certificate; reports each evaluation to the progress callback.
pub struct Budget<'p> {
    used: usize,
    limit: usize,
    progress: &'p mut dyn FnMut(usize, f64),
}

impl<'p> Budget<'p> {
    /// A budget of `limit` evaluations reporting to `progress`.
    pub fn new(limit: usize, progress: &'p mut dyn FnMut(usize, f64)) -> Self {
        Self {
            used: 0,
            limit,
            progress,
        }
    }

    /// Counts one evaluation with objective `f`.
    pub fn record(&mut self, f: f64) {
        self.used += 1;
        (self.progress)(self.used, f);
    }

    /// Evaluations used so far.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Evaluations left.
    pub fn left(&self) -> usize {
        self.limit.saturating_sub(self.used)
    }
}

/// The profiled outer search's final trust-region radius, relative to `FitOptions::rho_end`.
pub const PROFILED_RHO_END_FACTOR: f64 = 100.0;

/// Relative step of the central differences behind [`Optimizer::NumericBfgs`]: large enough
/// that rounding (~10⁻¹³ of the objective) stays below the gradients that matter.
const NUMERIC_GRADIENT_STEP: f64 = 1e-5;

impl LinearMixedModel {
    /// Runs `optimizer` from `start` (internal θ̃). The outcome's θ is internal too.
    pub(super) fn run_optimizer(
        &mut self,
        optimizer: Optimizer,
        start: &[f64],
        criterion: Criterion,
        options: &FitOptions,
        budget: &mut Budget<'_>,
    ) -> Result<OptimizerOutcome, ModelError> {
        match optimizer {
            Optimizer::ProjectedBfgs => Ok(self.run_bfgs(start, criterion, budget)),
            Optimizer::Bobyqa => self.run_bobyqa(start, criterion, options, budget),
            Optimizer::ProfiledBobyqa => self.run_profiled(start, criterion, options, budget),
            Optimizer::NumericBfgs => Ok(self.run_numeric_bfgs(start, criterion, budget)),
        }
    }

    /// Projected BFGS with the exact gradient (single-term models).
    fn run_bfgs(
        &mut self,
        start: &[f64],
        criterion: Criterion,
        budget: &mut Budget<'_>,
    ) -> OptimizerOutcome {
        let mut gradient = SingleTermGradient::new(self.factor.terms()[0].width, self.nfixed());
        let settings = BfgsSettings {
            max_evaluations: budget.left(),
            ..BfgsSettings::default()
        };
        let lower = self.layout.lower_bounds();
        let partners = self.layout.column_partners();
        let result = minimize_projected_bfgs(
            |theta, grad| {
                if let Some(f) = self.low_rank_value_and_gradient(theta, criterion, grad) {
                    budget.record(f);
                    return f;
                }
                let f = self.objective_internal(theta, criterion);
                if f.is_finite() {
                    gradient.compute(&self.factor, criterion, grad);
                    self.scaling.gradient_to_internal(grad);
                } else {
                    grad.fill(0.0);
                }
                budget.record(f);
                f
            },
            start,
            &lower,
            &partners,
            &settings,
        );
        bfgs_outcome(result, budget.used(), "projected BFGS with exact gradient")
    }

    /// Plain BOBYQA over every θ̃ element.
    fn run_bobyqa(
        &mut self,
        start: &[f64],
        criterion: Criterion,
        options: &FitOptions,
        budget: &mut Budget<'_>,
    ) -> Result<OptimizerOutcome, ModelError> {
        let lower = self.layout.lower_bounds();
        let settings = BobyqaSettings {
            max_evaluations: budget.left(),
            ..options.bobyqa()
        };
        let mut o = minimize_bobyqa(
            |theta| {
                let f = self.objective_internal(theta, criterion);
                budget.record(f);
                f
            },
            start,
            &lower,
            &settings,
        )?;
        o.evaluations = budget.used();
        o.message = format!("BOBYQA: {}", o.message);
        Ok(o)
    }

    /// BOBYQA over the leading terms' θ̃ with the trailing terms profiled out
    /// ([`crate::lmm::profiled_tail`]).
    fn run_profiled(
        &mut self,
        start: &[f64],
        criterion: Criterion,
        options: &FitOptions,
        budget: &mut Budget<'_>,
    ) -> Result<OptimizerOutcome, ModelError> {
        let lower = self.layout.lower_bounds();
        self.factored = false;
        let (factor, scaling) = (&mut self.factor, &self.scaling);
        let Some(profile) = self.tail_profile.as_mut() else {
            return Err(ModelError::Optimizer(
                "no trailing terms to profile out".to_string(),
            ));
        };
        profile.restart_from(start);
        let head = profile.head().to_vec();
        let head_lower: Vec<f64> = head.iter().map(|&i| lower[i]).collect();
        let head_start: Vec<f64> = head.iter().map(|&i| start[i]).collect();
        let mut best = (f64::INFINITY, start.to_vec());
        let mut full = start.to_vec();
        let settings = BobyqaSettings {
            // The outer problem is smaller and better conditioned than the full one, and the
            // convergence certificate checks where it ends: a hundred times larger final
            // radius still reaches the optimum to ~1e-13 relative (see the measurements in
            // `optim::bobyqa`).
            rho_end: (PROFILED_RHO_END_FACTOR * options.rho_end).min(options.rho_begin),
            max_evaluations: budget.left(),
            ..options.bobyqa()
        };
        let outer = minimize_bobyqa(
            |h| {
                for (&i, &v) in head.iter().zip(h) {
                    full[i] = v;
                }
                let (f, theta) =
                    profile.profile(factor, scaling, &full, options.rho_begin, criterion);
                if f < best.0 {
                    best = (f, theta);
                }
                budget.record(f);
                f
            },
            &head_start,
            &head_lower,
            &settings,
        )?;
        if !best.0.is_finite() {
            return Err(ModelError::Optimizer(
                "the objective was not finite at any θ tried".to_string(),
            ));
        }
        Ok(OptimizerOutcome {
            theta: best.1,
            objective: best.0,
            evaluations: budget.used(),
            converged: outer.converged,
            message: format!(
                "BOBYQA over the leading terms' θ with the trailing terms' θ profiled out \
                 ({} inner evaluations on the small trailing system): {}",
                profile.inner_evaluations, outer.message
            ),
        })
    }

    /// Projected BFGS with central-difference gradients (`2n` extra evaluations each): the
    /// second opinion for multi-term models, whose only other optimiser is BOBYQA.
    fn run_numeric_bfgs(
        &mut self,
        start: &[f64],
        criterion: Criterion,
        budget: &mut Budget<'_>,
    ) -> OptimizerOutcome {
        let n = start.len();
        let settings = BfgsSettings {
            max_evaluations: budget.left() / (2 * n + 1),
            ..BfgsSettings::default()
        };
        let lower = self.layout.lower_bounds();
        let partners = self.layout.column_partners();
        let mut point = vec![0.0; n];
        let result = minimize_projected_bfgs(
            |theta, grad| {
                let f = self.objective_internal(theta, criterion);
                budget.record(f);
                if !f.is_finite() {
                    grad.fill(0.0);
                    return f;
                }
                point.copy_from_slice(theta);
                for i in 0..n {
                    let h = NUMERIC_GRADIENT_STEP * theta[i].abs().max(1.0);
                    point[i] = theta[i] + h;
                    let fp = self.objective_internal(&point, criterion);
                    point[i] = theta[i] - h;
                    let fm = self.objective_internal(&point, criterion);
                    point[i] = theta[i];
                    budget.record(fp);
                    budget.record(fm);
                    grad[i] = (fp - fm) / (2.0 * h);
                }
                f
            },
            start,
            &lower,
            &partners,
            &settings,
        );
        bfgs_outcome(
            result,
            budget.used(),
            "projected BFGS with numerical gradient",
        )
    }
}

/// A projected-BFGS result as the strategy's common outcome, its message headed by `method`.
fn bfgs_outcome(result: BfgsOutcome, evaluations: usize, method: &str) -> OptimizerOutcome {
    OptimizerOutcome {
        theta: result.x,
        objective: result.f,
        evaluations,
        converged: result.converged,
        message: format!("{method}: {}", result.message),
    }
}
