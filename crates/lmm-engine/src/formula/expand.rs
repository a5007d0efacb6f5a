//! Random-term expansion: `(e || g)` into one term per column of `e`, and a nested grouping
//! `(e | a/b)` into `(e | a) + (e | a:b)`.

use super::terms::{Grouping, RandomTerm, TermSet};

/// Expands `(expr | groups…)` / `(expr || groups…)` into single-group random terms: `||` first
/// (intercept, then one term per formula term), then the nested groups, as lme4 does.
pub(super) fn expand_random(
    expr: &TermSet,
    uncorrelated: bool,
    groups: &[Grouping],
) -> Vec<RandomTerm> {
    let parts: Vec<TermSet> = if uncorrelated {
        let intercept = expr.intercept.then(|| TermSet::new(true, Vec::new()));
        intercept
            .into_iter()
            .chain(
                expr.terms
                    .iter()
                    .map(|t| TermSet::new(false, vec![t.clone()])),
            )
            .collect()
    } else {
        vec![expr.clone()]
    };
    parts
        .iter()
        .flat_map(|terms| {
            groups.iter().map(move |group| RandomTerm {
                terms: terms.clone(),
                group: group.clone(),
            })
        })
        .collect()
}
