//! [`ModelFrame`]: the columns of the table that the formula uses, validated, over the rows
//! kept after dropping missing cells (R's `model.frame` with `na.omit`).

use std::collections::HashMap;

use crate::formula::Formula;
use crate::table::{Column, Table};

use super::DesignError;

/// Columns of the table the formula uses, restricted to the rows kept.
pub(super) struct ModelFrame<'a> {
    columns: HashMap<&'a str, &'a Column>,
    /// The response column (all rows).
    pub(super) response: &'a Column,
    /// Table row indices of the observations used, ascending.
    pub(super) rows: Vec<usize>,
}

impl<'a> ModelFrame<'a> {
    /// Looks up the used columns, validates them and drops rows with missing cells. Returns the
    /// data and the number of rows dropped.
    pub(super) fn new(
        formula: &Formula,
        table: &'a Table,
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
        let response = match columns.get(formula.response()) {
            Some(column @ (Column::Numeric(_) | Column::Integer(_))) => *column,
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
            ModelFrame {
                columns,
                response,
                rows,
            },
            dropped,
        ))
    }

    pub(super) fn nobs(&self) -> usize {
        self.rows.len()
    }

    /// A used column; every variable of the formula was looked up in [`ModelFrame::new`].
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
}
