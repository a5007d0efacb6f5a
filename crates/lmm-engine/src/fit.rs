//! The one entry point, [`fit`], and what it returns, [`Fit`]: a fitted model together with
//! its formula and the notes a user should see (rows dropped for missing values, aliased
//! columns, a singular or unconverged fit, a convergence certificate that needed restarts),
//! as lme4 prints them as messages.

use std::fmt;

use serde::Serialize;

use crate::design::ModelMatrices;
use crate::error::Error;
use crate::formula::Formula;
use crate::glmm::{Family, GeneralizedLinearMixedModel, GlmmInfo};
use crate::json::FitJson;
use crate::lmm::{
    ConditionalModes, Convergence, Criterion, FitResult, FixedEffect, LinearMixedModel, ModelError,
    VarianceComponent,
};
use crate::options::FitOptions;
use crate::summary::{FitSummary, NOT_CONVERGED_NOTE};
use crate::table::Table;

/// Fits the linear mixed model `formula` to `table`, as MixedModels.jl's
/// `fit(MixedModel, @formula(...), data)`.
///
/// The formula is lme4's (see [`Formula`]); rows with a missing value in a column the formula
/// uses are dropped, aliased fixed-effects columns are dropped, and both are recorded in
/// [`Fit::notes`].
pub fn fit(formula: &str, table: &Table, options: &FitOptions) -> Result<Fit, Error> {
    fit_with_progress(formula, table, options, |_, _| {})
}

/// [`fit`], calling `progress(evaluations, objective)` after every objective evaluation (for
/// a progress display).
pub fn fit_with_progress(
    formula: &str,
    table: &Table,
    options: &FitOptions,
    progress: impl FnMut(usize, f64),
) -> Result<Fit, Error> {
    if options.family.is_glmm() {
        return fit_glmm(Formula::parse(formula)?, table, options, progress);
    }
    fit_parts(formula, table, options, progress).map(|(fit, _, _)| fit)
}

/// [`fit_with_progress`], also returning the model matrices and the model, which post-fit
/// inference ([`crate::inference`]) reuses.
pub(crate) fn fit_parts(
    formula: &str,
    table: &Table,
    options: &FitOptions,
    progress: impl FnMut(usize, f64),
) -> Result<(Fit, ModelMatrices, LinearMixedModel), Error> {
    if options.family.is_glmm() {
        return Err(ModelError::Unsupported(
            "post-fit inference (df, intervals, the bootstrap, anova, predictions) is \
             implemented for linear mixed models only, not for GLMMs"
                .to_owned(),
        )
        .into());
    }
    let formula = Formula::parse(formula)?;
    let matrices = ModelMatrices::build_with_options(&formula, table, options)?;
    let mut notes = design_notes(&matrices, table.nrows());
    let mut model = LinearMixedModel::new(&matrices)?;
    let result = model.fit_with_progress(options, progress)?;
    notes.extend(fit_notes(&result));
    let fit = Fit {
        formula,
        result,
        notes,
        glmm: None,
    };
    Ok((fit, matrices, model))
}

/// The GLMM path of [`fit`]: the family's response, PIRLS and the Laplace/AGQ deviance.
fn fit_glmm(
    formula: Formula,
    table: &Table,
    options: &FitOptions,
    mut progress: impl FnMut(usize, f64),
) -> Result<Fit, Error> {
    let (matrices, response) = ModelMatrices::build_glm(&formula, table, options)?;
    let mut notes = design_notes(&matrices, table.nrows());
    notes.extend(response.notes.iter().cloned());
    let (result, info) = if let Family::NegativeBinomial(_, None) = options.family {
        crate::glmm::fit_estimated_shape(&matrices, &response, options, &mut progress)?
    } else {
        let mut model = GeneralizedLinearMixedModel::new(&matrices, &response, options.family)?;
        model.fit_with_progress(options, &mut progress)?
    };
    notes.extend(info.notes.iter().cloned());
    notes.extend(fit_notes(&result));
    Ok(Fit {
        formula,
        result,
        notes,
        glmm: Some(info),
    })
}

/// The notes about what the design step dropped or noticed.
fn design_notes(matrices: &ModelMatrices, table_rows: usize) -> Vec<String> {
    let mut notes = Vec::new();
    if matrices.rows_dropped > 0 {
        notes.push(format!(
            "{} of {} rows dropped for missing values in the formula's columns",
            matrices.rows_dropped, table_rows
        ));
    }
    notes.extend(matrices.notes.iter().cloned());
    if !matrices.dropped_fixed.is_empty() {
        let k = matrices.dropped_fixed.len();
        notes.push(format!(
            "fixed-effect model matrix is rank deficient so dropping {k} column{}: {}",
            if k == 1 { "" } else { "s" },
            matrices.dropped_fixed.join(", ")
        ));
    }
    notes
}

/// The notes about how the optimisation ended.
fn fit_notes(result: &FitResult) -> Vec<String> {
    let mut notes = Vec::new();
    if !result.converged {
        notes.push(format!(
            "{NOT_CONVERGED_NOTE} after {} evaluations: {}",
            result.evaluations, result.message
        ));
    } else if let Some(note) = result.convergence.restart_note() {
        notes.push(note);
    }
    if result.singular {
        notes.push("boundary (singular) fit: see the variance components".to_owned());
    }
    notes
}

/// A fitted model with its formula and notes. `Display` prints the MixedModels.jl-style
/// summary; `Serialize` writes the JSON form ([`FitJson`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    formula: Formula,
    result: FitResult,
    notes: Vec<String>,
    /// The family, link, quadrature and deviance of a GLMM; `None` for an LMM.
    glmm: Option<GlmmInfo>,
}

impl Fit {
    /// The parsed formula.
    pub fn formula(&self) -> &Formula {
        &self.formula
    }

    /// Everything the fit computed, with lme4's conventions.
    pub fn result(&self) -> &FitResult {
        &self.result
    }

    /// What a user should know about the fit: dropped rows and columns, non-convergence (with
    /// the failed check), restarts the convergence certificate needed, a singular fit. Empty
    /// for an unremarkable fit.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// ML or REML.
    pub fn criterion(&self) -> Criterion {
        self.result.criterion
    }

    /// The fixed-effects coefficients with their standard errors, in X's column order.
    pub fn coefficients(&self) -> &[FixedEffect] {
        &self.result.fixed
    }

    /// β̂ in X's column order.
    pub fn beta(&self) -> Vec<f64> {
        self.result.beta()
    }

    /// Standard errors of β̂.
    pub fn std_errors(&self) -> Vec<f64> {
        self.result.std_errors()
    }

    /// The variance components per random-effects term, in lme4's order (formula order unless
    /// a later term has more levels; see [`ModelMatrices::terms`]).
    pub fn variance_components(&self) -> &[VarianceComponent] {
        &self.result.variance_components
    }

    /// Residual standard deviation σ̂.
    pub fn sigma(&self) -> f64 {
        self.result.sigma
    }

    /// Log-likelihood (for REML fits, −REML criterion/2, as lme4).
    pub fn loglik(&self) -> f64 {
        self.result.loglik
    }

    /// Akaike's information criterion.
    pub fn aic(&self) -> f64 {
        self.result.aic
    }

    /// Schwarz's Bayesian information criterion.
    pub fn bic(&self) -> f64 {
        self.result.bic
    }

    /// Deviance (ML) or REML criterion at the optimum.
    pub fn objective(&self) -> f64 {
        self.result.objective
    }

    /// θ̂ in lme4's layout (per term, the lower triangle of its relative covariance factor,
    /// column by column).
    pub fn theta(&self) -> &[f64] {
        &self.result.theta
    }

    /// Conditional modes of the random effects and their conditional standard deviations, per
    /// term in the order of [`Fit::variance_components`].
    pub fn conditional_modes(&self) -> &[ConditionalModes] {
        &self.result.random_effects
    }

    /// Whether the fit converged: the convergence certificate passed at θ̂ (see
    /// [`Fit::convergence`]).
    pub fn converged(&self) -> bool {
        self.result.converged
    }

    /// What the convergence certificate found and what it took to pass it.
    pub fn convergence(&self) -> &Convergence {
        &self.result.convergence
    }

    /// lme4's `isSingular`.
    pub fn singular(&self) -> bool {
        self.result.singular
    }

    /// For a generalised linear mixed model: its family, link, number of quadrature points,
    /// deviance and PIRLS iterations; `None` for a linear mixed model.
    pub fn glmm(&self) -> Option<&GlmmInfo> {
        self.glmm.as_ref()
    }

    /// The JSON form, with the notes.
    pub fn to_json(&self) -> FitJson {
        let json = FitJson::new(&self.result, self.formula.text()).with_notes(self.notes.clone());
        match &self.glmm {
            Some(info) => json.with_glmm(info),
            None => json,
        }
    }

    /// The printable summary, ending with the notes.
    pub fn summary(&self) -> FitSummary<'_> {
        FitSummary {
            notes: Some(&self.notes),
            glmm: self.glmm.as_ref(),
            ..self.result.summary(self.formula.text())
        }
    }
}

impl fmt::Display for Fit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.summary().fmt(f)
    }
}

impl Serialize for Fit {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}
