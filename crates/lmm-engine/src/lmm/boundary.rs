//! The boundary of the parameter space, `λ_jj = 0`: the two moves the engine makes there
//! before certifying a point (both on the internal θ̃, both leaving λλ' — and so the model —
//! unchanged or "no worse", which the caller checks by evaluating the candidate).
//!
//! * [`snap`]: lme4's `boundary.tol` check — diagonal elements within the tolerance of 0 are
//!   tried at exactly 0.
//! * [`canonical`]: when `λ_jj = 0`, the entries below it in column `j` can be rotated into
//!   the later columns without changing λλ' (the columns `j` and `j + 1 …` then span the same
//!   rows), so an optimiser can stop anywhere on a circle of equivalent points. The canonical
//!   representative has the whole column zero: the lower Cholesky factor of λλ' with the
//!   pivots of those columns set to zero. The objective is then even in that column, which
//!   is what the certificate's boundary test ([`crate::lmm::convergence`]) relies on.

use crate::lmm::theta::{fill_lower_triangle, ThetaLayout};

/// θ̃ with every diagonal element in `(0, tolerance)` set to 0, or `None` when there is none.
pub fn snap(layout: &ThetaLayout, theta: &[f64], tolerance: f64) -> Option<Vec<f64>> {
    let diagonal = layout.diagonal_mask();
    let mut out = theta.to_vec();
    let mut changed = false;
    for (i, v) in out.iter_mut().enumerate() {
        if diagonal[i] && *v > 0.0 && *v < tolerance {
            *v = 0.0;
            changed = true;
        }
    }
    changed.then_some(out)
}

/// θ̃ with every λ that has a zero diagonal element rewritten so that its zero-diagonal
/// columns are entirely zero (same λλ'), or `None` when θ̃ is already in that form.
pub fn canonical(layout: &ThetaLayout, theta: &[f64]) -> Option<Vec<f64>> {
    let mut out = theta.to_vec();
    let mut changed = false;
    for t in 0..layout.nterms() {
        let k = layout.width(t);
        let range = layout.term_range(t);
        let packed = &theta[range.clone()];
        // Column j of the packed triangle starts at Σ_{c<j} (k − c).
        let start = |j: usize| j * k - j * (j.saturating_sub(1)) / 2;
        let zero: Vec<bool> = (0..k).map(|j| packed[start(j)] == 0.0).collect();
        let needs = (0..k).any(|j| {
            zero[j]
                && packed[start(j)..start(j) + (k - j)]
                    .iter()
                    .any(|&v| v != 0.0)
        });
        if !needs {
            continue;
        }
        let mut lambda = vec![0.0; k * k];
        fill_lower_triangle(k, packed, &mut lambda);
        // A = λλ' (column-major).
        let mut a = vec![0.0; k * k];
        for c in 0..k {
            for r in 0..k {
                a[r + c * k] = (0..k).map(|h| lambda[r + h * k] * lambda[c + h * k]).sum();
            }
        }
        // Cholesky of A with the zero-diagonal columns forced to zero: their pivot and the
        // rest of their Schur-complement column are λ_jj² and λ_ij·λ_jj, exactly 0.
        let mut l = vec![0.0; k * k];
        for j in 0..k {
            if zero[j] {
                continue;
            }
            let d = a[j + j * k] - (0..j).map(|c| l[j + c * k] * l[j + c * k]).sum::<f64>();
            let d = d.max(0.0).sqrt();
            l[j + j * k] = d;
            for i in j + 1..k {
                let s = a[i + j * k] - (0..j).map(|c| l[i + c * k] * l[j + c * k]).sum::<f64>();
                l[i + j * k] = if d > 0.0 { s / d } else { 0.0 };
            }
        }
        let mut idx = range.start;
        for j in 0..k {
            for i in j..k {
                out[idx] = l[i + j * k];
                idx += 1;
            }
        }
        changed = true;
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lmm::theta::relative_covariance;

    fn covariance(k: usize, packed: &[f64]) -> Vec<f64> {
        let mut lambda = vec![0.0; k * k];
        fill_lower_triangle(k, packed, &mut lambda);
        relative_covariance(k, &lambda)
    }

    #[test]
    fn snapping_touches_small_diagonals_only() {
        let layout = ThetaLayout::new(&[2, 1]);
        assert_eq!(
            snap(&layout, &[1e-6, 1e-7, 0.5, 2e-6], 1e-5),
            Some(vec![0.0, 1e-7, 0.5, 0.0])
        );
        assert_eq!(snap(&layout, &[1.0, 0.0, 0.0, 0.3], 1e-5), None);
    }

    #[test]
    fn a_zero_diagonal_column_is_folded_into_the_next() {
        let layout = ThetaLayout::new(&[3]);
        // θ = [l11, l21, l31, l22, l32, l33] with l11 = 0 but a non-zero column below it.
        let theta = [0.0, 0.6, -0.3, 0.8, 0.2, 0.5];
        let c = canonical(&layout, &theta).unwrap();
        assert_eq!(&c[..3], &[0.0, 0.0, 0.0]);
        assert!(c[3] > 0.0 && c[5] >= 0.0);
        for (a, b) in covariance(3, &c).iter().zip(covariance(3, &theta)) {
            assert!((a - b).abs() < 1e-14, "{a} {b}");
        }
        assert_eq!(canonical(&layout, &c), None);
        // No zero diagonal: nothing to do, even with arbitrary off-diagonals.
        assert_eq!(canonical(&layout, &[1.0, 0.6, -0.3, 0.8, 0.2, 0.5]), None);
    }

    #[test]
    fn a_correlation_of_one_is_already_canonical() {
        // λ22 = 0 is the last column: nothing below it.
        let layout = ThetaLayout::new(&[2]);
        assert_eq!(canonical(&layout, &[1.0, -0.4, 0.0]), None);
    }
}
