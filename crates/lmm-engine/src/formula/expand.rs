//! Random-term expansion: `(e || g)` into one term per column of `e`, and a nested grouping
//! `(e | a/b)` into `(e | a) + (e | a:b)`.

use super::terms::{Grouping, RandomTerm, TermSet};
use super::MAX_TERMS;

/// The number of single-group random terms `(expr | groups…)` expands to, and their size
/// (terms on the left plus grouping variables, summed over the expanded terms), computed
/// before anything is built so that `(x1 + … + x600 || a1/…/a600)` is refused at once instead
/// of allocating 360,000 terms.
pub(super) fn expanded_len(
    expr: &TermSet,
    uncorrelated: bool,
    groups: &[Grouping],
) -> (usize, usize) {
    let (parts, part_terms) = if uncorrelated {
        (
            usize::from(expr.intercept) + expr.terms.len(),
            expr.terms.len(),
        )
    } else {
        (1, expr.terms.len())
    };
    let variables: usize = groups.iter().map(|g| g.variables.len()).sum();
    let len = parts.saturating_mul(groups.len());
    let size = part_terms
        .saturating_mul(groups.len())
        .saturating_add(parts.saturating_mul(variables));
    (len, size)
}

/// Expands `(expr | groups…)` / `(expr || groups…)` into single-group random terms: `||` first
/// (intercept, then one term per formula term), then the nested groups, as lme4 does. The
/// caller has checked [`expanded_len`] against [`MAX_TERMS`].
pub(super) fn expand_random(
    expr: &TermSet,
    uncorrelated: bool,
    groups: &[Grouping],
) -> Vec<RandomTerm> {
    debug_assert!(expanded_len(expr, uncorrelated, groups).0 <= MAX_TERMS);
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
