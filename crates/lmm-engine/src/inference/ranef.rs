//! The random effects as lme4's `as.data.frame(ranef(m, condVar = TRUE))` lists them: one row
//! per term, column and level (term-major, then column, then level), with the conditional
//! mode and its conditional standard deviation (conditional on β̂ and θ̂, as lme4).

use serde::Serialize;

use crate::fit::Fit;

/// One random effect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RanefRow {
    /// Grouping factor as the formula writes it (`Subject`, `Variety:Block`).
    pub group: String,
    /// The level as the data spell it.
    pub level: String,
    /// The term's column (`(Intercept)`, `Days`).
    pub term: String,
    /// The conditional mode b̂.
    pub mode: f64,
    /// Its conditional standard deviation.
    pub cond_sd: f64,
}

/// Every random effect of `fit`, in lme4's order.
pub fn ranef(fit: &Fit) -> Vec<RanefRow> {
    let mut rows = Vec::new();
    for term in fit.conditional_modes() {
        for (j, column) in term.columns.iter().enumerate() {
            for (l, level) in term.levels.iter().enumerate() {
                rows.push(RanefRow {
                    group: term.group.clone(),
                    level: level.clone(),
                    term: column.clone(),
                    mode: term.mode(l, j),
                    cond_sd: term.sd(l, j),
                });
            }
        }
    }
    rows
}
