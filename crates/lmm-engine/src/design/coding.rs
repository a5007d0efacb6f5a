//! How terms become model-matrix columns: R's rule for coding a factor by treatment contrasts
//! or full indicators in each term ([`codings`]), and interaction columns as products with the
//! first variable varying fastest, named `recipeB:temp`.

use crate::formula::TermSet;
use crate::table::Column;

use super::frame::ModelFrame;
use super::DesignError;

/// One named model-matrix column over the rows used.
pub(super) struct NamedColumn {
    pub(super) name: String,
    pub(super) values: Vec<f64>,
}

/// How one variable of a term enters the model matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Coding {
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
pub(super) fn codings(set: &TermSet, is_factor: impl Fn(&str) -> bool) -> Vec<Vec<Coding>> {
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

impl ModelFrame<'_> {
    /// The columns of the model `set`: `(Intercept)` if present, then every term's columns.
    pub(super) fn model_columns(&self, set: &TermSet) -> Result<Vec<NamedColumn>, DesignError> {
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
        let column = self.column(var);
        match column {
            Column::Numeric(_) | Column::Integer(_) => Ok(vec![NamedColumn {
                name: var.to_owned(),
                values: self.numeric(column).unwrap_or_default(),
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
}
