//! The convergence check at a GLMM optimum: central-difference gradient and Hessian diagonal
//! (forward differences for the off-diagonal, one evaluation per pair) of the objective in the optimiser's unit-free coordinates over the parameters not on the
//! boundary, a one-sided check for those on it. Converged means the optimiser stopped at its
//! final trust radius, the Hessian on the free coordinates is positive definite and the
//! Newton decrement `½ g'H⁻¹g` (the predicted remaining decrease of the deviance) is below
//! `1e-6 + 1e-10·|objective|`; a boundary parameter must not lower the objective when moved
//! off the boundary. (The LMM certificate's exact gradients are not available for every GLMM,
//! whose objective is itself the result of an iteration.) Where a GLMM objective has an exact
//! gradient (canonical links with β profiled), [`check_optimum_with_gradient`] takes the
//! Hessian from forward differences of that gradient instead: `1 + len(x)` evaluations
//! rather than `1 + len(x)(len(x) + 3)/2`.

use crate::linalg::cholesky_small_checked;
use crate::lmm::convergence::eigen::symmetric_eigen;
use crate::lmm::fit_result::{Convergence, ConvergenceStatus};

use super::strategy::convergence_record;

/// Finite-difference step in the optimiser's coordinates: large enough that PIRLS's
/// relative error of about 1e-13 in the objective is not amplified into the Hessian.
const STEP: f64 = 1e-3;

/// Checks the optimum `x` of `f` under the bounds `lower`.
pub fn check_optimum(
    f: &mut dyn FnMut(&[f64]) -> f64,
    x: &[f64],
    lower: &[f64],
    optimizer_converged: bool,
) -> Convergence {
    let n = x.len();
    let f0 = f(x);
    if !f0.is_finite() {
        return convergence_record(ConvergenceStatus::ObjectiveNotFinite, f64::NAN, None);
    }
    let at = |x: &[f64], moves: &[(usize, f64)]| {
        let mut y = x.to_vec();
        for &(j, d) in moves {
            y[j] += d;
        }
        y
    };
    let h = STEP;
    let free: Vec<usize> = (0..n).filter(|&j| x[j] - lower[j] > h).collect();
    // Boundary parameters: moving off must not help.
    for j in (0..n).filter(|j| !free.contains(j)) {
        let up = f(&at(x, &[(j, h)]));
        if !up.is_finite() {
            return convergence_record(ConvergenceStatus::ObjectiveNotFinite, f64::NAN, None);
        }
        if up < f0 - 1e-6 {
            return convergence_record(ConvergenceStatus::BoundaryNotOptimal, f64::NAN, None);
        }
    }
    let m = free.len();
    if m == 0 {
        return convergence_record(optimizer_status(optimizer_converged), 0.0, None);
    }
    let mut g = vec![0.0; m];
    let mut hess = vec![0.0; m * m];
    let mut plus = vec![0.0; m];
    let mut minus = vec![0.0; m];
    for (a, &j) in free.iter().enumerate() {
        plus[a] = f(&at(x, &[(j, h)]));
        minus[a] = f(&at(x, &[(j, -h)]));
        g[a] = (plus[a] - minus[a]) / (2.0 * h);
        hess[a + a * m] = (plus[a] - 2.0 * f0 + minus[a]) / (h * h);
    }
    for a in 0..m {
        for b in 0..a {
            let (i, j) = (free[a], free[b]);
            // One extra evaluation per pair: f(x+hi+hj) − f(x+hi) − f(x+hj) + f0 = h²Hij + O(h³).
            let pp = f(&at(x, &[(i, h), (j, h)]));
            let hij = (pp - plus[a] - plus[b] + f0) / (h * h);
            hess[a + b * m] = hij;
            hess[b + a * m] = hij;
        }
    }
    decide(&g, &hess, f0, optimizer_converged)
}

/// Value and gradient at each of a set of points, in their order.
pub type PointEvaluations<'a> = dyn FnMut(&[Vec<f64>]) -> Vec<(f64, Vec<f64>)> + 'a;

/// Checks the optimum `x` of an objective with exact gradient (in the optimiser's
/// coordinates) under the bounds `lower`, given its value `f0` and gradient `g0` at `x`: the
/// Hessian on the free coordinates by forward differences of the gradient (symmetrised),
/// boundary coordinates by the value one step off the boundary. `points` evaluates value and
/// gradient at each of the `len(x)` shifted points (leaving the caller's state at `x`
/// alone).
pub fn check_optimum_with_gradient(
    f0: f64,
    g0: &[f64],
    points: &mut PointEvaluations<'_>,
    x: &[f64],
    lower: &[f64],
    optimizer_converged: bool,
) -> Convergence {
    let n = x.len();
    let h = STEP;
    let free: Vec<usize> = (0..n).filter(|&j| x[j] - lower[j] > h).collect();
    let shifted: Vec<Vec<f64>> = (0..n)
        .map(|j| {
            let mut y = x.to_vec();
            y[j] += h;
            y
        })
        .collect();
    let (values, gradients): (Vec<f64>, Vec<Vec<f64>>) = points(&shifted).into_iter().unzip();
    if !f0.is_finite() || values.iter().any(|v| !v.is_finite()) {
        return convergence_record(ConvergenceStatus::ObjectiveNotFinite, f64::NAN, None);
    }
    for j in (0..n).filter(|j| !free.contains(j)) {
        if values[j] < f0 - 1e-6 {
            return convergence_record(ConvergenceStatus::BoundaryNotOptimal, f64::NAN, None);
        }
    }
    let m = free.len();
    if m == 0 {
        return convergence_record(optimizer_status(optimizer_converged), 0.0, None);
    }
    let g: Vec<f64> = free.iter().map(|&j| g0[j]).collect();
    let mut hess = vec![0.0; m * m];
    for (a, &i) in free.iter().enumerate() {
        for (b, &j) in free.iter().enumerate() {
            // ∂²f/∂i∂j from both columns: (gᵢ(x + h eⱼ) − gᵢ(x) + gⱼ(x + h eᵢ) − gⱼ(x)) / 2h.
            hess[a + b * m] = (gradients[j][i] - g0[i] + gradients[i][j] - g0[j]) / (2.0 * h);
        }
    }
    decide(&g, &hess, f0, optimizer_converged)
}

/// The verdict from the gradient and Hessian on the free coordinates (column-major m×m).
fn decide(g: &[f64], hess: &[f64], f0: f64, optimizer_converged: bool) -> Convergence {
    let m = g.len();
    let gradient_max = g.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    if g.iter().chain(hess).any(|v| !v.is_finite()) {
        return convergence_record(ConvergenceStatus::ObjectiveNotFinite, gradient_max, None);
    }
    let min_eig = smallest_eigenvalue(hess, m);
    let mut l = hess.to_vec();
    if cholesky_small_checked(&mut l, m, m, 1e-12).is_err() {
        return convergence_record(
            ConvergenceStatus::HessianNotPositiveDefinite,
            gradient_max,
            Some(min_eig),
        );
    }
    // ½ g'H⁻¹g = ½‖L⁻¹g‖².
    let mut y = g.to_vec();
    for r in 0..m {
        let s: f64 = (0..r).map(|c| l[r + c * m] * y[c]).sum();
        y[r] = (y[r] - s) / l[r + r * m];
    }
    let decrement = 0.5 * y.iter().map(|v| v * v).sum::<f64>();
    let status = if decrement > 1e-6 + 1e-10 * f0.abs() {
        ConvergenceStatus::GradientNotSmall
    } else {
        optimizer_status(optimizer_converged)
    };
    convergence_record(status, gradient_max, Some(min_eig))
}

/// The status when every check passed: converged, or stopped by the evaluation limit.
fn optimizer_status(optimizer_converged: bool) -> ConvergenceStatus {
    if optimizer_converged {
        ConvergenceStatus::Converged
    } else {
        ConvergenceStatus::EvaluationLimit
    }
}

/// Smallest eigenvalue of a small symmetric matrix (column-major m×m).
fn smallest_eigenvalue(a: &[f64], m: usize) -> f64 {
    symmetric_eigen(a, m).min()
}
