//! Aliased fixed-effects columns: those that are linear combinations of earlier ones are
//! dropped, as `lm` and `lmer` do.

use crate::linalg::dot;

use super::coding::NamedColumn;

/// Relative tolerance below which a column counts as a linear combination of earlier ones: the
/// norm of what remains after projecting out the earlier columns, relative to the column's own
/// norm. 1e-7 is the default of R's `lm` (`qr(tol = 1e-07)`).
const ALIAS_TOLERANCE: f64 = 1e-7;

/// Euclidean norm, scaled by the largest magnitude so that large values do not overflow.
fn norm(values: &[f64]) -> f64 {
    let scale = values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    if scale == 0.0 {
        return 0.0;
    }
    scale
        * values
            .iter()
            .map(|v| (v / scale).powi(2))
            .sum::<f64>()
            .sqrt()
}

/// Splits `columns` into those kept and the names of those dropped because they are (within
/// [`ALIAS_TOLERANCE`]) linear combinations of earlier kept columns.
///
/// This is a QR factorisation in column order without pivoting of the retained columns, like
/// R's `dqrdc2` as used by `lm`: each column is orthogonalised against the kept ones by modified
/// Gram–Schmidt; a second pass restores orthogonality lost to rounding ("twice is enough"), so
/// the residual norm is reliable down to the tolerance.
pub(super) fn drop_aliased(columns: Vec<NamedColumn>) -> (Vec<NamedColumn>, Vec<String>) {
    let mut basis: Vec<Vec<f64>> = Vec::new();
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for column in columns {
        let original = norm(&column.values);
        let mut residual = column.values.clone();
        for _pass in 0..2 {
            for q in &basis {
                let d = dot(q, &residual);
                for (r, qi) in residual.iter_mut().zip(q) {
                    *r -= d * qi;
                }
            }
        }
        let remaining = norm(&residual);
        if original > 0.0 && remaining > ALIAS_TOLERANCE * original {
            basis.push(residual.iter().map(|r| r / remaining).collect());
            kept.push(column);
        } else {
            dropped.push(column.name);
        }
    }
    (kept, dropped)
}
