//! Model matrices built from a parsed formula and a [`Table`]: the fixed-effects
//! matrix X (treatment contrasts, interactions, aliased columns dropped), the response y and one
//! [`RandomEffectsTerm`] per random-effects term.
//!
//! This module owns the step from a [`Formula`] and a [`Table`] to numbers, with R's conventions
//! (`model.frame` + `model.matrix`, as lme4 uses them):
//! - rows with a missing cell in any column the formula uses are dropped (`na.omit`);
//! - text columns are factors whose levels are the distinct values present, in byte order; a
//!   factor is coded by treatment contrasts (first level as reference) or by full indicators
//!   according to R's rule (see `codings`); interaction columns are products, first factor
//!   varying fastest, named `recipeB:temp`;
//! - columns of X that are linear combinations of earlier ones are dropped, as `lm` and `lmer` do;
//! - grouping factors are text columns, integer columns (kept exact) or integer-valued numeric
//!   columns (levels sorted numerically), and their interactions, with the observed
//!   combinations as levels.
//!
//! Data problems (unknown or non-numeric columns, non-finite values, degenerate factors) are
//! reported as [`DesignError`]s that name the column, row or formula position.
//!
//! One step per file: [`frame`] (the model frame), [`factor`] (factors and grouping factors),
//! [`coding`] (contrasts and interactions), [`aliasing`], [`random`] (random-effects terms),
//! [`error`].

mod aliasing;
mod coding;
mod error;
mod factor;
mod frame;
mod random;
#[cfg(test)]
mod tests;

use faer::Mat;

use crate::formula::Formula;
use crate::table::Table;

use aliasing::drop_aliased;
pub use error::DesignError;
use frame::ModelFrame;

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
    /// Response, length n.
    pub y: Vec<f64>,
    /// Fixed-effects model matrix, n × p, full column rank.
    pub x: Mat<f64>,
    /// Names of X's columns, R style: `(Intercept)`, `Days`, `recipeB`, `recipeB:temp`.
    pub fixed_names: Vec<String>,
    /// Columns removed because they were linear combinations of earlier ones (lme4's
    /// "fixed-effect model matrix is rank deficient so dropping k columns").
    pub dropped_fixed: Vec<String>,
    /// Random-effects terms in formula order (`(1|a/b)` expands to `a` then `a:b`; `||` splits a
    /// term into one term per column, all with the same group name).
    pub terms: Vec<RandomEffectsTerm>,
    /// Rows removed because a column used by the formula had a missing cell.
    pub rows_dropped: usize,
}

impl ModelMatrices {
    /// Number of observations used.
    pub fn nobs(&self) -> usize {
        self.y.len()
    }
}

impl ModelMatrices {
    /// Builds y, X and the random-effects terms of `formula` from `table`.
    ///
    /// Rows with a missing cell in a used column are dropped first; factor levels are those
    /// present in the remaining rows. See the module docs for the coding conventions.
    pub fn build(formula: &Formula, table: &Table) -> Result<ModelMatrices, DesignError> {
        let (data, rows_dropped) = ModelFrame::new(formula, table)?;
        let y = data.numeric(data.response).unwrap_or_default();

        let (kept, dropped) = drop_aliased(data.model_columns(formula.fixed())?);
        let x = Mat::from_fn(data.nobs(), kept.len(), |i, j| kept[j].values[i]);
        let fixed_names = kept.into_iter().map(|c| c.name).collect();
        let terms = formula
            .random()
            .iter()
            .map(|term| data.random_term(term))
            .collect::<Result<Vec<_>, _>>()?;

        Ok(ModelMatrices {
            response: formula.response().to_owned(),
            y,
            x,
            fixed_names,
            dropped_fixed: dropped,
            terms,
            rows_dropped,
        })
    }
}
