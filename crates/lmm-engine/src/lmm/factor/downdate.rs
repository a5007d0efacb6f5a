//! The downdate kernels of the blocked factor: sparse × sparse' from block column 0 (scalar
//! terms panelled over destination columns, optionally on two threads), dense × sparse', and
//! the `[X y]` Gram accumulation.

use crate::linalg::DenseBlock;
use crate::lmm::crossprod::SparseBlockColumn;

/// Scalar sparse downdates with fewer updates than this run on one thread: a thread spawn
/// (~30 µs) must be small against the work (~1.3 ns per update).
pub(super) const PARALLEL_SYRK_MIN_UPDATES: usize = 400_000;

/// Destination footprint of one panel of the scalar sparse downdate: small enough to stay
/// in a core's L2 cache while every column of the first term scatters into it.
pub(super) const PANEL_BYTES: usize = 1 << 20;

/// The scalar downdate for destination columns `j_lo..j_hi` of `d`, which `cols` holds
/// (column `j` at `(j - j_lo) * n`), panel by panel; `cursor` needs one slot per column of
/// the first term.
pub(super) fn scalar_syrk_panels(
    cols: &mut [f64],
    n: usize,
    j_lo: usize,
    j_hi: usize,
    pattern: &SparseBlockColumn,
    values: &[f64],
    cursor: &mut [usize],
) {
    let rows = &pattern.row_level;
    for (c, cur) in cursor.iter_mut().enumerate() {
        let (s, e) = (pattern.col_ptr[c], pattern.col_ptr[c + 1]);
        *cur = s + rows[s..e].partition_point(|&r| (r as usize) < j_lo);
    }
    let width = (PANEL_BYTES / (8 * n.max(1))).max(16);
    let mut j0 = j_lo;
    while j0 < j_hi {
        let j1 = (j0 + width).min(j_hi);
        for (c, cur) in cursor.iter_mut().enumerate() {
            let end = pattern.col_ptr[c + 1];
            let mut e2 = *cur;
            while e2 < end && (rows[e2] as usize) < j1 {
                let rj = rows[e2] as usize - j_lo;
                let f = values[e2];
                let col = &mut cols[rj * n..(rj + 1) * n];
                for (&ri, &vi) in rows[e2..end].iter().zip(&values[e2..end]) {
                    col[ri as usize] -= vi * f;
                }
                e2 += 1;
            }
            *cur = e2;
        }
        j0 = j1;
    }
}

/// Where to split the scalar downdate of a sparse column-0 block between two threads: the
/// destination column that halves the work (0: not worth a thread, below
/// [`PARALLEL_SYRK_MIN_UPDATES`] updates).
pub(super) fn syrk_split_point(pattern: &SparseBlockColumn, n: usize) -> usize {
    if pattern.row_width != 1 || pattern.col_width != 1 {
        return 0;
    }
    let mut work = vec![0usize; n];
    for c in 0..pattern.ncols() {
        let (s, e) = (pattern.col_ptr[c], pattern.col_ptr[c + 1]);
        for x in s..e {
            work[pattern.row_level[x] as usize] += e - x;
        }
    }
    let total: usize = work.iter().sum();
    if total < PARALLEL_SYRK_MIN_UPDATES {
        return 0;
    }
    let mut acc = 0;
    for (j, w) in work.iter().enumerate() {
        acc += w;
        if 2 * acc >= total {
            return j + 1;
        }
    }
    0
}

/// `gram += v v'` on the lower triangle (column-major `n × n`).
#[inline]
pub(super) fn add_outer_lower(gram: &mut [f64], v: &[f64], n: usize) {
    for c in 0..n {
        let vc = v[c];
        for r in c..n {
            gram[r + c * n] += v[r] * vc;
        }
    }
}

/// Lower triangle of `d -= S S'` for a block-sparse column-0 block `S` (rows: levels of the
/// term of `d`). Only pairs of entries in the same column contribute.
///
/// Scalar terms (the common crossed case) go panel by panel over destination columns, so the
/// scattered updates hit a cache-resident part of `d`; `cursor` (one per column of `S`)
/// remembers where each column's entries for the current panel start.
pub(super) fn sparse_syrk_lower(
    d: &mut DenseBlock,
    pattern: &SparseBlockColumn,
    values: &[f64],
    cursor: &mut [usize],
    split: usize,
) {
    let n = d.rows;
    let kr = pattern.row_width;
    let k0 = pattern.col_width;
    let blen = pattern.block_len();
    if kr == 1 && k0 == 1 {
        let (cursor, cursor_hi) = cursor.split_at_mut(pattern.ncols());
        if split == 0 || split >= n {
            scalar_syrk_panels(&mut d.data, n, 0, n, pattern, values, cursor);
        } else {
            // Two threads on disjoint column ranges of `d`, balanced by work.
            let (lo, hi) = d.data.split_at_mut(split * n);
            std::thread::scope(|scope| {
                scope.spawn(|| scalar_syrk_panels(hi, n, split, n, pattern, values, cursor_hi));
                scalar_syrk_panels(lo, n, 0, split, pattern, values, cursor);
            });
        }
        return;
    }
    for c in 0..pattern.ncols() {
        let (start, end) = (pattern.col_ptr[c], pattern.col_ptr[c + 1]);
        for e2 in start..end {
            let rj = pattern.row_level[e2] as usize * kr;
            let b2 = &values[e2 * blen..(e2 + 1) * blen];
            for e1 in e2..end {
                let ri = pattern.row_level[e1] as usize * kr;
                let b1 = &values[e1 * blen..(e1 + 1) * blen];
                for bc in 0..kr {
                    for br in 0..kr {
                        if ri + br < rj + bc {
                            continue;
                        }
                        let s: f64 = (0..k0).map(|h| b1[br + h * kr] * b2[bc + h * kr]).sum();
                        d.data[ri + br + (rj + bc) * n] -= s;
                    }
                }
            }
        }
    }
}

/// `d -= S_i S_j'` for two block-sparse column-0 blocks (rows: levels of terms i and j).
pub(super) fn sparse_cross_sub(
    d: &mut DenseBlock,
    pattern_i: &SparseBlockColumn,
    values_i: &[f64],
    pattern_j: &SparseBlockColumn,
    values_j: &[f64],
) {
    let n = d.rows;
    let (ki, kj, k0) = (
        pattern_i.row_width,
        pattern_j.row_width,
        pattern_i.col_width,
    );
    let (bli, blj) = (pattern_i.block_len(), pattern_j.block_len());
    if ki == 1 && kj == 1 && k0 == 1 {
        for c in 0..pattern_j.ncols() {
            let (si, ei) = (pattern_i.col_ptr[c], pattern_i.col_ptr[c + 1]);
            let rows_i = &pattern_i.row_level[si..ei];
            let vals_i = &values_i[si..ei];
            let range = pattern_j.col_ptr[c]..pattern_j.col_ptr[c + 1];
            for (&rj, &f) in pattern_j.row_level[range.clone()]
                .iter()
                .zip(&values_j[range])
            {
                let rj = rj as usize;
                let col = &mut d.data[rj * n..(rj + 1) * n];
                for (&ri, &vi) in rows_i.iter().zip(vals_i) {
                    col[ri as usize] -= vi * f;
                }
            }
        }
        return;
    }
    for c in 0..pattern_j.ncols() {
        let (si, ei) = (pattern_i.col_ptr[c], pattern_i.col_ptr[c + 1]);
        for e2 in pattern_j.col_ptr[c]..pattern_j.col_ptr[c + 1] {
            let rj = pattern_j.row_level[e2] as usize * kj;
            let b2 = &values_j[e2 * blj..(e2 + 1) * blj];
            for e1 in si..ei {
                let ri = pattern_i.row_level[e1] as usize * ki;
                let b1 = &values_i[e1 * bli..(e1 + 1) * bli];
                for bc in 0..kj {
                    for br in 0..ki {
                        let s: f64 = (0..k0).map(|h| b1[br + h * ki] * b2[bc + h * kj]).sum();
                        d.data[ri + br + (rj + bc) * n] -= s;
                    }
                }
            }
        }
    }
}

/// `d -= F S_j'` for the dense `[X y]` row of column 0 and a block-sparse column-0 block.
pub(super) fn dense_sparse_sub(
    d: &mut DenseBlock,
    f: &DenseBlock,
    pattern_j: &SparseBlockColumn,
    values_j: &[f64],
) {
    let n = d.rows;
    let (kj, k0) = (pattern_j.row_width, pattern_j.col_width);
    let blj = pattern_j.block_len();
    if kj == 1 && k0 == 1 {
        for c in 0..pattern_j.ncols() {
            let fcol = &f.data[c * n..(c + 1) * n];
            let range = pattern_j.col_ptr[c]..pattern_j.col_ptr[c + 1];
            for (&rj, &s) in pattern_j.row_level[range.clone()]
                .iter()
                .zip(&values_j[range])
            {
                let rj = rj as usize;
                let dcol = &mut d.data[rj * n..(rj + 1) * n];
                for (dv, &fv) in dcol.iter_mut().zip(fcol) {
                    *dv -= fv * s;
                }
            }
        }
        return;
    }
    for c in 0..pattern_j.ncols() {
        for e in pattern_j.col_ptr[c]..pattern_j.col_ptr[c + 1] {
            let rj = pattern_j.row_level[e] as usize * kj;
            let b = &values_j[e * blj..(e + 1) * blj];
            for bc in 0..kj {
                let dcol = &mut d.data[(rj + bc) * n..(rj + bc + 1) * n];
                for h in 0..k0 {
                    let s = b[bc + h * kj];
                    let fcol = &f.data[(c * k0 + h) * n..(c * k0 + h + 1) * n];
                    for (dv, &fv) in dcol.iter_mut().zip(fcol) {
                        *dv -= fv * s;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A random scalar block-sparse column block: `ncols` columns over `n` row levels.
    fn random_pattern(n: usize, ncols: usize, seed: u64) -> (SparseBlockColumn, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut col_ptr = vec![0];
        let mut row_level = Vec::new();
        for _ in 0..ncols {
            let mut rows: Vec<u32> = (0..rng.random_range(1..12))
                .map(|_| rng.random_range(0..n as u32))
                .collect();
            rows.sort_unstable();
            rows.dedup();
            row_level.extend(rows);
            col_ptr.push(row_level.len());
        }
        let values = (0..row_level.len())
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let pattern = SparseBlockColumn {
            row_width: 1,
            col_width: 1,
            col_ptr,
            values: vec![0.0; row_level.len()],
            row_level,
        };
        (pattern, values)
    }

    #[test]
    fn threaded_scalar_downdate_equals_the_sequential_one() {
        let (n, ncols) = (300, 500);
        let (pattern, values) = random_pattern(n, ncols, 5);
        let mut cursor = vec![0; 2 * ncols];
        let mut one = DenseBlock::zeros(n, n);
        sparse_syrk_lower(&mut one, &pattern, &values, &mut cursor, 0);
        for split in [1, 97, 150, n - 1] {
            let mut two = DenseBlock::zeros(n, n);
            sparse_syrk_lower(&mut two, &pattern, &values, &mut cursor, split);
            assert_eq!(one, two, "split {split}");
        }
        // And both equal the dense lower triangle of −S S'.
        for c in 0..ncols {
            let range = pattern.col_ptr[c]..pattern.col_ptr[c + 1];
            for a in range.clone() {
                for b in range.clone() {
                    let (ra, rb) = (pattern.row_level[a] as usize, pattern.row_level[b] as usize);
                    if ra >= rb {
                        one.data[ra + rb * n] += values[a] * values[b];
                    }
                }
            }
        }
        assert!(one.data.iter().all(|v| v.abs() < 1e-12));
        assert!(
            syrk_split_point(&pattern, n) == 0,
            "small work stays on one thread"
        );
    }
}
