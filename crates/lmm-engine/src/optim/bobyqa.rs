//! The BOBYQA driver ([`minimize_bobyqa`]) and why the engine chooses among its optimisers
//! ([`OptimizerChoice`](crate::OptimizerChoice)).
//!
//! # Which optimiser, and why
//!
//! The objective is smooth, bounded below by 0 on the diagonal of each λ, and has a handful
//! of parameters. lme4 and MixedModels.jl minimise it with Powell's BOBYQA, a derivative-free
//! trust-region method on quadratic interpolation models, and BOBYQA (the `bobyqa` crate, a
//! pure-Rust port of PRIMA) remains the general-purpose path here. Two measured facts led to
//! two specialised paths on top of it ([`LinearMixedModel::fit`](super::LinearMixedModel)
//! picks one with [`OptimizerChoice::Auto`]):
//!
//! 1. **Single-term models** (`(1|g)`, `(1 + x|g)`, …): the `bobyqa` crate spends 1–2 µs of
//!    its own time per evaluation at n = 3 (measured: 1.9 µs with npt = 7, 1.2 µs with
//!    npt = 5, on a trivial objective), more than the objective itself costs for
//!    sleepstudy (0.85 µs), so a ~40 µs fit is out of reach with it. For one term the exact
//!    gradient costs about as much as the objective ([`crate::lmm::gradient`]), and a projected
//!    BFGS ([`super::projected_bfgs`]) needs 3–4 times fewer evaluations than BOBYQA. When
//!    that search ends on a singular optimum (which for vector terms can be one of several
//!    local optima on the boundary) BOBYQA also runs from lme4's start and the better point
//!    wins.
//! 2. **Crossed models whose large dense block is followed by small terms** (InstEval's
//!    `(1|s) + (1|d) + (1|dept)`): each evaluation costs a dense Cholesky factorisation of the
//!    large block, and the trailing terms' θ do not affect it. They are profiled out exactly
//!    ([`crate::lmm::profiled_tail`]); BOBYQA then works on fewer, better-conditioned parameters.
//!
//! Every optimiser works on the internal θ̃ of [`crate::lmm::scaling`] (random-effects columns
//! standardised, so that the start λ̃ = I, the radii below and the certificate's tolerances
//! mean the same in any units), and whatever it reports is checked by the convergence
//! certificate ([`crate::lmm::convergence`]) before the fit may say it converged.
//!
//! Objective evaluations per fit, the certificate's included (release build, `lmm-report
//! fit`; the objective is within 2e-7 of lme4's `rhoend = 1e-12` fits for gasoline and
//! sleepstudy, and within 3e-8 of a BOBYQA run with `rho_end = 1e-10` for the synthetic
//! workloads, whose objectives are ~10⁵–10⁶; in brackets the counts before the internal
//! scaling and the certificate; argmin's Nelder–Mead, measured then, at the simplex tolerance
//! that first reaches 1e-8):
//!
//! | model | θ | Nelder–Mead | BOBYQA | default (`Auto`) |
//! |---|---|---|---|---|
//! | gasoline `(1\|Country)`, ML / REML | 1 | 38 / 38 | 33 / 29 (31 / 27) | 16 / 19 (14 / 17) BFGS |
//! | sleepstudy `(1 + Days\|Subject)`, ML / REML | 3 | 132 / 130 | 35 / 39 (52 / 57) | 12 / 12 (16 / 18) BFGS |
//! | InstEval-shaped, 3 crossed scalar terms, ML / REML | 3 | — | 93 / 91 (80 / 78) | 29 / 29 (26 / 26) profiled |
//! | 10⁶ rows `(1 + x\|g)`, 10⁴ groups, ML / REML | 3 | — | 50 / 50 (46 / 46) | 16 / 16 (12 / 12) BFGS |
//!
//! The certificate costs `n` evaluations (plus one for the centre) with an exact gradient,
//! `2n + n(n − 1) + 1` without; on the profiled path only changes of the leading terms' θ
//! count, 6 for InstEval. The standardised start is closer to the optimum when a slope's
//! units are far from its intercept's (sleepstudy: 12 instead of 16).
//!
//! Nelder–Mead builds no model of the curvature and has no bound handling (the diagonal
//! bound needs a reparametrisation); it loses to BOBYQA on every model. Robustness: on 1 800
//! single-term fits of random pure-noise designs (k = 1, 2, 3; ML and REML; many singular
//! optima) the default path was never worse than BOBYQA with `rho_end = 1e-8` and better in
//! 161 cases (see the `tests::marginal_likelihood` tests).
//!
//! BOBYQA settings, on θ̃: `rho_begin = 0.2` (θ̃ is relative to σ and to each column's
//! scale, so optima are mostly within 0..3 of the start λ̃ = I), `rho_end = 1e-6` (a hundred
//! times larger for the profiled outer problem: measured on the InstEval-shaped design,
//! its last five evaluations at the 10× radius gained 1e-7 on an objective of 2·10⁵, and
//! with the certificate checking the end point the 100× radius ends 3e-8 from the same
//! optimum with a Newton decrement of 2e-7, against a tolerance of 2e-3). An
//! objective-change stop (`ftol_abs`) saved nothing while costing parameter accuracy on the
//! flat gasoline objective, so it is off by default. Hitting `max_evaluations` is reported as
//! non-convergence.

use bobyqa::{Bobyqa, Config, Status};

use crate::lmm::ModelError;

/// Settings of one BOBYQA run (Powell's bound-constrained derivative-free trust-region method).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BobyqaSettings {
    /// Initial trust-region radius.
    pub rho_begin: f64,
    /// Final trust-region radius.
    pub rho_end: f64,
    /// Stop when a whole trust-region stage improves the objective by less than this.
    pub ftol_abs: Option<f64>,
    /// Maximum number of objective evaluations.
    pub max_evaluations: usize,
}

impl Default for BobyqaSettings {
    /// The θ optimisation's defaults (see the module documentation).
    fn default() -> Self {
        Self {
            rho_begin: 0.2,
            rho_end: 1e-6,
            ftol_abs: None,
            max_evaluations: 10_000,
        }
    }
}

/// What the optimiser found.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerOutcome {
    /// Best θ found.
    pub theta: Vec<f64>,
    /// Objective at `theta`.
    pub objective: f64,
    /// Objective evaluations used.
    pub evaluations: usize,
    /// False when the evaluation budget ran out or the interpolation model degenerated (the
    /// optimiser's own stopping test; a fit is converged only when its certificate passes).
    pub converged: bool,
    /// Why the optimiser stopped, in words.
    pub message: String,
}

/// Minimises `objective` from `start` subject to `theta >= lower` with BOBYQA.
pub fn minimize_bobyqa<F: FnMut(&[f64]) -> f64>(
    mut objective: F,
    start: &[f64],
    lower: &[f64],
    options: &BobyqaSettings,
) -> Result<OptimizerOutcome, ModelError> {
    let n = start.len();
    let mut config = Config::new(n);
    // One-dimensional problems admit only npt = 3 (a full quadratic); otherwise Powell's 2n+1.
    config.npt = if n == 1 { 3 } else { 2 * n + 1 };
    config.rho_begin = options.rho_begin;
    config.rho_end = options.rho_end.min(options.rho_begin);
    config.max_fun = options.max_evaluations.max(config.npt + 1);
    config.ftol_abs = options.ftol_abs;
    let mut solver = Bobyqa::new(n, config)
        .map_err(|s| ModelError::Optimizer(format!("invalid optimiser settings: {s}")))?;
    let upper = vec![f64::INFINITY; n];
    let mut theta: Vec<f64> = start.iter().zip(lower).map(|(&x, &l)| x.max(l)).collect();
    let outcome = solver.minimize(&mut objective, &mut theta, lower, &upper);
    if outcome.status == Status::InvalidArgs {
        return Err(ModelError::Optimizer(outcome.status.to_string()));
    }
    if !outcome.found_finite() {
        return Err(ModelError::Optimizer(
            "the objective was not finite at any θ tried".to_string(),
        ));
    }
    let (converged, message) = match outcome.status {
        Status::Converged => (true, "trust region reached rho_end".to_string()),
        Status::FtolReached => (
            true,
            "objective change below ftol_abs over a trust-region stage".to_string(),
        ),
        Status::TargetReached => (true, outcome.status.to_string()),
        Status::MaxFunReached => (
            false,
            format!(
                "stopped: reached the maximum of {} objective evaluations",
                config.max_fun
            ),
        ),
        other => (false, format!("stopped: {other}")),
    };
    Ok(OptimizerOutcome {
        theta,
        objective: outcome.f,
        evaluations: outcome.n_eval,
        converged,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_quadratic_reaches_the_bound() {
        let out = minimize_bobyqa(
            |x| (x[0] + 1.0).powi(2) + (x[1] - 2.0).powi(2),
            &[1.0, 1.0],
            &[0.0, f64::NEG_INFINITY],
            &BobyqaSettings::default(),
        )
        .unwrap();
        assert!(out.converged);
        assert!(out.theta[0].abs() < 1e-6);
        assert!((out.theta[1] - 2.0).abs() < 1e-5);
    }

    #[test]
    fn exhausted_budget_is_reported() {
        let options = BobyqaSettings {
            max_evaluations: 5,
            ..BobyqaSettings::default()
        };
        let out = minimize_bobyqa(
            |x| (x[0] - 3.0).powi(2) + (x[1] - 2.0).powi(4),
            &[1.0, 1.0],
            &[0.0, 0.0],
            &options,
        )
        .unwrap();
        assert!(!out.converged);
        assert!(out.message.contains("maximum"));
    }

    #[test]
    fn nowhere_finite_objective_is_an_error() {
        let r = minimize_bobyqa(|_| f64::NAN, &[1.0], &[0.0], &BobyqaSettings::default());
        assert!(matches!(r, Err(ModelError::Optimizer(_))));
    }
}
