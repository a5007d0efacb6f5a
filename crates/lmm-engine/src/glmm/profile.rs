//! The Laplace deviance at θ with β profiled out exactly, `D̃(θ) = min_β D(θ, β)`, for
//! canonical links: Newton's method on β with the exact gradient of [`super::gradient`] and,
//! as its Hessian, twice the fixed-effects Schur complement of the weighted system
//! (`2 R_X R_X'`, the curvature of the penalised deviance; the log-determinant's curvature,
//! O(1) against O(n), only slows convergence from quadratic to fast linear). Each step is
//! halved until the deviance does not increase.
//!
//! Minimising `D̃` over θ reaches the joint optimum of glmer's (θ, β) search — at a
//! minimiser of `D̃` the β gradient is zero by construction and the θ gradient of `D̃` is
//! the partial one — with a search over θ alone: for VerbAgg two parameters instead of eight.

use crate::lmm::estimates::{fixed_covariance, fixed_effects};

use super::gradient::LaplaceGradient;
use super::model::GeneralizedLinearMixedModel;
use super::pirls::PirlsFailure;

/// Newton steps per evaluation at most.
const MAX_NEWTON: usize = 30;
/// PIRLS step tolerance of the joint solution that starts β's Newton iteration.
const JOINT_START_TOLERANCE: f64 = 1e-5;
/// Step halvings per Newton step at most.
const MAX_HALVINGS: usize = 12;

/// The β-profile's state carried between evaluations.
#[derive(Debug, Clone, Default)]
pub(crate) struct BetaProfile {
    /// β̂(θ) of the last evaluation: the next one starts there.
    pub(crate) beta: Option<Vec<f64>>,
    /// Newton steps taken over the fit.
    pub(crate) newton_steps: usize,
    /// The remaining Newton decrement `½ g'H⁻¹g` at the end of the last evaluation.
    pub(crate) last_decrement: f64,
    /// `dD̃/dθ` (lme4's layout) at the last evaluation: `∂D/∂θ` at β̂(θ), as `∂D/∂β = 0`.
    pub(crate) theta_gradient: Vec<f64>,
    /// The last successful evaluation through
    /// [`GeneralizedLinearMixedModel::deviance_profiled_internal`]: internal θ̃, `D̃` and its
    /// gradient there (where the PIRLS state is), and whether β was converged to the exact
    /// tolerance.
    pub(crate) last_point: Option<LastPoint>,
    /// Converge β to the exact tolerance at every evaluation (the final one at θ̂ and the
    /// certificate's); otherwise the tolerance follows the search's last θ gradient.
    pub(crate) strict: bool,
    /// `‖dD̃/dθ̃‖²` at the search's last evaluation (`None` before the first).
    pub(crate) search_gradient: Option<f64>,
}

/// A successful evaluation of the profiled deviance, kept for a repeated call at its point.
#[derive(Debug, Clone)]
pub(crate) struct LastPoint {
    pub(crate) x: Vec<f64>,
    pub(crate) value: f64,
    pub(crate) gradient: Vec<f64>,
    pub(crate) exact: bool,
}

/// Remaining Newton decrement at which the profile is exact: far below the deviance
/// differences an optimiser or a finite-difference certificate resolves.
fn exact_tolerance(deviance: f64) -> f64 {
    1e-10 + 1e-14 * deviance.abs()
}

/// The decrement accepted while the search is far from θ̂, and before its first gradient.
const SEARCH_TOLERANCE: f64 = 1e-2;

/// Remaining decrement accepted per squared θ̃-gradient norm during the search: an
/// inexact Newton rule. A BFGS step from a gradient g lowers the deviance by about
/// ‖g‖²/(2λ) (λ ≈ 400 on VerbAgg's θ̃ scale), so this keeps the excess deviance below
/// about 1e-3 of the decrease a step resolves and the gradient's relative error near
/// 1e-3; as the search converges the tolerance falls to the exact one. The final point
/// and the certificate are always exact ([`BetaProfile::strict`]).
const SEARCH_TOLERANCE_PER_GRADIENT: f64 = 1e-6;

impl BetaProfile {
    /// The decrement at which this evaluation's Newton iteration on β stops.
    fn decrement_tolerance(&self, deviance: f64) -> f64 {
        let exact = exact_tolerance(deviance);
        if self.strict {
            return exact;
        }
        let search = self
            .search_gradient
            .map_or(SEARCH_TOLERANCE, |g2| SEARCH_TOLERANCE_PER_GRADIENT * g2);
        exact.max(search.min(SEARCH_TOLERANCE))
    }
}

impl GeneralizedLinearMixedModel {
    /// Whether β can be profiled exactly: a canonical link and the Laplace approximation.
    pub fn can_profile_beta(&self, nagq: usize) -> bool {
        nagq == 1 && self.family().is_canonical()
    }

    /// `D̃(θ) = min_β D(θ, β)` (θ in lme4's layout), leaving the PIRLS state at β̂(θ) and
    /// the gradient `dD̃/dθ` in the profile.
    pub fn deviance_profiled(&mut self, theta: &[f64]) -> Result<f64, PirlsFailure> {
        self.evaluations += 1;
        let mut beta = match self.profile.beta.clone() {
            Some(b) => b,
            None => {
                // From the joint (fast) PIRLS solution at θ, to a few digits: it is only the
                // Newton iteration's start (6 joint iterations to the exact tolerance on
                // VerbAgg, 5 to this one).
                self.pirls.run_to(theta, None, JOINT_START_TOLERANCE)?;
                self.pirls.beta.clone()
            }
        };
        // The modes' first-order response to the new θ: about one PIRLS iteration fewer.
        self.pirls.predict_modes(theta, &beta);
        self.pirls.run(theta, Some(&beta))?;
        let mut dev = self.laplace(false);
        // Covariance of β from the weighted system at the start: the Newton metric.
        let p = beta.len();
        self.pirls.refactor(true)?;
        let c = fixed_covariance(&fixed_effects(&self.pirls.factor_joint).1, p, 1.0);
        // The gradient at the current state, once the iteration ends there.
        let mut at_state: Option<LaplaceGradient> = None;
        for _ in 0..MAX_NEWTON {
            let gradient = self
                .pirls
                .laplace_gradient()
                .ok_or(PirlsFailure::NotConverged)?;
            let g = &gradient.beta;
            // H = 2 R_X R_X' = 2 cov⁻¹: the step is −½ cov g, the decrement ½g'H⁻¹g = ¼g'cov g.
            let step: Vec<f64> = (0..p)
                .map(|a| -0.5 * (0..p).map(|b| c[a * p + b] * g[b]).sum::<f64>())
                .collect();
            let decrement = -0.5 * step.iter().zip(g).map(|(s, g)| s * g).sum::<f64>();
            self.profile.last_decrement = decrement;
            if !decrement.is_finite() {
                return Err(PirlsFailure::StepHalvingFailed);
            }
            if decrement <= self.profile.decrement_tolerance(dev) {
                at_state = Some(gradient);
                break;
            }
            self.profile.newton_steps += 1;
            let mut t = 1.0;
            let mut accepted = false;
            for _ in 0..=MAX_HALVINGS {
                let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + t * s).collect();
                self.pirls.predict_modes(theta, &trial);
                match self.pirls.run(theta, Some(&trial)) {
                    Ok(_) => {
                        let d = self.laplace(false);
                        if d <= dev + 1e-12 * dev.abs().max(1.0) {
                            beta = trial;
                            dev = d;
                            accepted = true;
                            break;
                        }
                    }
                    Err(_) => self.pirls.reset(),
                }
                t *= 0.5;
            }
            if !accepted {
                // No decrease along the Newton direction: β is at the minimum to rounding.
                self.pirls.run(theta, Some(&beta))?;
                dev = self.laplace(false);
                at_state = Some(gradient);
                break;
            }
        }
        let gradient = match at_state {
            Some(g) => g,
            None => self
                .pirls
                .laplace_gradient()
                .ok_or(PirlsFailure::NotConverged)?,
        };
        self.profile.theta_gradient = gradient.theta;
        self.profile.beta = Some(beta);
        Ok(dev)
    }

    /// [`GeneralizedLinearMixedModel::deviance_profiled`] at internal θ̃ `x`, writing
    /// `dD̃/dθ̃` into `grad` (the last successful evaluation's result when `x` is its point,
    /// without evaluating again); a PIRLS failure gives +∞ and a zero gradient, is kept in
    /// `failure`, and forgets the warm start.
    pub(crate) fn deviance_profiled_internal(
        &mut self,
        x: &[f64],
        grad: &mut [f64],
        failure: &mut Option<PirlsFailure>,
    ) -> f64 {
        // The same point again (the search's first call, at the last accepted EM step; the
        // final evaluation at θ̂): the state is still there.
        if let Some(last) = &self.profile.last_point {
            if last.x == x && (last.exact || !self.profile.strict) {
                grad.copy_from_slice(&last.gradient);
                return last.value;
            }
        }
        let theta = self.scaling.to_user(x);
        match self.deviance_profiled(&theta) {
            Ok(v) => {
                grad.copy_from_slice(&self.profile.theta_gradient);
                self.scaling.gradient_to_internal(grad);
                self.profile.search_gradient = Some(grad.iter().map(|g| g * g).sum());
                self.profile.last_point = Some(LastPoint {
                    x: x.to_vec(),
                    value: v,
                    gradient: grad.to_vec(),
                    exact: self.profile.last_decrement <= exact_tolerance(v),
                });
                v
            }
            Err(e) => {
                *failure = Some(e);
                self.reset_profile();
                grad.fill(0.0);
                f64::INFINITY
            }
        }
    }

    /// Forgets the profile's warm start (after a failed evaluation).
    pub(crate) fn reset_profile(&mut self) {
        self.profile.beta = None;
        self.profile.last_point = None;
        self.pirls.reset();
    }
}
