//! [`LinearMixedModel`]: the public face of the engine. Owns the cross-products and the
//! factor, evaluates the profiled objective at any θ, runs the optimiser and assembles the
//! [`FitResult`].

use crate::design::ModelMatrices;

use super::cholesky::BlockedCholesky;
use super::crossprod::CrossProducts;
use super::deviance::{Criterion, ProfiledDeviance};
use super::estimates;
use super::gradient::SingleTermGradient;
use super::optimizer::{minimize_bobyqa, FitOptions, OptimizerChoice, OptimizerOutcome};
use super::quasi_newton::{minimize_projected_bfgs, BfgsSettings};
use super::result::{
    ConditionalModes, FitResult, FixedEffect, GroupingFactor, InformationCriteria,
    VarianceComponent,
};
use super::theta::{relative_covariance, ThetaLayout};
use super::ModelError;

/// lme4's `isSingular` tolerance on diagonal θ elements.
pub const SINGULAR_TOLERANCE: f64 = 1e-4;

/// Names carried from the model matrices to the result.
#[derive(Debug, Clone)]
struct TermLabels {
    group: String,
    columns: Vec<String>,
    levels: Vec<String>,
}

/// A linear mixed model ready to be fitted: cross-products formed, factor allocated.
pub struct LinearMixedModel {
    factor: BlockedCholesky,
    layout: ThetaLayout,
    response: String,
    fixed_names: Vec<String>,
    dropped_fixed: Vec<String>,
    rows_dropped: usize,
    /// Per term, formula order.
    labels: Vec<TermLabels>,
    nobs: usize,
    /// θ the factor currently holds (None before the first update or after a failure).
    factored_at: Option<Vec<f64>>,
}

impl LinearMixedModel {
    /// Validates the model matrices and forms the cross-products (the only pass over the
    /// observations).
    pub fn new(mm: &ModelMatrices) -> Result<Self, ModelError> {
        let cross_products = CrossProducts::new(mm)?;
        let layout = ThetaLayout::for_terms(&mm.terms);
        Ok(Self {
            factor: BlockedCholesky::new(cross_products, layout.clone()),
            layout,
            response: mm.response.clone(),
            fixed_names: mm.fixed_names.clone(),
            dropped_fixed: mm.dropped_fixed.clone(),
            rows_dropped: mm.rows_dropped,
            labels: mm
                .terms
                .iter()
                .map(|t| TermLabels {
                    group: t.group.clone(),
                    columns: t.columns.clone(),
                    levels: t.levels.clone(),
                })
                .collect(),
            nobs: mm.nobs(),
            factored_at: None,
        })
    }

    /// The θ layout (formula order).
    pub fn theta_layout(&self) -> &ThetaLayout {
        &self.layout
    }

    /// Number of observations.
    pub fn nobs(&self) -> usize {
        self.nobs
    }

    /// Number of fixed-effects parameters.
    pub fn nfixed(&self) -> usize {
        self.fixed_names.len()
    }

    /// The profiled objective at `theta` (formula order): the deviance for ML, the REML
    /// criterion for REML. NaN when `theta` has the wrong length, +∞ when the fixed-effects
    /// block is not positive definite (see [`LinearMixedModel::try_objective`]).
    pub fn objective(&mut self, theta: &[f64], criterion: Criterion) -> f64 {
        match self.try_objective(theta, criterion) {
            Ok(v) => v,
            Err(ModelError::ThetaLength { .. }) => f64::NAN,
            Err(_) => f64::INFINITY,
        }
    }

    /// The profiled objective at `theta`, with the reason when it cannot be computed.
    pub fn try_objective(
        &mut self,
        theta: &[f64],
        criterion: Criterion,
    ) -> Result<f64, ModelError> {
        self.refactor(theta)?;
        Ok(ProfiledDeviance::from_factor(&self.factor).objective(criterion))
    }

    /// Brings the factor to `theta`.
    fn refactor(&mut self, theta: &[f64]) -> Result<(), ModelError> {
        if theta.len() != self.layout.len() {
            return Err(ModelError::ThetaLength {
                got: theta.len(),
                expected: self.layout.len(),
            });
        }
        if self.factored_at.as_deref() == Some(theta) {
            return Ok(());
        }
        self.factored_at = None;
        let m = self.factor.terms().len();
        if theta.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite("theta".to_string()));
        }
        self.factor.update(theta).map_err(|e| {
            ModelError::NotPositiveDefinite(if e.block == m {
                "X is rank deficient given the random effects, or y is fitted exactly".to_string()
            } else {
                format!("random-effects block {}", e.block)
            })
        })?;
        // Non-finite logs (r = 0, exact fit) are reported as not positive definite too.
        let pd = ProfiledDeviance::from_factor(&self.factor);
        if !(pd.pwrss > 0.0 && pd.logdet_fixed.is_finite() && pd.logdet_random.is_finite()) {
            return Err(ModelError::NotPositiveDefinite(
                "the penalised residual sum of squares is zero: y is fitted exactly".to_string(),
            ));
        }
        self.factored_at = Some(theta.to_vec());
        Ok(())
    }

    /// Fits the model by ML or REML.
    pub fn fit(
        &mut self,
        criterion: Criterion,
        options: &FitOptions,
    ) -> Result<FitResult, ModelError> {
        self.fit_with_progress(criterion, options, |_, _| {})
    }

    /// Fits the model, calling `progress(evaluations, objective)` after every objective
    /// evaluation (for a CLI progress display).
    pub fn fit_with_progress<P: FnMut(usize, f64)>(
        &mut self,
        criterion: Criterion,
        options: &FitOptions,
        mut progress: P,
    ) -> Result<FitResult, ModelError> {
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
        let lower = self.layout.lower_bounds();
        let mut evaluations = 0usize;
        let single_term = self.factor.terms().len() == 1;
        let use_bfgs = single_term && options.optimizer != OptimizerChoice::Bobyqa;
        let mut outcome: Option<OptimizerOutcome> = None;
        let mut bobyqa_start = start.clone();
        if use_bfgs {
            let term = &self.factor.terms()[0];
            let mut gradient = SingleTermGradient::new(term.width, self.fixed_names.len());
            let settings = BfgsSettings {
                max_evaluations: options.max_evaluations,
                ..BfgsSettings::default()
            };
            let result = minimize_projected_bfgs(
                |theta, grad| {
                    let f = self.objective(theta, criterion);
                    if f.is_finite() {
                        gradient.compute(&self.factor, criterion, grad);
                    } else {
                        grad.fill(0.0);
                    }
                    evaluations += 1;
                    progress(evaluations, f);
                    f
                },
                &start,
                &lower,
                &settings,
            );
            if !result.converged && evaluations < options.max_evaluations && result.f.is_finite() {
                bobyqa_start = result.x.clone();
            }
            if result.converged || evaluations >= options.max_evaluations {
                outcome = Some(OptimizerOutcome {
                    theta: result.x,
                    objective: result.f,
                    evaluations,
                    converged: result.converged,
                    message: format!("projected BFGS with exact gradient: {}", result.message),
                });
            }
        }
        let mut outcome = match outcome {
            Some(o) => o,
            None => {
                // BOBYQA, or the fallback when the gradient search did not converge.
                let bobyqa = minimize_bobyqa(
                    |theta| {
                        let f = self.objective(theta, criterion);
                        evaluations += 1;
                        progress(evaluations, f);
                        f
                    },
                    &bobyqa_start,
                    &lower,
                    options,
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

    /// Builds the result from the factor at θ̂.
    fn assemble(
        &self,
        criterion: Criterion,
        theta: Vec<f64>,
        objective: f64,
        evaluations: usize,
        converged: bool,
        message: String,
    ) -> FitResult {
        let pd = ProfiledDeviance::from_factor(&self.factor);
        let sigma2 = pd.sigma_squared(criterion);
        let p = self.fixed_names.len();
        let (beta, linv) = estimates::fixed_effects(&self.factor);
        let fixed_covariance = estimates::fixed_covariance(&linv, p, sigma2);
        let fixed = self
            .fixed_names
            .iter()
            .enumerate()
            .map(|(i, name)| FixedEffect {
                name: name.clone(),
                estimate: beta[i],
                std_error: fixed_covariance[i * p + i].sqrt(),
            })
            .collect();

        let u = estimates::spherical_modes(&self.factor, &beta);
        let modes = estimates::conditional_modes(&self.factor, &u);
        let covariances = estimates::conditional_covariances(&self.factor, sigma2);
        // Internal order → formula order.
        let mut internal_of = vec![0usize; self.labels.len()];
        for (t, term) in self.factor.terms().iter().enumerate() {
            internal_of[term.formula_index] = t;
        }

        let mut variance_components = Vec::with_capacity(self.labels.len());
        let mut random_effects = Vec::with_capacity(self.labels.len());
        let mut groups: Vec<GroupingFactor> = Vec::new();
        for (f, labels) in self.labels.iter().enumerate() {
            let t = internal_of[f];
            let k = labels.columns.len();
            let mut lambda = vec![0.0; k * k];
            self.layout.fill_lambda(f, &theta, &mut lambda);
            let rel = relative_covariance(k, &lambda);
            let variances: Vec<f64> = (0..k).map(|i| sigma2 * rel[i + i * k]).collect();
            let std_devs: Vec<f64> = variances.iter().map(|v| v.sqrt()).collect();
            let mut correlations = vec![0.0; k * k];
            for i in 0..k {
                for j in 0..k {
                    correlations[i * k + j] = if i == j {
                        1.0
                    } else {
                        let d = (rel[i + i * k] * rel[j + j * k]).sqrt();
                        if d > 0.0 {
                            rel[i + j * k] / d
                        } else {
                            0.0
                        }
                    };
                }
            }
            variance_components.push(VarianceComponent {
                group: labels.group.clone(),
                columns: labels.columns.clone(),
                variances,
                std_devs,
                correlations,
            });
            let cov = &covariances[t];
            let conditional_sd = cov
                .chunks_exact(k * k)
                .flat_map(|c| (0..k).map(move |j| c[j + j * k].max(0.0).sqrt()))
                .collect();
            random_effects.push(ConditionalModes {
                group: labels.group.clone(),
                columns: labels.columns.clone(),
                levels: labels.levels.clone(),
                modes: modes[t].clone(),
                conditional_sd,
            });
            if !groups.iter().any(|g| g.name == labels.group) {
                groups.push(GroupingFactor {
                    name: labels.group.clone(),
                    levels: labels.levels.len(),
                });
            }
        }

        let dof = p + theta.len() + 1;
        let ic = InformationCriteria::new(objective, dof, self.nobs);
        FitResult {
            criterion,
            response: self.response.clone(),
            nobs: self.nobs,
            singular: self.layout.is_singular(&theta, SINGULAR_TOLERANCE),
            theta,
            fixed,
            fixed_covariance,
            sigma: sigma2.sqrt(),
            objective,
            loglik: ic.loglik,
            aic: ic.aic,
            aicc: ic.aicc,
            bic: ic.bic,
            dof,
            variance_components,
            random_effects,
            groups,
            converged,
            evaluations,
            message,
            dropped_fixed: self.dropped_fixed.clone(),
            rows_dropped: self.rows_dropped,
        }
    }
}
