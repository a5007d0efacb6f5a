//! Categorical variables over the rows used: [`Factor`] (sorted levels and each row's level
//! index), text factors of the fixed part, and the grouping factors of random terms (one
//! variable or the observed combinations of several).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::formula::{format_r_number, Grouping};
use crate::table::Column;

use super::frame::ModelFrame;
use super::DesignError;

/// A categorical variable over the rows used: sorted level names and each row's level index.
pub(super) struct Factor {
    pub(super) levels: Vec<String>,
    pub(super) codes: Vec<u32>,
}

impl Factor {
    /// Builds a factor from per-row sort keys and the level name of each key. Distinct keys
    /// are found by hashing (one pass over the rows) and only they are sorted, which matters
    /// at a million rows: a sorted map would compare strings twenty times per row.
    pub(super) fn from_keys<K: Ord + Hash + Clone>(
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

impl Factor {
    /// A factor of finite numbers: levels sorted numerically and named as R names them
    /// (`2`, `0.5`, `1e+05`).
    pub(super) fn of_numbers(name: &str, values: &[f64]) -> Result<Factor, DesignError> {
        // `+ 0.0` turns -0 into 0 so both are one level.
        let keys = values.iter().map(|&v| OrderedFloat(v + 0.0)).collect();
        Factor::from_keys(name, keys, |k| format_r_number(k.0))
    }

    /// `factor` as a variable of the model `name`: it needs at least two levels.
    pub(super) fn named(name: &str, factor: Factor) -> Result<Factor, DesignError> {
        match factor.levels.as_slice() {
            [only] => Err(DesignError::SingleLevelFactor {
                column: name.to_owned(),
                level: only.clone(),
            }),
            _ => Ok(factor),
        }
    }
}

impl ModelFrame<'_> {
    /// One variable of a grouping factor: text, integers (kept exact, sorted numerically), or
    /// integer-valued numbers sorted numerically.
    pub(super) fn grouping_variable(&self, var: &str) -> Result<Factor, DesignError> {
        match self.column(var) {
            Column::Text(values) => Factor::from_keys(var, self.text(values), |s| (*s).to_owned()),
            Column::Integer(values) => {
                // Never through f64: IDs above 2^53 would merge.
                let keys = self.rows.iter().map(|&i| values[i].unwrap_or(0)).collect();
                Factor::from_keys(var, keys, |k| k.to_string())
            }
            column @ Column::Numeric(_) => {
                let values = self.numeric(column).unwrap_or_default();
                let mut keys = Vec::with_capacity(self.nobs());
                for (&row, value) in self.rows.iter().zip(values) {
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
    pub(super) fn grouping(&self, group: &Grouping, name: &str) -> Result<Factor, DesignError> {
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
