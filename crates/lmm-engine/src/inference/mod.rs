//! Post-fit inference for linear mixed models, as lmerTest, pbkrtest and lme4 do it after
//! `lmer()`: denominator degrees of freedom for the fixed effects ([`satterthwaite`],
//! [`kenward_roger`]), the random effects with their conditional standard deviations
//! ([`ranef`]), fitted values and residuals ([`fitted`]), confidence intervals
//! ([`confint`]: Wald, profile, parametric bootstrap), the parametric bootstrap itself
//! ([`bootstrap`]), likelihood-ratio tests between nested models ([`anova`]) and predictions
//! for new data ([`predict`]).
//!
//! Everything starts from a [`FittedModel`]: a [`Fit`] together with the model matrices and
//! the [`LinearMixedModel`] it came from, so that a refit (at another θ, with another
//! response, with a fixed effect held fixed) reuses the model's cross-products and factor
//! instead of rebuilding the design from the table.
//!
//! ```
//! use lmm_engine::inference::{Ddf, FittedModel};
//! use lmm_engine::{Column, Criterion, FitOptions, Table};
//! let mut y = Vec::new();
//! let mut g = Vec::new();
//! for i in 0..40 {
//!     g.push(Some(format!("g{}", i % 8)));
//!     y.push(Some((i % 8) as f64 + ((i * 7) % 5) as f64 * 0.3));
//! }
//! let table = Table::new()
//!     .with("y", Column::Numeric(y))
//!     .with("g", Column::Text(g));
//! let options = FitOptions::default().with_criterion(Criterion::Reml);
//! let mut model = FittedModel::fit("y ~ 1 + (1 | g)", &table, &options)?;
//! let tests = model.coefficient_tests(Ddf::Satterthwaite)?;
//! assert!(tests[0].df > 1.0 && tests[0].df < 40.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod anova;
pub mod bootstrap;
pub mod confint;
mod distributions;
pub mod fitted;
pub mod kenward_roger;
pub mod predict;
pub mod ranef;
pub mod satterthwaite;
mod tests_df;

use serde::Serialize;

use crate::design::ModelMatrices;
use crate::error::Error;
use crate::fit::{fit_parts, Fit};
use crate::lmm::{LinearMixedModel, ModelError};
use crate::options::FitOptions;
use crate::table::Table;

pub use distributions::{chi_squared_upper, normal_quantile, student_t_two_sided};
pub use tests_df::{CoefficientTest, Ddf};

/// A fit together with what produced it: the model matrices (for fitted values, the
/// bootstrap's simulations and Kenward–Roger's covariance) and the model (for the objective
/// at any θ and for refits).
pub struct FittedModel {
    fit: Fit,
    matrices: ModelMatrices,
    model: LinearMixedModel,
    options: FitOptions,
    /// The `offset()` terms' sum over the rows used (`None` without offsets).
    offsets: Option<Vec<f64>>,
}

impl FittedModel {
    /// Fits `formula` to `table` as [`crate::fit`] does, keeping the matrices and the model.
    pub fn fit(formula: &str, table: &Table, options: &FitOptions) -> Result<Self, Error> {
        Self::fit_with_progress(formula, table, options, |_, _| {})
    }

    /// [`FittedModel::fit`] with a progress callback (see [`crate::fit_with_progress`]).
    pub fn fit_with_progress(
        formula: &str,
        table: &Table,
        options: &FitOptions,
        progress: impl FnMut(usize, f64),
    ) -> Result<Self, Error> {
        let (fit, matrices, model) = fit_parts(formula, table, options, progress)?;
        let offsets =
            ModelMatrices::offsets(fit.formula(), table, options, None).map_err(Error::from)?;
        Ok(Self {
            fit,
            matrices,
            model,
            options: options.clone(),
            offsets,
        })
    }

    /// The fit.
    pub fn fit_result(&self) -> &Fit {
        &self.fit
    }

    /// The model matrices the fit used (rows with missing values already dropped).
    pub fn matrices(&self) -> &ModelMatrices {
        &self.matrices
    }

    /// The sum of the formula's `offset()` terms over the rows used, if it has any.
    pub fn offsets(&self) -> Option<&[f64]> {
        self.offsets.as_deref()
    }

    /// lme4's `fitted(m)` and `residuals(m)` (the fitted values include the offsets).
    pub fn fitted_values(&self) -> fitted::FittedValues {
        fitted::fitted_values(&self.fit, &self.matrices, self.offsets())
    }

    /// The options it was fitted with.
    pub fn options(&self) -> &FitOptions {
        &self.options
    }

    /// The model, for evaluations at other θ.
    pub(crate) fn model_mut(&mut self) -> &mut LinearMixedModel {
        &mut self.model
    }

    /// The confidence intervals of every parameter by `method` at `level`; the bootstrap
    /// needs its `replicates` (see [`FittedModel::bootstrap`]).
    pub fn confint(
        &mut self,
        method: confint::ConfintMethod,
        level: f64,
        replicates: Option<&[bootstrap::Replicate]>,
    ) -> Result<Vec<confint::ConfintRow>, InferenceError> {
        if !(level > 0.0 && level < 1.0) {
            return Err(InferenceError::Input(format!(
                "the confidence level must be in (0, 1), not {level}"
            )));
        }
        match method {
            confint::ConfintMethod::Wald => Ok(confint::wald::wald(&self.fit, level)),
            confint::ConfintMethod::Profile => confint::profile::profile(self, level),
            confint::ConfintMethod::Bootstrap => {
                let replicates = replicates.ok_or_else(|| {
                    InferenceError::Input("bootstrap intervals need the replicates".to_owned())
                })?;
                Ok(confint::bootstrap::percentile(
                    &self.fit,
                    self.model.theta_layout(),
                    replicates,
                    level,
                ))
            }
        }
    }

    /// The parametric bootstrap (see [`bootstrap`]); `progress(done)` as replicates finish.
    pub fn bootstrap(
        &self,
        options: bootstrap::BootstrapOptions,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<bootstrap::Replicate>, InferenceError> {
        bootstrap::parametric_bootstrap(self, options, progress)
    }

    /// lme4's θ names (`Subject.(Intercept)`, …), for tables of replicates.
    pub fn theta_names(&self) -> Vec<String> {
        confint::names::theta_names(self.fit.variance_components())
    }

    /// The fixed-effects tests with denominator degrees of freedom by `ddf`.
    pub fn coefficient_tests(&mut self, ddf: Ddf) -> Result<Vec<CoefficientTest>, InferenceError> {
        match ddf {
            Ddf::None => Ok(tests_df::z_tests(&self.fit)),
            Ddf::Satterthwaite => satterthwaite::tests(self),
            Ddf::KenwardRoger => kenward_roger::tests(self),
        }
    }
}

/// Why an inference step could not be carried out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InferenceError {
    /// The model could not be evaluated or refitted.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Fitting a model failed (anova's models, a refit by ML).
    #[error(transparent)]
    Fit(#[from] Error),
    /// The method needs a REML fit (Kenward–Roger, as pbkrtest).
    #[error("{0} needs a REML fit (refit with --reml)")]
    NeedsReml(&'static str),
    /// The model is too large for a method whose cost grows with n² (Kenward–Roger's dense
    /// n×n covariance).
    #[error("{method} forms dense {n}×{n} matrices; this implementation refuses more than {limit} observations")]
    TooLarge {
        /// The method.
        method: &'static str,
        /// Observations in the model.
        n: usize,
        /// The largest n accepted.
        limit: usize,
    },
    /// The input is unusable for this step (models fitted to different rows, a new level
    /// without permission, a bad argument); the message says which.
    #[error("{0}")]
    Input(String),
    /// A numerical step failed (a Hessian that is not positive definite, …).
    #[error("{0}")]
    Numerical(String),
}

impl InferenceError {
    /// True when the user's input is at fault (what the CLI reports with exit code 2).
    pub fn is_input_error(&self) -> bool {
        match self {
            InferenceError::Input(_) | InferenceError::NeedsReml(_) => true,
            InferenceError::TooLarge { .. } => true,
            InferenceError::Fit(e) => e.is_input_error(),
            InferenceError::Model(e) => e.is_input_error(),
            InferenceError::Numerical(_) => false,
        }
    }
}

/// A serialisable pair of bounds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interval {
    /// Lower bound (`null` when undefined).
    pub lower: Option<f64>,
    /// Upper bound (`null` when undefined).
    pub upper: Option<f64>,
}
