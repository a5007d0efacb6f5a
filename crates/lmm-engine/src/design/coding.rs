//! How terms become model-matrix columns: R's rule for coding a factor by contrasts or full
//! indicators in each term ([`codings`]), the contrasts themselves (treatment by default, or
//! R's `contr.sum` and `contr.helmert`), and interaction columns as products with the first
//! variable varying fastest, named `recipeB:temp`.

use crate::formula::{Expr, TermSet, Transform};
use crate::options::Contrasts;

use super::frame::{ModelFrame, Variable};
use super::DesignError;

/// One named model-matrix column over the rows used.
#[derive(Clone)]
pub(super) struct NamedColumn {
    pub(super) name: String,
    pub(super) values: Vec<f64>,
}

/// How one variable of a term enters the model matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Coding {
    /// A numeric variable: one column, its values.
    Numeric,
    /// A factor coded by contrasts: m − 1 columns (treatment contrasts unless the options say
    /// otherwise).
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
        let is_factor = |v: &str| self.is_factor(v);
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
        Ok(match self.variable(var)? {
            Variable::Numeric(values) => vec![NamedColumn {
                name: var.to_owned(),
                values,
            }],
            Variable::Matrix(columns) => columns
                .into_iter()
                .map(|(suffix, values)| NamedColumn {
                    name: format!("{var}{suffix}"),
                    values,
                })
                .collect(),
            Variable::Factor(factor) => {
                let m = factor.levels.len();
                let indicator = |level: usize| -> Vec<f64> {
                    factor
                        .codes
                        .iter()
                        .map(|&c| if c as usize == level { 1.0 } else { 0.0 })
                        .collect()
                };
                let contrasts = match coding {
                    Coding::Contrasts => Some(self.contrasts_of(var)),
                    Coding::Indicators | Coding::Numeric => None,
                };
                match contrasts {
                    // Full indicators, named by level.
                    None => (0..m)
                        .map(|level| NamedColumn {
                            name: format!("{var}{}", factor.levels[level]),
                            values: indicator(level),
                        })
                        .collect(),
                    Some(Contrasts::Treatment) => (1..m)
                        .map(|level| NamedColumn {
                            name: format!("{var}{}", factor.levels[level]),
                            values: indicator(level),
                        })
                        .collect(),
                    // contr.sum: level j ↦ e_j, the last level ↦ −1 in every column; R names
                    // the columns by number.
                    Some(Contrasts::Sum) => (0..m - 1)
                        .map(|j| NamedColumn {
                            name: format!("{var}{}", j + 1),
                            values: factor
                                .codes
                                .iter()
                                .map(|&c| match c as usize {
                                    c if c == j => 1.0,
                                    c if c == m - 1 => -1.0,
                                    _ => 0.0,
                                })
                                .collect(),
                        })
                        .collect(),
                    // contr.helmert: column j compares level j + 1 with the levels before it
                    // (−1 each, j + 1 for itself).
                    Some(Contrasts::Helmert) => (1..m)
                        .map(|j| NamedColumn {
                            name: format!("{var}{j}"),
                            values: factor
                                .codes
                                .iter()
                                .map(|&c| match (c as usize).cmp(&j) {
                                    std::cmp::Ordering::Less => -1.0,
                                    std::cmp::Ordering::Equal => j as f64,
                                    std::cmp::Ordering::Greater => 0.0,
                                })
                                .collect(),
                        })
                        .collect(),
                }
            }
        })
    }

    /// The contrasts of factor `var` (treatment unless the options name it, by its label or
    /// by the column inside `factor()`).
    fn contrasts_of(&self, var: &str) -> Contrasts {
        self.options
            .contrasts
            .iter()
            .find(|(key, _)| contrast_key_matches(self, key, var))
            .map_or(Contrasts::Treatment, |&(_, c)| c)
    }

    /// Every option key of `--contrasts` must name a factor of the model.
    pub(super) fn check_contrasts(&self) -> Result<(), DesignError> {
        let formula = self.formula;
        let mut factors: Vec<&str> = Vec::new();
        let sets =
            std::iter::once(formula.fixed()).chain(formula.random().iter().map(|r| r.terms()));
        for set in sets {
            for term in set.terms() {
                for v in term.variables() {
                    if self.is_factor(v) && !factors.contains(&v.as_str()) {
                        factors.push(v);
                    }
                }
            }
        }
        for (key, _) in &self.options.contrasts {
            if !factors.iter().any(|v| contrast_key_matches(self, key, v)) {
                return Err(DesignError::UnknownContrastVariable {
                    name: key.clone(),
                    factors: factors.iter().map(|f| (*f).to_owned()).collect(),
                });
            }
        }
        Ok(())
    }
}

/// True when a contrasts option `key` names the factor variable `var`: `Sex` names `Sex`, and
/// `Diet` also names `factor(Diet)`.
fn contrast_key_matches(frame: &ModelFrame<'_>, key: &str, var: &str) -> bool {
    key == var
        || matches!(
            frame.formula.transform(var),
            Some(Transform::Factor(Expr::Column(name))) if name == key
        )
}
