//! [`FitOptions`]: what to fit (ML or REML) and how (which optimiser, its budget and
//! tolerances, a starting point). One value describes a fit completely, so a fit can be
//! repeated from its options alone.

use crate::lmm::Criterion;
use crate::optim::BobyqaSettings;

/// Which optimiser minimises the profiled objective over θ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OptimizerChoice {
    /// Projected BFGS with exact gradients for single-term models, BOBYQA otherwise.
    #[default]
    Auto,
    /// BOBYQA (derivative-free) for every model.
    Bobyqa,
    /// Projected BFGS with exact gradients; only for single-term models (others use BOBYQA).
    ProjectedBfgs,
}

/// Settings of a fit. Build one from [`FitOptions::default`] and the `with_*` methods (the
/// struct is `#[non_exhaustive]`, so fields added later do not break callers).
///
/// ```
/// use lmm_engine::{Criterion, FitOptions, OptimizerChoice};
/// let options = FitOptions::default()
///     .with_criterion(Criterion::Reml)
///     .with_optimizer(OptimizerChoice::Bobyqa);
/// assert_eq!(options.criterion, Criterion::Reml);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FitOptions {
    /// Maximum likelihood (the default, as MixedModels.jl) or REML (lme4's default).
    pub criterion: Criterion,
    /// The optimiser.
    pub optimizer: OptimizerChoice,
    /// Maximum number of objective evaluations (lme4's `maxfun`, default 10 000), the
    /// convergence certificate's and any restarts' included.
    pub max_evaluations: usize,
    /// Initial trust-region radius, on the internal (standardised, unit-free) θ̃ scale.
    pub rho_begin: f64,
    /// Final trust-region radius (θ̃ scale).
    pub rho_end: f64,
    /// Stop when a whole trust-region stage improves the objective by less than this.
    pub ftol_abs: Option<f64>,
    /// Starting θ (formula order, the user's units); λ = I on the standardised scale when
    /// `None` (lme4's start, made independent of the units).
    pub initial_theta: Option<Vec<f64>>,
    /// lme4's `boundary.tol`: diagonal θ̃ elements this close to 0 at the optimum are tried at
    /// exactly 0 and kept there when that is no worse. 0 disables the check.
    pub boundary_tolerance: f64,
    /// How many optimiser restarts a failed convergence certificate may trigger before the
    /// fit is reported as not converged (0: report at once).
    pub max_restarts: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        let bobyqa = BobyqaSettings::default();
        Self {
            criterion: Criterion::Ml,
            optimizer: OptimizerChoice::Auto,
            max_evaluations: bobyqa.max_evaluations,
            rho_begin: bobyqa.rho_begin,
            rho_end: bobyqa.rho_end,
            ftol_abs: bobyqa.ftol_abs,
            initial_theta: None,
            boundary_tolerance: 1e-5,
            max_restarts: 3,
        }
    }
}

impl FitOptions {
    /// ML or REML.
    pub fn with_criterion(mut self, criterion: Criterion) -> Self {
        self.criterion = criterion;
        self
    }

    /// The optimiser.
    pub fn with_optimizer(mut self, optimizer: OptimizerChoice) -> Self {
        self.optimizer = optimizer;
        self
    }

    /// The evaluation budget.
    pub fn with_max_evaluations(mut self, max_evaluations: usize) -> Self {
        self.max_evaluations = max_evaluations;
        self
    }

    /// How many restarts a failed convergence certificate may trigger.
    pub fn with_max_restarts(mut self, max_restarts: usize) -> Self {
        self.max_restarts = max_restarts;
        self
    }

    /// A starting θ in formula order (lme4's layout).
    pub fn with_initial_theta(mut self, theta: Vec<f64>) -> Self {
        self.initial_theta = Some(theta);
        self
    }

    /// The BOBYQA settings these options imply.
    pub fn bobyqa(&self) -> BobyqaSettings {
        BobyqaSettings {
            rho_begin: self.rho_begin,
            rho_end: self.rho_end,
            ftol_abs: self.ftol_abs,
            max_evaluations: self.max_evaluations,
        }
    }
}
