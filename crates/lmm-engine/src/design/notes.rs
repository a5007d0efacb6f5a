//! Notes about how the data entered the model: what a user of lme4 would want to hear before
//! trusting the fit, although nothing is wrong enough to stop it.

use std::collections::HashSet;

use super::frame::ModelFrame;

/// A numeric predictor with this many distinct integer values or fewer (and at least three)
/// looks like a code for categories (ChickWeight's `Diet` 1..4, InstEval's `studage`), not a
/// measurement (sleepstudy's `Days` has ten).
const MAX_CODE_LEVELS: usize = 9;

impl ModelFrame<'_> {
    /// One note per plain numeric column of the fixed part that holds only a few distinct
    /// integers: it is fitted as a number, which is what R does too, but a categorical effect
    /// is what such a column usually means.
    pub(super) fn notes(&self) -> Vec<String> {
        let mut notes = self.formula.notes();
        let mut seen = Vec::new();
        for term in self.formula.fixed().terms() {
            for var in term.variables() {
                if seen.contains(var)
                    || self.formula.transform(var).is_some()
                    || self.is_factor(var)
                {
                    continue;
                }
                seen.push(var.clone());
                let Some(values) = self.numeric(self.column(var)) else {
                    continue;
                };
                if values.iter().any(|v| v.fract() != 0.0) {
                    continue;
                }
                let distinct: HashSet<u64> = values.iter().map(|v| (v + 0.0).to_bits()).collect();
                let k = distinct.len();
                if (3..=MAX_CODE_LEVELS).contains(&k) {
                    notes.push(format!(
                        "{var} has {k} distinct integer values and is treated as numeric; write \
                         factor({var}) for a categorical effect"
                    ));
                }
            }
        }
        notes
    }
}
