//! How a [`LinearMixedModel`] is fitted: which optimiser runs over θ (see [`crate::optim::bobyqa`]
//! for the measurements behind the choice), the profiled-tail path for crossed models, and
//! lme4's boundary check at the optimum.

use crate::lmm::deviance::ProfiledDeviance;
use crate::lmm::fit_result::FitResult;
use crate::lmm::gradient::SingleTermGradient;
use crate::lmm::model::{LinearMixedModel, SINGULAR_TOLERANCE};
use crate::lmm::profiled_tail::ProfiledTail;
use crate::lmm::{Criterion, ModelError};
use crate::optim::projected_bfgs::{minimize_projected_bfgs, BfgsSettings};
use crate::optim::{minimize_bobyqa, BobyqaSettings, OptimizerOutcome};
use crate::options::{FitOptions, OptimizerChoice};

/// A dense block with at least this many random effects makes evaluations expensive enough
/// for profiling out the terms after it.
pub const PROFILE_MIN_DENSE: usize = 256;

/// Largest trailing system (trailing random effects + p + 1) that is profiled out.
pub const PROFILE_MAX_TAIL: usize = 96;

impl LinearMixedModel {
    /// Fits the model by ML or REML (`options.criterion`).
    pub fn fit(&mut self, options: &FitOptions) -> Result<FitResult, ModelError> {
        self.fit_with_progress(options, |_, _| {})
    }

    /// Fits the model, calling `progress(evaluations, objective)` after every objective
    /// evaluation (for a CLI progress display).
    ///
    /// Which optimiser runs (the `optim::bobyqa` module documentation has the measurements behind the choice):
    /// single-term models use a projected BFGS with the exact gradient; models whose largest
    /// dense block is followed by small terms use BOBYQA over the leading θ with the trailing
    /// θ profiled out (`lmm::profiled_tail`); all others plain BOBYQA.
    pub fn fit_with_progress<P: FnMut(usize, f64)>(
        &mut self,
        options: &FitOptions,
        mut progress: P,
    ) -> Result<FitResult, ModelError> {
        let criterion = options.criterion;
        let start = match &options.initial_theta {
            Some(t) => t.clone(),
            None => self.layout.initial(),
        };
        if start.len() != self.layout.len() {
            return Err(ModelError::ThetaLength {
                got: start.len(),
                expected: self.layout.len(),
            });
        }
        let mut evaluations = 0usize;
        let automatic = options.optimizer != OptimizerChoice::Bobyqa;
        let mut found = None;
        let mut bobyqa_start = start.clone();
        if automatic && self.factor.terms().len() == 1 {
            let o =
                self.fit_single_term(criterion, options, &start, &mut evaluations, &mut progress);
            let singular = self.layout.is_singular(&o.theta, SINGULAR_TOLERANCE);
            if o.converged && !singular || evaluations >= options.max_evaluations {
                found = Some(o);
            } else if o.converged {
                // Singular optima of vector terms can be local: the rank-deficient covariances
                // form a non-convex set. Let BOBYQA search from lme4's start as well and keep
                // the better optimum (on random noise designs this recovers the cases where the
                // gradient search stops in the worse of two boundary optima).
                let lower = self.layout.lower_bounds();
                let second = minimize_bobyqa(
                    |theta| {
                        let f = self.objective(theta, criterion);
                        evaluations += 1;
                        progress(evaluations, f);
                        f
                    },
                    &start,
                    &lower,
                    &options.bobyqa(),
                );
                found = Some(match second {
                    Ok(b) if b.objective < o.objective => OptimizerOutcome {
                        evaluations,
                        message: format!(
                            "BOBYQA (after a projected BFGS search ended on a singular optimum \
                             with a higher objective): {}",
                            b.message
                        ),
                        ..b
                    },
                    _ => OptimizerOutcome { evaluations, ..o },
                });
            } else if o.objective.is_finite() {
                // BOBYQA takes over from where the gradient search stopped.
                bobyqa_start = o.theta;
            }
        } else if let Some(tail) = self.profiled_tail_start().filter(|_| automatic) {
            found = self
                .fit_profiled_tail(
                    criterion,
                    options,
                    &start,
                    tail,
                    &mut evaluations,
                    &mut progress,
                )
                .ok();
        }
        let mut outcome = match found {
            Some(o) => o,
            None => {
                let lower = self.layout.lower_bounds();
                let bobyqa = minimize_bobyqa(
                    |theta| {
                        let f = self.objective(theta, criterion);
                        evaluations += 1;
                        progress(evaluations, f);
                        f
                    },
                    &bobyqa_start,
                    &lower,
                    &options.bobyqa(),
                );
                match bobyqa {
                    Ok(mut o) => {
                        o.evaluations = evaluations;
                        o.message = format!("BOBYQA: {}", o.message);
                        o
                    }
                    Err(e) => {
                        // Say why the objective is not finite when there is a precise reason.
                        self.try_objective(&start, criterion)?;
                        return Err(e);
                    }
                }
            }
        };

        // lme4's boundary check: diagonal elements within `boundary_tolerance` of 0 are tried
        // at exactly 0 and kept there when that is no worse.
        let diagonal = self.layout.diagonal_mask();
        let near: Vec<usize> = (0..outcome.theta.len())
            .filter(|&i| {
                diagonal[i]
                    && outcome.theta[i] > 0.0
                    && outcome.theta[i] < options.boundary_tolerance
            })
            .collect();
        if !near.is_empty() {
            let mut candidate = outcome.theta.clone();
            for &i in &near {
                candidate[i] = 0.0;
            }
            let f = self.objective(&candidate, criterion);
            evaluations += 1;
            progress(evaluations, f);
            if f <= outcome.objective {
                outcome.theta = candidate;
                outcome.objective = f;
            }
        }

        self.refactor(&outcome.theta)?;
        let objective = ProfiledDeviance::from_factor(&self.factor).objective(criterion);
        Ok(self.assemble(
            criterion,
            outcome.theta,
            objective,
            evaluations,
            outcome.converged,
            outcome.message,
        ))
    }

    /// Projected BFGS with the exact gradient (single-term models).
    fn fit_single_term<P: FnMut(usize, f64)>(
        &mut self,
        criterion: Criterion,
        options: &FitOptions,
        start: &[f64],
        evaluations: &mut usize,
        progress: &mut P,
    ) -> OptimizerOutcome {
        let term = &self.factor.terms()[0];
        let mut gradient = SingleTermGradient::new(term.width, self.fixed_names.len());
        let settings = BfgsSettings {
            max_evaluations: options.max_evaluations,
            ..BfgsSettings::default()
        };
        let lower = self.layout.lower_bounds();
        let partners = self.layout.column_partners();
        let result = minimize_projected_bfgs(
            |theta, grad| {
                let f = self.objective(theta, criterion);
                if f.is_finite() {
                    gradient.compute(&self.factor, criterion, grad);
                } else {
                    grad.fill(0.0);
                }
                *evaluations += 1;
                progress(*evaluations, f);
                f
            },
            start,
            &lower,
            &partners,
            &settings,
        );
        OptimizerOutcome {
            theta: result.x,
            objective: result.f,
            evaluations: *evaluations,
            converged: result.converged,
            message: format!("projected BFGS with exact gradient: {}", result.message),
        }
    }

    /// The first internal term to profile out, if profiling pays: the last large dense block
    /// (≥ [`PROFILE_MIN_DENSE`] random effects) is followed by terms whose trailing system
    /// (with `[X y]`) has at most [`PROFILE_MAX_TAIL`] rows.
    pub(super) fn profiled_tail_start(&self) -> Option<usize> {
        let terms = self.factor.terms();
        let m = terms.len();
        let last_big = (1..m)
            .rev()
            .find(|&j| terms[j].nranef() >= PROFILE_MIN_DENSE)?;
        let tail = last_big + 1;
        let size: usize = terms[tail.min(m)..]
            .iter()
            .map(|t| t.nranef())
            .sum::<usize>()
            + self.nfixed()
            + 1;
        (tail < m && size <= PROFILE_MAX_TAIL).then_some(tail)
    }

    /// BOBYQA over the θ of the head terms; each evaluation factors the head once and
    /// minimises over the trailing θ exactly (BOBYQA on the small trailing system, warm
    /// started from the previous evaluation's optimum).
    fn fit_profiled_tail<P: FnMut(usize, f64)>(
        &mut self,
        criterion: Criterion,
        options: &FitOptions,
        start: &[f64],
        tail: usize,
        evaluations: &mut usize,
        progress: &mut P,
    ) -> Result<OptimizerOutcome, ModelError> {
        let mut profiled = ProfiledTail::new(&self.factor, &self.layout, tail);
        let tail_idx = profiled.theta_indices();
        let head_idx: Vec<usize> = (0..start.len()).filter(|i| !tail_idx.contains(i)).collect();
        let lower = self.layout.lower_bounds();
        let head_lower: Vec<f64> = head_idx.iter().map(|&i| lower[i]).collect();
        let tail_lower: Vec<f64> = tail_idx.iter().map(|&i| lower[i]).collect();
        let head_start: Vec<f64> = head_idx.iter().map(|&i| start[i]).collect();
        let mut warm: Vec<f64> = tail_idx.iter().map(|&i| start[i]).collect();
        let mut first_inner = true;
        let mut inner_evaluations = 0usize;
        let mut best = (f64::INFINITY, start.to_vec());
        let mut full = start.to_vec();
        let factor = &mut self.factor;
        self.factored = false;
        let outer = minimize_bobyqa(
            |head| {
                for (&i, &v) in head_idx.iter().zip(head) {
                    full[i] = v;
                }
                let f = if factor.update_head(&full, tail).is_ok() {
                    profiled.load(factor);
                    let scale = warm.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                    let inner_options = BobyqaSettings {
                        rho_begin: if first_inner {
                            options.rho_begin
                        } else {
                            (0.5 * scale).clamp(0.02, options.rho_begin)
                        },
                        rho_end: 1e-10,
                        ftol_abs: None,
                        max_evaluations: 2_000,
                    };
                    let mut inner_full = full.clone();
                    let inner = minimize_bobyqa(
                        |t| {
                            for (&i, &v) in tail_idx.iter().zip(t) {
                                inner_full[i] = v;
                            }
                            profiled.objective(&inner_full, criterion)
                        },
                        &warm,
                        &tail_lower,
                        &inner_options,
                    );
                    match inner {
                        Ok(o) => {
                            inner_evaluations += o.evaluations;
                            first_inner = false;
                            warm.clone_from(&o.theta);
                            if o.objective < best.0 {
                                let mut theta = full.clone();
                                for (&i, &v) in tail_idx.iter().zip(&o.theta) {
                                    theta[i] = v;
                                }
                                best = (o.objective, theta);
                            }
                            o.objective
                        }
                        Err(_) => f64::INFINITY,
                    }
                } else {
                    f64::INFINITY
                };
                *evaluations += 1;
                progress(*evaluations, f);
                f
            },
            &head_start,
            &head_lower,
            &BobyqaSettings {
                // The outer problem is smaller and better conditioned than the full one: a
                // ten times larger final radius still reaches the optimum to ~1e-8 (see the
                // measurements in `optim::bobyqa`).
                rho_end: (10.0 * options.rho_end).min(options.rho_begin),
                ..options.bobyqa()
            },
        )?;
        if !best.0.is_finite() {
            return Err(ModelError::Optimizer(
                "the objective was not finite at any θ tried".to_string(),
            ));
        }
        Ok(OptimizerOutcome {
            theta: best.1,
            objective: best.0,
            evaluations: *evaluations,
            converged: outer.converged,
            message: format!(
                "BOBYQA over the leading terms' θ with the trailing terms' θ profiled out \
                 ({inner_evaluations} inner evaluations on the small trailing system): {}",
                outer.message
            ),
        })
    }
}
