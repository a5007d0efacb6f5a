//! [`ModelFrame`]: the columns of the table that the formula uses, validated, over the rows
//! kept after dropping missing cells (R's `model.frame` with `na.omit`), and the formula's
//! variables evaluated on them ([`Variable`]).

use std::collections::HashMap;

use crate::formula::{Expr, Formula, Transform};
use crate::options::FitOptions;
use crate::table::{Column, Table};

use super::factor::Factor;
use super::DesignError;

/// Columns of the table the formula uses, restricted to the rows kept.
pub(super) struct ModelFrame<'a> {
    columns: HashMap<&'a str, &'a Column>,
    pub(super) formula: &'a Formula,
    pub(super) options: &'a FitOptions,
    pub(super) table: &'a Table,
    /// Table row indices of the observations used, ascending.
    pub(super) rows: Vec<usize>,
    /// When set, `scale()` and `poly()` take their parameters (centre, scale, polynomial
    /// basis) from the first this many table rows only and apply them to every row: the
    /// training rows of a table with new rows stacked under them ([`crate::inference::predict`]).
    pub(super) reference_rows: Option<usize>,
}

/// A variable of the formula (a column or a call) over the rows used, as it enters a model
/// matrix.
pub(super) enum Variable {
    /// One numeric column.
    Numeric(Vec<f64>),
    /// Several numeric columns (`poly(x, k)`): name suffixes (`1`, `2`, …) and values.
    Matrix(Vec<(String, Vec<f64>)>),
    /// A categorical variable.
    Factor(Factor),
}

impl<'a> ModelFrame<'a> {
    /// Looks up the used columns, validates them and drops rows with missing cells. Returns the
    /// data and the number of rows dropped.
    pub(super) fn new(
        formula: &'a Formula,
        table: &'a Table,
        options: &'a FitOptions,
    ) -> Result<(ModelFrame<'a>, usize), DesignError> {
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
        for name in &options.factors {
            if table.get(name).is_none() {
                return Err(DesignError::UnknownOptionColumn {
                    option: "factor",
                    name: name.clone(),
                    available: table.names().to_vec(),
                });
            }
        }
        // A GLMM takes a two-level text response (binomial); the family checks it.
        if formula.transform(formula.response()).is_none() && !options.family.is_glmm() {
            match columns.get(formula.response()) {
                Some(Column::Numeric(_) | Column::Integer(_)) => {}
                // The response is always among the used columns, so `None` cannot happen.
                Some(Column::Text(_)) | None => {
                    return Err(DesignError::TextResponse {
                        name: formula.response().to_owned(),
                    })
                }
            }
        }
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
            ModelFrame {
                columns,
                formula,
                options,
                table,
                rows,
                reference_rows: None,
            },
            dropped,
        ))
    }

    pub(super) fn nobs(&self) -> usize {
        self.rows.len()
    }

    /// A used column; every column of the formula was looked up in [`ModelFrame::new`].
    pub(super) fn column(&self, name: &str) -> &'a Column {
        self.columns[name]
    }

    /// A numeric or integer column's values over the rows used (`None` for text).
    pub(super) fn numeric(&self, column: &Column) -> Option<Vec<f64>> {
        // Never NaN: rows with a missing cell in a used column were dropped.
        match column {
            Column::Numeric(values) => Some(
                self.rows
                    .iter()
                    .map(|&i| values[i].unwrap_or(f64::NAN))
                    .collect(),
            ),
            // Integers enter a model matrix as numbers; beyond 2^53 they round, as in R.
            Column::Integer(values) => Some(
                self.rows
                    .iter()
                    .map(|&i| values[i].map_or(f64::NAN, |v| v as f64))
                    .collect(),
            ),
            Column::Text(_) => None,
        }
    }

    /// A text column's values over the rows used.
    pub(super) fn text(&self, values: &'a [Option<String>]) -> Vec<&'a str> {
        // Never empty: rows with a missing cell in a used column were dropped.
        self.rows
            .iter()
            .map(|&i| values[i].as_deref().unwrap_or_default())
            .collect()
    }

    /// True when the variable `label` is categorical: `factor(x)`, a text column, or a column
    /// declared a factor in the options.
    pub(super) fn is_factor(&self, label: &str) -> bool {
        match self.formula.transform(label) {
            Some(t) => t.is_factor(),
            None => {
                matches!(self.column(label), Column::Text(_))
                    || self.options.factors.iter().any(|f| f == label)
            }
        }
    }

    /// The variable `label` over the rows used.
    pub(super) fn variable(&self, label: &str) -> Result<Variable, DesignError> {
        let Some(transform) = self.formula.transform(label) else {
            // Text columns are factors, so a column that is not one is numeric.
            return Ok(if self.is_factor(label) {
                Variable::Factor(self.factor_of_column(label)?)
            } else {
                Variable::Numeric(self.numeric(self.column(label)).unwrap_or_default())
            });
        };
        match transform {
            Transform::Factor(Expr::Column(name)) => {
                let factor = self.factor_of_column(name)?;
                Ok(Variable::Factor(Factor::named(label, factor)?))
            }
            Transform::Factor(x) => {
                let values = self.kept(label, &self.evaluate(x, label)?)?;
                let factor = Factor::of_numbers(label, &values)?;
                Ok(Variable::Factor(Factor::named(label, factor)?))
            }
            Transform::Numeric(x) => Ok(Variable::Numeric(
                self.kept(label, &self.evaluate(x, label)?)?,
            )),
            Transform::Scale { x, center, scale } => {
                let all = self.evaluate(x, label)?;
                let scaled = match self.reference_rows {
                    Some(n) => super::transform::scale_by_reference(&all, n, *center, *scale),
                    None => super::transform::scale(&all, *center, *scale),
                };
                Ok(Variable::Numeric(self.kept(label, &scaled)?))
            }
            Transform::Cbind { .. } => Err(DesignError::ResponseFamily {
                response: label.to_owned(),
                problem: "is a binomial response: fit it with the binomial family \
                          (--family binomial)"
                    .to_owned(),
            }),
            Transform::Poly { x, degree, raw } => {
                let all = self.evaluate(x, label)?;
                let columns = match self.reference_rows {
                    Some(n) if !*raw => {
                        super::transform::poly_by_reference(label, &all, n, *degree)?
                    }
                    _ => super::transform::poly(label, &all, *degree, *raw)?,
                };
                Ok(Variable::Matrix(
                    columns
                        .into_iter()
                        .enumerate()
                        .map(|(j, c)| Ok(((j + 1).to_string(), self.kept(label, &c)?)))
                        .collect::<Result<_, DesignError>>()?,
                ))
            }
        }
    }

    /// A column as a factor over the rows used: text in byte order, numbers sorted
    /// numerically (integers kept exact).
    fn factor_of_column(&self, name: &str) -> Result<Factor, DesignError> {
        let factor = match self.column(name) {
            Column::Text(values) => {
                Factor::from_keys(name, self.text(values), |s| (*s).to_owned())?
            }
            Column::Integer(values) => {
                let keys = self.rows.iter().map(|&i| values[i].unwrap_or(0)).collect();
                Factor::from_keys(name, keys, |k| k.to_string())?
            }
            column @ Column::Numeric(_) => {
                Factor::of_numbers(name, &self.numeric(column).unwrap_or_default())?
            }
        };
        Factor::named(name, factor)
    }

    /// A numeric expression over every row of the table (`None` where a column it reads is
    /// missing).
    pub(super) fn evaluate(&self, x: &Expr, label: &str) -> Result<Vec<Option<f64>>, DesignError> {
        super::transform::evaluate(x, self.table.nrows(), &|name| match self.column(name) {
            Column::Numeric(v) => Ok(v.clone()),
            Column::Integer(v) => Ok(v.iter().map(|v| v.map(|v| v as f64)).collect()),
            Column::Text(_) => Err(DesignError::TextInArithmetic {
                column: name.to_owned(),
                label: label.to_owned(),
            }),
        })
    }

    /// `values` over the rows used, all finite.
    pub(super) fn kept(
        &self,
        label: &str,
        values: &[Option<f64>],
    ) -> Result<Vec<f64>, DesignError> {
        self.rows
            .iter()
            .map(|&i| match values[i] {
                Some(v) if v.is_finite() => Ok(v),
                // Rows with a missing input were dropped.
                v => Err(DesignError::NonFiniteTransform {
                    label: label.to_owned(),
                    row: i + 1,
                    value: v.unwrap_or(f64::NAN),
                }),
            })
            .collect()
    }

    /// The response over the rows used, minus the offsets.
    pub(super) fn response(&self) -> Result<Vec<f64>, DesignError> {
        let label = self.formula.response();
        let variable = match self.formula.transform(label) {
            Some(_) => self.variable(label)?,
            // A numeric column (checked in `new`), even when declared a factor.
            None => Variable::Numeric(self.numeric(self.column(label)).unwrap_or_default()),
        };
        let mut y = match variable {
            Variable::Numeric(y) => y,
            // The parser accepts only numeric calls as the response, and a text response
            // column was rejected in `new`.
            Variable::Matrix(_) | Variable::Factor(_) => {
                return Err(DesignError::TextResponse {
                    name: label.to_owned(),
                })
            }
        };
        for (label, x) in self.formula.offsets() {
            let offset = self.kept(label, &self.evaluate(x, label)?)?;
            for (y, o) in y.iter_mut().zip(offset) {
                *y -= o;
            }
        }
        Ok(y)
    }

    /// The sum of the `offset()` terms over the rows used; `None` without offsets.
    pub(super) fn offset_total(&self) -> Result<Option<Vec<f64>>, DesignError> {
        if self.formula.offsets().is_empty() {
            return Ok(None);
        }
        let mut total = vec![0.0; self.nobs()];
        for (label, x) in self.formula.offsets() {
            let offset = self.kept(label, &self.evaluate(x, label)?)?;
            for (t, o) in total.iter_mut().zip(offset) {
                *t += o;
            }
        }
        Ok(Some(total))
    }

    /// The prior weights over the rows used, if the options name a weights column: each must
    /// be present, finite and positive.
    pub(super) fn weights(&self) -> Result<Option<Vec<f64>>, DesignError> {
        let Some(name) = &self.options.weights else {
            return Ok(None);
        };
        let bad = |row: usize, problem: String| DesignError::BadWeight {
            column: name.clone(),
            row: row + 1,
            problem,
        };
        let values: Vec<Option<f64>> = match self.table.get(name) {
            None => {
                return Err(DesignError::UnknownOptionColumn {
                    option: "weights",
                    name: name.clone(),
                    available: self.table.names().to_vec(),
                })
            }
            Some(Column::Text(_)) => {
                return Err(DesignError::TextWeights {
                    column: name.clone(),
                })
            }
            Some(Column::Numeric(v)) => v.clone(),
            Some(Column::Integer(v)) => v.iter().map(|v| v.map(|v| v as f64)).collect(),
        };
        self.rows
            .iter()
            .map(|&i| match values[i] {
                None => Err(bad(i, "is missing".to_owned())),
                Some(w) if !w.is_finite() => Err(bad(i, format!("is not finite ({w})"))),
                Some(w) if w < 0.0 => Err(bad(i, format!("is negative ({w})"))),
                Some(0.0) => Err(bad(i, "is zero".to_owned())),
                Some(w) => Ok(w),
            })
            .collect::<Result<Vec<f64>, _>>()
            .map(Some)
    }
}
