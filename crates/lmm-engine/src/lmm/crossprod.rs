//! The cross-products of `[Z₁ … Z_m X y]`, formed once per model: everything the blocked
//! Cholesky factorisation needs, so that no objective evaluation touches the n rows again.
//!
//! Terms are put in MixedModels.jl's internal order — number of random effects, descending
//! (stable) — so that the leading block `A₁₁ = Z₁'Z₁` is block-diagonal and the blocks below
//! it, `Z_i'Z₁`, are stored sparse. Storage by block:
//!
//! | block | form |
//! |---|---|
//! | `Z_t'Z_t` (every term) | block-diagonal: one k×k block per level |
//! | `Z_t'Z₁`, `t > 1` | [`SparseBlockColumn`]: per level of term 1, the co-occurring levels of `t` |
//! | `Z_i'Z_j`, `1 < j < i` | dense `q_i × q_j` |
//! | `[X y]'Z_t` | dense `(p+1) × q_t` |
//! | `[X y]'[X y]` | dense `(p+1) × (p+1)` |
//!
//! Every small block is column-major. Levels are level-major, as in lme4: random effect `j`
//! of level `l` is index `l·k + j` of its term.

use crate::design::ModelMatrices;

use crate::linalg::dot;
use crate::lmm::validate::validate;
use crate::lmm::ModelError;

/// Shape of one random-effects term in internal order.
#[derive(Debug, Clone, PartialEq)]
pub struct TermShape {
    /// Position of the term in the formula (and in `ModelMatrices::terms`).
    pub formula_index: usize,
    /// Columns per level (k).
    pub width: usize,
    /// Number of levels of the grouping factor.
    pub nlevels: usize,
}

impl TermShape {
    /// Number of random effects of the term (levels × k).
    pub fn nranef(&self) -> usize {
        self.width * self.nlevels
    }
}

/// A block-sparse matrix whose block columns are the levels of the first term and whose
/// block rows are the levels of another term. Column `c` holds the row levels
/// `row_level[col_ptr[c]..col_ptr[c+1]]` (sorted), each with a dense `row_width × col_width`
/// block (column-major) in `values`. The pattern never changes; the factor reuses it.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseBlockColumn {
    /// k of the row term.
    pub row_width: usize,
    /// k of the column (first) term.
    pub col_width: usize,
    /// Start of each block column's entries; length = levels of the first term + 1.
    pub col_ptr: Vec<usize>,
    /// Row level of each entry.
    pub row_level: Vec<u32>,
    /// Entry blocks, `row_width * col_width` values each.
    pub values: Vec<f64>,
}

impl SparseBlockColumn {
    /// Values per entry block.
    pub fn block_len(&self) -> usize {
        self.row_width * self.col_width
    }

    /// Number of block columns.
    pub fn ncols(&self) -> usize {
        self.col_ptr.len() - 1
    }

    /// Whether this is a scalar block (1×1 entries) in which every column holds every one of
    /// `nrows` row levels: a fully crossed pair of factors. Its values are then a dense
    /// column-major `nrows × ncols` matrix, and the factor's kernels hand it to faer.
    pub fn is_dense(&self, nrows: usize) -> bool {
        self.row_width == 1
            && self.col_width == 1
            && nrows > 0
            && self.row_level.len() == nrows * self.ncols()
            && self
                .row_level
                .chunks_exact(nrows)
                .all(|rows| rows.iter().enumerate().all(|(r, &l)| l as usize == r))
    }
}

/// Index of the dense block `(i, j)`, `1 ≤ j < i`, in a packed lower-triangular list of
/// blocks strictly below the diagonal and right of block column 0.
pub fn dense_pair_index(i: usize, j: usize) -> usize {
    debug_assert!(1 <= j && j < i);
    (i - 1) * (i - 2) / 2 + (j - 1)
}

/// The cross-product blocks of `[Z₁ … Z_m X y]` (internal term order).
#[derive(Debug, Clone)]
pub struct CrossProducts {
    /// Terms in internal order.
    pub terms: Vec<TermShape>,
    /// Number of fixed-effects columns.
    pub p: usize,
    /// Number of observations.
    pub nobs: usize,
    /// Per term: its k×k diagonal blocks `Z_t'Z_t`, one per level.
    pub diagonal: Vec<Vec<f64>>,
    /// For terms `t = 1..m` (index `t - 1`): `Z_t'Z₀` in block-sparse form.
    pub first_column: Vec<SparseBlockColumn>,
    /// Dense `Z_i'Z_j` for `1 ≤ j < i < m`, indexed by [`dense_pair_index`], `q_i × q_j`.
    pub dense: Vec<Vec<f64>>,
    /// Per term: `[X y]'Z_t`, `(p+1) × q_t`.
    pub fixed_random: Vec<Vec<f64>>,
    /// `[X y]'[X y]`, `(p+1) × (p+1)` (full, symmetric).
    pub fixed: Vec<f64>,
    /// Σ log wᵢ of the prior weights (0 without): the objective of the weighted model is that
    /// of the √w-scaled cross-products minus this.
    pub sum_log_weights: f64,
}

impl CrossProducts {
    /// Validates the model matrices and forms every cross-product block.
    pub fn new(mm: &ModelMatrices) -> Result<Self, ModelError> {
        validate(mm, false)?;
        Ok(Self::build(mm))
    }

    /// Validates model matrices for a GLMM: as [`CrossProducts::new`], except that a grouping
    /// factor may have as many levels as there are observations (an observation-level random
    /// effect, which glmer allows and which a GLMM can identify).
    pub(crate) fn validate_glmm(mm: &ModelMatrices) -> Result<(), ModelError> {
        validate(mm, true)
    }

    /// Forms every cross-product block of model matrices already validated (the GLMM's
    /// reweighting step calls this once per iteration, on the same validated design).
    pub(crate) fn build(mm: &ModelMatrices) -> Self {
        let n = mm.y.len();
        let p = mm.x.ncols();
        // Prior weights: the cross-products of the √w-scaled rows.
        let scaled;
        let (mm, sum_log_weights) = match &mm.weights {
            Some(_) => {
                scaled = mm.scaled_by_weights();
                (&scaled, mm.sum_log_weights())
            }
            None => (mm, 0.0),
        };

        let mut terms: Vec<TermShape> = mm
            .terms
            .iter()
            .enumerate()
            .map(|(i, t)| TermShape {
                formula_index: i,
                width: t.width(),
                nlevels: t.nlevels(),
            })
            .collect();
        // Stable sort: equal-sized terms keep formula order.
        terms.sort_by_key(|t| std::cmp::Reverse(t.nranef()));
        let m = terms.len();

        // [X y] by columns (borrowed from X's column-major storage when possible), so the
        // loops below read contiguous memory.
        let x_columns: Vec<std::borrow::Cow<'_, [f64]>> = (0..p)
            .map(|c| match mm.x.col(c).try_as_col_major() {
                Some(col) => std::borrow::Cow::Borrowed(col.as_slice()),
                None => std::borrow::Cow::Owned((0..n).map(|i| mm.x[(i, c)]).collect()),
            })
            .collect();
        let mut xy: Vec<&[f64]> = x_columns.iter().map(|c| c.as_ref()).collect();
        xy.push(&mm.y);

        let diagonal = terms
            .iter()
            .map(|t| {
                let term = &mm.terms[t.formula_index];
                let k = t.width;
                let mut blocks = vec![0.0; t.nlevels * k * k];
                for_each_run(&term.refs, |l, rows| {
                    let b = &mut blocks[l * k * k..(l + 1) * k * k];
                    if k == 1 {
                        b[0] += dot(&term.z[rows.clone()], &term.z[rows]);
                        return;
                    }
                    for i in rows {
                        let zi = &term.z[i * k..(i + 1) * k];
                        for c in 0..k {
                            for r in 0..k {
                                b[r + c * k] += zi[r] * zi[c];
                            }
                        }
                    }
                });
                blocks
            })
            .collect();

        let first_column = if m > 1 {
            let first = &mm.terms[terms[0].formula_index];
            let by_level = observations_by_level(&first.refs, terms[0].nlevels);
            terms[1..]
                .iter()
                .map(|t| {
                    sparse_cross_product(&mm.terms[t.formula_index], first, t.nlevels, &by_level)
                })
                .collect()
        } else {
            Vec::new()
        };

        let mut dense = Vec::new();
        for i in 2..m {
            for j in 1..i {
                debug_assert_eq!(dense.len(), dense_pair_index(i, j));
                let (ti, tj) = (&terms[i], &terms[j]);
                let (zi, zj) = (&mm.terms[ti.formula_index], &mm.terms[tj.formula_index]);
                let (ki, kj) = (ti.width, tj.width);
                let qi = ti.nranef();
                let mut block = vec![0.0; qi * tj.nranef()];
                for obs in 0..n {
                    let ri = zi.refs[obs] as usize * ki;
                    let cj = zj.refs[obs] as usize * kj;
                    for c in 0..kj {
                        let zc = zj.z[obs * kj + c];
                        for r in 0..ki {
                            block[ri + r + (cj + c) * qi] += zi.z[obs * ki + r] * zc;
                        }
                    }
                }
                dense.push(block);
            }
        }

        let fixed_random = terms
            .iter()
            .map(|t| {
                let term = &mm.terms[t.formula_index];
                let k = t.width;
                let p1 = p + 1;
                let mut block = vec![0.0; p1 * t.nranef()];
                // Observations usually come grouped by level: sum each run of equal levels in
                // registers (a vectorised dot product for scalar terms) and add it once.
                for_each_run(&term.refs, |l, rows| {
                    for c in 0..k {
                        let out = &mut block[(l * k + c) * p1..(l * k + c + 1) * p1];
                        for (o, col) in out.iter_mut().zip(&xy) {
                            *o += if k == 1 {
                                dot(&col[rows.clone()], &term.z[rows.clone()])
                            } else {
                                rows.clone()
                                    .map(|i| col[i] * term.z[i * k + c])
                                    .sum::<f64>()
                            };
                        }
                    }
                });
                block
            })
            .collect();

        let fixed = gram(&xy);

        Self {
            terms,
            p,
            nobs: n,
            diagonal,
            first_column,
            dense,
            fixed_random,
            fixed,
            sum_log_weights,
        }
    }
}

/// `[X y]'[X y]` (full, symmetric, column-major). A pair with a sparse column (at most an
/// eighth of the rows nonzero: a factor's indicators, `f:x`) is summed over that column's
/// nonzero rows only, so that a factor with thousands of levels costs O(n·p), not O(n·p²);
/// pairs of dense columns are dot products as before.
fn gram(xy: &[&[f64]]) -> Vec<f64> {
    let p1 = xy.len();
    let n = xy.first().map_or(0, |c| c.len());
    let support: Vec<Option<Vec<u32>>> = xy
        .iter()
        .map(|col| {
            let rows: Vec<u32> = (0..n as u32).filter(|&i| col[i as usize] != 0.0).collect();
            (8 * rows.len() <= n).then_some(rows)
        })
        .collect();
    let mut fixed = vec![0.0; p1 * p1];
    for a in 0..p1 {
        for b in 0..=a {
            let sparse = match (&support[a], &support[b]) {
                (Some(sa), Some(sb)) => Some(if sa.len() <= sb.len() { sa } else { sb }),
                (Some(s), None) | (None, Some(s)) => Some(s),
                (None, None) => None,
            };
            let d = match sparse {
                Some(rows) => rows
                    .iter()
                    .map(|&i| xy[a][i as usize] * xy[b][i as usize])
                    .sum(),
                None => dot(xy[a], xy[b]),
            };
            fixed[a + b * p1] = d;
            fixed[b + a * p1] = d;
        }
    }
    fixed
}

/// Calls `f(level, rows)` for each maximal run of consecutive observations with the same
/// level.
fn for_each_run(refs: &[u32], mut f: impl FnMut(usize, std::ops::Range<usize>)) {
    let mut i = 0;
    while i < refs.len() {
        let l = refs[i];
        let mut j = i + 1;
        while j < refs.len() && refs[j] == l {
            j += 1;
        }
        f(l as usize, i..j);
        i = j;
    }
}

/// Observation indices grouped by level (counting sort): `(starts, order)` with the
/// observations of level `l` at `order[starts[l]..starts[l+1]]`.
fn observations_by_level(refs: &[u32], nlevels: usize) -> (Vec<usize>, Vec<u32>) {
    let mut starts = vec![0usize; nlevels + 1];
    for &r in refs {
        starts[r as usize + 1] += 1;
    }
    for l in 0..nlevels {
        starts[l + 1] += starts[l];
    }
    let mut next = starts.clone();
    let mut order = vec![0u32; refs.len()];
    for (i, &r) in refs.iter().enumerate() {
        order[next[r as usize]] = i as u32;
        next[r as usize] += 1;
    }
    (starts, order)
}

/// `Z_row' Z_first` in block-sparse form, columns = levels of the first term.
fn sparse_cross_product(
    row_term: &crate::design::RandomEffectsTerm,
    first: &crate::design::RandomEffectsTerm,
    row_levels: usize,
    (starts, order): &(Vec<usize>, Vec<u32>),
) -> SparseBlockColumn {
    let kr = row_term.width();
    let kc = first.width();
    let blen = kr * kc;
    let ncols = starts.len() - 1;
    let mut col_ptr = Vec::with_capacity(ncols + 1);
    col_ptr.push(0);
    let mut row_level: Vec<u32> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    // Position of a row level within the current column, usize::MAX when absent.
    let mut slot = vec![usize::MAX; row_levels];
    let mut col_rows: Vec<u32> = Vec::new();
    for c in 0..ncols {
        let obs = &order[starts[c]..starts[c + 1]];
        col_rows.clear();
        col_rows.extend(obs.iter().map(|&i| row_term.refs[i as usize]));
        col_rows.sort_unstable();
        col_rows.dedup();
        let base = row_level.len();
        for (e, &r) in col_rows.iter().enumerate() {
            slot[r as usize] = base + e;
        }
        row_level.extend_from_slice(&col_rows);
        values.resize(row_level.len() * blen, 0.0);
        for &i in obs {
            let i = i as usize;
            let e = slot[row_term.refs[i] as usize];
            let block = &mut values[e * blen..(e + 1) * blen];
            let zr = &row_term.z[i * kr..(i + 1) * kr];
            let zc = &first.z[i * kc..(i + 1) * kc];
            for cc in 0..kc {
                for rr in 0..kr {
                    block[rr + cc * kr] += zr[rr] * zc[cc];
                }
            }
        }
        for &r in &col_rows {
            slot[r as usize] = usize::MAX;
        }
        col_ptr.push(row_level.len());
    }
    SparseBlockColumn {
        row_width: kr,
        col_width: kc,
        col_ptr,
        row_level,
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::RandomEffectsTerm;
    use faer::Mat;

    fn term(group: &str, k: usize, nlev: usize, refs: Vec<u32>, z: Vec<f64>) -> RandomEffectsTerm {
        RandomEffectsTerm {
            group: group.into(),
            columns: (0..k).map(|j| format!("c{j}")).collect(),
            levels: (0..nlev).map(|l| l.to_string()).collect(),
            refs,
            z,
        }
    }

    fn matrices(terms: Vec<RandomEffectsTerm>, n: usize) -> ModelMatrices {
        ModelMatrices {
            response: "y".into(),
            y: (0..n).map(|i| i as f64 * 0.5 - 1.0).collect(),
            x: Mat::from_fn(n, 2, |i, j| if j == 0 { 1.0 } else { i as f64 }),
            fixed_names: vec!["(Intercept)".into(), "x".into()],
            dropped_fixed: vec![],
            terms,
            rows_dropped: 0,
            weights: None,
            notes: vec![],
        }
    }

    #[test]
    fn terms_are_ordered_by_number_of_random_effects() {
        let n = 8;
        let a = term(
            "a",
            1,
            2,
            (0..n as u32).map(|i| i % 2).collect(),
            vec![1.0; n],
        );
        let b = term(
            "b",
            1,
            4,
            (0..n as u32).map(|i| i % 4).collect(),
            vec![1.0; n],
        );
        let cp = CrossProducts::new(&matrices(vec![a, b], n)).unwrap();
        assert_eq!(cp.terms[0].formula_index, 1);
        assert_eq!(cp.terms[1].formula_index, 0);
        // Z_a'Z_b: level i of b co-occurs only with level i % 2 of a, twice.
        let s = &cp.first_column[0];
        assert_eq!(s.col_ptr, vec![0, 1, 2, 3, 4]);
        assert_eq!(s.row_level, vec![0, 1, 0, 1]);
        assert_eq!(s.values, vec![2.0; 4]);
        assert_eq!(cp.diagonal[0], vec![2.0; 4]);
        assert_eq!(cp.diagonal[1], vec![4.0; 2]);
    }

    #[test]
    fn identifiability_and_dimensions_are_checked() {
        let n = 4;
        let a = term("a", 1, 4, vec![0, 1, 2, 3], vec![1.0; n]);
        assert!(matches!(
            CrossProducts::new(&matrices(vec![a], n)),
            Err(ModelError::TooFewObservations { .. })
        ));
        let b = term("b", 1, 2, vec![0, 1, 2, 0], vec![1.0; n]);
        assert!(matches!(
            CrossProducts::new(&matrices(vec![b], n)),
            Err(ModelError::Dimension(_))
        ));
        assert_eq!(
            CrossProducts::new(&matrices(vec![], n)).unwrap_err(),
            ModelError::NoRandomEffects
        );
        let mut mm = matrices(vec![term("c", 1, 2, vec![0, 1, 0, 1], vec![1.0; n])], n);
        mm.y[2] = f64::NAN;
        assert!(matches!(
            CrossProducts::new(&mm),
            Err(ModelError::NonFinite(_))
        ));
    }

    /// The sparse-aware Gram matrix equals the dot products of every pair.
    #[test]
    fn gram_of_sparse_and_dense_columns_is_the_dot_products() {
        let n = 96;
        let dense: Vec<f64> = (0..n).map(|i| ((i * 5) % 7) as f64 - 2.5).collect();
        let ones = vec![1.0; n];
        let indicator: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i % 12 == 3))).collect();
        let other: Vec<f64> = (0..n)
            .map(|i| if i % 12 == 7 { 0.5 + i as f64 } else { 0.0 })
            .collect();
        let overlapping: Vec<f64> = (0..n)
            .map(|i| if i % 24 == 3 { -2.0 } else { 0.0 })
            .collect();
        let xy: Vec<&[f64]> = vec![&ones, &indicator, &dense, &other, &overlapping];
        let g = gram(&xy);
        for a in 0..xy.len() {
            for b in 0..xy.len() {
                let want = dot(xy[a], xy[b]);
                assert!((g[a + b * xy.len()] - want).abs() <= 1e-12 * want.abs().max(1.0));
            }
        }
    }
}
