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
/// Column `j` is dropped when its distance to the span of the kept columns before it, relative
/// to its norm, is at most the tolerance — the test of R's `dqrdc2` as used by `lm` (QR in
/// column order without pivoting). The distance does not depend on the basis of that span, so
/// the basis is chosen to keep the work linear in the size of X for the columns of a factor:
///
/// * sparse columns (at most half the rows nonzero) whose rows no sparse basis vector uses yet
///   — the indicator columns of a factor, `f:x` — are orthogonal to every sparse basis vector
///   by construction and join the basis as they are (normalised), owning their rows;
/// * every other kept column joins a small dense orthonormal basis `Q`, kept orthogonal to
///   the sparse vectors.
///
/// Each column is orthogonalised against both parts twice ("twice is enough", as before).
/// With p columns and d dense ones the cost is O(n·p·d²) instead of the O(n·p²) of a dense
/// Gram–Schmidt, which took minutes for a factor with thousands of levels.
pub(super) fn drop_aliased(columns: Vec<NamedColumn>) -> (Vec<NamedColumn>, Vec<String>) {
    let n = columns.first().map_or(0, |c| c.values.len());
    let mut basis = Basis::new(n);
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    let mut residual = vec![0.0; n];
    for column in columns {
        let original = norm(&column.values);
        let support: Vec<u32> = (0..n as u32)
            .filter(|&i| column.values[i as usize] != 0.0)
            .collect();
        let sparse =
            2 * support.len() <= n && support.iter().all(|&i| basis.owner[i as usize] == NONE);
        residual.copy_from_slice(&column.values);
        for _pass in 0..2 {
            // A sparse column on rows no sparse vector owns is orthogonal to all of them.
            if !sparse {
                basis.project_out_sparse(&mut residual);
            }
            basis.project_out_dense(&mut residual);
        }
        let remaining = norm(&residual);
        if original > 0.0 && remaining > ALIAS_TOLERANCE * original {
            if sparse {
                basis.push_sparse(&column.values, &support, original);
            } else {
                basis
                    .dense
                    .push(residual.iter().map(|r| r / remaining).collect());
            }
            kept.push(column);
        } else {
            dropped.push(column.name);
        }
    }
    (kept, dropped)
}

/// No sparse basis vector owns the row.
const NONE: u32 = u32::MAX;

/// An orthonormal basis of the kept columns' span: sparse vectors with disjoint supports
/// (`owner[i]` is the vector using row i, `value[i]` its entry there) and dense vectors
/// orthogonal to them.
struct Basis {
    owner: Vec<u32>,
    value: Vec<f64>,
    sparse: usize,
    dense: Vec<Vec<f64>>,
    /// Scratch: one coefficient per sparse vector.
    coefficients: Vec<f64>,
}

impl Basis {
    fn new(n: usize) -> Self {
        Self {
            owner: vec![NONE; n],
            value: vec![0.0; n],
            sparse: 0,
            dense: Vec::new(),
            coefficients: Vec::new(),
        }
    }

    /// `r -= S S' r` over the sparse vectors, in O(n): their supports are disjoint.
    fn project_out_sparse(&mut self, r: &mut [f64]) {
        if self.sparse == 0 {
            return;
        }
        self.coefficients.clear();
        self.coefficients.resize(self.sparse, 0.0);
        for (i, &o) in self.owner.iter().enumerate() {
            if o != NONE {
                self.coefficients[o as usize] += self.value[i] * r[i];
            }
        }
        for (i, &o) in self.owner.iter().enumerate() {
            if o != NONE {
                r[i] -= self.coefficients[o as usize] * self.value[i];
            }
        }
    }

    /// Modified Gram–Schmidt against the dense vectors.
    fn project_out_dense(&self, r: &mut [f64]) {
        for q in &self.dense {
            let d = dot(q, r);
            for (ri, qi) in r.iter_mut().zip(q) {
                *ri -= d * qi;
            }
        }
    }

    /// Adds the sparse column `x` (nonzero on `support`, norm `norm`) as a basis vector, then
    /// restores the dense vectors' orthogonality to it and among themselves.
    fn push_sparse(&mut self, x: &[f64], support: &[u32], norm: f64) {
        let id = self.sparse as u32;
        self.sparse += 1;
        for &i in support {
            let i = i as usize;
            self.owner[i] = id;
            self.value[i] = x[i] / norm;
        }
        if self.dense.is_empty() {
            return;
        }
        // q -= s (s'q), twice, on the support only; then re-orthonormalise Q (modified
        // Gram–Schmidt, twice). Q's span loses only the direction of s: the smallest singular
        // value of (I - ss')Q is the relative residual of x, above the tolerance.
        let dense = std::mem::take(&mut self.dense);
        let mut rebuilt: Vec<Vec<f64>> = Vec::with_capacity(dense.len());
        for mut q in dense {
            for _pass in 0..2 {
                let d: f64 = support
                    .iter()
                    .map(|&i| self.value[i as usize] * q[i as usize])
                    .sum();
                for &i in support {
                    q[i as usize] -= d * self.value[i as usize];
                }
                for b in &rebuilt {
                    let d = dot(b, &q);
                    for (qi, bi) in q.iter_mut().zip(b) {
                        *qi -= d * bi;
                    }
                }
            }
            let length = norm_of(&q);
            if length > 0.0 {
                q.iter_mut().for_each(|v| *v /= length);
                rebuilt.push(q);
            }
        }
        self.dense = rebuilt;
    }
}

fn norm_of(values: &[f64]) -> f64 {
    norm(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The dense modified Gram–Schmidt (twice) this module used before the sparse basis: the
    /// reference the new decisions must agree with.
    fn dense_reference(columns: &[NamedColumn]) -> Vec<String> {
        let mut basis: Vec<Vec<f64>> = Vec::new();
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
            } else {
                dropped.push(column.name.clone());
            }
        }
        dropped
    }

    fn column(name: String, values: Vec<f64>) -> NamedColumn {
        NamedColumn { name, values }
    }

    /// Intercept, a covariate, the indicators of factor f (levels 1..), some `f:x` columns,
    /// the indicators of a second factor h (aliased where h copies f), and exact and nearly
    /// exact linear combinations.
    fn design(seed: u64, levels: usize, h_copies_f: bool) -> Vec<NamedColumn> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let per = 3;
        let n = levels * per;
        let f: Vec<usize> = (0..n).map(|i| i / per).collect();
        let h: Vec<usize> = if h_copies_f {
            f.clone()
        } else {
            (0..n).map(|_| rng.random_range(0..4)).collect()
        };
        let x: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
        let mut cols = vec![
            column("(Intercept)".into(), vec![1.0; n]),
            column("x".into(), x.clone()),
        ];
        for l in 1..levels {
            cols.push(column(
                format!("f{l}"),
                f.iter().map(|&v| f64::from(u8::from(v == l))).collect(),
            ));
        }
        for l in 1..levels.min(6) {
            cols.push(column(
                format!("f{l}:x"),
                (0..n).map(|i| if f[i] == l { x[i] } else { 0.0 }).collect(),
            ));
        }
        let hmax = h.iter().max().copied().unwrap_or(0);
        for l in 1..=hmax.min(5) {
            cols.push(column(
                format!("h{l}"),
                h.iter().map(|&v| f64::from(u8::from(v == l))).collect(),
            ));
        }
        // 2 x - f1 (exactly aliased), and x^3 (not aliased).
        cols.push(column(
            "2x-f1".into(),
            (0..n)
                .map(|i| 2.0 * x[i] - f64::from(u8::from(f[i] == 1)))
                .collect(),
        ));
        cols.push(column("x3".into(), x.iter().map(|v| v * v * v).collect()));
        // The first level's indicator, implied by the intercept and the others.
        cols.push(column(
            "f0".into(),
            f.iter().map(|&v| f64::from(u8::from(v == 0))).collect(),
        ));
        // An all-zero column.
        cols.push(column("zero".into(), vec![0.0; n]));
        cols
    }

    #[test]
    fn the_sparse_basis_drops_what_the_dense_gram_schmidt_drops() {
        for seed in 0..6 {
            for (levels, copies) in [(5, false), (12, true), (40, false), (40, true)] {
                let cols = design(seed, levels, copies);
                let want = dense_reference(&cols);
                let (kept, got) = drop_aliased(cols.clone());
                assert_eq!(got, want, "seed {seed}, {levels} levels, copies {copies}");
                assert_eq!(kept.len() + got.len(), cols.len());
                assert!(got.contains(&"2x-f1".to_owned()) && got.contains(&"f0".to_owned()));
            }
        }
    }

    #[test]
    fn a_column_just_above_the_tolerance_is_kept_and_just_below_dropped() {
        let n = 60;
        let base: Vec<f64> = (0..n).map(|i| ((i * 7) % 11) as f64).collect();
        let bump: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i == 5))).collect();
        for (factor, kept) in [(1e-5, true), (1e-9, false)] {
            let cols = vec![
                column("(Intercept)".into(), vec![1.0; n]),
                column("b".into(), base.clone()),
                column(
                    "b+e".into(),
                    base.iter()
                        .zip(&bump)
                        .map(|(b, e)| b + factor * 50.0 * e)
                        .collect(),
                ),
            ];
            assert_eq!(dense_reference(&cols).is_empty(), kept);
            assert_eq!(drop_aliased(cols).1.is_empty(), kept, "{factor}");
        }
    }
}
