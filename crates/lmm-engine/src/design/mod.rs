//! Model matrices built from a parsed formula and a [`Table`]: the fixed-effects
//! matrix X (treatment contrasts, interactions, aliased columns dropped), the response y and one
//! [`RandomEffectsTerm`] per random-effects term.
//!
//! This module owns the step from a [`Formula`] and a [`Table`] to numbers, with R's conventions
//! (`model.frame` + `model.matrix`, as lme4 uses them):
//! - rows with a missing cell in any column the formula uses are dropped (`na.omit`);
//! - text columns, `factor(x)` and columns declared in [`FitOptions::factors`] are factors
//!   whose levels are the distinct values present, in byte order (numerically for numbers); a
//!   factor is coded by contrasts (treatment by default, first level as reference; R's
//!   `contr.sum`/`contr.helmert` on request) or by full indicators according to R's rule (see
//!   `codings`); interaction columns are products, first factor varying fastest, named
//!   `recipeB:temp`;
//! - calls are evaluated as R evaluates them on the data (`transform`): `log`, `I()`, `poly`
//!   (R's orthogonal basis), `scale`; `offset()` terms are subtracted from the response;
//! - columns of X that are linear combinations of earlier ones are dropped, as `lm` and `lmer` do;
//! - grouping factors are text columns, integer columns (kept exact) or integer-valued numeric
//!   columns (levels sorted numerically), and their interactions, with the observed
//!   combinations as levels.
//!
//! Data problems (unknown or non-numeric columns, non-finite values, degenerate factors) are
//! reported as [`DesignError`]s that name the column, row or formula position.
//!
//! One step per file: [`frame`] (the model frame and its variables), [`transform`] (the
//! numbers of calls), [`factor`] (factors and grouping factors), [`coding`] (contrasts and
//! interactions), [`aliasing`], [`random`] (random-effects terms), [`notes`], [`error`].

mod aliasing;
mod coding;
mod error;
mod factor;
mod frame;
mod glm_response;
mod notes;
mod random;
#[cfg(test)]
mod tests;
mod transform;

use faer::Mat;

use crate::formula::Formula;
use crate::options::FitOptions;
use crate::table::Table;

use aliasing::drop_aliased;
pub use error::DesignError;
use frame::ModelFrame;
pub use glm_response::GlmResponse;

/// One random-effects term `(z1 + z2 + … | group)`, stored in the compact "ReMat" form of
/// MixedModels.jl: for every observation the index of its grouping level and its `k` model-row
/// values. Z itself (n × levels·k, sparse) is implied: observation `i` has the entries
/// `z[i*k + j]` in columns `refs[i]*k + j`, `j = 0..k` (level-major column order, as lme4).
#[derive(Debug, Clone, PartialEq)]
pub struct RandomEffectsTerm {
    /// The grouping factor as written in the formula: `Subject`, `a:b`.
    pub group: String,
    /// Names of the term's columns, in order: `(Intercept)`, `Days`, `recipeB`, …
    pub columns: Vec<String>,
    /// Level names of the grouping factor, sorted (numerically for integer columns).
    pub levels: Vec<String>,
    /// Level index of each observation, `refs[i] < levels.len()`.
    pub refs: Vec<u32>,
    /// Row-major n × k values of the term's model matrix.
    pub z: Vec<f64>,
}

impl RandomEffectsTerm {
    /// Number of columns per level (k).
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Number of grouping levels.
    pub fn nlevels(&self) -> usize {
        self.levels.len()
    }

    /// Number of random effects this term contributes (levels × k).
    pub fn nranef(&self) -> usize {
        self.nlevels() * self.width()
    }
}

/// Everything the estimators need from data + formula.
#[derive(Debug, Clone)]
pub struct ModelMatrices {
    /// Response column name.
    pub response: String,
    /// Response (its transform, for `log(y) ~ …`) minus the offsets, length n.
    pub y: Vec<f64>,
    /// Fixed-effects model matrix, n × p, full column rank.
    pub x: Mat<f64>,
    /// Names of X's columns, R style: `(Intercept)`, `Days`, `recipeB`, `recipeB:temp`.
    pub fixed_names: Vec<String>,
    /// Columns removed because they were linear combinations of earlier ones (lme4's
    /// "fixed-effect model matrix is rank deficient so dropping k columns").
    pub dropped_fixed: Vec<String>,
    /// Random-effects terms in lme4's order: formula order (`(1|a/b)` expands to `a` then
    /// `b:a`; `||` splits a term into one term per column, all with the same group name),
    /// unless a later term has more grouping levels than an earlier one; then by number of
    /// levels, decreasing, as lme4's `mkReTrms` orders them (`rev(order(nlevels))`, which also
    /// reverses ties).
    pub terms: Vec<RandomEffectsTerm>,
    /// Rows removed because a column used by the formula had a missing cell.
    pub rows_dropped: usize,
    /// Prior weights (lme4's `weights=`), one per observation, all positive; `None` for
    /// unit weights. The model is fitted to √w-scaled rows of y, X and Z.
    pub weights: Option<Vec<f64>>,
    /// What the user should know about how the data entered the model (integer codes used as
    /// numbers, …), as sentences.
    pub notes: Vec<String>,
}

/// lme4's order of the random-effects terms (see [`ModelMatrices::terms`]).
fn lme4_order(terms: Vec<RandomEffectsTerm>) -> Vec<RandomEffectsTerm> {
    let levels: Vec<usize> = terms.iter().map(RandomEffectsTerm::nlevels).collect();
    if !levels.windows(2).any(|w| w[1] > w[0]) {
        return terms;
    }
    let mut order: Vec<usize> = (0..terms.len()).collect();
    order.sort_by_key(|&i| levels[i]);
    order.reverse();
    let mut terms: Vec<Option<RandomEffectsTerm>> = terms.into_iter().map(Some).collect();
    order.iter().filter_map(|&i| terms[i].take()).collect()
}

impl ModelMatrices {
    /// Number of observations used.
    pub fn nobs(&self) -> usize {
        self.y.len()
    }
}

impl ModelMatrices {
    /// Builds y, X and the random-effects terms of `formula` from `table`, with the default
    /// options (no declared factors, treatment contrasts, unit weights).
    ///
    /// Rows with a missing cell in a used column are dropped first; factor levels are those
    /// present in the remaining rows. See the module docs for the coding conventions.
    pub fn build(formula: &Formula, table: &Table) -> Result<ModelMatrices, DesignError> {
        Self::build_with_options(formula, table, &FitOptions::default())
    }

    /// [`ModelMatrices::build`] with the design options of `options`: columns declared
    /// categorical ([`FitOptions::factors`]), contrasts ([`FitOptions::contrasts`]) and prior
    /// weights ([`FitOptions::weights`]).
    pub fn build_with_options(
        formula: &Formula,
        table: &Table,
        options: &FitOptions,
    ) -> Result<ModelMatrices, DesignError> {
        Self::build_with_reference(formula, table, options, None)
    }

    /// [`ModelMatrices::build_with_options`] with `scale()` and `poly()` parameters taken from
    /// the first `reference_rows` table rows (training rows with new rows stacked below them).
    pub(crate) fn build_with_reference(
        formula: &Formula,
        table: &Table,
        options: &FitOptions,
        reference_rows: Option<usize>,
    ) -> Result<ModelMatrices, DesignError> {
        let (mut data, rows_dropped) = ModelFrame::new(formula, table, options)?;
        data.reference_rows = reference_rows;
        data.check_contrasts()?;
        let y = data.response()?;
        let weights = data.weights()?;
        Self::assemble(&data, formula, y, weights, rows_dropped)
    }

    /// The model matrices of a GLMM and its response as `options.family` defines it
    /// ([`GlmResponse`]); `y` of the matrices is the response without the offsets, and the
    /// prior weights are in the response (its `weights`), not in the matrices.
    pub fn build_glm(
        formula: &Formula,
        table: &Table,
        options: &FitOptions,
    ) -> Result<(ModelMatrices, GlmResponse), DesignError> {
        let (data, rows_dropped) = ModelFrame::new(formula, table, options)?;
        data.check_contrasts()?;
        let response = data.glm_response(options.family)?;
        let mm = Self::assemble(&data, formula, response.y.clone(), None, rows_dropped)?;
        Ok((mm, response))
    }

    /// X, the random-effects terms and the notes over the frame's rows, with `y`.
    fn assemble(
        data: &ModelFrame<'_>,
        formula: &Formula,
        y: Vec<f64>,
        weights: Option<Vec<f64>>,
        rows_dropped: usize,
    ) -> Result<ModelMatrices, DesignError> {
        let (kept, dropped) = drop_aliased(data.model_columns(formula.fixed())?);
        let x = Mat::from_fn(data.nobs(), kept.len(), |i, j| kept[j].values[i]);
        let fixed_names = kept.into_iter().map(|c| c.name).collect();
        let terms = formula
            .random()
            .iter()
            .map(|term| data.random_term(term))
            .collect::<Result<Vec<_>, _>>()?;
        let terms = lme4_order(terms);

        Ok(ModelMatrices {
            response: formula.response().to_owned(),
            y,
            x,
            fixed_names,
            dropped_fixed: dropped,
            terms,
            rows_dropped,
            weights,
            notes: data.notes(),
        })
    }

    /// The sum of the formula's `offset()` terms over the rows the model uses (what the
    /// response has had subtracted), with `scale()`/`poly()` parameters as
    /// [`ModelMatrices::build_with_reference`]; `None` for a formula without offsets.
    pub(crate) fn offsets(
        formula: &Formula,
        table: &Table,
        options: &FitOptions,
        reference_rows: Option<usize>,
    ) -> Result<Option<Vec<f64>>, DesignError> {
        if formula.offsets().is_empty() {
            return Ok(None);
        }
        let (mut data, _) = ModelFrame::new(formula, table, options)?;
        data.reference_rows = reference_rows;
        data.offset_total()
    }

    /// A copy with the rows of y, X and every Z multiplied by √wᵢ and unit weights: the
    /// unweighted model with the same estimates (what the cross-products are formed from).
    pub fn scaled_by_weights(&self) -> ModelMatrices {
        let mut scaled = self.clone();
        let Some(weights) = scaled.weights.take() else {
            return scaled;
        };
        let roots: Vec<f64> = weights.iter().map(|w| w.sqrt()).collect();
        for (y, r) in scaled.y.iter_mut().zip(&roots) {
            *y *= r;
        }
        let (n, p) = (scaled.x.nrows(), scaled.x.ncols());
        scaled.x = Mat::from_fn(n, p, |i, j| self.x[(i, j)] * roots[i]);
        for term in &mut scaled.terms {
            let k = term.width();
            for (i, r) in roots.iter().enumerate() {
                for z in &mut term.z[i * k..(i + 1) * k] {
                    *z *= r;
                }
            }
        }
        scaled
    }

    /// Σ log wᵢ over the prior weights (0 without weights): −2 log L of the weighted model is
    /// that of the √w-scaled one minus this sum.
    pub fn sum_log_weights(&self) -> f64 {
        self.weights
            .as_ref()
            .map_or(0.0, |w| w.iter().map(|w| w.ln()).sum())
    }
}
