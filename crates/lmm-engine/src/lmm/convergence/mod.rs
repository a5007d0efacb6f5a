//! The convergence certificate: what the engine checks at every optimum, whichever optimiser
//! found it, before it calls a fit converged — lme4's `checkConv` ideas on the internal,
//! unit-free θ̃ of [`crate::lmm::scaling`], where the tolerances mean the same for every
//! model and every choice of units.
//!
//! The coordinates of θ̃ split in two:
//!
//! * **Boundary columns**: a column of some λ that is exactly zero (its diagonal at the bound
//!   0 and, after [`crate::lmm::boundary::canonical`], the entries below it zero too). The
//!   objective is even in such a column, so its gradient vanishes there; the column is optimal
//!   when moving off the boundary does not lower the objective. The certificate estimates the
//!   curvature of the objective in the column and, when some direction has negative
//!   curvature, probes along it (lme4's `restart_edge`); a lower objective found there fails
//!   the check and is handed back as the point to restart from.
//! * **Free coordinates**, everything else: the Hessian there must be positive definite
//!   (smallest eigenvalue above its estimated error and above 10⁻⁹ of the largest), and the
//!   gradient small relative to that curvature — the Newton decrement `½ g'H⁻¹g`, the decrease
//!   a Newton step predicts, at most 10⁻⁸·max(1, |f|). Cross-derivatives between a boundary
//!   column and the rest vanish by the same symmetry, so the two checks are independent.
//!
//! Derivatives are exact gradients where the model has them (single-term models) and
//! central differences otherwise ([`derivatives`]); the Hessian's eigenvalues come from
//! [`eigen`].

pub mod derivatives;
pub mod eigen;

use crate::lmm::theta::ThetaLayout;

pub use derivatives::Oracle;
use derivatives::{
    edge_curvature, edge_stencil, gradient_derivatives, gradient_steps, value_derivatives,
    value_stencil, value_steps, EVALUATION_NOISE,
};
use eigen::symmetric_eigen;

/// Largest Newton decrement `½ g'H⁻¹g` accepted, relative to `max(1, |f|)`.
pub const DECREMENT_TOLERANCE: f64 = 1e-8;

/// Smallest accepted ratio of the smallest to the largest free Hessian eigenvalue.
pub const CONDITION_TOLERANCE: f64 = 1e-9;

/// Distances (in units of θ̃) at which a direction of negative boundary curvature is probed.
const PROBE_DISTANCES: [f64; 3] = [1e-2, 1e-1, 1.0];

/// The outcome of the certificate's checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every check passed.
    Passed,
    /// The Newton decrement exceeds its tolerance.
    GradientNotSmall,
    /// The Hessian on the free coordinates is not (demonstrably) positive definite.
    HessianNotPositiveDefinite,
    /// Moving off the boundary lowers the objective.
    BoundaryNotOptimal,
    /// The objective was not finite near the point.
    NotFinite,
}

/// What the certificate measured at a point.
#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    /// The verdict.
    pub verdict: Verdict,
    /// The objective at the point (as the oracle computes it).
    pub objective: f64,
    /// Largest |∂f/∂θ̃| over the free coordinates (0 when there are none).
    pub gradient_max: f64,
    /// Smallest eigenvalue of the Hessian on the free coordinates (`None` when every
    /// coordinate is on the boundary).
    pub hessian_min_eigenvalue: Option<f64>,
    /// The Newton decrement `½ g'H⁻¹g` (∞ when the Hessian is not positive definite).
    pub decrement: f64,
    /// When a boundary column is not optimal: a point off the boundary with a lower
    /// objective, and that objective.
    pub descent: Option<(Vec<f64>, f64)>,
}

impl Certificate {
    /// True when every check passed.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Passed
    }

    /// The failed check in words, with the numbers behind it.
    pub fn describe(&self) -> String {
        match self.verdict {
            Verdict::Passed => "certificate passed".to_string(),
            Verdict::GradientNotSmall => format!(
                "the gradient is not small relative to the curvature (Newton decrement {:.2e}, \
                 max |gradient| {:.2e})",
                self.decrement, self.gradient_max
            ),
            Verdict::HessianNotPositiveDefinite => format!(
                "the Hessian on the free parameters is not positive definite (smallest \
                 eigenvalue {:.2e})",
                self.hessian_min_eigenvalue.unwrap_or(f64::NAN)
            ),
            Verdict::BoundaryNotOptimal => {
                "moving a parameter off the boundary lowers the objective".to_string()
            }
            Verdict::NotFinite => "the objective is not finite next to the optimum".to_string(),
        }
    }
}

/// The coordinates of θ̃ on the boundary, one group per zero column, and the free rest.
pub fn partition(layout: &ThetaLayout, x: &[f64]) -> (Vec<Vec<usize>>, Vec<usize>) {
    let mut edges = Vec::new();
    let mut on_edge = vec![false; x.len()];
    for column in layout.columns() {
        if x[column.clone()].iter().all(|&v| v == 0.0) {
            for i in column.clone() {
                on_edge[i] = true;
            }
            edges.push(column.collect());
        }
    }
    let free = (0..x.len()).filter(|&i| !on_edge[i]).collect();
    (edges, free)
}

/// Upper bound on the evaluations [`certify`] makes at `x` (probes included).
pub fn cost(layout: &ThetaLayout, x: &[f64], exact_gradient: bool) -> usize {
    let (edges, free) = partition(layout, x);
    let m = free.len();
    let edge: usize = edges
        .iter()
        .map(|b| b.len() * b.len() + PROBE_DISTANCES.len())
        .sum();
    let free_cost = if exact_gradient {
        m
    } else {
        2 * m + m * m.saturating_sub(1)
    };
    edge + free_cost + 1
}

/// Runs the checks at `x` (internal θ̃). Zero columns must be canonical (see
/// [`crate::lmm::boundary::canonical`]). The centre is evaluated last, so that an oracle that
/// keeps state (a factorisation) is left at `x` unless a boundary probe was needed.
pub fn certify(oracle: &mut dyn Oracle, layout: &ThetaLayout, x: &[f64]) -> Certificate {
    let (edges, free) = partition(layout, x);
    let exact = oracle.has_gradient() && !free.is_empty();
    let m = free.len();

    // One batch of values: every boundary column's stencil, the free stencil (without an
    // exact gradient), and the centre last.
    let mut points = Vec::new();
    let mut edge_ranges = Vec::with_capacity(edges.len());
    for block in &edges {
        let stencil = edge_stencil(x, block);
        edge_ranges.push(points.len()..points.len() + stencil.len());
        points.extend(stencil);
    }
    let hv = value_steps(x, &free);
    let free_range = points.len()
        ..points.len()
            + if exact {
                0
            } else {
                2 * m + m * m.saturating_sub(1)
            };
    if !exact && m > 0 {
        points.extend(value_stencil(x, &free, &hv));
    }
    let hg = gradient_steps(x, &free);
    let mut gradients = Vec::new();
    let mut finite = true;
    if exact {
        for (&i, &h) in free.iter().zip(&hg) {
            let mut p = x.to_vec();
            p[i] += h;
            let mut g = vec![0.0; x.len()];
            let f = oracle.value_and_gradient(&p, &mut g).unwrap_or(f64::NAN);
            finite &= f.is_finite() && g.iter().all(|v| v.is_finite());
            gradients.push(g);
        }
    }
    let mut g0 = vec![0.0; x.len()];
    let (values, f0) = if exact {
        let values = oracle.values(&points);
        let f0 = oracle.value_and_gradient(x, &mut g0).unwrap_or(f64::NAN);
        finite &= g0.iter().all(|v| v.is_finite());
        (values, f0)
    } else {
        points.push(x.to_vec());
        let mut values = oracle.values(&points);
        let f0 = values.pop().unwrap_or(f64::NAN);
        (values, f0)
    };
    finite &= f0.is_finite() && values.iter().all(|v| v.is_finite());

    let mut certificate = Certificate {
        verdict: Verdict::Passed,
        objective: f0,
        gradient_max: 0.0,
        hessian_min_eigenvalue: None,
        decrement: 0.0,
        descent: None,
    };
    if !finite {
        certificate.verdict = Verdict::NotFinite;
        return certificate;
    }
    let eps = EVALUATION_NOISE * f0.abs().max(1.0);

    // Boundary columns first: a descent direction there makes the rest moot.
    for (block, range) in edges.iter().zip(edge_ranges) {
        let (curvature, noise) = edge_curvature(&values[range], f0, block.len());
        let eigen = symmetric_eigen(&curvature, block.len());
        if eigen.min() >= -noise {
            continue;
        }
        // Negative curvature: probe along its direction, pointing into the feasible side
        // (the column's diagonal, its first entry, must not go negative; the objective is
        // even in the column, so either sign of the rest is equivalent).
        let mut v = eigen.vector(0).to_vec();
        if v[0] < 0.0 {
            v.iter_mut().for_each(|c| *c = -*c);
        }
        let probes: Vec<Vec<f64>> = PROBE_DISTANCES
            .iter()
            .map(|&d| {
                let mut p = x.to_vec();
                for (&i, &c) in block.iter().zip(&v) {
                    p[i] += d * c;
                }
                p
            })
            .collect();
        let probed = oracle.values(&probes);
        let best = probed
            .iter()
            .enumerate()
            .filter(|(_, f)| f.is_finite())
            .min_by(|a, b| a.1.total_cmp(b.1));
        if let Some((i, &f)) = best {
            if f < f0 - 2.0 * eps {
                certificate.verdict = Verdict::BoundaryNotOptimal;
                certificate.descent = Some((probes[i].clone(), f));
                return certificate;
            }
        }
    }

    if m == 0 {
        return certificate;
    }
    let d = if exact {
        gradient_derivatives(&gradients, &g0, &free, &hg)
    } else {
        value_derivatives(&values[free_range], f0, &hv)
    };
    certificate.gradient_max = d.gradient.iter().fold(0.0f64, |a, g| a.max(g.abs()));
    let eigen = symmetric_eigen(&d.hessian, m);
    let (lo, hi) = (eigen.min(), eigen.max());
    certificate.hessian_min_eigenvalue = Some(lo);
    if !(lo > d.hessian_noise && lo > CONDITION_TOLERANCE * hi.abs()) {
        certificate.verdict = Verdict::HessianNotPositiveDefinite;
        certificate.decrement = f64::INFINITY;
        return certificate;
    }
    certificate.decrement = 0.5
        * (0..m)
            .map(|c| {
                let proj: f64 = eigen
                    .vector(c)
                    .iter()
                    .zip(&d.gradient)
                    .map(|(a, b)| a * b)
                    .sum();
                proj * proj / eigen.values[c]
            })
            .sum::<f64>();
    if certificate.decrement > DECREMENT_TOLERANCE * f0.abs().max(1.0) {
        certificate.verdict = Verdict::GradientNotSmall;
    }
    certificate
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value-only oracle from a closure.
    struct Values<F: FnMut(&[f64]) -> f64>(F);

    impl<F: FnMut(&[f64]) -> f64> Oracle for Values<F> {
        fn values(&mut self, points: &[Vec<f64>]) -> Vec<f64> {
            points.iter().map(|p| (self.0)(p)).collect()
        }
    }

    /// θ = [λ11, λ21, λ22] of one 2×2 term: f depends on λλ' only, minimised at a target
    /// covariance `t`: f = ‖λλ' − t‖² + 100.
    fn covariance_objective(t: [f64; 3]) -> impl FnMut(&[f64]) -> f64 {
        move |x: &[f64]| {
            let (a, b, c) = (x[0], x[1], x[2]);
            let (s11, s21, s22) = (a * a, a * b, b * b + c * c);
            (s11 - t[0]).powi(2) + 2.0 * (s21 - t[1]).powi(2) + (s22 - t[2]).powi(2) + 100.0
        }
    }

    fn run(t: [f64; 3], x: [f64; 3]) -> Certificate {
        let layout = ThetaLayout::new(&[2]);
        certify(&mut Values(covariance_objective(t)), &layout, &x)
    }

    #[test]
    fn an_interior_minimum_passes_and_a_nearby_point_does_not() {
        // Target λ = [[1, 0], [0.5, 2]].
        let t = [1.0, 0.5, 4.25];
        let c = run(t, [1.0, 0.5, 2.0]);
        assert_eq!(c.verdict, Verdict::Passed, "{c:?}");
        assert!(c.hessian_min_eigenvalue.unwrap() > 0.1);
        // Central differences: truncation error ~h²f'''/6 with h = 2e-3.
        assert!(c.gradient_max < 1e-4, "{c:?}");
        let off = run(t, [1.0, 0.5, 2.001]);
        assert_eq!(off.verdict, Verdict::GradientNotSmall, "{off:?}");
        assert!(off.describe().contains("Newton decrement"));
    }

    #[test]
    fn a_saddle_fails_the_hessian_check() {
        // f = x0² − x1² + x2² + 1 at 0: x1 is off-diagonal (free), a saddle direction.
        let layout = ThetaLayout::new(&[2]);
        let f = |x: &[f64]| x[0] * x[0] - x[1] * x[1] + x[2] * x[2] + 1.0;
        let c = certify(&mut Values(f), &layout, &[0.5, 0.0, 0.5]);
        assert_eq!(c.verdict, Verdict::HessianNotPositiveDefinite, "{c:?}");
        assert!(c.hessian_min_eigenvalue.unwrap() < -1.0);
    }

    #[test]
    fn a_correlation_of_one_is_certified_on_the_boundary() {
        // Target covariance of rank one (correlation +1): λ = [[1, 0], [2, 0]].
        let t = [1.0, 2.0, 4.0];
        let c = run(t, [1.0, 2.0, 0.0]);
        assert_eq!(c.verdict, Verdict::Passed, "{c:?}");
        let (edges, free) = partition(&ThetaLayout::new(&[2]), &[1.0, 2.0, 0.0]);
        assert_eq!((edges, free), (vec![vec![2]], vec![0, 1]));
    }

    #[test]
    fn a_zero_variance_is_certified_and_a_false_zero_is_not() {
        // Intercept variance 0: canonical λ = [[0, 0], [0, 2]], column 0 on the boundary.
        let c = run([0.0, 0.0, 4.0], [0.0, 0.0, 2.0]);
        assert_eq!(c.verdict, Verdict::Passed, "{c:?}");
        // The same point when the intercept variance should be 1: moving off the boundary
        // lowers the objective, and the certificate says where.
        let c = run([1.0, 0.0, 4.0], [0.0, 0.0, 2.0]);
        assert_eq!(c.verdict, Verdict::BoundaryNotOptimal, "{c:?}");
        let (point, f) = c.descent.unwrap();
        assert!(point[0] > 0.0 && f < 101.0);
    }
}
