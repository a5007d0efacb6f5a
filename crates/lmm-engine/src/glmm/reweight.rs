//! [`Reweighter`]: refills the cross-products of `[Z₁ … Z_m X y]` in place for new working
//! weights and a new working response — the one pass over the observations of a PIRLS
//! iteration — on the sparsity pattern formed once by [`CrossProducts::new`], without
//! allocating, sorting or searching (each observation's entry in the sparse block column is
//! found once, at set-up).

use faer::Mat;

use crate::design::RandomEffectsTerm;
use crate::linalg::dot;
use crate::lmm::crossprod::{dense_pair_index, CrossProducts};

/// Where each observation's products go.
#[derive(Clone)]
pub struct Reweighter {
    /// Per internal term t ≥ 1: the entry of `Z_t'Z₀` (index into the pattern) of each
    /// observation.
    entry: Vec<Vec<u32>>,
}

impl Reweighter {
    /// The map for `cp`'s pattern of the formula-order `terms`.
    pub fn new(cp: &CrossProducts, terms: &[RandomEffectsTerm]) -> Self {
        let first = &terms[cp.terms[0].formula_index];
        let entry = cp
            .first_column
            .iter()
            .enumerate()
            .map(|(t, pattern)| {
                let term = &terms[cp.terms[t + 1].formula_index];
                (0..first.refs.len())
                    .map(|i| {
                        let c = first.refs[i] as usize;
                        let range = pattern.col_ptr[c]..pattern.col_ptr[c + 1];
                        let rows = &pattern.row_level[range.clone()];
                        // The pattern holds every co-occurring level, so the search succeeds.
                        let at = rows.binary_search(&term.refs[i]).unwrap_or(0);
                        (range.start + at) as u32
                    })
                    .collect()
            })
            .collect();
        Self { entry }
    }

    /// Per internal term t ≥ 1 (at `t − 1`): each observation's entry in the pattern of
    /// `Z_t'Z₀`.
    pub fn entries(&self) -> &[Vec<u32>] {
        &self.entry
    }

    /// Overwrites every block of `cp` with the cross-products of `[Z X r]` weighted by `w`
    /// (`x` has `cp.p` columns; `None` when p = 0).
    pub fn fill(
        &self,
        cp: &mut CrossProducts,
        terms: &[RandomEffectsTerm],
        x: Option<&Mat<f64>>,
        w: &[f64],
        r: &[f64],
    ) {
        let n = w.len();
        let p = cp.p;
        let p1 = p + 1;
        let m = cp.terms.len();
        let xcols: Vec<&[f64]> = match x {
            Some(x) => (0..p)
                .map(|c| {
                    x.col(c)
                        .try_as_col_major()
                        .map_or(&[][..], |c| c.as_slice())
                })
                .collect(),
            None => Vec::new(),
        };
        for v in cp.diagonal.iter_mut() {
            v.iter_mut().for_each(|x| *x = 0.0);
        }
        for s in cp.first_column.iter_mut() {
            s.values.iter_mut().for_each(|x| *x = 0.0);
        }
        for d in cp.dense.iter_mut() {
            d.iter_mut().for_each(|x| *x = 0.0);
        }
        for f in cp.fixed_random.iter_mut() {
            f.iter_mut().for_each(|x| *x = 0.0);
        }
        cp.fixed.iter_mut().for_each(|x| *x = 0.0);

        // Term-major loops over the observations: each is a short, branch-free pass that the
        // compiler vectorises for scalar terms (the common case).
        let mut columns: Vec<&[f64]> = xcols.clone();
        columns.push(r);
        // w ⊙ each column of [X r].
        let weighted: Vec<Vec<f64>> = columns
            .iter()
            .map(|c| c.iter().zip(w).map(|(a, b)| a * b).collect())
            .collect();
        for (b, wb) in weighted.iter().enumerate() {
            for (a, col) in columns.iter().enumerate().skip(b) {
                cp.fixed[a + b * p1] = dot(col, wb);
            }
        }
        for (t, shape) in cp.terms.iter().enumerate() {
            let term = &terms[shape.formula_index];
            let k = shape.width;
            let d = &mut cp.diagonal[t];
            let f = &mut cp.fixed_random[t];
            if k == 1 && p1 == 1 {
                // The u-only system: Z'WZ and Z'Wr. A run of rows at one level (data sorted
                // by this factor) accumulates in registers: the same sums in the same order
                // as adding row by row into memory, without a store-to-load chain per row.
                let mut i = 0;
                while i < n {
                    let l = term.refs[i] as usize;
                    let (mut dl, mut fl) = (d[l], f[l]);
                    while i < n && term.refs[i] as usize == l {
                        let z = term.z[i];
                        let wz = w[i] * z;
                        dl += wz * z;
                        fl += r[i] * wz;
                        i += 1;
                    }
                    (d[l], f[l]) = (dl, fl);
                }
                continue;
            }
            if k == 1 {
                for i in 0..n {
                    let l = term.refs[i] as usize;
                    let z = term.z[i];
                    let wz = w[i] * z;
                    d[l] += wz * z;
                    let out = &mut f[l * p1..(l + 1) * p1];
                    for (o, col) in out.iter_mut().zip(&columns) {
                        *o += col[i] * wz;
                    }
                }
                continue;
            }
            for i in 0..n {
                let l = term.refs[i] as usize;
                let z = &term.z[i * k..(i + 1) * k];
                let dl = &mut d[l * k * k..(l + 1) * k * k];
                for c in 0..k {
                    let wz = w[i] * z[c];
                    for rr in 0..k {
                        dl[rr + c * k] += z[rr] * wz;
                    }
                    let out = &mut f[(l * k + c) * p1..(l * k + c + 1) * p1];
                    for (o, col) in out.iter_mut().zip(&columns) {
                        *o += col[i] * wz;
                    }
                }
            }
        }
        if m > 1 {
            let first = &terms[cp.terms[0].formula_index];
            let k0 = cp.terms[0].width;
            for t in 1..m {
                let term = &terms[cp.terms[t].formula_index];
                let kt = cp.terms[t].width;
                let entry = &self.entry[t - 1];
                let values = &mut cp.first_column[t - 1].values;
                if k0 == 1 && kt == 1 {
                    for (((&e, wi), z0), zt) in entry.iter().zip(w).zip(&first.z).zip(&term.z) {
                        values[e as usize] += wi * z0 * zt;
                    }
                    continue;
                }
                let blen = kt * k0;
                for i in 0..n {
                    let z0 = &first.z[i * k0..(i + 1) * k0];
                    let zt = &term.z[i * kt..(i + 1) * kt];
                    let e = entry[i] as usize;
                    let block = &mut values[e * blen..(e + 1) * blen];
                    for cc in 0..k0 {
                        let wz = w[i] * z0[cc];
                        for rr in 0..kt {
                            block[rr + cc * kt] += zt[rr] * wz;
                        }
                    }
                }
            }
            for a in 2..m {
                for b in 1..a {
                    let (ta, tb) = (&cp.terms[a], &cp.terms[b]);
                    let (za, zb) = (&terms[ta.formula_index], &terms[tb.formula_index]);
                    let (ka, kb) = (ta.width, tb.width);
                    let qa = ta.nranef();
                    let block = &mut cp.dense[dense_pair_index(a, b)];
                    for (i, wi) in w.iter().enumerate() {
                        let ra = za.refs[i] as usize * ka;
                        let cb = zb.refs[i] as usize * kb;
                        for c in 0..kb {
                            let wz = wi * zb.z[i * kb + c];
                            for rr in 0..ka {
                                block[ra + rr + (cb + c) * qa] += za.z[i * ka + rr] * wz;
                            }
                        }
                    }
                }
            }
        }
        // Symmetrise [X r]'W[X r].
        for b in 0..p1 {
            for a in b + 1..p1 {
                cp.fixed[b + a * p1] = cp.fixed[a + b * p1];
            }
        }
    }
}
