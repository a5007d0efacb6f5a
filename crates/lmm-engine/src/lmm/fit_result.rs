//! [`FitResult`]: everything a fitted model reports, in formula order and with lme4's
//! conventions — ML `logLik = −deviance/2`; for REML fits the "log-likelihood" is
//! `−REMLcrit/2`; `AIC = −2 logLik + 2·dof`, `BIC = −2 logLik + dof·log n`,
//! `AICc = AIC + 2·dof(dof+1)/(n − dof − 1)`, with `dof = p + len(θ) + 1`.

use serde::Serialize;

use crate::lmm::deviance::Criterion;
use crate::normal::two_sided_p;

/// One fixed-effects coefficient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixedEffect {
    /// Column name of X, R style.
    pub name: String,
    /// β̂.
    pub estimate: f64,
    /// Standard error √Var(β̂).
    pub std_error: f64,
}

impl FixedEffect {
    /// Wald z statistic.
    pub fn z(&self) -> f64 {
        self.estimate / self.std_error
    }

    /// Two-sided normal p-value of the Wald statistic.
    pub fn p_value(&self) -> f64 {
        two_sided_p(self.z())
    }
}

/// The estimated covariance of one random-effects term, σ̂²λλ'.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VarianceComponent {
    /// Grouping factor name.
    pub group: String,
    /// Column names of the term.
    pub columns: Vec<String>,
    /// Variances, one per column.
    pub variances: Vec<f64>,
    /// Standard deviations, one per column.
    pub std_devs: Vec<f64>,
    /// Correlation matrix, k×k row-major (1 on the diagonal; NaN, undefined, when a variance
    /// is 0, as lme4 reports it).
    pub correlations: Vec<f64>,
}

impl VarianceComponent {
    /// The component of a term whose relative covariance λλ' (k×k, column-major) is `rel`,
    /// scaled by `scale` (σ² for an LMM, 1 for a GLMM without a dispersion parameter).
    pub(crate) fn from_relative(
        group: String,
        columns: Vec<String>,
        rel: &[f64],
        scale: f64,
    ) -> Self {
        let k = columns.len();
        let variances: Vec<f64> = (0..k).map(|i| scale * rel[i + i * k]).collect();
        let std_devs: Vec<f64> = variances.iter().map(|v| v.sqrt()).collect();
        let mut correlations = vec![0.0; k * k];
        for i in 0..k {
            for j in 0..k {
                correlations[i * k + j] = if i == j {
                    1.0
                } else {
                    let d = (rel[i + i * k] * rel[j + j * k]).sqrt();
                    // Undefined when a variance is zero: NaN, as lme4's VarCorr.
                    if d > 0.0 {
                        rel[i + j * k] / d
                    } else {
                        f64::NAN
                    }
                };
            }
        }
        VarianceComponent {
            group,
            columns,
            variances,
            std_devs,
            correlations,
        }
    }

    /// Correlation between columns `i` and `j`.
    pub fn correlation(&self, i: usize, j: usize) -> f64 {
        self.correlations[i * self.columns.len() + j]
    }
}

/// Conditional modes of one term's random effects and their conditional standard deviations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionalModes {
    /// Grouping factor name.
    pub group: String,
    /// Column names of the term.
    pub columns: Vec<String>,
    /// Level names.
    pub levels: Vec<String>,
    /// b̂, level-major: `modes[l * k + j]` is column `j` of level `l`.
    pub modes: Vec<f64>,
    /// Conditional standard deviations, same layout as `modes`.
    pub conditional_sd: Vec<f64>,
}

impl ConditionalModes {
    /// Number of columns (k).
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Mode of column `j` at level `l`.
    pub fn mode(&self, l: usize, j: usize) -> f64 {
        self.modes[l * self.width() + j]
    }

    /// Conditional standard deviation of column `j` at level `l`.
    pub fn sd(&self, l: usize, j: usize) -> f64 {
        self.conditional_sd[l * self.width() + j]
    }
}

/// A grouping factor and its number of levels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupingFactor {
    /// Name as in the formula.
    pub name: String,
    /// Number of levels.
    pub levels: usize,
}

/// An optimiser the engine ran over θ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum Optimizer {
    /// Projected BFGS with the exact gradient (single-term models).
    #[serde(rename = "projected_bfgs")]
    ProjectedBfgs,
    /// BOBYQA (derivative-free, as lme4).
    #[serde(rename = "bobyqa")]
    Bobyqa,
    /// BOBYQA over the leading terms' θ with the small trailing terms profiled out.
    #[serde(rename = "bobyqa_profiled_tail")]
    ProfiledBobyqa,
    /// Projected BFGS with central-difference gradients (a second opinion for multi-term
    /// models).
    #[serde(rename = "projected_bfgs_numeric_gradient")]
    NumericBfgs,
}

impl Optimizer {
    /// The optimiser's name in prose.
    pub fn label(self) -> &'static str {
        match self {
            Optimizer::ProjectedBfgs => "projected BFGS",
            Optimizer::Bobyqa => "BOBYQA",
            Optimizer::ProfiledBobyqa => "BOBYQA with the trailing terms profiled out",
            Optimizer::NumericBfgs => "projected BFGS with numerical gradients",
        }
    }
}

/// How the convergence certificate ended (see [`Convergence`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConvergenceStatus {
    /// The certificate passed at the first optimum found.
    Converged,
    /// The certificate passed after one or more restarts.
    ConvergedAfterRestart,
    /// Not converged: the gradient is not small relative to the curvature.
    GradientNotSmall,
    /// Not converged: the Hessian on the free parameters is not positive definite.
    HessianNotPositiveDefinite,
    /// Not converged: moving a parameter off the boundary lowers the objective.
    BoundaryNotOptimal,
    /// Not converged: the objective is not finite next to the optimum.
    ObjectiveNotFinite,
    /// Not converged: the evaluation budget ran out before the certificate could be run.
    EvaluationLimit,
}

impl ConvergenceStatus {
    /// True for the two converged states.
    pub fn converged(self) -> bool {
        matches!(
            self,
            ConvergenceStatus::Converged | ConvergenceStatus::ConvergedAfterRestart
        )
    }
}

/// What the engine checked before calling the fit converged: the certificate at the reported
/// θ̂ (on the internal, unit-free θ̃ scale — see the crate documentation) and what it took to
/// get there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Convergence {
    /// Largest |∂objective/∂θ̃| over the free (non-boundary) parameters (NaN when the
    /// certificate could not run).
    pub gradient_max: f64,
    /// Smallest eigenvalue of the Hessian of the objective in θ̃ on the free parameters
    /// (`None` when every parameter is on the boundary, or when the certificate could not
    /// run).
    pub hessian_min_eigenvalue: Option<f64>,
    /// Optimiser runs a failed certificate asked for (from the point found with a fresh
    /// start, from a point off the boundary, or with another optimiser).
    pub restarts: usize,
    /// The optimisers run, in order of first use.
    pub optimizers_tried: Vec<Optimizer>,
    /// The outcome.
    pub status: ConvergenceStatus,
}

impl Convergence {
    /// "the convergence certificate passed after N restarts (optimisers tried: …)" for a
    /// converged fit that needed restarts; `None` otherwise.
    pub fn restart_note(&self) -> Option<String> {
        if !self.status.converged() || self.restarts == 0 {
            return None;
        }
        let n = self.restarts;
        let tried: Vec<&str> = self.optimizers_tried.iter().map(|o| o.label()).collect();
        Some(format!(
            "the convergence certificate passed after {n} restart{} (optimisers tried: {})",
            if n == 1 { "" } else { "s" },
            tried.join(", ")
        ))
    }
}

/// A fitted linear mixed model.
#[derive(Debug, Clone, PartialEq)]
pub struct FitResult {
    /// ML or REML.
    pub criterion: Criterion,
    /// Response name.
    pub response: String,
    /// Number of observations.
    pub nobs: usize,
    /// θ̂ in formula order (lme4's layout).
    pub theta: Vec<f64>,
    /// Fixed effects in X's column order.
    pub fixed: Vec<FixedEffect>,
    /// Var(β̂), p×p row-major.
    pub fixed_covariance: Vec<f64>,
    /// Residual standard deviation σ̂.
    pub sigma: f64,
    /// Deviance (ML) or REML criterion at θ̂.
    pub objective: f64,
    /// −objective/2.
    pub loglik: f64,
    /// Akaike's information criterion.
    pub aic: f64,
    /// Small-sample corrected AIC (infinite when n ≤ dof + 1).
    pub aicc: f64,
    /// Schwarz's Bayesian information criterion.
    pub bic: f64,
    /// Number of parameters: p + len(θ) + 1.
    pub dof: usize,
    /// Per term, in formula order.
    pub variance_components: Vec<VarianceComponent>,
    /// Per term, in formula order.
    pub random_effects: Vec<ConditionalModes>,
    /// Distinct grouping factors in formula order.
    pub groups: Vec<GroupingFactor>,
    /// True when the convergence certificate passed at θ̂ ([`Convergence`]).
    pub converged: bool,
    /// The certificate's numbers and what it took to pass it.
    pub convergence: Convergence,
    /// lme4's `isSingular`: some diagonal θ element below 1e-4.
    pub singular: bool,
    /// Objective evaluations used, the certificate's and any restarts' included (each one
    /// factorisation of the full system; with profiled trailing terms, one factorisation of
    /// the leading terms — the cheap inner evaluations on the small trailing system are
    /// counted in `message`).
    pub evaluations: usize,
    /// Why the (last) optimiser stopped and, when the fit did not converge, which check of the
    /// certificate failed.
    pub message: String,
    /// Fixed-effects columns dropped as aliased before the fit.
    pub dropped_fixed: Vec<String>,
    /// Rows dropped for missing values before the fit.
    pub rows_dropped: usize,
}

impl FitResult {
    /// β̂ in X's column order.
    pub fn beta(&self) -> Vec<f64> {
        self.fixed.iter().map(|f| f.estimate).collect()
    }

    /// Standard errors of β̂.
    pub fn std_errors(&self) -> Vec<f64> {
        self.fixed.iter().map(|f| f.std_error).collect()
    }

    /// Residual variance σ̂².
    pub fn residual_variance(&self) -> f64 {
        self.sigma * self.sigma
    }
}

/// The information criteria for an objective value (lme4's conventions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InformationCriteria {
    /// −objective/2.
    pub loglik: f64,
    /// −2 logLik + 2 dof.
    pub aic: f64,
    /// AIC + 2 dof (dof + 1)/(n − dof − 1), +∞ when n ≤ dof + 1.
    pub aicc: f64,
    /// −2 logLik + dof log n.
    pub bic: f64,
}

impl InformationCriteria {
    /// From the objective, the number of parameters and the number of observations.
    pub fn new(objective: f64, dof: usize, nobs: usize) -> Self {
        let loglik = -objective / 2.0;
        let k = dof as f64;
        let n = nobs as f64;
        let aic = -2.0 * loglik + 2.0 * k;
        let aicc = if n - k - 1.0 > 0.0 {
            aic + 2.0 * k * (k + 1.0) / (n - k - 1.0)
        } else {
            f64::INFINITY
        };
        Self {
            loglik,
            aic,
            aicc,
            bic: -2.0 * loglik + k * n.ln(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn information_criteria_follow_lme4() {
        // sleepstudy ML: deviance 1751.9393444632, 6 parameters, 180 observations.
        let ic = InformationCriteria::new(1751.9393444632, 6, 180);
        assert!((ic.loglik + 875.9696722316).abs() < 1e-9);
        assert!((ic.aic - 1763.9393444632).abs() < 1e-9);
        assert!((ic.bic - (1751.9393444632 + 6.0 * 180f64.ln())).abs() < 1e-9);
        assert!((ic.aicc - (1763.9393444632 + 84.0 / 173.0)).abs() < 1e-9);
        assert!(InformationCriteria::new(1.0, 6, 7).aicc.is_infinite());
    }
}
