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
//! - grouping factors are text columns or integer-valued numeric columns (levels sorted
//!   numerically) and their interactions, with the observed combinations as levels.
//!
//! Data problems (unknown or non-numeric columns, non-finite values, degenerate factors) are
//! reported as [`DesignError`]s that name the column, row or formula position.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use faer::Mat;

use crate::formula::{underline, Formula, Grouping, RandomTerm, TermSet};
use crate::table::{Column, Table};

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

/// Relative tolerance below which a column counts as a linear combination of earlier ones: the
/// norm of what remains after projecting out the earlier columns, relative to the column's own
/// norm. 1e-7 is the default of R's `lm` (`qr(tol = 1e-07)`).
const ALIAS_TOLERANCE: f64 = 1e-7;

/// Why a formula could not be turned into model matrices for a table.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DesignError {
    /// The formula names a column the table does not have.
    #[error(
        "unknown column `{name}` at column {position} of the formula; the data has {}\n{}",
        list_names(.available),
        underline(.formula, *.position)
    )]
    UnknownColumn {
        /// The variable name.
        name: String,
        /// 0-based character position of its first occurrence in the formula.
        position: usize,
        /// The formula text.
        formula: String,
        /// The table's column names.
        available: Vec<String>,
    },
    /// The response column holds text.
    #[error("the response `{name}` must be numeric, but the column holds text")]
    TextResponse {
        /// The response column.
        name: String,
    },
    /// A used numeric column holds NaN or an infinity.
    #[error("column `{column}` has a non-finite value ({value}) in data row {row}")]
    NonFinite {
        /// The column.
        column: String,
        /// 1-based data row (not counting a header line).
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// Every row has a missing cell in some used column (or the table is empty).
    #[error("{}", no_rows_message(*.dropped))]
    NoRows {
        /// Rows dropped for missing cells (the table's row count).
        dropped: usize,
    },
    /// A categorical variable of the model has one level in the rows used.
    #[error(
        "factor `{column}` has a single level (`{level}`) in the rows used; a categorical \
         variable needs at least 2 levels"
    )]
    SingleLevelFactor {
        /// The column.
        column: String,
        /// Its only level.
        level: String,
    },
    /// A numeric grouping column has a non-integer value.
    #[error(
        "grouping factor `{column}` must be text or integer-valued, but data row {row} holds \
         {value}"
    )]
    NonIntegerGroup {
        /// The column.
        column: String,
        /// 1-based data row.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// A grouping factor has fewer than two levels in the rows used.
    #[error(
        "grouping factor `{group}` has {levels} level(s) in the rows used; a random-effects \
         term needs at least 2"
    )]
    TooFewLevels {
        /// The grouping expression as written in formula syntax (`Subject`, `a:b`).
        group: String,
        /// Number of levels found.
        levels: usize,
    },
    /// A factor has more levels than fit the `u32` level indices.
    #[error("factor `{name}` has more than {} levels", u32::MAX)]
    TooManyLevels {
        /// The column or grouping expression.
        name: String,
    },
}

/// At most ten names, backquoted, for messages about a table's columns.
fn list_names(names: &[String]) -> String {
    const SHOWN: usize = 10;
    if names.is_empty() {
        return "no columns".to_owned();
    }
    let mut list = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        list.push_str(&format!(", … ({} in all)", names.len()));
    }
    list
}

fn no_rows_message(dropped: usize) -> String {
    if dropped == 0 {
        "the data has no rows".to_owned()
    } else {
        format!(
            "no rows left: all {dropped} rows have a missing value in a column the formula uses"
        )
    }
}

impl ModelMatrices {
    /// Builds y, X and the random-effects terms of `formula` from `table`.
    ///
    /// Rows with a missing cell in a used column are dropped first; factor levels are those
    /// present in the remaining rows. See the module docs for the coding conventions.
    pub fn build(formula: &Formula, table: &Table) -> Result<ModelMatrices, DesignError> {
        let (data, rows_dropped) = Data::new(formula, table)?;
        let y = data.numeric(data.response);

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

/// One named model-matrix column over the rows used.
struct NamedColumn {
    name: String,
    values: Vec<f64>,
}

/// A categorical variable over the rows used: sorted level names and each row's level index.
struct Factor {
    levels: Vec<String>,
    codes: Vec<u32>,
}

impl Factor {
    /// Builds a factor from per-row sort keys and the level name of each key. Distinct keys
    /// are found by hashing (one pass over the rows) and only they are sorted, which matters
    /// at a million rows: a sorted map would compare strings twenty times per row.
    fn from_keys<K: Ord + Hash + Clone>(
        name: &str,
        keys: Vec<K>,
        level_name: impl Fn(&K) -> String,
    ) -> Result<Factor, DesignError> {
        let too_many = || DesignError::TooManyLevels {
            name: name.to_owned(),
        };
        let mut first_seen: HashMap<&K, u32> = HashMap::new();
        let mut distinct: Vec<&K> = Vec::new();
        let mut provisional = Vec::with_capacity(keys.len());
        for key in &keys {
            let code = match first_seen.get(key) {
                Some(&code) => code,
                None => {
                    let code = u32::try_from(distinct.len()).map_err(|_| too_many())?;
                    first_seen.insert(key, code);
                    distinct.push(key);
                    code
                }
            };
            provisional.push(code);
        }
        let mut order: Vec<usize> = (0..distinct.len()).collect();
        order.sort_unstable_by(|&a, &b| distinct[a].cmp(distinct[b]));
        let mut rank = vec![0u32; distinct.len()];
        for (r, &id) in order.iter().enumerate() {
            // Lossless: ranks are below the distinct count, which fits in u32 (checked above).
            rank[id] = r as u32;
        }
        Ok(Factor {
            levels: order.iter().map(|&id| level_name(distinct[id])).collect(),
            codes: provisional.into_iter().map(|c| rank[c as usize]).collect(),
        })
    }
}

/// How one variable of a term enters the model matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    /// A numeric variable: one column, its values.
    Numeric,
    /// A factor coded by treatment contrasts: indicators of levels 2..m.
    Contrasts,
    /// A factor coded by indicators of all m levels.
    Indicators,
}

/// The coding of every variable of every term of `set` (outer index: term), by R's rule
/// (`TermCode` in R's `model.c`): a factor F in term T is coded by contrasts when T without F is
/// empty (a main effect) or is contained in a preceding term, and by full indicators otherwise.
/// Without an intercept, the first factor of the first term that has one is coded by full
/// indicators, so `0 + f` gives every level and `0 + f + g` stays full rank.
fn codings(set: &TermSet, is_factor: impl Fn(&str) -> bool) -> Vec<Vec<Coding>> {
    let terms = set.terms();
    let mut codes: Vec<Vec<Coding>> = terms
        .iter()
        .enumerate()
        .map(|(j, term)| {
            term.variables()
                .iter()
                .map(|var| {
                    if !is_factor(var) {
                        return Coding::Numeric;
                    }
                    let mut rest = term.variables().iter().filter(|v| *v != var).peekable();
                    let margin_present = rest.peek().is_none()
                        || terms[..j]
                            .iter()
                            .any(|earlier| rest.clone().all(|v| earlier.contains(v)));
                    if margin_present {
                        Coding::Contrasts
                    } else {
                        Coding::Indicators
                    }
                })
                .collect()
        })
        .collect();
    if !set.intercept() {
        if let Some(code) = codes.iter_mut().flatten().find(|c| **c != Coding::Numeric) {
            *code = Coding::Indicators;
        }
    }
    codes
}

/// Columns of the table the formula uses, restricted to the rows kept.
struct Data<'a> {
    columns: HashMap<&'a str, &'a Column>,
    /// The response column (all rows).
    response: &'a [Option<f64>],
    /// Table row indices of the observations used, ascending.
    rows: Vec<usize>,
}

impl<'a> Data<'a> {
    /// Looks up the used columns, validates them and drops rows with missing cells. Returns the
    /// data and the number of rows dropped.
    fn new(formula: &Formula, table: &'a Table) -> Result<(Data<'a>, usize), DesignError> {
        let mut columns = HashMap::new();
        let mut used = Vec::new();
        for name in formula.used_columns() {
            let Some((name, column)) = table.iter().find(|(n, _)| *n == name) else {
                return Err(DesignError::UnknownColumn {
                    position: formula.position_of(&name).unwrap_or(0),
                    name,
                    formula: formula.text().to_owned(),
                    available: table.names().to_vec(),
                });
            };
            columns.insert(name, column);
            used.push((name, column));
        }
        let response = match columns.get(formula.response()) {
            Some(Column::Numeric(values)) => values.as_slice(),
            // The response is always among the used columns, so `None` cannot happen.
            Some(Column::Text(_)) | None => {
                return Err(DesignError::TextResponse {
                    name: formula.response().to_owned(),
                })
            }
        };
        for &(name, column) in &used {
            if let Column::Numeric(values) = column {
                let bad = values
                    .iter()
                    .enumerate()
                    .find_map(|(i, v)| v.filter(|v| !v.is_finite()).map(|v| (i, v)));
                if let Some((i, value)) = bad {
                    return Err(DesignError::NonFinite {
                        column: name.to_owned(),
                        row: i + 1,
                        value,
                    });
                }
            }
        }
        let nrows = table.nrows();
        let rows: Vec<usize> = (0..nrows)
            .filter(|&i| used.iter().all(|(_, c)| !c.is_missing(i)))
            .collect();
        let dropped = nrows - rows.len();
        if rows.is_empty() {
            return Err(DesignError::NoRows { dropped });
        }
        Ok((
            Data {
                columns,
                response,
                rows,
            },
            dropped,
        ))
    }

    fn nobs(&self) -> usize {
        self.rows.len()
    }

    /// A used column; every variable of the formula was looked up in [`Data::new`].
    fn column(&self, name: &str) -> &'a Column {
        self.columns[name]
    }

    /// A numeric column's values over the rows used.
    fn numeric(&self, values: &[Option<f64>]) -> Vec<f64> {
        // Never NaN: rows with a missing cell in a used column were dropped.
        self.rows
            .iter()
            .map(|&i| values[i].unwrap_or(f64::NAN))
            .collect()
    }

    /// A text column's values over the rows used.
    fn text(&self, values: &'a [Option<String>]) -> Vec<&'a str> {
        // Never empty: rows with a missing cell in a used column were dropped.
        self.rows
            .iter()
            .map(|&i| values[i].as_deref().unwrap_or_default())
            .collect()
    }

    /// A text column as a model factor (at least two levels).
    fn factor(&self, name: &str, values: &'a [Option<String>]) -> Result<Factor, DesignError> {
        let factor = Factor::from_keys(name, self.text(values), |s| (*s).to_owned())?;
        match factor.levels.as_slice() {
            [only] => Err(DesignError::SingleLevelFactor {
                column: name.to_owned(),
                level: only.clone(),
            }),
            _ => Ok(factor),
        }
    }

    /// The columns of the model `set`: `(Intercept)` if present, then every term's columns.
    fn model_columns(&self, set: &TermSet) -> Result<Vec<NamedColumn>, DesignError> {
        let n = self.nobs();
        let mut columns = Vec::new();
        if set.intercept() {
            columns.push(NamedColumn {
                name: "(Intercept)".to_owned(),
                values: vec![1.0; n],
            });
        }
        let is_factor = |v: &str| matches!(self.column(v), Column::Text(_));
        for (term, codes) in set.terms().iter().zip(codings(set, is_factor)) {
            // Product of the variables' column sets, the first variable varying fastest (R's
            // column order): extend each existing combination by each new piece.
            let mut product = vec![NamedColumn {
                name: String::new(),
                values: vec![1.0; n],
            }];
            for (var, coding) in term.variables().iter().zip(codes) {
                let pieces = self.pieces(var, coding)?;
                product = pieces
                    .iter()
                    .flat_map(|piece| {
                        product.iter().map(move |acc| NamedColumn {
                            name: if acc.name.is_empty() {
                                piece.name.clone()
                            } else {
                                format!("{}:{}", acc.name, piece.name)
                            },
                            values: acc
                                .values
                                .iter()
                                .zip(&piece.values)
                                .map(|(a, b)| a * b)
                                .collect(),
                        })
                    })
                    .collect();
            }
            columns.extend(product);
        }
        Ok(columns)
    }

    /// The columns one variable contributes to a term under `coding`.
    fn pieces(&self, var: &str, coding: Coding) -> Result<Vec<NamedColumn>, DesignError> {
        match self.column(var) {
            Column::Numeric(values) => Ok(vec![NamedColumn {
                name: var.to_owned(),
                values: self.numeric(values),
            }]),
            Column::Text(values) => {
                let factor = self.factor(var, values)?;
                let first = usize::from(coding == Coding::Contrasts);
                Ok((first..factor.levels.len())
                    .map(|level| NamedColumn {
                        name: format!("{var}{}", factor.levels[level]),
                        values: factor
                            .codes
                            .iter()
                            .map(|&c| if c as usize == level { 1.0 } else { 0.0 })
                            .collect(),
                    })
                    .collect())
            }
        }
    }

    /// One variable of a grouping factor: text, or integer-valued numbers sorted numerically.
    fn grouping_variable(&self, var: &str) -> Result<Factor, DesignError> {
        match self.column(var) {
            Column::Text(values) => Factor::from_keys(var, self.text(values), |s| (*s).to_owned()),
            Column::Numeric(values) => {
                let mut keys = Vec::with_capacity(self.nobs());
                for (&row, value) in self.rows.iter().zip(self.numeric(values)) {
                    if value.fract() != 0.0 {
                        return Err(DesignError::NonIntegerGroup {
                            column: var.to_owned(),
                            row: row + 1,
                            value,
                        });
                    }
                    // `+ 0.0` turns -0 into 0 so both are one level.
                    keys.push(OrderedFloat(value + 0.0));
                }
                // f64's Display never uses an exponent, so 308.0 is shown as `308`.
                Factor::from_keys(var, keys, |k| format!("{}", k.0))
            }
        }
    }

    /// The grouping factor of a random term: one variable, or the observed combinations of
    /// several (sorted by the variables' level indices, names joined by ':').
    fn grouping(&self, group: &Grouping, name: &str) -> Result<Factor, DesignError> {
        let parts = group
            .variables()
            .iter()
            .map(|v| self.grouping_variable(v))
            .collect::<Result<Vec<_>, _>>()?;
        if let [single] = parts.as_slice() {
            return Ok(Factor {
                levels: single.levels.clone(),
                codes: single.codes.clone(),
            });
        }
        let keys: Vec<Vec<u32>> = (0..self.nobs())
            .map(|i| parts.iter().map(|p| p.codes[i]).collect())
            .collect();
        Factor::from_keys(name, keys, |key| {
            key.iter()
                .zip(&parts)
                .map(|(&code, part)| part.levels[code as usize].as_str())
                .collect::<Vec<_>>()
                .join(":")
        })
    }

    fn random_term(&self, term: &RandomTerm) -> Result<RandomEffectsTerm, DesignError> {
        let group = term.group().to_string();
        let factor = self.grouping(term.group(), &group)?;
        if factor.levels.len() < 2 {
            return Err(DesignError::TooFewLevels {
                group,
                levels: factor.levels.len(),
            });
        }
        let columns = self.model_columns(term.terms())?;
        let z = (0..self.nobs())
            .flat_map(|i| columns.iter().map(move |c| c.values[i]))
            .collect();
        Ok(RandomEffectsTerm {
            group,
            columns: columns.into_iter().map(|c| c.name).collect(),
            levels: factor.levels,
            refs: factor.codes,
            z,
        })
    }
}

/// A finite, non-NaN f64 with a total order, for sorting numeric grouping levels.
#[derive(Debug, Clone, Copy, PartialEq)]
struct OrderedFloat(f64);

impl Eq for OrderedFloat {}

impl Hash for OrderedFloat {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Consistent with `Eq`: values are finite and -0 was normalised to 0 by the caller.
        self.0.to_bits().hash(state);
    }
}

impl PartialOrd for OrderedFloat {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderedFloat {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Euclidean norm, scaled by the largest magnitude so that large values do not overflow.
fn norm(values: &[f64]) -> f64 {
    let scale = values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    if scale == 0.0 {
        return 0.0;
    }
    scale
        * values
            .iter()
            .map(|v| (v / scale).powi(2))
            .sum::<f64>()
            .sqrt()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Splits `columns` into those kept and the names of those dropped because they are (within
/// [`ALIAS_TOLERANCE`]) linear combinations of earlier kept columns.
///
/// This is a QR factorisation in column order without pivoting of the retained columns, like
/// R's `dqrdc2` as used by `lm`: each column is orthogonalised against the kept ones by modified
/// Gram–Schmidt; a second pass restores orthogonality lost to rounding ("twice is enough"), so
/// the residual norm is reliable down to the tolerance.
fn drop_aliased(columns: Vec<NamedColumn>) -> (Vec<NamedColumn>, Vec<String>) {
    let mut basis: Vec<Vec<f64>> = Vec::new();
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for column in columns {
        let original = norm(&column.values);
        let mut residual = column.values.clone();
        for _pass in 0..2 {
            for q in &basis {
                let d = dot(q, &residual);
                for (r, qi) in residual.iter_mut().zip(q) {
                    *r -= d * qi;
                }
            }
        }
        let remaining = norm(&residual);
        if original > 0.0 && remaining > ALIAS_TOLERANCE * original {
            basis.push(residual.iter().map(|r| r / remaining).collect());
            kept.push(column);
        } else {
            dropped.push(column.name);
        }
    }
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(values: &[f64]) -> Column {
        Column::Numeric(values.iter().map(|&v| Some(v)).collect())
    }

    fn text(values: &[&str]) -> Column {
        Column::Text(values.iter().map(|&v| Some(v.to_owned())).collect())
    }

    fn build(formula: &str, table: &Table) -> Result<ModelMatrices, DesignError> {
        let formula = Formula::parse(formula).unwrap_or_else(|e| panic!("{e}"));
        ModelMatrices::build(&formula, table)
    }

    fn ok(formula: &str, table: &Table) -> ModelMatrices {
        build(formula, table).unwrap_or_else(|e| panic!("{formula}: {e}"))
    }

    fn row(m: &ModelMatrices, i: usize) -> Vec<f64> {
        (0..m.x.ncols()).map(|j| m.x[(i, j)]).collect()
    }

    /// Three subjects × three days, numeric subject ids as in lme4's sleepstudy.
    fn sleep() -> Table {
        Table::new()
            .with(
                "Reaction",
                num(&[
                    250.0, 260.0, 270.0, 240.0, 255.0, 262.0, 300.0, 310.0, 330.0,
                ]),
            )
            .with("Days", num(&[0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 0.0, 1.0, 2.0]))
            .with(
                "Subject",
                num(&[
                    308.0, 308.0, 308.0, 309.0, 309.0, 309.0, 310.0, 310.0, 310.0,
                ]),
            )
    }

    /// A small factorial: recipe A/B/C, a numeric temperature, two batches.
    fn cake() -> Table {
        Table::new()
            .with("y", num(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
            .with("recipe", text(&["A", "B", "C", "A", "B", "C"]))
            .with("temp", num(&[175.0, 185.0, 195.0, 205.0, 215.0, 225.0]))
            .with("batch", text(&["u", "u", "u", "v", "v", "v"]))
    }

    #[test]
    fn sleepstudy_random_slopes() {
        let m = ok("Reaction ~ Days + (Days | Subject)", &sleep());
        assert_eq!(m.response, "Reaction");
        assert_eq!(m.nobs(), 9);
        assert_eq!(m.rows_dropped, 0);
        assert_eq!(m.fixed_names, ["(Intercept)", "Days"]);
        assert!(m.dropped_fixed.is_empty());
        assert_eq!((m.x.nrows(), m.x.ncols()), (9, 2));
        assert_eq!(row(&m, 5), [1.0, 2.0]);
        assert_eq!(m.y[6], 300.0);
        assert_eq!(m.terms.len(), 1);
        let t = &m.terms[0];
        assert_eq!(t.group, "Subject");
        assert_eq!(t.columns, ["(Intercept)", "Days"]);
        assert_eq!(t.levels, ["308", "309", "310"]);
        assert_eq!(t.refs, [0, 0, 0, 1, 1, 1, 2, 2, 2]);
        assert_eq!(&t.z[..6], &[1.0, 0.0, 1.0, 1.0, 1.0, 2.0]);
        assert_eq!(t.nranef(), 6);
    }

    #[test]
    fn treatment_contrasts_and_interaction_names() {
        let m = ok("y ~ recipe * temp", &cake());
        assert_eq!(
            m.fixed_names,
            [
                "(Intercept)",
                "recipeB",
                "recipeC",
                "temp",
                "recipeB:temp",
                "recipeC:temp"
            ]
        );
        assert_eq!(row(&m, 1), [1.0, 1.0, 0.0, 185.0, 185.0, 0.0]);
        assert_eq!(row(&m, 3), [1.0, 0.0, 0.0, 205.0, 0.0, 0.0]);
        assert_eq!(row(&m, 5), [1.0, 0.0, 1.0, 225.0, 0.0, 225.0]);

        // Names follow the order the term is written in.
        let m = ok("y ~ temp + temp:recipe", &cake());
        assert_eq!(
            m.fixed_names,
            ["(Intercept)", "temp", "temp:recipeB", "temp:recipeC"]
        );
        assert_eq!(row(&m, 2), [1.0, 195.0, 0.0, 195.0]);
    }

    #[test]
    fn no_intercept_gives_full_indicators() {
        let m = ok("y ~ 0 + recipe", &cake());
        assert_eq!(m.fixed_names, ["recipeA", "recipeB", "recipeC"]);
        assert_eq!(row(&m, 4), [0.0, 1.0, 0.0]);
        // R codes only the first factor by indicators, so the model stays full rank.
        let m = ok("y ~ 0 + recipe + batch", &cake());
        assert_eq!(m.fixed_names, ["recipeA", "recipeB", "recipeC", "batchv"]);
        assert!(m.dropped_fixed.is_empty());
    }

    #[test]
    fn factor_interactions_first_factor_fastest() {
        let m = ok("y ~ recipe * batch", &cake());
        assert_eq!(
            m.fixed_names,
            [
                "(Intercept)",
                "recipeB",
                "recipeC",
                "batchv",
                "recipeB:batchv",
                "recipeC:batchv"
            ]
        );
        // Without the main effects both factors are coded by indicators (R's rule); with the
        // intercept the last indicator product is aliased and dropped, as lm would report.
        let recipe = ["A", "B", "C", "A", "B", "C"];
        let batch = ["u", "u", "u", "v", "v", "v"];
        let twice = Table::new()
            .with(
                "y",
                num(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 1.0, 2.0, 3.0]),
            )
            .with("recipe", text(&[recipe, recipe].concat()))
            .with("batch", text(&[batch, batch].concat()))
            .with(
                "temp",
                num(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 1.5, 2.0, 3.5, 4.0, 6.5, 6.0]),
            );
        let m = ok("y ~ recipe:batch + temp", &twice);
        assert_eq!(
            m.fixed_names,
            [
                "(Intercept)",
                "temp",
                "recipeA:batchu",
                "recipeB:batchu",
                "recipeC:batchu",
                "recipeA:batchv",
                "recipeB:batchv",
            ]
        );
        assert_eq!(m.dropped_fixed, ["recipeC:batchv"]);
        assert_eq!(row(&m, 4), [1.0, 5.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn missing_cells_drop_rows() {
        let table = Table::new()
            .with(
                "y",
                Column::Numeric(vec![
                    Some(1.0),
                    None,
                    Some(3.0),
                    Some(4.0),
                    Some(5.0),
                    Some(6.0),
                ]),
            )
            .with(
                "x",
                Column::Numeric(vec![
                    Some(1.0),
                    Some(2.0),
                    Some(3.0),
                    None,
                    Some(5.0),
                    Some(7.0),
                ]),
            )
            .with(
                "g",
                Column::Text(vec![
                    Some("a".into()),
                    Some("a".into()),
                    None,
                    Some("b".into()),
                    Some("b".into()),
                    Some("c".into()),
                ]),
            )
            // Unused by the formula: its missing cell must not drop a row.
            .with(
                "other",
                Column::Numeric(vec![None, Some(0.0), Some(0.0), Some(0.0), Some(0.0), None]),
            );
        let m = ok("y ~ x + (1 | g)", &table);
        assert_eq!(m.rows_dropped, 3);
        assert_eq!(m.y, [1.0, 5.0, 6.0]);
        assert_eq!(m.terms[0].levels, ["a", "b", "c"]);
        assert_eq!(m.terms[0].refs, [0, 1, 2]);

        let none = Table::new()
            .with("y", Column::Numeric(vec![None, Some(1.0)]))
            .with("x", Column::Numeric(vec![Some(1.0), None]));
        assert_eq!(
            build("y ~ x", &none).unwrap_err(),
            DesignError::NoRows { dropped: 2 }
        );
        let empty = Table::new().with("y", num(&[])).with("x", num(&[]));
        let e = build("y ~ x", &empty).unwrap_err();
        assert_eq!(e.to_string(), "the data has no rows");
    }

    #[test]
    fn non_finite_values_are_errors() {
        let table = Table::new()
            .with("y", num(&[1.0, 2.0, 3.0]))
            .with("x", num(&[1.0, f64::NAN, 3.0]));
        let e = build("y ~ x", &table).unwrap_err();
        assert!(matches!(
            &e,
            DesignError::NonFinite { column, row: 2, .. } if column == "x"
        ));
        assert_eq!(
            e.to_string(),
            "column `x` has a non-finite value (NaN) in data row 2"
        );
        let table = Table::new()
            .with("y", num(&[1.0, f64::NEG_INFINITY]))
            .with("x", num(&[1.0, 2.0]));
        assert!(build("y ~ x", &table)
            .unwrap_err()
            .to_string()
            .contains("(-inf) in data row 2"));
    }

    #[test]
    fn text_response_is_an_error() {
        let e = build("recipe ~ temp", &cake()).unwrap_err();
        assert_eq!(
            e,
            DesignError::TextResponse {
                name: "recipe".into()
            }
        );
    }

    #[test]
    fn unknown_column_points_into_the_formula() {
        let e = build("y ~ temp + tmep", &cake()).unwrap_err();
        match &e {
            DesignError::UnknownColumn { name, position, .. } => {
                assert_eq!(name, "tmep");
                assert_eq!(*position, 11);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            e.to_string(),
            "unknown column `tmep` at column 11 of the formula; the data has `y`, `recipe`, \
             `temp`, `batch`\n  y ~ temp + tmep\n             ^"
        );
    }

    #[test]
    fn integer_grouping_levels_sort_numerically() {
        let table = Table::new()
            .with("y", num(&[1.0, 2.0, 3.0, 4.0, 5.0]))
            .with("g", num(&[10.0, 2.0, 10.0, -0.0, 0.0]));
        let m = ok("y ~ 1 + (1 | g)", &table);
        assert_eq!(m.terms[0].levels, ["0", "2", "10"]);
        assert_eq!(m.terms[0].refs, [2, 1, 2, 0, 0]);

        let table = Table::new()
            .with("y", num(&[1.0, 2.0, 3.0]))
            .with("g", num(&[1.0, 2.5, 3.0]));
        assert_eq!(
            build("y ~ (1 | g)", &table).unwrap_err(),
            DesignError::NonIntegerGroup {
                column: "g".into(),
                row: 2,
                value: 2.5
            }
        );
    }

    #[test]
    fn nested_grouping_and_interaction_levels() {
        let table = Table::new()
            .with("y", num(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
            .with("a", text(&["B", "A", "B", "A", "A", "B"]))
            .with("b", num(&[1.0, 2.0, 2.0, 1.0, 2.0, 1.0]));
        let m = ok("y ~ 1 + (1 | a/b)", &table);
        assert_eq!(m.terms.len(), 2);
        assert_eq!(m.terms[0].group, "a");
        assert_eq!(m.terms[0].levels, ["A", "B"]);
        assert_eq!(m.terms[1].group, "a:b");
        assert_eq!(m.terms[1].levels, ["A:1", "A:2", "B:1", "B:2"]);
        assert_eq!(m.terms[1].refs, [2, 1, 3, 0, 1, 2]);
        assert_eq!(m.terms[1].columns, ["(Intercept)"]);

        // Only observed combinations are levels.
        let m = ok("y ~ (1 | b:a)", &table);
        assert_eq!(m.terms[0].group, "b:a");
        assert_eq!(m.terms[0].levels, ["1:A", "1:B", "2:A", "2:B"]);
    }

    #[test]
    fn double_bar_splits_terms() {
        let m = ok("Reaction ~ Days + (Days || Subject)", &sleep());
        assert_eq!(m.terms.len(), 2);
        assert_eq!(m.terms[0].columns, ["(Intercept)"]);
        assert_eq!(m.terms[1].columns, ["Days"]);
        assert!(m.terms.iter().all(|t| t.group == "Subject"));
        assert_eq!(&m.terms[1].z[..3], &[0.0, 1.0, 2.0]);
    }

    #[test]
    fn random_term_factor_coding() {
        let table = cake().with("g", text(&["p", "q", "r", "p", "q", "r"]));
        let m = ok("y ~ 1 + (0 + recipe | g)", &table);
        assert_eq!(m.terms[0].columns, ["recipeA", "recipeB", "recipeC"]);
        assert_eq!(&m.terms[0].z[3..6], &[0.0, 1.0, 0.0]);
        let m = ok("y ~ 1 + (1 + recipe | g)", &table);
        assert_eq!(m.terms[0].columns, ["(Intercept)", "recipeB", "recipeC"]);
        let m = ok("y ~ 1 + (1 + recipe || g)", &table);
        assert_eq!(m.terms[1].columns, ["recipeA", "recipeB", "recipeC"]);
    }

    #[test]
    fn aliased_columns_are_dropped() {
        let table = Table::new()
            .with("y", num(&[1.0, 3.0, 2.0, 5.0]))
            .with("x1", num(&[1.0, 2.0, 3.0, 4.0]))
            .with("x2", num(&[2.0, 4.0, 6.0, 8.0]))
            .with("x3", num(&[1.0, 0.0, 1.0, 0.0]))
            .with("zero", num(&[0.0; 4]));
        let m = ok("y ~ x1 + x2 + x3 + zero", &table);
        assert_eq!(m.fixed_names, ["(Intercept)", "x1", "x3"]);
        assert_eq!(m.dropped_fixed, ["x2", "zero"]);
        assert_eq!((m.x.nrows(), m.x.ncols()), (4, 3));
        assert_eq!(row(&m, 1), [1.0, 2.0, 0.0]);
        // A nearly (but not numerically) dependent column is kept.
        let table = table.with("x4", num(&[2.0, 4.0, 6.0, 8.001]));
        let m = ok("y ~ x1 + x4", &table);
        assert!(m.dropped_fixed.is_empty());
    }

    #[test]
    fn degenerate_factors_are_errors() {
        let table = Table::new()
            .with("y", num(&[1.0, 2.0, 3.0]))
            .with("g", text(&["a", "a", "a"]))
            .with(
                "h",
                Column::Text(vec![Some("a".into()), Some("a".into()), None]),
            );
        assert_eq!(
            build("y ~ 1 + (1 | g)", &table).unwrap_err(),
            DesignError::TooFewLevels {
                group: "g".into(),
                levels: 1
            }
        );
        assert!(build("y ~ (1 | g)", &table)
            .unwrap_err()
            .to_string()
            .contains("grouping factor `g` has 1 level"));
        assert_eq!(
            build("y ~ h", &table).unwrap_err(),
            DesignError::SingleLevelFactor {
                column: "h".into(),
                level: "a".into()
            }
        );
    }

    #[test]
    fn intercept_only_and_empty_fixed_part() {
        let m = ok("Reaction ~ 1 + (1 | Subject)", &sleep());
        assert_eq!(m.fixed_names, ["(Intercept)"]);
        let m = ok("Reaction ~ 0 + (1 | Subject)", &sleep());
        assert_eq!((m.x.nrows(), m.x.ncols()), (9, 0));
        assert!(m.fixed_names.is_empty());
    }

    #[test]
    fn codings_follow_r() {
        use Coding::*;
        let coded = |text: &str, factors: &[&str]| {
            let f = Formula::parse(text).unwrap_or_else(|e| panic!("{e}"));
            codings(f.fixed(), |v| factors.contains(&v))
        };
        assert_eq!(coded("y ~ f", &["f"]), [vec![Contrasts]]);
        assert_eq!(coded("y ~ 0 + f", &["f"]), [vec![Indicators]]);
        assert_eq!(
            coded("y ~ 0 + f + g", &["f", "g"]),
            [vec![Indicators], vec![Contrasts]]
        );
        assert_eq!(
            coded("y ~ x + x:f", &["f"]),
            [vec![Numeric], vec![Numeric, Contrasts]]
        );
        assert_eq!(coded("y ~ x:f", &["f"]), [vec![Numeric, Indicators]]);
        assert_eq!(
            coded("y ~ f*g", &["f", "g"]),
            [vec![Contrasts], vec![Contrasts], vec![Contrasts, Contrasts]]
        );
        assert_eq!(
            coded("y ~ f + f:g", &["f", "g"]),
            [vec![Contrasts], vec![Indicators, Contrasts]]
        );
    }
}
