//! How a [`LinearMixedModel`] is fitted: which optimiser runs first (see
//! [`crate::optim::bobyqa`] for the measurements behind the choice), and what happens at the
//! optimum it reports before the fit is called converged.
//!
//! Everything runs on the internal, unit-free θ̃ of [`crate::lmm::scaling`]. At each optimum:
//!
//! 1. lme4's boundary check ([`crate::lmm::boundary::snap`]) and the canonical form of zero
//!    columns ([`crate::lmm::boundary::canonical`]);
//! 2. the convergence certificate ([`crate::lmm::convergence`]);
//! 3. if it fails, the engine acts before it reports, one restart at a time, each from the
//!    best point so far: from a point off the boundary with a lower objective when the
//!    certificate found one (lme4's `restart_edge`); otherwise first the same optimiser from
//!    the point found, with a fresh trust region (a fresh Hessian approximation for BFGS),
//!    then the other optimiser. Only when every restart fails (or
//!    [`FitOptions::max_restarts`] is reached) is the fit reported as not converged, with
//!    the failed check in its message.

use crate::lmm::boundary::{canonical, snap};
use crate::lmm::convergence::derivatives::EVALUATION_NOISE;
use crate::lmm::convergence::{certify, cost, Certificate, Oracle, Verdict};
use crate::lmm::deviance::ProfiledDeviance;
use crate::lmm::fit_result::{Convergence, ConvergenceStatus, FitResult, Optimizer};
use crate::lmm::model::{LinearMixedModel, SINGULAR_TOLERANCE};
use crate::lmm::optimizers::Budget;
use crate::lmm::oracles::{Counted, ModelOracle, ProfiledOracle};
use crate::lmm::profiled_tail::TailProfile;
use crate::lmm::theta::ThetaLayout;
use crate::lmm::ModelError;
use crate::optim::OptimizerOutcome;
use crate::options::{FitOptions, OptimizerChoice};

/// A dense block with at least this many random effects makes evaluations expensive enough
/// for profiling out the terms after it.
pub const PROFILE_MIN_DENSE: usize = 256;

/// Largest trailing system (trailing random effects + p + 1) that is profiled out.
pub const PROFILE_MAX_TAIL: usize = 96;

/// Where [`LinearMixedModel::certify_and_rescue`] ended.
struct Settled {
    /// The best point found (internal θ̃).
    best: OptimizerOutcome,
    status: ConvergenceStatus,
    /// The certificate at `best` (`None` when the budget could not pay for it).
    certificate: Option<Certificate>,
    restarts: usize,
    tried: Vec<Optimizer>,
    /// The failed check behind each restart.
    #[cfg_attr(not(test), allow(dead_code))]
    reasons: Vec<Verdict>,
}

/// The restarts tried, in order, when the certificate fails without pointing off the boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rescue {
    /// The same optimiser from the point found, afresh.
    Again,
    /// The other optimiser from the point found.
    Other,
}

impl LinearMixedModel {
    /// Fits the model by ML or REML (`options.criterion`).
    pub fn fit(&mut self, options: &FitOptions) -> Result<FitResult, ModelError> {
        self.fit_with_progress(options, |_, _| {})
    }

    /// Fits the model, calling `progress(evaluations, objective)` after every objective
    /// evaluation (for a CLI progress display).
    ///
    /// Which optimiser runs first (see the engine's `optim::bobyqa` for the measurements behind
    /// the choice): single-term models use a projected BFGS with the exact gradient; models
    /// whose largest dense block is followed by small terms use BOBYQA over the leading θ
    /// with the trailing θ profiled out (`lmm::profiled_tail`); all others plain
    /// BOBYQA. Then the optimum is certified, with restarts when needed (module
    /// documentation); `converged` in the result means the certificate passed.
    pub fn fit_with_progress<P: FnMut(usize, f64)>(
        &mut self,
        options: &FitOptions,
        mut progress: P,
    ) -> Result<FitResult, ModelError> {
        let criterion = options.criterion;
        let start = match &options.initial_theta {
            Some(t) if t.len() != self.layout.len() => {
                return Err(ModelError::ThetaLength {
                    got: t.len(),
                    expected: self.layout.len(),
                })
            }
            Some(t) => self.scaling.to_internal(t),
            // lme4's start, λ = I, on the standardised scale.
            None => self.layout.initial(),
        };
        let mut report = |e: usize, f: f64| progress(e, f);
        let mut budget = Budget::new(options.max_evaluations, &mut report);
        let automatic = options.optimizer != OptimizerChoice::Bobyqa;
        let single = self.factor.terms().len() == 1;
        self.tail_profile = self
            .profiled_tail_start()
            .filter(|_| automatic)
            .map(|tail| TailProfile::new(&self.factor, &self.layout, tail));
        let primary = if automatic && single {
            Optimizer::ProjectedBfgs
        } else if self.tail_profile.is_some() {
            Optimizer::ProfiledBobyqa
        } else {
            Optimizer::Bobyqa
        };
        let mut tried = vec![primary];
        let first = self.run_optimizer(primary, &start, criterion, options, &mut budget);
        let (mut best, mut best_by) = match first {
            Ok(o) if o.objective.is_finite() => (o, primary),
            _ if primary != Optimizer::Bobyqa => {
                // The specialised path could not start (the gradient search reports a
                // non-finite start, the profiled path an error); BOBYQA from the start then
                // either finds a finite objective or says why there is none.
                tried.push(Optimizer::Bobyqa);
                match self.run_optimizer(Optimizer::Bobyqa, &start, criterion, options, &mut budget)
                {
                    Ok(o) => (o, Optimizer::Bobyqa),
                    Err(e) => return Err(self.explain(&start, criterion, e)),
                }
            }
            // BOBYQA returns an error whenever it found no finite objective.
            Ok(o) => (o, primary),
            Err(e) => return Err(self.explain(&start, criterion, e)),
        };

        // Singular optima of vector terms can be local: the rank-deficient covariances form a
        // non-convex set, which no local certificate can see past. For single-term models
        // BOBYQA also searches from lme4's start and the better optimum is kept (on random
        // noise designs this recovers the cases where the gradient search stops in the worse
        // of two boundary optima).
        if primary == Optimizer::ProjectedBfgs
            && best.converged
            && self.layout.is_singular(&best.theta, SINGULAR_TOLERANCE)
            && budget.left() > 0
        {
            tried.push(Optimizer::Bobyqa);
            if let Ok(b) =
                self.run_optimizer(Optimizer::Bobyqa, &start, criterion, options, &mut budget)
            {
                if b.objective < best.objective {
                    best = OptimizerOutcome {
                        message: format!(
                            "BOBYQA (after a projected BFGS search ended on a singular optimum \
                             with a higher objective): {}",
                            b.message
                        ),
                        ..b
                    };
                    best_by = Optimizer::Bobyqa;
                }
            }
        }

        let Settled {
            best,
            status,
            certificate,
            restarts,
            tried,
            ..
        } = self.certify_and_rescue(best, best_by, tried, options, &mut budget);
        let evaluations = budget.used();

        let message = match (status, &certificate) {
            // An optimiser that stopped on its own terms (a line search that found no
            // decrease, a degenerate interpolation model) at a point the certificate passes.
            (s, _) if s.converged() && !best.converged => format!(
                "{}; the convergence certificate passed at the point it reached",
                best.message
            ),
            (ConvergenceStatus::Converged, _) => best.message.clone(),
            (ConvergenceStatus::ConvergedAfterRestart, _) => format!(
                "{}; convergence certificate passed after {restarts} restart{}",
                best.message,
                if restarts == 1 { "" } else { "s" }
            ),
            (ConvergenceStatus::EvaluationLimit, _) if !best.converged => best.message.clone(),
            (ConvergenceStatus::EvaluationLimit, _) => format!(
                "{}; the convergence certificate could not run: no evaluations left",
                best.message
            ),
            (_, Some(cert)) => format!(
                "{}; the convergence certificate failed: {} ({restarts} restart{})",
                best.message,
                cert.describe(),
                if restarts == 1 { "" } else { "s" }
            ),
            (_, None) => best.message.clone(),
        };
        let convergence = Convergence {
            gradient_max: certificate.as_ref().map_or(f64::NAN, |c| c.gradient_max),
            hessian_min_eigenvalue: certificate.as_ref().and_then(|c| c.hessian_min_eigenvalue),
            restarts,
            optimizers_tried: tried,
            status,
        };
        self.tail_profile = None;
        let theta = self.scaling.to_user(&best.theta);
        self.refactor(&theta)?;
        let objective = ProfiledDeviance::from_factor(&self.factor).objective(criterion);
        Ok(self.assemble(
            criterion,
            theta,
            objective,
            evaluations,
            convergence,
            message,
        ))
    }

    /// The precise reason the objective cannot be computed at the start, when there is one.
    fn explain(
        &mut self,
        start: &[f64],
        criterion: crate::lmm::Criterion,
        e: ModelError,
    ) -> ModelError {
        let user = self.scaling.to_user(start);
        self.try_objective(&user, criterion).err().unwrap_or(e)
    }

    /// The certificate at `best` (found by `best_by`), and the restarts of the module
    /// documentation while it fails.
    fn certify_and_rescue(
        &mut self,
        mut best: OptimizerOutcome,
        mut best_by: Optimizer,
        mut tried: Vec<Optimizer>,
        options: &FitOptions,
        budget: &mut Budget<'_>,
    ) -> Settled {
        let single = self.factor.terms().len() == 1;
        let mut restarts = 0usize;
        let mut reasons = Vec::new();
        let mut rescues = [Rescue::Again, Rescue::Other].into_iter();
        let mut certificate: Option<Certificate> = None;
        let status = loop {
            if certificate.is_none() {
                certificate = self.settle_and_certify(&mut best, options, budget);
            }
            let Some(cert) = &certificate else {
                break ConvergenceStatus::EvaluationLimit;
            };
            if cert.passed() {
                break if restarts == 0 {
                    ConvergenceStatus::Converged
                } else {
                    ConvergenceStatus::ConvergedAfterRestart
                };
            }
            let failed = status_of(cert.verdict);
            if restarts >= options.max_restarts || budget.left() == 0 {
                break failed;
            }
            let (optimizer, from) = match (&cert.descent, rescues.next()) {
                (Some((point, _)), _) => (best_by, point.clone()),
                (None, Some(Rescue::Again)) => (best_by, best.theta.clone()),
                (None, Some(Rescue::Other)) => (other(best_by, single), best.theta.clone()),
                (None, None) => break failed,
            };
            restarts += 1;
            reasons.push(cert.verdict);
            if !tried.contains(&optimizer) {
                tried.push(optimizer);
            }
            let run = self.run_optimizer(optimizer, &from, options.criterion, options, budget);
            if let Ok(o) = run {
                if o.objective.is_finite() && o.objective <= best.objective {
                    best = o;
                    best_by = optimizer;
                    // A new point: certify it.
                    certificate = None;
                }
            }
        };
        Settled {
            best,
            status,
            certificate,
            restarts,
            tried,
            reasons,
        }
    }

    /// Settles the boundary at `best` and runs the certificate there, through the profiled
    /// tail when the fit has one (the cheap route, and the one its objective values came
    /// from). `None` when the budget cannot pay for the certificate.
    fn settle_and_certify(
        &mut self,
        best: &mut OptimizerOutcome,
        options: &FitOptions,
        budget: &mut Budget<'_>,
    ) -> Option<Certificate> {
        let layout = self.layout.clone();
        let tolerance = options.boundary_tolerance;
        if let Some(mut oracle) = ProfiledOracle::new(self, options.criterion, budget) {
            return settle_and_certify_with(&mut oracle, &layout, best, tolerance);
        }
        let mut oracle = ModelOracle::new(self, options.criterion, budget);
        settle_and_certify_with(&mut oracle, &layout, best, tolerance)
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
}

/// lme4's boundary check (diagonal elements within `tolerance` of 0 are tried at 0 and kept
/// there when that is no worse), then the canonical form of zero columns, then the
/// certificate. `best` is updated to the settled point and the objective the oracle computes
/// there.
fn settle_and_certify_with<O: Oracle + Counted>(
    oracle: &mut O,
    layout: &ThetaLayout,
    best: &mut OptimizerOutcome,
    tolerance: f64,
) -> Option<Certificate> {
    if let Some(snapped) = snap(layout, &best.theta, tolerance) {
        let candidate = canonical(layout, &snapped).unwrap_or(snapped);
        keep_if_no_worse(oracle, best, candidate)?;
    }
    if let Some(candidate) = canonical(layout, &best.theta) {
        // The same λλ', so the same objective up to rounding.
        keep_if_no_worse(oracle, best, candidate)?;
    }
    if oracle.left() < cost(layout, &best.theta, oracle.has_gradient()) {
        return None;
    }
    let certificate = certify(oracle, layout, &best.theta);
    if certificate.objective.is_finite() {
        best.objective = certificate.objective;
    }
    // The certificate's own moves (off the boundary and back) can leave a diagonal element a
    // hair above zero; lme4's boundary rule puts it back on the boundary when that is no
    // worse, so that a zero variance is reported as exactly zero.
    if let Some(snapped) = snap(layout, &best.theta, tolerance) {
        if oracle.left() > 0 {
            keep_if_no_worse(oracle, best, snapped)?;
        }
    }
    Some(certificate)
}

/// Moves `best` to `candidate` when the objective there is no worse (to rounding); `None`
/// when the budget has no evaluation left.
fn keep_if_no_worse<O: Oracle + Counted>(
    oracle: &mut O,
    best: &mut OptimizerOutcome,
    candidate: Vec<f64>,
) -> Option<()> {
    if oracle.left() == 0 {
        return None;
    }
    let slack = 2.0 * EVALUATION_NOISE * best.objective.abs().max(1.0);
    let f = oracle.values(std::slice::from_ref(&candidate))[0];
    if f <= best.objective + slack {
        best.theta = candidate;
        best.objective = f;
    }
    Some(())
}

/// The status of a failed check.
fn status_of(verdict: Verdict) -> ConvergenceStatus {
    match verdict {
        Verdict::Passed => ConvergenceStatus::Converged,
        Verdict::GradientNotSmall => ConvergenceStatus::GradientNotSmall,
        Verdict::HessianNotPositiveDefinite => ConvergenceStatus::HessianNotPositiveDefinite,
        Verdict::BoundaryNotOptimal => ConvergenceStatus::BoundaryNotOptimal,
        Verdict::NotFinite => ConvergenceStatus::ObjectiveNotFinite,
    }
}

/// The second opinion for an optimiser: the exact-gradient BFGS and BOBYQA for each other on
/// single-term models; plain BOBYQA for the profiled path; for plain BOBYQA on a multi-term
/// model, BFGS with numerical gradients.
fn other(optimizer: Optimizer, single_term: bool) -> Optimizer {
    match optimizer {
        Optimizer::ProjectedBfgs => Optimizer::Bobyqa,
        Optimizer::Bobyqa if single_term => Optimizer::ProjectedBfgs,
        Optimizer::Bobyqa => Optimizer::NumericBfgs,
        Optimizer::ProfiledBobyqa | Optimizer::NumericBfgs => Optimizer::Bobyqa,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::{ModelMatrices, RandomEffectsTerm};
    use faer::Mat;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// `y ~ 1 + x + (1 + x | g)` with clearly non-zero intercept and slope variances.
    fn slopes() -> ModelMatrices {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (groups, per) = (20usize, 10usize);
        let n = groups * per;
        let (mut x, mut y, mut refs) = (Vec::new(), Vec::new(), Vec::new());
        for g in 0..groups {
            let b0: f64 = rng.random_range(-1.0..1.0);
            let b1: f64 = rng.random_range(-1.0..1.0);
            for _ in 0..per {
                let v: f64 = rng.random_range(0.0..10.0);
                x.push(v);
                y.push(1.0 + 0.5 * v + b0 + b1 * v + rng.random_range(-1.0..1.0));
                refs.push(g as u32);
            }
        }
        ModelMatrices {
            response: "y".into(),
            x: Mat::from_fn(n, 2, |i, j| if j == 0 { 1.0 } else { x[i] }),
            y,
            fixed_names: vec!["(Intercept)".into(), "x".into()],
            dropped_fixed: vec![],
            terms: vec![RandomEffectsTerm {
                group: "g".into(),
                columns: vec!["(Intercept)".into(), "x".into()],
                levels: (0..groups).map(|g| g.to_string()).collect(),
                refs,
                z: x.iter().flat_map(|&v| [1.0, v]).collect(),
            }],
            rows_dropped: 0,
            weights: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn a_point_on_a_false_boundary_is_left_through_the_boundary_test() {
        let mm = slopes();
        let mut model = LinearMixedModel::new(&mm).unwrap();
        let options = FitOptions::default().with_optimizer(OptimizerChoice::Bobyqa);
        let optimum = model.fit(&options).unwrap();
        assert!(optimum.converged && !optimum.singular);
        // The optimum's first column with the slope's own variance λ22 set to 0.
        let mut theta = model.scaling.to_internal(&optimum.theta);
        theta[2] = 0.0;
        let objective = model.objective_internal(&theta, options.criterion);
        assert!(objective > optimum.objective + 1.0);
        let stuck = OptimizerOutcome {
            theta,
            objective,
            evaluations: 0,
            converged: true,
            message: "stuck".into(),
        };
        let rescue = |model: &mut LinearMixedModel, options: &FitOptions| {
            let mut report = |_: usize, _: f64| {};
            let mut budget = Budget::new(10_000, &mut report);
            model.certify_and_rescue(
                stuck.clone(),
                Optimizer::Bobyqa,
                vec![Optimizer::Bobyqa],
                options,
                &mut budget,
            )
        };
        let settled = rescue(&mut model, &options);
        assert_eq!(settled.reasons.first(), Some(&Verdict::BoundaryNotOptimal));
        assert_eq!(settled.status, ConvergenceStatus::ConvergedAfterRestart);
        assert!((settled.best.objective - optimum.objective).abs() < 1e-6);
        // With no restarts allowed the same point is reported, with the failed check.
        let settled = rescue(&mut model, &options.clone().with_max_restarts(0));
        assert_eq!(settled.status, ConvergenceStatus::BoundaryNotOptimal);
        assert!(settled.certificate.unwrap().descent.is_some());
        assert_eq!(settled.restarts, 0);
    }
}
