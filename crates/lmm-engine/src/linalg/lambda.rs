//! Multiplication by a term's relative covariance factor λ (k×k, lower triangular,
//! column-major), the one small kernel every scaling of the cross-products by `Λ = I ⊗ λ`
//! goes through. Both directions work in place: ascending output indices read only inputs
//! that are not yet overwritten, so no scratch is needed.

/// `a ← a λ` on one block of `k` columns of `a` (`rows` rows, leading dimension `ld`).
#[inline]
pub fn mul_lambda_right(a: &mut [f64], ld: usize, rows: usize, lambda: &[f64], k: usize) {
    if k == 1 {
        let s = lambda[0];
        for v in &mut a[..rows] {
            *v *= s;
        }
        return;
    }
    // Column c of the product needs columns d ≥ c of `a`; ascending c keeps them intact.
    for c in 0..k {
        for r in 0..rows {
            let mut s = 0.0;
            for d in c..k {
                s += a[r + d * ld] * lambda[d + c * k];
            }
            a[r + c * ld] = s;
        }
    }
}

/// `a ← λ' a` on one block of `k` rows of `a` (`cols` columns, leading dimension `ld`).
#[inline]
pub fn mul_lambda_t_left(a: &mut [f64], ld: usize, cols: usize, lambda: &[f64], k: usize) {
    if k == 1 {
        let s = lambda[0];
        for c in 0..cols {
            a[c * ld] *= s;
        }
        return;
    }
    // Row r of the product needs rows d ≥ r of `a`; ascending r keeps them intact.
    for c in 0..cols {
        for r in 0..k {
            let mut s = 0.0;
            for d in r..k {
                s += lambda[d + r * k] * a[d + c * ld];
            }
            a[r + c * ld] = s;
        }
    }
}

/// `out = λ_r' a λ_c` for a `kr × kc` block `a` (column-major) and lower-triangular `λ_r`
/// (kr×kr), `λ_c` (kc×kc).
#[inline]
pub fn congruence(
    lambda_r: &[f64],
    kr: usize,
    a: &[f64],
    lambda_c: &[f64],
    kc: usize,
    out: &mut [f64],
) {
    if kr == 1 && kc == 1 {
        out[0] = lambda_r[0] * a[0] * lambda_c[0];
        return;
    }
    out[..kr * kc].copy_from_slice(&a[..kr * kc]);
    mul_lambda_right(out, kr, kr, lambda_c, kc);
    mul_lambda_t_left(out, kr, kc, lambda_r, kr);
}

/// `out = a λ_c` for a `rows × kc` block `a` (leading dimension `lda`) and lower-triangular
/// `λ_c`; `out` has leading dimension `ldo`.
#[inline]
pub fn right_scale(
    a: &[f64],
    lda: usize,
    rows: usize,
    lambda_c: &[f64],
    kc: usize,
    out: &mut [f64],
    ldo: usize,
) {
    for c in 0..kc {
        out[c * ldo..c * ldo + rows].copy_from_slice(&a[c * lda..c * lda + rows]);
    }
    mul_lambda_right(out, ldo, rows, lambda_c, kc);
}

/// `b ← b Λ`, Λ = I ⊗ λ over the column blocks of a column-major `rows × (levels·k)` matrix.
pub fn scale_columns(data: &mut [f64], rows: usize, lambda: &[f64], k: usize) {
    for block in data.chunks_exact_mut(rows * k) {
        mul_lambda_right(block, rows, rows, lambda, k);
    }
}

/// `b ← Λ' b`, Λ = I ⊗ λ over the row blocks of a column-major `(levels·k) × cols` matrix.
pub fn scale_rows(data: &mut [f64], rows: usize, lambda: &[f64], k: usize) {
    for column in data.chunks_exact_mut(rows) {
        for block in column.chunks_exact_mut(k) {
            mul_lambda_t_left(block, k, 1, lambda, k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn congruence_matches_explicit_products() {
        // λ_r = [[1, 0], [2, 3]], λ_c = [[4]], a = [5; 6] (2×1).
        let lr = [1.0, 2.0, 0.0, 3.0];
        let lc = [4.0];
        let a = [5.0, 6.0];
        let mut out = [0.0; 2];
        congruence(&lr, 2, &a, &lc, 1, &mut out);
        // λ_r' a = [1·5 + 2·6, 3·6] = [17, 18]; times 4.
        assert_eq!(out, [68.0, 72.0]);
    }

    #[test]
    fn in_place_products_match_the_definition() {
        // λ (3×3 lower) and a 2×3 block: a λ column by column, then λ' on a 3×2 block.
        let lambda = [1.0, 0.5, -2.0, 0.0, 3.0, 0.25, 0.0, 0.0, 2.0];
        let a0 = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut a = a0;
        mul_lambda_right(&mut a, 2, 2, &lambda, 3);
        for r in 0..2 {
            for c in 0..3 {
                let want: f64 = (0..3).map(|d| a0[r + d * 2] * lambda[d + c * 3]).sum();
                assert!((a[r + c * 2] - want).abs() < 1e-15);
            }
        }
        let b0 = [1.0, -1.0, 2.0, 0.5, 4.0, -3.0];
        let mut b = b0;
        mul_lambda_t_left(&mut b, 3, 2, &lambda, 3);
        for c in 0..2 {
            for r in 0..3 {
                let want: f64 = (0..3).map(|d| lambda[d + r * 3] * b0[d + c * 3]).sum();
                assert!((b[r + c * 3] - want).abs() < 1e-15);
            }
        }
    }
}
