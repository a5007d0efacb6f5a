//! [`FitOptions`]: what to fit (ML or REML), how the data enter the model (columns declared
//! categorical, contrasts, prior weights) and how to fit (which optimiser, its budget and
//! tolerances, a starting point). One value describes a fit completely, so a fit can be
//! repeated from its options alone.

use crate::glmm::Family;
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

/// How a factor is coded where R codes it by contrasts (a main effect, or a term whose margin
/// is present): R's `contrasts=` argument of `lmer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Contrasts {
    /// `contr.treatment` (R's default): indicators of levels 2..m, named by level
    /// (`recipeB`); the first level is the reference.
    #[default]
    Treatment,
    /// `contr.sum`: level j ↦ the j-th unit vector, the last level ↦ −1 in every column;
    /// columns named by number (`Sex1`).
    Sum,
    /// `contr.helmert`: column j contrasts level j + 1 with the mean of the levels before it;
    /// columns named by number (`Variety1`, `Variety2`).
    Helmert,
}

impl Contrasts {
    /// `treatment`, `sum` or `helmert` (also R's `contr.sum` spellings).
    pub fn from_name(name: &str) -> Option<Contrasts> {
        match name.strip_prefix("contr.").unwrap_or(name) {
            "treatment" => Some(Contrasts::Treatment),
            "sum" => Some(Contrasts::Sum),
            "helmert" => Some(Contrasts::Helmert),
            _ => None,
        }
    }
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
    /// Starting θ in lme4's layout (the terms in [`crate::ModelMatrices::terms`] order, the
    /// user's units); λ = I on the standardised scale when `None` (lme4's start, made
    /// independent of the units).
    pub initial_theta: Option<Vec<f64>>,
    /// lme4's `boundary.tol`: diagonal θ̃ elements this close to 0 at the optimum are tried at
    /// exactly 0 and kept there when that is no worse. 0 disables the check.
    pub boundary_tolerance: f64,
    /// How many optimiser restarts a failed convergence certificate may trigger before the
    /// fit is reported as not converged (0: report at once).
    pub max_restarts: usize,
    /// Columns to treat as categorical wherever the formula uses them by name, as if they
    /// held text (numeric levels sorted numerically).
    pub factors: Vec<String>,
    /// Contrasts per factor, by the factor's name in the formula (`Sex`, `factor(Diet)`, or
    /// the column inside `factor()`); factors not listed use treatment contrasts.
    pub contrasts: Vec<(String, Contrasts)>,
    /// A column of prior weights (lme4's `weights=`): observation i has residual variance
    /// σ²/wᵢ. Every weight of the rows used must be present, finite and positive. For a
    /// binomial GLMM with a proportion response, the numbers of trials.
    pub weights: Option<String>,
    /// The response distribution and link: [`Family::Gaussian`] (the default) fits a linear
    /// mixed model, any other family a generalised linear mixed model (lme4's `glmer`).
    pub family: Family,
    /// GLMMs: the number of adaptive Gauss–Hermite quadrature points per random effect (lme4's
    /// `nAGQ`): 1 (the default) is the Laplace approximation; 2..=25 only for a single scalar
    /// random-effects term. 0 is the same as `fast`.
    pub nagq: usize,
    /// GLMMs: lme4's `nAGQ = 0` (MixedModels.jl's `fast = true`): β is estimated inside the
    /// penalised iteratively reweighted least squares and only θ is optimised.
    pub fast: bool,
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
            factors: Vec::new(),
            contrasts: Vec::new(),
            weights: None,
            family: Family::Gaussian,
            nagq: 1,
            fast: false,
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
    /// A starting θ in lme4's layout.
    pub fn with_initial_theta(mut self, theta: Vec<f64>) -> Self {
        self.initial_theta = Some(theta);
        self
    }

    /// Declares `column` categorical.
    pub fn with_factor(mut self, column: impl Into<String>) -> Self {
        self.factors.push(column.into());
        self
    }

    /// Codes the factor `name` by `contrasts`.
    pub fn with_contrasts(mut self, name: impl Into<String>, contrasts: Contrasts) -> Self {
        self.contrasts.push((name.into(), contrasts));
        self
    }

    /// Prior weights from `column`.
    pub fn with_weights(mut self, column: impl Into<String>) -> Self {
        self.weights = Some(column.into());
        self
    }

    /// The response family and link (a GLMM unless [`Family::Gaussian`]).
    pub fn with_family(mut self, family: Family) -> Self {
        self.family = family;
        self
    }

    /// The number of adaptive Gauss–Hermite quadrature points (GLMMs; 1 = Laplace).
    pub fn with_nagq(mut self, nagq: usize) -> Self {
        self.nagq = nagq;
        self
    }

    /// lme4's `nAGQ = 0`: β inside PIRLS, only θ optimised (GLMMs).
    pub fn with_fast(mut self, fast: bool) -> Self {
        self.fast = fast;
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
