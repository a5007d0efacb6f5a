//! Estimates recovered from the factor at the optimum θ̂: the fixed effects β̂ and their
//! covariance σ̂²(R_X'R_X)⁻¹, the conditional modes b̂ = Λû of the random effects, and their
//! conditional variances diag σ̂² Λ(LL')⁻¹Λ' (lme4's `ranef(condVar = TRUE)`, conditional on β̂).
//!
//! All per-term outputs here are in the factor's internal term order; [`super::result`]
//! puts them back in formula order.

use faer::Accum;

use crate::linalg::DenseBlock;
use crate::lmm::factor::BlockedCholesky;

/// β̂ and the inverse of the fixed-effects factor (`R_X'⁻¹`, lower triangular p×p, column
/// major) from the `[X y]` block `[R_X' 0; c' r]`: `R_X β̂ = c`.
pub fn fixed_effects(factor: &BlockedCholesky) -> (Vec<f64>, Vec<f64>) {
    let f = factor.fixed_block();
    let p = f.rows - 1;
    let mut beta = vec![0.0; p];
    for i in (0..p).rev() {
        let mut s = f.get(p, i);
        for (r, b) in beta.iter().enumerate().skip(i + 1) {
            s -= f.get(r, i) * b;
        }
        beta[i] = s / f.get(i, i);
    }
    (beta, lower_inverse(f, p))
}

/// From this many fixed effects on (a factor with many levels), the p³ steps below use faer's
/// blocked kernels; below it the hand loops, whose results the recorded tests were made with.
const LARGE_P: usize = 128;

/// Inverse of the leading `p × p` lower triangle of `l` (column-major, p×p).
fn lower_inverse(l: &DenseBlock, p: usize) -> Vec<f64> {
    let mut inv = vec![0.0; p * p];
    if p >= LARGE_P {
        let src = l.as_ref().submatrix(0, 0, p, p);
        let dst = faer::MatMut::from_column_major_slice_mut(&mut inv, p, p);
        faer::linalg::triangular_inverse::invert_lower_triangular(dst, src, faer::Par::rayon(0));
        return inv;
    }
    for c in 0..p {
        inv[c + c * p] = 1.0 / l.get(c, c);
        for r in c + 1..p {
            let s: f64 = (c..r).map(|h| l.get(r, h) * inv[h + c * p]).sum();
            inv[r + c * p] = -s / l.get(r, r);
        }
    }
    inv
}

/// Covariance of β̂: σ² (R_X'R_X)⁻¹ = σ² L⁻ᵀL⁻¹ from the lower inverse `linv`, row-major p×p.
pub fn fixed_covariance(linv: &[f64], p: usize, sigma2: f64) -> Vec<f64> {
    let mut cov = vec![0.0; p * p];
    if p >= LARGE_P {
        // σ² L⁻ᵀ L⁻¹ as one product (symmetric, so row- and column-major agree).
        let l = faer::MatRef::from_column_major_slice(linv, p, p);
        let out = faer::MatMut::from_column_major_slice_mut(&mut cov, p, p);
        faer::linalg::matmul::matmul(
            out,
            Accum::Replace,
            l.transpose(),
            l,
            sigma2,
            faer::Par::rayon(0),
        );
        // Exactly symmetric, as the hand loop makes it.
        for a in 0..p {
            for b in 0..a {
                cov[a * p + b] = cov[b * p + a];
            }
        }
        return cov;
    }
    for a in 0..p {
        for b in 0..=a {
            let s: f64 = (a..p).map(|i| linv[i + a * p] * linv[i + b * p]).sum();
            cov[a * p + b] = sigma2 * s;
            cov[b * p + a] = sigma2 * s;
        }
    }
    cov
}

/// Spherical random effects û, per internal term (level-major), by block back-substitution
/// of `L_ZZ' u = c_Z − L_XZ' β̂`.
pub fn spherical_modes(factor: &BlockedCholesky, beta: &[f64]) -> Vec<Vec<f64>> {
    let m = factor.terms().len();
    let p = beta.len();
    let mut u: Vec<Vec<f64>> = (0..m)
        .map(|j| {
            // The [X y] rows of block column j.
            let fj = if j == 0 {
                factor.fixed_first()
            } else {
                factor.dense(m, j)
            };
            (0..fj.cols)
                .map(|c| fj.get(p, c) - (0..p).map(|r| fj.get(r, c) * beta[r]).sum::<f64>())
                .collect()
        })
        .collect();
    factor.backward_random(&mut u);
    u
}

/// Conditional modes b̂ = Λû, per internal term (level-major).
pub fn conditional_modes(factor: &BlockedCholesky, u: &[Vec<f64>]) -> Vec<Vec<f64>> {
    factor
        .terms()
        .iter()
        .enumerate()
        .map(|(t, term)| {
            let k = term.width;
            let lambda = factor.lambda(t);
            let mut b = vec![0.0; u[t].len()];
            for (bl, ul) in b.chunks_exact_mut(k).zip(u[t].chunks_exact(k)) {
                for r in 0..k {
                    bl[r] = (0..=r).map(|c| lambda[r + c * k] * ul[c]).sum();
                }
            }
            b
        })
        .collect()
}

/// Conditional variance-covariance of each level's random effects, `σ² λ C_l λ'` with
/// `C_l` the level's k×k diagonal block of `(LL')⁻¹`; per internal term, one k×k
/// column-major block per level.
///
/// With `L = [L₀₀ 0; L_r0 T]` (first term, then the rest), `(LL')⁻¹` restricted to the rest
/// is `P = T⁻ᵀT⁻¹`, and for a level of the first term `X₀'X₀ + W'PW` with `X₀ = L₀₀⁻¹` for the
/// level and `W = L_r0 X₀` (sparse). `P` costs two triangular products of the size of the
/// dense part, once per fit.
pub fn conditional_covariances(factor: &BlockedCholesky, sigma2: f64) -> Vec<Vec<f64>> {
    let terms = factor.terms();
    let m = terms.len();
    // P = (T T')⁻¹ over the trailing random blocks; only its upper triangle (row ≤ column)
    // is read below.
    let (offsets, p_rest) = factor.trailing_inverse();
    let q_rest = offsets[m];

    let p_cols: Vec<&[f64]> = (0..q_rest)
        .map(|c| {
            p_rest
                .col(c)
                .try_as_col_major()
                .map(|col| col.as_slice())
                .unwrap_or(&[])
        })
        .collect();
    let mut out: Vec<Vec<f64>> = Vec::with_capacity(m);
    // First term.
    {
        let k0 = terms[0].width;
        let kk = k0 * k0;
        let diag = factor.first_diagonal();
        let mut cov = vec![0.0; terms[0].nlevels * kk];
        let mut w_rows: Vec<usize> = Vec::new();
        let mut w_vals: Vec<f64> = Vec::new();
        for c in 0..terms[0].nlevels {
            let x0 = small_lower_inverse(&diag[c * kk..(c + 1) * kk], k0);
            let cl = &mut cov[c * kk..(c + 1) * kk];
            for a in 0..k0 {
                for b in 0..k0 {
                    cl[a + b * k0] = (0..k0).map(|r| x0[r + a * k0] * x0[r + b * k0]).sum();
                }
            }
            if q_rest == 0 {
                continue;
            }
            // W = L_r0[:, level c] X₀, one row per stored entry row.
            w_rows.clear();
            w_vals.clear();
            for (i, &off) in offsets.iter().enumerate().take(m).skip(1) {
                let (pattern, values) = factor.first_column(i);
                let ki = pattern.row_width;
                let blen = pattern.block_len();
                for e in pattern.col_ptr[c]..pattern.col_ptr[c + 1] {
                    let r0 = off + pattern.row_level[e] as usize * ki;
                    let blk = &values[e * blen..(e + 1) * blen];
                    for a in 0..ki {
                        w_rows.push(r0 + a);
                        for h in 0..k0 {
                            w_vals.push((0..k0).map(|g| blk[a + g * ki] * x0[g + h * k0]).sum());
                        }
                    }
                }
            }
            add_quadratic_form(&p_cols, &w_rows, &w_vals, k0, cl);
        }
        out.push(scale_covariances(&cov, factor.lambda(0), k0, sigma2));
    }
    // Trailing terms: diagonal blocks of P.
    for j in 1..m {
        let k = terms[j].width;
        let mut cov = vec![0.0; terms[j].nlevels * k * k];
        for (l, cl) in cov.chunks_exact_mut(k * k).enumerate() {
            let base = offsets[j] + l * k;
            for a in 0..k {
                for b in 0..k {
                    let (r, c) = (base + a.min(b), base + a.max(b));
                    cl[a + b * k] = p_rest[(r, c)];
                }
            }
        }
        out.push(scale_covariances(&cov, factor.lambda(j), k, sigma2));
    }
    out
}

/// `cl += W' P W` for a sparse W given by ascending rows and k-vectors of values; `p_cols`
/// are the columns of the symmetric `P`, of which only the upper triangle is read. Each
/// unordered pair of rows is visited once.
fn add_quadratic_form(p_cols: &[&[f64]], rows: &[usize], vals: &[f64], k: usize, cl: &mut [f64]) {
    if k == 1 {
        // w'Pw = Σ_x1 w_x1 (P_x1x1 w_x1 + 2 Σ_{x2<x1} P_x1x2 w_x2).
        let mut total = 0.0;
        for (x1, (&r1, &w1)) in rows.iter().zip(vals).enumerate() {
            let col = p_cols[r1];
            let mut s = 0.0;
            for (&r2, &w2) in rows[..x1].iter().zip(&vals[..x1]) {
                s += col[r2] * w2;
            }
            total += w1 * (2.0 * s + col[r1] * w1);
        }
        cl[0] += total;
        return;
    }
    for (x1, &r1) in rows.iter().enumerate() {
        let w1 = &vals[x1 * k..(x1 + 1) * k];
        let col = p_cols[r1];
        for (x2, &r2) in rows.iter().enumerate().take(x1 + 1) {
            // Off-diagonal pairs stand for (x1, x2) and (x2, x1).
            let prc = col[r2];
            let w2 = &vals[x2 * k..(x2 + 1) * k];
            for a in 0..k {
                for b in 0..k {
                    let v = if x1 == x2 {
                        w1[a] * prc * w2[b]
                    } else {
                        prc * (w1[a] * w2[b] + w2[a] * w1[b])
                    };
                    cl[a + b * k] += v;
                }
            }
        }
    }
}

/// Inverse of a small lower-triangular k×k block (column-major).
fn small_lower_inverse(l: &[f64], k: usize) -> Vec<f64> {
    let mut inv = vec![0.0; k * k];
    for c in 0..k {
        inv[c + c * k] = 1.0 / l[c + c * k];
        for r in c + 1..k {
            let s: f64 = (c..r).map(|h| l[r + h * k] * inv[h + c * k]).sum();
            inv[r + c * k] = -s / l[r + r * k];
        }
    }
    inv
}

/// `σ² λ C λ'` for each k×k block C.
fn scale_covariances(cov: &[f64], lambda: &[f64], k: usize, sigma2: f64) -> Vec<f64> {
    let mut out = vec![0.0; cov.len()];
    for (o, c) in out.chunks_exact_mut(k * k).zip(cov.chunks_exact(k * k)) {
        for a in 0..k {
            for b in 0..k {
                let mut s = 0.0;
                for g in 0..k {
                    for h in 0..k {
                        s += lambda[a + g * k] * c[g + h * k] * lambda[b + h * k];
                    }
                }
                o[a + b * k] = sigma2 * s;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// faer's triangular inverse and product (from [`LARGE_P`] on) agree with the hand loops.
    #[test]
    fn large_inverse_and_covariance_agree_with_the_hand_loops() {
        let p = LARGE_P + 22;
        let mut l = DenseBlock::zeros(p + 1, p + 1);
        for c in 0..=p {
            for r in c..=p {
                l.data[r + c * (p + 1)] = if r == c {
                    2.0 + (r % 5) as f64
                } else {
                    ((r * 3 + c * 7) % 13) as f64 / 13.0 - 0.5
                };
            }
            // Garbage above the diagonal must not be read.
            for r in 0..c {
                l.data[r + c * (p + 1)] = 1e300;
            }
        }
        let fast = lower_inverse(&l, p);
        // The hand loop on the same triangle.
        let mut slow = vec![0.0; p * p];
        for c in 0..p {
            slow[c + c * p] = 1.0 / l.get(c, c);
            for r in c + 1..p {
                let s: f64 = (c..r).map(|h| l.get(r, h) * slow[h + c * p]).sum();
                slow[r + c * p] = -s / l.get(r, r);
            }
        }
        for (a, b) in fast.iter().zip(&slow) {
            assert!((a - b).abs() <= 1e-13 * b.abs().max(1e-3), "{a} vs {b}");
        }
        let cov = fixed_covariance(&slow, p, 1.7);
        for a in 0..p {
            for b in 0..=a {
                let s: f64 = (a..p).map(|i| slow[i + a * p] * slow[i + b * p]).sum();
                let want = 1.7 * s;
                assert!((cov[a * p + b] - want).abs() <= 1e-13 * want.abs().max(1e-3));
                assert_eq!(cov[a * p + b], cov[b * p + a]);
            }
        }
    }
}
