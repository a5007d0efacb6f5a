//! Selected inversion: the entries of `C⁻¹ = (L_ZZ L_ZZ')⁻¹` that the rows of `ZΛ` touch —
//! each level's diagonal block, the blocks between a level of the first term and the
//! levels of the other terms that occur with it (the pattern of `L`'s column 0), and the
//! whole trailing block. These give the leverages `(ZΛ)ᵢ C⁻¹ (ZΛ)ᵢ'` of every row at a cost
//! set by the factor's pattern, not by the number of rows (as for the factor itself).
//!
//! With `L_ZZ = [D 0; B T]` (`D` the first term's block-diagonal factor, `B` its column below,
//! `T` the dense trailing factor):
//!
//! ```text
//!   C⁻¹ = [D⁻ᵀ(I + B̃'PB̃)D⁻¹   −(P B̃)'] ,   B̃ = B D⁻¹,   P = T⁻ᵀT⁻¹.
//!         [−P B̃               P      ]
//! ```
//!
//! `B̃` keeps `B`'s pattern (D is block diagonal), so each first-term level costs the square
//! of the number of levels it occurs with.

use faer::linalg::matmul::triangular::BlockStructure;
use faer::{Accum, Mat, MatRef};

use super::BlockedCholesky;

/// Entries of `(L_ZZ L_ZZ')⁻¹` on the pattern of the factor.
pub struct SelectedInverse {
    /// Start of each internal term `t ≥ 1` in [`SelectedInverse::trailing`] (`offsets[1] = 0`,
    /// `offsets[m]` its size); `offsets[0]` is unused.
    pub offsets: Vec<usize>,
    /// `P`, the trailing block of the inverse (terms `1..m`), both triangles.
    pub trailing: Mat<f64>,
    /// Per level of the first term, its `k₀ × k₀` diagonal block (column-major).
    pub first: Vec<f64>,
    /// Per internal term `t ≥ 1` (at `t − 1`): on the pattern of [`BlockedCholesky::first_column`],
    /// the `k_t × k₀` block of the inverse between that row level and the column's level.
    pub cross: Vec<Vec<f64>>,
}

impl SelectedInverse {
    /// Column `c` of `P`.
    #[inline]
    pub fn trailing_col(&self, c: usize) -> &[f64] {
        self.trailing
            .col(c)
            .try_as_col_major()
            .map_or(&[][..], |col| col.as_slice())
    }
}

impl BlockedCholesky {
    /// `P = (T T')⁻¹` over the trailing random blocks (terms `1..m`), upper triangle only,
    /// with the offsets of those terms in it.
    pub fn trailing_inverse(&self) -> (Vec<usize>, Mat<f64>) {
        let terms = self.terms();
        let m = terms.len();
        let par = self.par();
        let mut offsets = vec![0usize; m + 1];
        for j in 1..m {
            offsets[j + 1] = offsets[j] + terms[j].nranef();
        }
        let q_rest = offsets[m];
        if q_rest == 0 {
            return (offsets, Mat::<f64>::zeros(0, 0));
        }
        let mut t = Mat::<f64>::zeros(q_rest, q_rest);
        for i in 1..m {
            for j in 1..=i {
                let b = self.dense(i, j);
                t.as_mut()
                    .submatrix_mut(offsets[i], offsets[j], b.rows, b.cols)
                    .copy_from(b.as_ref());
            }
        }
        // The upper triangles of the diagonal blocks hold garbage; the triangular kernels
        // below read the lower triangle only.
        let mut tinv = Mat::<f64>::zeros(q_rest, q_rest);
        faer::linalg::triangular_inverse::invert_lower_triangular(tinv.as_mut(), t.as_ref(), par);
        let mut p = Mat::<f64>::zeros(q_rest, q_rest);
        faer::linalg::matmul::triangular::matmul(
            p.as_mut(),
            BlockStructure::TriangularUpper,
            Accum::Replace,
            tinv.as_ref().transpose(),
            BlockStructure::TriangularUpper,
            tinv.as_ref(),
            BlockStructure::TriangularLower,
            1.0,
            par,
        );
        (offsets, p)
    }

    /// The selected inverse of the random-effects part at the last update.
    pub fn selected_inverse(&self) -> SelectedInverse {
        let terms = self.terms();
        let m = terms.len();
        let (offsets, mut trailing) = self.trailing_inverse();
        for c in 0..trailing.ncols() {
            for r in c + 1..trailing.nrows() {
                trailing[(r, c)] = trailing[(c, r)];
            }
        }
        let k0 = terms[0].width;
        if k0 == 1 && m > 1 {
            let dense: Option<Vec<_>> = (1..m).map(|t| self.first_column_dense(t)).collect();
            if let Some(blocks) = dense {
                return self.selected_inverse_crossed(&blocks, offsets, trailing);
            }
        }
        let kk = k0 * k0;
        let diag = self.first_diagonal();
        let mut first = vec![0.0; terms[0].nlevels * kk];
        let mut cross: Vec<Vec<f64>> = (1..m)
            .map(|t| vec![0.0; self.first_column(t).1.len()])
            .collect();
        // Per entry row of the current level: its row in P, its term and entry, and B̃'s row.
        let mut rows: Vec<(usize, usize, usize, usize)> = Vec::new();
        let mut btilde: Vec<f64> = Vec::new();
        let mut x0 = vec![0.0; kk];
        let q_rest = trailing.nrows();
        let trailing_flat: Vec<f64> = (0..q_rest)
            .flat_map(|c| trailing.col(c).iter().copied().collect::<Vec<_>>())
            .collect();
        let mut gathered_rows: Vec<usize> = Vec::new();
        let mut gathered: Vec<f64> = Vec::new();
        let mut pb: Vec<f64> = Vec::new();
        for c in 0..terms[0].nlevels {
            lower_inverse_into(&diag[c * kk..(c + 1) * kk], k0, &mut x0);
            let fc = &mut first[c * kk..(c + 1) * kk];
            for a in 0..k0 {
                for b in 0..k0 {
                    fc[a + b * k0] = (0..k0).map(|r| x0[r + a * k0] * x0[r + b * k0]).sum();
                }
            }
            rows.clear();
            btilde.clear();
            for (t, &off) in offsets.iter().enumerate().take(m).skip(1) {
                let (pattern, values) = self.first_column(t);
                let kt = pattern.row_width;
                let blen = pattern.block_len();
                for e in pattern.col_ptr[c]..pattern.col_ptr[c + 1] {
                    let r0 = off + pattern.row_level[e] as usize * kt;
                    let blk = &values[e * blen..(e + 1) * blen];
                    for a in 0..kt {
                        rows.push((r0 + a, t, e, a));
                        for h in 0..k0 {
                            btilde.push((0..k0).map(|g| blk[a + g * kt] * x0[g + h * k0]).sum());
                        }
                    }
                }
            }
            // P restricted to the pattern rows, gathered once per run of levels that occur
            // with the same levels (every level, in a fully crossed design).
            let r = rows.len();
            if !same_rows(&gathered_rows, &rows) {
                gathered_rows.clear();
                gathered_rows.extend(rows.iter().map(|&(r1, ..)| r1));
                gathered.clear();
                for &r2 in &gathered_rows {
                    let col = &trailing_flat[r2 * q_rest..(r2 + 1) * q_rest];
                    gathered.extend(gathered_rows.iter().map(|&r1| col[r1]));
                }
            }
            // −P B̃ on the pattern rows, and B̃'PB̃ = −B̃'(−PB̃).
            pb.clear();
            pb.resize(r * k0, 0.0);
            for h in 0..k0 {
                let out = &mut pb[h * r..(h + 1) * r];
                for (x2, col) in gathered.chunks_exact(r.max(1)).enumerate().take(r) {
                    let b = btilde[x2 * k0 + h];
                    for (o, p) in out.iter_mut().zip(col) {
                        *o -= p * b;
                    }
                }
            }
            for (x1, &(_, t, e, a)) in rows.iter().enumerate() {
                let kt = terms[t].width;
                let blen = kt * k0;
                let out = &mut cross[t - 1][e * blen..(e + 1) * blen];
                for h in 0..k0 {
                    out[a + h * kt] = pb[x1 + h * r];
                }
                let b1 = &btilde[x1 * k0..(x1 + 1) * k0];
                for a2 in 0..k0 {
                    for h in 0..k0 {
                        fc[a2 + h * k0] -= b1[a2] * pb[x1 + h * r];
                    }
                }
            }
        }
        SelectedInverse {
            offsets,
            trailing,
            first,
            cross,
        }
    }
}

impl BlockedCholesky {
    /// [`BlockedCholesky::selected_inverse`] when the first term is scalar and every other
    /// term is scalar and fully crossed with it: `B̃ = B D⁻¹` is dense (`q_rest × q₀`), so
    /// `−P B̃` is one product and each first-term level's diagonal entry is
    /// `d⁻² + B̃[:, c]·(P B̃)[:, c]`. `blocks[t − 1]` is column 0's dense block for the rows
    /// of term `t`.
    fn selected_inverse_crossed(
        &self,
        blocks: &[MatRef<'_, f64>],
        offsets: Vec<usize>,
        trailing: Mat<f64>,
    ) -> SelectedInverse {
        let m = self.terms().len();
        let inv = self.first_inverse_diagonal();
        let (q_rest, q0) = (trailing.nrows(), inv.len());
        let mut btilde = Mat::<f64>::zeros(q_rest, q0);
        for (b, &start) in blocks.iter().zip(&offsets[1..]) {
            for (c, &s) in inv.iter().enumerate() {
                let (src, dst) = (b.col(c), btilde.col_mut(c));
                let dst = dst.subrows_mut(start, b.nrows());
                for (d, v) in dst.iter_mut().zip(src.iter()) {
                    *d = v * s;
                }
            }
        }
        let mut pb = Mat::<f64>::zeros(q_rest, q0);
        faer::linalg::matmul::matmul(
            pb.as_mut(),
            Accum::Replace,
            trailing.as_ref(),
            btilde.as_ref(),
            1.0,
            faer::Par::Seq,
        );
        let first = inv
            .iter()
            .enumerate()
            .map(|(c, &s)| {
                let (b, p) = (btilde.col(c), pb.col(c));
                s * s + b.iter().zip(p.iter()).map(|(x, y)| x * y).sum::<f64>()
            })
            .collect();
        let cross = (1..m)
            .map(|t| {
                let rows = offsets[t]..offsets[t + 1];
                (0..q0)
                    .flat_map(|c| pb.col(c).iter().take(rows.end).skip(rows.start).map(|v| -v))
                    .collect()
            })
            .collect();
        SelectedInverse {
            offsets,
            trailing,
            first,
            cross,
        }
    }
}

/// Whether the gathered rows are the pattern rows of the current level.
fn same_rows(gathered: &[usize], rows: &[(usize, usize, usize, usize)]) -> bool {
    gathered.len() == rows.len() && gathered.iter().zip(rows).all(|(g, r)| *g == r.0)
}

/// Inverse of a small lower-triangular k×k block (column-major) into `inv`.
fn lower_inverse_into(l: &[f64], k: usize, inv: &mut [f64]) {
    inv.fill(0.0);
    for c in 0..k {
        inv[c + c * k] = 1.0 / l[c + c * k];
        for r in c + 1..k {
            let s: f64 = (c..r).map(|h| l[r + h * k] * inv[h + c * k]).sum();
            inv[r + c * k] = -s / l[r + r * k];
        }
    }
}
