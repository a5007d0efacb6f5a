//! Dense kernels for the blocked Cholesky factor: small k×k block arithmetic (λ scaling,
//! tiny Cholesky factors, triangular right-solves) done with plain loops, and the same
//! operations on large blocks handed to faer. Below [`FAER_MIN_DIM`] the call overhead of a
//! general library routine exceeds the work, so the hand loops win; above it faer's blocked,
//! SIMD (and optionally parallel) kernels win by a wide margin.
//!
//! All matrices are column-major slices with an explicit leading dimension.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{
    cholesky_in_place, cholesky_in_place_scratch, LltRegularization,
};
use faer::linalg::matmul::triangular::BlockStructure;
use faer::{Accum, MatMut, MatRef, Par};

/// Dimension from which a block is handed to faer instead of the hand loops.
pub const FAER_MIN_DIM: usize = 48;

/// A dense column-major block of the factor, `rows × cols`, leading dimension `rows`.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseBlock {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Column-major values.
    pub data: Vec<f64>,
}

impl DenseBlock {
    /// A zero block.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// Value at `(r, c)`.
    #[inline]
    pub fn get(&self, r: usize, c: usize) -> f64 {
        self.data[r + c * self.rows]
    }

    /// faer view.
    pub fn as_ref(&self) -> MatRef<'_, f64> {
        MatRef::from_column_major_slice(&self.data, self.rows, self.cols)
    }

    /// Mutable faer view.
    pub fn as_mut(&mut self) -> MatMut<'_, f64> {
        MatMut::from_column_major_slice_mut(&mut self.data, self.rows, self.cols)
    }

    /// Sets the lower triangle (diagonal included) to zero; the upper triangle of a diagonal
    /// block is never read.
    pub fn zero_lower(&mut self) {
        let n = self.rows;
        for c in 0..self.cols.min(n) {
            self.data[c + c * n..(c + 1) * n].fill(0.0);
        }
    }
}

/// `out = λ_r' a λ_c` for a `kr × kc` block `a` and lower-triangular `λ_r` (kr×kr),
/// `λ_c` (kc×kc). `tmp` needs `kr * kc` values.
#[inline]
pub fn congruence(
    lambda_r: &[f64],
    kr: usize,
    a: &[f64],
    lambda_c: &[f64],
    kc: usize,
    out: &mut [f64],
    tmp: &mut [f64],
) {
    if kr == 1 && kc == 1 {
        out[0] = lambda_r[0] * a[0] * lambda_c[0];
        return;
    }
    // tmp = a λ_c
    for c in 0..kc {
        for r in 0..kr {
            let mut s = 0.0;
            for d in c..kc {
                s += a[r + d * kr] * lambda_c[d + c * kc];
            }
            tmp[r + c * kr] = s;
        }
    }
    // out = λ_r' tmp
    for c in 0..kc {
        for r in 0..kr {
            let mut s = 0.0;
            for d in r..kr {
                s += lambda_r[d + r * kr] * tmp[d + c * kr];
            }
            out[r + c * kr] = s;
        }
    }
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
        for r in 0..rows {
            let mut s = 0.0;
            for d in c..kc {
                s += a[r + d * lda] * lambda_c[d + c * kc];
            }
            out[r + c * ldo] = s;
        }
    }
}

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

/// Dense Cholesky factorisation of a diagonal block, lower triangle in place. Small blocks use
/// the hand loop; large ones faer's blocked left-looking LLT with preallocated scratch.
pub struct DenseCholesky {
    scratch: MemBuffer,
    par: Par,
}

impl DenseCholesky {
    /// Scratch for blocks up to `max_dim`, run with `par`.
    pub fn new(max_dim: usize, par: Par) -> Self {
        let req = cholesky_in_place_scratch::<f64>(max_dim.max(1), par, Default::default());
        Self {
            scratch: MemBuffer::new(req),
            par,
        }
    }

    /// Factors `block` (square) in place; false when it is not positive definite.
    pub fn factor(&mut self, block: &mut DenseBlock) -> bool {
        let n = block.rows;
        if n < FAER_MIN_DIM {
            return cholesky_small(&mut block.data, n, n);
        }
        cholesky_in_place(
            block.as_mut(),
            LltRegularization::default(),
            self.par,
            MemStack::new(&mut self.scratch),
            Default::default(),
        )
        .is_ok()
    }
}

/// `dst -= a b'` with `a` (`dst.rows × inner`) and `b` (`dst.cols × inner`); only the lower
/// triangle of `dst` when `lower_only` (then `a` and `b` are the same block).
pub fn sub_abt(dst: &mut DenseBlock, a: &DenseBlock, b: &DenseBlock, lower_only: bool, par: Par) {
    let (m, n, k) = (dst.rows, dst.cols, a.cols);
    debug_assert_eq!(a.rows, m);
    debug_assert_eq!(b.rows, n);
    debug_assert_eq!(b.cols, k);
    if m.min(n).min(k) >= FAER_MIN_DIM / 2 && m * n * k >= FAER_MIN_DIM.pow(3) {
        faer::linalg::matmul::triangular::matmul(
            dst.as_mut(),
            if lower_only {
                BlockStructure::TriangularLower
            } else {
                BlockStructure::Rectangular
            },
            Accum::Add,
            a.as_ref(),
            BlockStructure::Rectangular,
            b.as_ref().transpose(),
            BlockStructure::Rectangular,
            -1.0,
            par,
        );
        return;
    }
    for c in 0..n {
        let r0 = if lower_only { c } else { 0 };
        for h in 0..k {
            let f = b.data[c + h * n];
            if f == 0.0 {
                continue;
            }
            let acol = &a.data[h * m..(h + 1) * m];
            let dcol = &mut dst.data[c * m..(c + 1) * m];
            for r in r0..m {
                dcol[r] -= acol[r] * f;
            }
        }
    }
}

/// `b ← b L^{-T}` for a dense block `b` and a factored diagonal block `L`.
pub fn right_solve(b: &mut DenseBlock, l: &DenseBlock, par: Par) {
    let k = l.rows;
    if k < FAER_MIN_DIM {
        let rows = b.rows;
        right_solve_small(&mut b.data, rows, rows, &l.data, k, k);
        return;
    }
    // X L' = B  ⇔  L X' = B'.
    faer::linalg::triangular_solve::solve_lower_triangular_in_place(
        l.as_ref(),
        b.as_mut().transpose_mut(),
        par,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spd(n: usize) -> DenseBlock {
        let mut b = DenseBlock::zeros(n, n);
        for i in 0..n {
            for j in 0..n {
                let v = ((i * 7 + j * 3) % 11) as f64 / 11.0 + if i == j { n as f64 } else { 0.0 };
                b.data[i + j * n] = v;
            }
        }
        // symmetrise
        for i in 0..n {
            for j in 0..i {
                let v = b.get(i, j);
                b.data[j + i * n] = v;
            }
        }
        b
    }

    /// Both the hand loop and faer must read the lower triangle only and agree.
    #[test]
    fn dense_cholesky_reads_lower_triangle_only() {
        for n in [5, 60] {
            let a = spd(n);
            let mut f = a.clone();
            for i in 0..n {
                for j in i + 1..n {
                    f.data[i + j * n] = f64::NAN;
                }
            }
            let mut chol = DenseCholesky::new(n, Par::Seq);
            assert!(chol.factor(&mut f));
            for i in 0..n {
                for j in 0..=i {
                    let llt: f64 = (0..=j).map(|c| f.get(i, c) * f.get(j, c)).sum();
                    assert!((llt - a.get(i, j)).abs() < 1e-10 * n as f64, "{n} {i} {j}");
                }
            }
        }
    }

    #[test]
    fn right_solve_inverts_the_transposed_factor() {
        for n in [3, 50] {
            let a = spd(n);
            let mut l = a.clone();
            let mut chol = DenseCholesky::new(n, Par::Seq);
            assert!(chol.factor(&mut l));
            for i in 0..n {
                for j in i + 1..n {
                    l.data[i + j * n] = 0.0;
                }
            }
            let rows = 4;
            let mut b = DenseBlock::zeros(rows, n);
            for (i, v) in b.data.iter_mut().enumerate() {
                *v = (i % 13) as f64 - 6.0;
            }
            let orig = b.clone();
            right_solve(&mut b, &l, Par::Seq);
            // b L' == orig
            for r in 0..rows {
                for c in 0..n {
                    let v: f64 = (0..n).map(|d| b.get(r, d) * l.get(c, d)).sum();
                    assert!((v - orig.get(r, c)).abs() < 1e-9);
                }
            }
        }
    }

    #[test]
    fn congruence_matches_explicit_products() {
        let lr = [1.0, 2.0, 0.0, 3.0]; // [[1,0],[2,3]]
        let lc = [2.0];
        let a = [1.0, 4.0]; // 2×1
        let mut out = [0.0; 2];
        let mut tmp = [0.0; 2];
        congruence(&lr, 2, &a, &lc, 1, &mut out, &mut tmp);
        // λr' a λc = [[1,2],[0,3]] [1,4]' * 2 = [9, 12]*2
        assert_eq!(out, [18.0, 24.0]);
    }
}
