//! Predictions for new data, as lme4's `predict(m, newdata, re.form =, allow.new.levels =)`:
//! `Xβ̂` for the fixed part and, unless `re.form = NA` ([`RandomEffectsForm::None`]), `Zb̂`
//! for the levels seen in training; a level not seen in training is an error naming it unless
//! new levels are allowed, when its random effect is 0 (as lme4).
//!
//! **How the new rows are coded.** The new table is stacked under the training table (the
//! response, absent from new data, filled with 1) and the model matrices are built for the
//! stack with the fit's formula and options, so factors, contrasts, interactions and
//! element-wise calls (`log`, `I()`, …) are coded exactly as for the fit; the new rows' X must
//! have the training columns (a new level of a fixed-effects factor is an error, as in lme4)
//! and their grouping levels are matched to the training levels by name. `scale()` and
//! `poly()` take their parameters from the training rows (centre and scale; the orthogonal
//! basis's recurrence coefficients), as lme4 does through `predvars`; `offset()` terms are
//! evaluated on the new rows and added, so their columns must be in the new data.
//!
//! **Intervals** (not in lme4, which offers `bootMer` instead): `confidence` is
//! `fit ± z·√(x'Var(β̂)x)`, the uncertainty of the fixed part with θ treated as known;
//! `prediction` adds σ̂² and, for every term whose effect is not predicted (`re.form = NA`, or
//! a new level), the term's variance `z'Σ_b z`. Both are normal intervals; the conditional
//! variance of b̂ and its covariance with β̂ are not included.

use serde::Serialize;

use super::anova::rows_used;
use super::{normal_quantile, FittedModel, InferenceError};
use crate::design::ModelMatrices;
use crate::table::{Column, Table};

/// Which random effects enter the prediction (lme4's `re.form`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RandomEffectsForm {
    /// All of them (`re.form = NULL`, the default).
    #[default]
    All,
    /// None: the fixed part only (`re.form = NA`).
    None,
}

/// Which interval to give with each prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalKind {
    /// For the fixed part `x'β`.
    Confidence,
    /// For a new observation.
    Prediction,
}

/// How to predict.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictOptions {
    /// Which random effects to include.
    pub re_form: RandomEffectsForm,
    /// Whether a level not seen in training is allowed (its random effect is 0).
    pub allow_new_levels: bool,
    /// An interval, at `level`.
    pub interval: Option<IntervalKind>,
    /// Its confidence level.
    pub level: f64,
}

impl Default for PredictOptions {
    fn default() -> Self {
        Self {
            re_form: RandomEffectsForm::All,
            allow_new_levels: false,
            interval: None,
            level: 0.95,
        }
    }
}

/// One prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// The predicted value.
    pub fit: f64,
    /// Lower interval bound, when an interval was asked for.
    pub lower: Option<f64>,
    /// Upper interval bound.
    pub upper: Option<f64>,
}

/// Cell `row` of `column` as text (for stacking a text column onto a numeric one).
fn cell_text(column: &Column, row: usize) -> Option<String> {
    match column {
        Column::Numeric(v) => v[row].map(|x| {
            if x.fract() == 0.0 && x.abs() < 1e15 {
                format!("{}", x as i64)
            } else {
                format!("{x}")
            }
        }),
        Column::Integer(v) => v[row].map(|x| x.to_string()),
        Column::Text(v) => v[row].clone(),
    }
}

/// `a` with `b`'s rows appended (types reconciled: integers with numbers become numbers,
/// anything with text becomes text).
fn stack_column(a: &Column, b: &Column) -> Column {
    match (a, b) {
        (Column::Numeric(x), Column::Numeric(y)) => {
            Column::Numeric(x.iter().chain(y).copied().collect())
        }
        (Column::Integer(x), Column::Integer(y)) => {
            Column::Integer(x.iter().chain(y).copied().collect())
        }
        (Column::Numeric(_) | Column::Integer(_), Column::Numeric(_) | Column::Integer(_)) => {
            let num = |c: &Column, r: usize| match c {
                Column::Numeric(v) => v[r],
                Column::Integer(v) => v[r].map(|x| x as f64),
                Column::Text(_) => None,
            };
            Column::Numeric(
                (0..a.len())
                    .map(|r| num(a, r))
                    .chain((0..b.len()).map(|r| num(b, r)))
                    .collect(),
            )
        }
        _ => Column::Text(
            (0..a.len())
                .map(|r| cell_text(a, r))
                .chain((0..b.len()).map(|r| cell_text(b, r)))
                .collect(),
        ),
    }
}

/// lme4's `predict(m, newdata, …)` for every row of `newdata`; `None` for a row with a
/// missing value in a column the formula uses.
pub fn predict(
    fm: &FittedModel,
    training: &Table,
    newdata: &Table,
    options: &PredictOptions,
) -> Result<Vec<Option<Prediction>>, InferenceError> {
    let formula = fm.fit.formula();
    if !(options.level > 0.0 && options.level < 1.0) {
        return Err(InferenceError::Input(format!(
            "the interval level must be in (0, 1), not {}",
            options.level
        )));
    }
    let response = formula.response().to_owned();
    let response_columns: Vec<String> = match formula.transform(&response) {
        Some(_) => formula
            .used_columns()
            .into_iter()
            .filter(|c| response.contains(c.as_str()))
            .collect(),
        None => vec![response.clone()],
    };
    let n_train = training.nrows();
    let n_new = newdata.nrows();
    let mut stacked = Table::new();
    let mut needed = formula.used_columns();
    needed.extend(fm.options.weights.iter().cloned());
    for name in &needed {
        let Some(train_col) = training.get(name) else {
            continue;
        };
        let new_col = match newdata.get(name) {
            Some(c) if !response_columns.contains(name) => c.clone(),
            _ if response_columns.contains(name) || fm.options.weights.as_ref() == Some(name) => {
                Column::Numeric(vec![Some(1.0); n_new])
            }
            _ => {
                return Err(InferenceError::Input(format!(
                    "predict: the new data have no column '{name}', which the formula uses"
                )))
            }
        };
        stacked.push(name.clone(), stack_column(train_col, &new_col));
    }
    let mm = ModelMatrices::build_with_reference(formula, &stacked, &fm.options, Some(n_train))
        .map_err(|e| InferenceError::Input(format!("predict: {e}")))?;
    if mm.fixed_names != fm.matrices.fixed_names {
        return Err(InferenceError::Input(format!(
            "predict: the new data change the fixed-effects columns ({} instead of {}): a \
             fixed-effects factor has a level the training data do not have",
            mm.fixed_names.join(", "),
            fm.matrices.fixed_names.join(", ")
        )));
    }
    let offsets = ModelMatrices::offsets(formula, &stacked, &fm.options, Some(n_train))
        .map_err(|e| InferenceError::Input(format!("predict: {e}")))?;
    let used = rows_used(formula, &stacked, &fm.options);
    let train_used = used[..n_train].iter().filter(|&&u| u).count();
    if train_used != fm.matrices.nobs() {
        return Err(InferenceError::Input(
            "predict: the training table is not the one the model was fitted to".to_owned(),
        ));
    }
    let beta = fm.fit.beta();
    let p = beta.len();
    let cov = &fm.fit.result().fixed_covariance;
    let sigma2 = fm.fit.sigma().powi(2);
    let z = normal_quantile((1.0 + options.level) / 2.0);
    // Per stacked term: the training term it is (by group and columns).
    let modes = fm.fit.conditional_modes();
    let components = fm.fit.variance_components();
    let matched: Vec<usize> = mm
        .terms
        .iter()
        .map(|t| {
            modes
                .iter()
                .position(|m| m.group == t.group && m.columns == t.columns)
                .ok_or_else(|| {
                    InferenceError::Input(format!(
                        "predict: the new data change the random-effects term of {} ({})",
                        t.group,
                        t.columns.join(", ")
                    ))
                })
        })
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(n_new);
    let mut obs = train_used;
    for r in 0..n_new {
        if !used[n_train + r] {
            out.push(None);
            continue;
        }
        let i = obs;
        obs += 1;
        let x: Vec<f64> = (0..p).map(|j| mm.x[(i, j)]).collect();
        let mut fit: f64 = x.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>()
            + offsets.as_ref().map_or(0.0, |o| o[i]);
        let var_fixed: f64 = (0..p)
            .map(|a| (0..p).map(|b| x[a] * cov[a * p + b] * x[b]).sum::<f64>())
            .sum();
        let mut var_unpredicted = 0.0;
        for (term, &t) in mm.terms.iter().zip(&matched) {
            let k = term.width();
            let zi = &term.z[i * k..(i + 1) * k];
            let level = &term.levels[term.refs[i] as usize];
            let known = modes[t].levels.iter().position(|l| l == level);
            let predicted = options.re_form == RandomEffectsForm::All && known.is_some();
            if options.re_form == RandomEffectsForm::All
                && known.is_none()
                && !options.allow_new_levels
            {
                return Err(InferenceError::Input(format!(
                    "predict: new level '{level}' of grouping factor '{}' (new data row {}); \
                     use --allow-new-levels to predict it with a zero random effect",
                    term.group,
                    r + 1
                )));
            }
            if predicted {
                let l = known.unwrap_or(0);
                fit += (0..k)
                    .map(|j| zi[j] * modes[t].modes[l * k + j])
                    .sum::<f64>();
            } else {
                let vc = &components[t];
                for a in 0..k {
                    for b in 0..k {
                        let c = if a == b {
                            vc.variances[a]
                        } else {
                            let r = vc.correlation(a, b);
                            if r.is_nan() {
                                0.0
                            } else {
                                r * vc.std_devs[a] * vc.std_devs[b]
                            }
                        };
                        var_unpredicted += zi[a] * c * zi[b];
                    }
                }
            }
        }
        let half = match options.interval {
            None => None,
            Some(IntervalKind::Confidence) => Some(z * var_fixed.sqrt()),
            Some(IntervalKind::Prediction) => {
                Some(z * (var_fixed + sigma2 + var_unpredicted).sqrt())
            }
        };
        out.push(Some(Prediction {
            fit,
            lower: half.map(|h| fit - h),
            upper: half.map(|h| fit + h),
        }));
    }
    Ok(out)
}
