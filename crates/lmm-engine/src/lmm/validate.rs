//! What a model's matrices must satisfy before any cross-product is formed: consistent
//! dimensions, level indices in range, finite values and positive weights, and lme4's
//! identifiability rules `check.nobs.vs.nlev` and `check.nobs.vs.nRE` (relaxed to "not more
//! levels than observations" for GLMMs, as glmer), reported in the user's terms.

use crate::design::ModelMatrices;
use crate::lmm::ModelError;

/// Checks dimensions, index ranges, finiteness and lme4's identifiability rules.
pub(super) fn validate(mm: &ModelMatrices, allow_as_many_levels: bool) -> Result<(), ModelError> {
    let n = mm.y.len();
    let p = mm.x.ncols();
    if mm.terms.is_empty() {
        return Err(ModelError::NoRandomEffects);
    }
    if mm.x.nrows() != n {
        return Err(ModelError::Dimension(format!(
            "X has {} rows but y has {n} values",
            mm.x.nrows()
        )));
    }
    if mm.fixed_names.len() != p {
        return Err(ModelError::Dimension(format!(
            "X has {p} columns but {} names",
            mm.fixed_names.len()
        )));
    }
    if n <= p {
        return Err(ModelError::TooFewObservations {
            nobs: n,
            what: format!("{p} fixed-effects parameters"),
        });
    }
    if let Some(w) = &mm.weights {
        if w.len() != n {
            return Err(ModelError::Dimension(format!(
                "{} prior weights for {n} observations",
                w.len()
            )));
        }
        if w.iter().any(|w| !(w.is_finite() && *w > 0.0)) {
            return Err(ModelError::NonFinite(
                "the prior weights (each must be finite and positive)".to_string(),
            ));
        }
    }
    if mm.y.iter().any(|v| !v.is_finite()) {
        return Err(ModelError::NonFinite(format!(
            "the response {}",
            mm.response
        )));
    }
    for (c, name) in mm.fixed_names.iter().enumerate() {
        let finite = match mm.x.col(c).try_as_col_major() {
            Some(col) => col.as_slice().iter().all(|v| v.is_finite()),
            None => (0..n).all(|i| mm.x[(i, c)].is_finite()),
        };
        if !finite {
            return Err(ModelError::NonFinite(format!(
                "fixed-effects column {name}"
            )));
        }
    }
    for term in &mm.terms {
        let k = term.width();
        let label = format!("({} | {})", term.columns.join(" + "), term.group);
        if k == 0 || term.nlevels() == 0 {
            return Err(ModelError::Dimension(format!(
                "random-effects term {label} has no columns or no levels"
            )));
        }
        if term.refs.len() != n || term.z.len() != n * k {
            return Err(ModelError::Dimension(format!(
                "random-effects term {label} has {} level indices and {} values for {n} \
                 observations",
                term.refs.len(),
                term.z.len()
            )));
        }
        if term.refs.iter().any(|&r| r as usize >= term.nlevels()) {
            return Err(ModelError::Dimension(format!(
                "random-effects term {label} has a level index out of range"
            )));
        }
        if term.z.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite(format!(
                "random-effects term {label}"
            )));
        }
        // lme4's check.nobs.vs.nlev and check.nobs.vs.nRE ("stop" by default): with as many
        // random effects as observations the variance components are not identifiable.
        let too_many = |count: usize| {
            if allow_as_many_levels {
                count > n
            } else {
                count >= n
            }
        };
        if too_many(term.nlevels()) {
            return Err(ModelError::TooFewObservations {
                nobs: n,
                what: format!(
                    "grouping factor {} with {} levels (levels must be fewer than observations)",
                    term.group,
                    term.nlevels()
                ),
            });
        }
        if too_many(term.nranef()) {
            return Err(ModelError::TooFewObservations {
                nobs: n,
                what: format!(
                    "random-effects term {label} with {} random effects",
                    term.nranef()
                ),
            });
        }
    }
    Ok(())
}
