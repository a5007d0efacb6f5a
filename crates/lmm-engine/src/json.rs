//! [`FitJson`]: the machine-readable form of a fit. Keys come out in struct-field order (serde
//! preserves it), so the schema is stable:
//!
//! ```text
//! {"formula", "criterion": "ML"|"REML",
//!  ["family", "link", "nagq", "deviance", "df_resid", "pirls_iterations", "nb_theta"
//!   (negative binomial only), "pirls_rows": GLMMs only],
//!  "nobs", "objective", "loglik", "aic", "bic", "sigma",
//!  "theta": [..], "fixed": [{"name","estimate","std_error","z","p_value"}],
//!  "random": [{"group","term","variance","std_dev"}],
//!  "correlations": [{"group","term1","term2","correlation"}],
//!  "groups": [{"name","levels"}], "converged",
//!  "convergence": {"gradient_max", "hessian_min_eigenvalue", "restarts", "optimizers_tried",
//!                  "status"},
//!  "singular", "evaluations", "aicc", "dof", "rows_dropped", "dropped_fixed", "message",
//!  "notes": [..]}
//! ```
//!
//! Post-fit inference ([`crate::inference`]) adds, only when asked for: `df` and `statistic`
//! in each `fixed` entry (whose `p_value` is then the t test's), and after `notes`: `ddf`,
//! `ranef: [{group, level, term, mode, cond_sd}]`, `fitted`, `residuals`,
//! `confint: [{parameter, lower, upper}]`, `confint_method`, `confint_level`.
//!
//! `converged` is true exactly when the convergence certificate passed; `convergence` says
//! what it measured at θ̂ on the internal, unit-free scale (largest free gradient element,
//! smallest free Hessian eigenvalue — `null` when every parameter is on the boundary), how many
//! restarts it took, the optimisers run (`"projected_bfgs"`, `"bobyqa"`,
//! `"bobyqa_profiled_tail"`, `"projected_bfgs_numeric_gradient"`), and the outcome
//! (`"converged"`, `"converged_after_restart"`, or why not: `"gradient_not_small"`,
//! `"hessian_not_positive_definite"`, `"boundary_not_optimal"`, `"objective_not_finite"`,
//! `"evaluation_limit"`).
//!
//! `random` lists every term's columns in lme4's term order and ends with the residual
//! (`"group": "Residual", "term": ""`), as lme4's `as.data.frame(VarCorr(fit))` does.
//! Non-finite numbers (an infinite AICc on tiny data) serialise as `null`.

use serde::Serialize;

use crate::glmm::{Family, GlmmInfo, Link};
use crate::inference::confint::ConfintRow;
use crate::inference::ranef::RanefRow;
use crate::inference::{CoefficientTest, Ddf};
use crate::lmm::deviance::Criterion;
use crate::lmm::fit_result::{Convergence, FitResult, GroupingFactor};

/// One variance row of `random`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RandomJson {
    /// Grouping factor, or "Residual".
    pub group: String,
    /// Column name of the term ("" for the residual).
    pub term: String,
    /// Variance.
    pub variance: f64,
    /// Standard deviation.
    pub std_dev: f64,
}

/// One fixed-effects coefficient: estimate, standard error, Wald z and its two-sided normal
/// p-value (as the text summary shows them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixedJson {
    /// Column name of X, R style.
    pub name: String,
    /// β̂.
    pub estimate: f64,
    /// Standard error.
    pub std_error: f64,
    /// Wald z = estimate / standard error.
    pub z: f64,
    /// Two-sided normal p-value of z; with denominator df (`df` present), the two-sided
    /// Student t p-value of `statistic` on `df`.
    pub p_value: f64,
    /// Denominator degrees of freedom (only with `--ddf satterthwaite|kenward-roger`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub df: Option<f64>,
    /// The t statistic (estimate over the standard error, Kenward–Roger's adjusted one for
    /// that method); only with denominator df.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistic: Option<f64>,
}

/// One correlation between two columns of a vector-valued term.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrelationJson {
    /// Grouping factor.
    pub group: String,
    /// First column.
    pub term1: String,
    /// Second column.
    pub term2: String,
    /// Correlation; `null` when undefined (a variance is zero).
    pub correlation: f64,
}

/// The serialisable summary of a fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitJson {
    /// Formula as written.
    pub formula: String,
    /// "ML" or "REML".
    pub criterion: Criterion,
    /// GLMMs only: `binomial`, `poisson`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    /// GLMMs only: `logit`, `probit`, `cloglog`, `log`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<Link>,
    /// GLMMs only: quadrature points (1 Laplace, 0 fast), lme4's `nAGQ`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nagq: Option<usize>,
    /// GLMMs only: lme4's `deviance()` (sum of the conditional deviance residuals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deviance: Option<f64>,
    /// GLMMs only: residual degrees of freedom.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub df_resid: Option<usize>,
    /// GLMMs only: PIRLS iterations over the whole fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pirls_iterations: Option<usize>,
    /// Negative binomial GLMMs only: the shape θ (estimated or given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nb_theta: Option<f64>,
    /// GLMMs only: rows PIRLS iterated over (the distinct covariate patterns).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pirls_rows: Option<usize>,
    /// Number of observations.
    pub nobs: usize,
    /// Deviance (ML) or REML criterion.
    pub objective: f64,
    /// −objective/2.
    pub loglik: f64,
    /// AIC.
    pub aic: f64,
    /// BIC.
    pub bic: f64,
    /// Residual standard deviation.
    pub sigma: f64,
    /// θ̂ (lme4 layout).
    pub theta: Vec<f64>,
    /// Fixed effects.
    pub fixed: Vec<FixedJson>,
    /// Variance components, residual last.
    pub random: Vec<RandomJson>,
    /// Correlations within vector-valued terms.
    pub correlations: Vec<CorrelationJson>,
    /// Grouping factors.
    pub groups: Vec<GroupingFactor>,
    /// The convergence certificate passed.
    pub converged: bool,
    /// What the certificate measured and what it took.
    pub convergence: Convergence,
    /// Singular fit.
    pub singular: bool,
    /// Objective evaluations.
    pub evaluations: usize,
    /// Corrected AIC.
    pub aicc: f64,
    /// Number of parameters.
    pub dof: usize,
    /// Rows dropped for missing values.
    pub rows_dropped: usize,
    /// Aliased fixed-effects columns dropped.
    pub dropped_fixed: Vec<String>,
    /// Optimiser message.
    pub message: String,
    /// What the user should know (the notes of [`crate::Fit::notes`]; the text summary prints
    /// the same ones); empty for an unremarkable fit.
    pub notes: Vec<String>,
    /// The denominator-df method of the fixed-effects tests, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ddf: Option<Ddf>,
    /// The random effects with conditional SDs (lme4's `ranef(m, condVar = TRUE)`), on
    /// request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ranef: Option<Vec<RanefRow>>,
    /// Fitted values of the rows used, on request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fitted: Option<Vec<f64>>,
    /// Residuals of the rows used, on request (with `fitted`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residuals: Option<Vec<f64>>,
    /// Confidence intervals, on request (lme4's `confint(m, oldNames = FALSE)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confint: Option<Vec<ConfintRow>>,
    /// How the intervals were computed: `wald`, `profile` or `bootstrap`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confint_method: Option<String>,
    /// Their confidence level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confint_level: Option<f64>,
}

impl FitJson {
    /// The JSON form of `fit`, fitted from `formula`.
    pub fn new(fit: &FitResult, formula: &str) -> Self {
        let mut random = Vec::new();
        let mut correlations = Vec::new();
        for vc in &fit.variance_components {
            for (j, column) in vc.columns.iter().enumerate() {
                random.push(RandomJson {
                    group: vc.group.clone(),
                    term: column.clone(),
                    variance: vc.variances[j],
                    std_dev: vc.std_devs[j],
                });
            }
            for i in 0..vc.columns.len() {
                for j in i + 1..vc.columns.len() {
                    correlations.push(CorrelationJson {
                        group: vc.group.clone(),
                        term1: vc.columns[i].clone(),
                        term2: vc.columns[j].clone(),
                        correlation: vc.correlation(i, j),
                    });
                }
            }
        }
        random.push(RandomJson {
            group: "Residual".to_string(),
            term: String::new(),
            variance: fit.residual_variance(),
            std_dev: fit.sigma,
        });
        Self {
            formula: formula.to_string(),
            criterion: fit.criterion,
            family: None,
            link: None,
            nagq: None,
            deviance: None,
            df_resid: None,
            pirls_iterations: None,
            pirls_rows: None,
            nb_theta: None,
            nobs: fit.nobs,
            objective: fit.objective,
            loglik: fit.loglik,
            aic: fit.aic,
            bic: fit.bic,
            sigma: fit.sigma,
            theta: fit.theta.clone(),
            fixed: fit
                .fixed
                .iter()
                .map(|fe| FixedJson {
                    name: fe.name.clone(),
                    estimate: fe.estimate,
                    std_error: fe.std_error,
                    z: fe.z(),
                    p_value: fe.p_value(),
                    df: None,
                    statistic: None,
                })
                .collect(),
            random,
            correlations,
            groups: fit.groups.clone(),
            converged: fit.converged,
            convergence: fit.convergence.clone(),
            singular: fit.singular,
            evaluations: fit.evaluations,
            aicc: fit.aicc,
            dof: fit.dof,
            rows_dropped: fit.rows_dropped,
            dropped_fixed: fit.dropped_fixed.clone(),
            message: fit.message.clone(),
            notes: Vec::new(),
            ddf: None,
            ranef: None,
            fitted: None,
            residuals: None,
            confint: None,
            confint_method: None,
            confint_level: None,
        }
    }

    /// The same JSON with the fixed effects' t tests of `ddf` (df, statistic and their
    /// p-value); [`Ddf::None`] leaves the z tests.
    pub fn with_tests(mut self, ddf: Ddf, tests: &[CoefficientTest]) -> Self {
        if ddf == Ddf::None {
            return self;
        }
        self.ddf = Some(ddf);
        for (fixed, test) in self.fixed.iter_mut().zip(tests) {
            fixed.df = Some(test.df);
            fixed.statistic = Some(test.statistic);
            fixed.p_value = test.p_value;
        }
        self
    }

    /// The same JSON with `notes`.
    pub fn with_notes(mut self, notes: Vec<String>) -> Self {
        self.notes = notes;
        self
    }

    /// The JSON of a GLMM: family, link, nAGQ, deviance, residual degrees of freedom and
    /// PIRLS iterations added; no residual row in `random` (σ is 1 by definition) unless the
    /// family has a dispersion (Gamma).
    pub fn with_glmm(mut self, info: &GlmmInfo) -> Self {
        self.family = Some(info.family);
        self.link = Some(info.link);
        self.nagq = Some(info.nagq);
        self.deviance = Some(info.deviance);
        self.df_resid = Some(info.df_resid);
        self.pirls_iterations = Some(info.pirls_iterations);
        self.pirls_rows = Some(info.pirls_rows);
        self.nb_theta = info.family.shape();
        if !info.family.has_dispersion() {
            self.random
                .retain(|r| r.group != "Residual" || !r.term.is_empty());
        }
        self
    }

    /// Pretty-printed JSON text.
    pub fn to_string_pretty(&self) -> String {
        // Serialising plain structs of strings and numbers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
