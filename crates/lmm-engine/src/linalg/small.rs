//! Small k×k kernels done with plain loops (below [`super::FAER_MIN_DIM`] a library call costs
//! more than the work): in-place Cholesky factors and triangular right-solves.

/// In-place lower Cholesky factor of a small `k × k` block (leading dimension `ld`). Returns
/// false when a pivot is not positive.
#[inline]
pub fn cholesky_small(a: &mut [f64], k: usize, ld: usize) -> bool {
    cholesky_small_checked(a, k, ld, 0.0).is_ok()
}

/// [`cholesky_small`] that also rejects a pivot at or below `relative_tolerance` times its
/// column's original diagonal; `Err(j)` names the first failing column (NaN pivots fail too).
#[inline]
pub fn cholesky_small_checked(
    a: &mut [f64],
    k: usize,
    ld: usize,
    relative_tolerance: f64,
) -> Result<(), usize> {
    for j in 0..k {
        let original = a[j + j * ld];
        let mut d = original;
        for c in 0..j {
            d -= a[j + c * ld] * a[j + c * ld];
        }
        if d.is_nan() || d <= 0.0 || d <= relative_tolerance * original {
            return Err(j);
        }
        let d = d.sqrt();
        a[j + j * ld] = d;
        for i in j + 1..k {
            let mut s = a[i + j * ld];
            for c in 0..j {
                s -= a[i + c * ld] * a[j + c * ld];
            }
            a[i + j * ld] = s / d;
        }
    }
    Ok(())
}

/// triangular `L` (k×k, leading dimension `ldl`): solves `X L' = B` column by column.
#[inline]
pub fn right_solve_small(b: &mut [f64], rows: usize, ldb: usize, l: &[f64], k: usize, ldl: usize) {
    for c in 0..k {
        for d in 0..c {
            let f = l[c + d * ldl];
            if f != 0.0 {
                for r in 0..rows {
                    b[r + c * ldb] -= b[r + d * ldb] * f;
                }
            }
        }
        let inv = 1.0 / l[c + c * ldl];
        for r in 0..rows {
            b[r + c * ldb] *= inv;
        }
    }
}
