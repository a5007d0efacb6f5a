//! The derivatives the certificate needs at a point θ̃ (internal scale), and the
//! [`Oracle`] that supplies objective values (and, where available, exact gradients).
//!
//! * Free coordinates: the gradient and Hessian. With an exact gradient (single-term models)
//!   the Hessian is the symmetrised forward difference of gradients, `n` evaluations; without
//!   one, central differences of values, `2n + n(n − 1)` evaluations (the cross terms use the
//!   points `x ± h_i e_i ± h_j e_j` with equal signs, which share the axis points).
//! * Boundary columns (a λ column that is exactly zero): the objective is even in that column
//!   (negating a column of λ leaves λλ' unchanged), so its gradient there is zero and what
//!   matters is the curvature `C` in `f(x + v) = f(x) + ½ v'Cv + O(|v|⁴)`, estimated from
//!   `f(x + h e_i)` and `f(x + h(e_i ± e_l))`.
//!
//! Each estimate is split into its stencil (the points to evaluate) and the formula applied
//! to the values, so that the certificate can hand every point to the oracle in one batch.
//! Steps are relative: θ̃ is unit-free, so `h = 10⁻³·max(|θ̃_i|, 0.1)` (values) and
//! `h = 10⁻⁵·max(|θ̃_i|, 0.1)` (gradients) balance truncation against rounding for every
//! model; the rounding noise of the results is estimated alongside them.

/// Relative rounding error assumed for one objective evaluation (a sum of logarithms of a
/// Cholesky factor's pivots): ε_f = `EVALUATION_NOISE · max(1, |f|)`.
pub const EVALUATION_NOISE: f64 = 1e-13;

/// Relative central-difference step for values.
const VALUE_STEP: f64 = 1e-3;
/// Relative forward-difference step for exact gradients.
const GRADIENT_STEP: f64 = 1e-5;
/// Step for the curvature of a zero column (θ̃ there is 0, so the step is absolute).
pub const EDGE_STEP: f64 = 1e-3;

/// What the certificate may ask of the objective, on the internal scale.
pub trait Oracle {
    /// The objective at each of `points`. Implementations may evaluate them in any order
    /// (the profiled-tail path groups points that share the leading terms' θ, which then
    /// cost one factorisation between them).
    fn values(&mut self, points: &[Vec<f64>]) -> Vec<f64>;

    /// The objective and its exact gradient at `x`, or `None` when there is no exact
    /// gradient.
    fn value_and_gradient(&mut self, _x: &[f64], _gradient: &mut [f64]) -> Option<f64> {
        None
    }

    /// Whether [`Oracle::value_and_gradient`] is available.
    fn has_gradient(&self) -> bool {
        false
    }
}

/// Gradient and Hessian on the free coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct FreeDerivatives {
    /// ∂f/∂θ̃ on the free coordinates (in their order).
    pub gradient: Vec<f64>,
    /// Hessian on the free coordinates, `m × m`, symmetric.
    pub hessian: Vec<f64>,
    /// Estimated absolute error of the Hessian entries (rounding and truncation).
    pub hessian_noise: f64,
}

/// Central-difference steps for the free coordinates.
pub fn value_steps(x: &[f64], free: &[usize]) -> Vec<f64> {
    free.iter()
        .map(|&i| VALUE_STEP * x[i].abs().max(0.1))
        .collect()
}

/// Forward-difference steps for gradients at the free coordinates.
pub fn gradient_steps(x: &[f64], free: &[usize]) -> Vec<f64> {
    free.iter()
        .map(|&i| GRADIENT_STEP * x[i].abs().max(0.1))
        .collect()
}

/// `x` moved by `sign·h[c]` along `coordinates[c]` for each `(c, sign)`.
fn shifted(x: &[f64], coordinates: &[usize], h: &[f64], moves: &[(usize, f64)]) -> Vec<f64> {
    let mut p = x.to_vec();
    for &(c, s) in moves {
        p[coordinates[c]] += s * h[c];
    }
    p
}

/// The points of the central-difference stencil on `free`: `+e_c, −e_c` for each `c`, then
/// `+e_a+e_b, −e_a−e_b` for each `a < b`.
pub fn value_stencil(x: &[f64], free: &[usize], h: &[f64]) -> Vec<Vec<f64>> {
    let m = free.len();
    let mut points = Vec::with_capacity(2 * m + m * m.saturating_sub(1));
    for c in 0..m {
        points.push(shifted(x, free, h, &[(c, 1.0)]));
        points.push(shifted(x, free, h, &[(c, -1.0)]));
    }
    for a in 0..m {
        for b in a + 1..m {
            points.push(shifted(x, free, h, &[(a, 1.0), (b, 1.0)]));
            points.push(shifted(x, free, h, &[(a, -1.0), (b, -1.0)]));
        }
    }
    points
}

/// Gradient and Hessian from the values `f` at [`value_stencil`]`(x, free, h)`, `f0 = f(x)`.
pub fn value_derivatives(f: &[f64], f0: f64, h: &[f64]) -> FreeDerivatives {
    let m = h.len();
    let (plus, minus) = (|c: usize| f[2 * c], |c: usize| f[2 * c + 1]);
    let gradient = (0..m)
        .map(|c| (plus(c) - minus(c)) / (2.0 * h[c]))
        .collect();
    let mut hessian = vec![0.0; m * m];
    for c in 0..m {
        hessian[c + c * m] = (plus(c) - 2.0 * f0 + minus(c)) / (h[c] * h[c]);
    }
    let mut next = 2 * m;
    for a in 0..m {
        for b in a + 1..m {
            let (pp, mm) = (f[next], f[next + 1]);
            next += 2;
            let v = (pp - plus(a) - plus(b) + 2.0 * f0 - minus(a) - minus(b) + mm)
                / (2.0 * h[a] * h[b]);
            hessian[a + b * m] = v;
            hessian[b + a * m] = v;
        }
    }
    let hmin = h.iter().copied().fold(f64::INFINITY, f64::min);
    let eps = EVALUATION_NOISE * f0.abs().max(1.0);
    FreeDerivatives {
        gradient,
        hessian,
        // The cross-term formula combines eight values.
        hessian_noise: 8.0 * eps / (hmin * hmin),
    }
}

/// Gradient and Hessian from exact gradients: `g0 = ∇f(x)` and `gradients[c] = ∇f(x + h_c
/// e_free[c])` (full length each).
pub fn gradient_derivatives(
    gradients: &[Vec<f64>],
    g0: &[f64],
    free: &[usize],
    h: &[f64],
) -> FreeDerivatives {
    let m = free.len();
    let mut hessian = vec![0.0; m * m];
    for (c, g) in gradients.iter().enumerate() {
        for (r, &j) in free.iter().enumerate() {
            hessian[r + c * m] = (g[j] - g0[j]) / h[c];
        }
    }
    // Forward differences are not symmetric; the asymmetry measures their error.
    let mut asymmetry = 0.0f64;
    for c in 0..m {
        for r in 0..c {
            let (a, b) = (hessian[r + c * m], hessian[c + r * m]);
            asymmetry = asymmetry.max((a - b).abs());
            let s = 0.5 * (a + b);
            hessian[r + c * m] = s;
            hessian[c + r * m] = s;
        }
    }
    let scale = hessian.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    FreeDerivatives {
        gradient: free.iter().map(|&i| g0[i]).collect(),
        hessian,
        hessian_noise: asymmetry + 1e-6 * scale,
    }
}

/// The points for the curvature of a zero column `block`: `+e_c` for each `c`, then
/// `e_a + e_c, e_a − e_c` for each `a < c`, all with step [`EDGE_STEP`].
pub fn edge_stencil(x: &[f64], block: &[usize]) -> Vec<Vec<f64>> {
    let b = block.len();
    let h = vec![EDGE_STEP; b];
    let mut points = Vec::with_capacity(b * b);
    for c in 0..b {
        points.push(shifted(x, block, &h, &[(c, 1.0)]));
    }
    for a in 0..b {
        for c in a + 1..b {
            points.push(shifted(x, block, &h, &[(a, 1.0), (c, 1.0)]));
            points.push(shifted(x, block, &h, &[(a, 1.0), (c, -1.0)]));
        }
    }
    points
}

/// The curvature matrix `C` (`b × b`) of an even function from its values `f` at
/// [`edge_stencil`], `f0` at the centre, and the estimated absolute error of its entries.
pub fn edge_curvature(f: &[f64], f0: f64, b: usize) -> (Vec<f64>, f64) {
    let h = EDGE_STEP;
    let mut curvature = vec![0.0; b * b];
    for c in 0..b {
        curvature[c + c * b] = 2.0 * (f[c] - f0) / (h * h);
    }
    let mut next = b;
    for a in 0..b {
        for c in a + 1..b {
            let v = (f[next] - f[next + 1]) / (2.0 * h * h);
            next += 2;
            curvature[a + c * b] = v;
            curvature[c + a * b] = v;
        }
    }
    let eps = EVALUATION_NOISE * f0.abs().max(1.0);
    (curvature, 4.0 * eps / (h * h))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [f64; 4] = [3.0, 1.0, 1.0, 2.0];

    /// f(x) = ½ x'Ax − x₁ + x₀⁴.
    fn value(x: &[f64]) -> f64 {
        0.5 * (A[0] * x[0] * x[0] + 2.0 * A[1] * x[0] * x[1] + A[3] * x[1] * x[1]) - x[1]
            + x[0].powi(4)
    }

    fn gradient(x: &[f64]) -> Vec<f64> {
        vec![
            A[0] * x[0] + A[1] * x[1] + 4.0 * x[0].powi(3),
            A[1] * x[0] + A[3] * x[1] - 1.0,
        ]
    }

    fn check(d: &FreeDerivatives) {
        // ∇f(0.5, −0.25) = (3·0.5 − 0.25 + 4·0.125, 0.5 − 2·0.25 − 1).
        let want_g = [1.75, -1.0];
        let want_h = [3.0 + 12.0 * 0.25, 1.0, 1.0, 2.0];
        for (a, b) in d.gradient.iter().zip(want_g) {
            assert!((a - b).abs() < 1e-5, "{:?}", d.gradient);
        }
        for (a, b) in d.hessian.iter().zip(want_h) {
            assert!((a - b).abs() < 1e-4, "{:?}", d.hessian);
        }
        assert!(d.hessian_noise < 1e-3);
    }

    #[test]
    fn both_routes_recover_gradient_and_hessian() {
        let x = [0.5, -0.25];
        let free = [0, 1];
        let h = value_steps(&x, &free);
        let points = value_stencil(&x, &free, &h);
        assert_eq!(points.len(), 6);
        let f: Vec<f64> = points.iter().map(|p| value(p)).collect();
        check(&value_derivatives(&f, value(&x), &h));

        let h = gradient_steps(&x, &free);
        let gradients: Vec<Vec<f64>> = free
            .iter()
            .zip(&h)
            .map(|(&i, &hi)| {
                let mut p = x.to_vec();
                p[i] += hi;
                gradient(&p)
            })
            .collect();
        check(&gradient_derivatives(&gradients, &gradient(&x), &free, &h));
    }

    #[test]
    fn edge_curvature_of_an_even_function() {
        // f even in (x0, x1): f = 2x0² − x0x1 + x1² + x0⁴ + 5; C = [[4, −1], [−1, 2]].
        let f = |p: &[f64]| 2.0 * p[0] * p[0] - p[0] * p[1] + p[1] * p[1] + p[0].powi(4) + 5.0;
        let points = edge_stencil(&[0.0, 0.0], &[0, 1]);
        let values: Vec<f64> = points.iter().map(|p| f(p)).collect();
        let (c, noise) = edge_curvature(&values, 5.0, 2);
        for (a, b) in c.iter().zip([4.0, -1.0, -1.0, 2.0]) {
            assert!((a - b).abs() < 1e-5, "{c:?}");
        }
        assert!(noise < 1e-5);
    }
}
