//! The same operations on large blocks, handed to faer's blocked, SIMD and optionally
//! parallel kernels: Cholesky factorisation, `C -= A B'`, and triangular right-solves.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{
    cholesky_in_place, cholesky_in_place_scratch, LltRegularization,
};
use faer::linalg::matmul::triangular::BlockStructure;
use faer::{Accum, MatRef, Par};

use super::{cholesky_small, cholesky_small_checked, right_solve_small, DenseBlock, FAER_MIN_DIM};

/// Dense Cholesky factorisation of a diagonal block, lower triangle in place. Small blocks use
/// the hand loop; large ones faer's blocked left-looking LLT with preallocated scratch.
pub struct DenseCholesky {
    scratch: MemBuffer,
    max_dim: usize,
    par: Par,
}

impl Clone for DenseCholesky {
    /// Fresh scratch of the same size: it holds no state between factorisations.
    fn clone(&self) -> Self {
        Self::new(self.max_dim, self.par)
    }
}

impl DenseCholesky {
    /// Scratch for blocks up to `max_dim`, run with `par`.
    pub fn new(max_dim: usize, par: Par) -> Self {
        let req = cholesky_in_place_scratch::<f64>(max_dim.max(1), par, Default::default());
        Self {
            scratch: MemBuffer::new(req),
            max_dim,
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

/// [`cholesky_small_checked`] for any size: factors the `k × k` column-major `a` in place and
/// returns the first column whose pivot is not positive or at most `relative_tolerance` times
/// its original diagonal. From 128 columns on (a factor with many levels among the fixed
/// effects) faer's blocked factorisation is used and the pivots are checked afterwards; a
/// failed pivot makes faer stop, and a tiny one before it is reported first, as the hand loop
/// would.
pub fn cholesky_checked(a: &mut [f64], k: usize, relative_tolerance: f64) -> Result<(), usize> {
    if k < 128 {
        return cholesky_small_checked(a, k, k, relative_tolerance);
    }
    let diagonal: Vec<f64> = (0..k).map(|j| a[j + j * k]).collect();
    let par = Par::rayon(0);
    let mut scratch = MemBuffer::new(cholesky_in_place_scratch::<f64>(k, par, Default::default()));
    let failed = cholesky_in_place(
        faer::MatMut::from_column_major_slice_mut(a, k, k),
        LltRegularization::default(),
        par,
        MemStack::new(&mut scratch),
        Default::default(),
    )
    .err()
    .map(|faer::linalg::cholesky::llt::factor::LltError::NonPositivePivot { index }| index);
    let checked = failed.unwrap_or(k);
    // A pivot passes when it is (not NaN and) above the tolerance.
    let passes = |j: usize| {
        let d = a[j + j * k].powi(2);
        d.partial_cmp(&(relative_tolerance * diagonal[j])) == Some(std::cmp::Ordering::Greater)
    };
    match (0..checked).find(|&j| !passes(j)) {
        Some(j) => Err(j),
        None => failed.map_or(Ok(()), Err),
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
        sub_abt_faer(dst, a.as_ref(), b.as_ref(), lower_only, par);
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

/// `dst -= a b'` by faer, for any sizes and for views (the lower triangle only when
/// `lower_only`).
pub fn sub_abt_faer(
    dst: &mut DenseBlock,
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    lower_only: bool,
    par: Par,
) {
    faer::linalg::matmul::triangular::matmul(
        dst.as_mut(),
        if lower_only {
            BlockStructure::TriangularLower
        } else {
            BlockStructure::Rectangular
        },
        Accum::Add,
        a,
        BlockStructure::Rectangular,
        b.transpose(),
        BlockStructure::Rectangular,
        -1.0,
        par,
    );
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

    /// The blocked checked Cholesky (used from 128 columns) agrees with the hand loop: the
    /// same factor, and the same first failing column for a singular or tiny pivot.
    #[test]
    fn checked_cholesky_agrees_with_the_hand_loop() {
        let n = 150;
        let a = spd(n);
        let (mut small, mut large) = (a.data.clone(), a.data.clone());
        assert_eq!(cholesky_small_checked(&mut small, n, n, 1e-12), Ok(()));
        assert_eq!(cholesky_checked(&mut large, n, 1e-12), Ok(()));
        for j in 0..n {
            for i in j..n {
                let (s, l) = (small[i + j * n], large[i + j * n]);
                assert!((s - l).abs() <= 1e-12 * s.abs().max(1.0), "({i}, {j})");
            }
        }
        // Column 100 a copy of column 40: it fails at 100, both ways.
        let mut b = a.clone();
        for i in 0..n {
            let v = b.get(i, 40);
            b.data[i + 100 * n] = v;
            b.data[100 + i * n] = v;
        }
        b.data[100 + 100 * n] = b.get(40, 40);
        let (mut small, mut large) = (b.data.clone(), b.data.clone());
        assert_eq!(cholesky_small_checked(&mut small, n, n, 1e-12), Err(100));
        assert_eq!(cholesky_checked(&mut large, n, 1e-12), Err(100));
        let mut nan = a.data.clone();
        nan[7 + 7 * n] = f64::NAN;
        assert_eq!(cholesky_checked(&mut nan, n, 1e-12), Err(7));
    }
}
