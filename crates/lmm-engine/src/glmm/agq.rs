//! Adaptive Gauss–Hermite quadrature for a GLMM with a single scalar random-effects term
//! (lme4's `nAGQ > 1`): the random effects are then independent given the data, so the
//! integral is a product of one-dimensional integrals, one per level, each centred at the
//! conditional mode ûₗ and scaled by the conditional standard deviation 1/Lₗₗ.
//!
//! On lme4's scale (`glmerAGQ`), with `devcₗ(u) = Σ_{i∈l} devresidᵢ(u) + u²`, knots `zₖ`
//! and weights `wₖ` of the rule for the standard normal density,
//!
//! ```text
//!   d(θ, β) = Σₗ devcₗ(ûₗ) + log|L|² − 2 Σₗ log Σₖ wₖ exp(−½(devcₗ(ûₗ + zₖ/Lₗₗ) − devcₗ(ûₗ)) + ½zₖ²),
//! ```
//!
//! the inner sum being the rule applied to the ratio of the integrand to its Gaussian
//! (Laplace) approximation, so that a one-point rule gives the Laplace deviance on the same
//! scale (checked against lme4's nAGQ = 25 cbpp fit to 1e-4 in the log-likelihood).
//!
//! This is on the deviance-residual scale (no binomial coefficients, no `log y!`), which is why
//! lme4's `logLik()` of an `nAGQ = 25` fit is not comparable with its Laplace fit; we report
//! the same number lme4 does.

use super::pirls::Pirls;

/// Most quadrature points (lme4's limit).
pub const MAX_NAGQ: usize = 25;

/// A Gauss–Hermite rule for the standard normal density: knots, weights (summing to 1) and
/// log φ at the knots (lme4's `GHrule`).
#[derive(Debug, Clone, PartialEq)]
pub struct GaussHermite {
    /// Knots zₖ.
    pub knots: Vec<f64>,
    /// Weights wₖ, Σ wₖ = 1.
    pub weights: Vec<f64>,
    /// log φ(zₖ).
    pub log_density: Vec<f64>,
}

impl GaussHermite {
    /// The `n`-point rule (Newton's method on the Hermite recurrence, Numerical Recipes'
    /// `gauher`, converted from the physicists' weight e^{−x²} to the normal density).
    pub fn new(n: usize) -> Self {
        let pim4 = std::f64::consts::PI.powf(-0.25);
        let nf = n as f64;
        let mut x = vec![0.0; n];
        let mut w = vec![0.0; n];
        let mut z = 0.0f64;
        for i in 1..=n.div_ceil(2) {
            z = match i {
                1 => (2.0 * nf + 1.0).sqrt() - 1.855_75 * (2.0 * nf + 1.0).powf(-0.166_67),
                2 => z - 1.14 * nf.powf(0.426) / z,
                3 => 1.86 * z - 0.86 * x[0],
                4 => 1.91 * z - 0.91 * x[1],
                _ => 2.0 * z - x[i - 3],
            };
            let mut pp = 0.0;
            for _ in 0..100 {
                let mut p1 = pim4;
                let mut p2 = 0.0;
                for j in 1..=n {
                    let p3 = p2;
                    p2 = p1;
                    let jf = j as f64;
                    p1 = z * (2.0 / jf).sqrt() * p2 - ((jf - 1.0) / jf).sqrt() * p3;
                }
                pp = (2.0 * nf).sqrt() * p2;
                let z1 = z;
                z = z1 - p1 / pp;
                if (z - z1).abs() <= 1e-15 * z.abs().max(1.0) {
                    break;
                }
            }
            x[i - 1] = z;
            x[n - i] = -z;
            w[i - 1] = 2.0 / (pp * pp);
            w[n - i] = w[i - 1];
        }
        let sqrt_pi = std::f64::consts::PI.sqrt();
        // Ascending knots, as lme4 lists them.
        let mut knots: Vec<f64> = x.iter().map(|x| x * std::f64::consts::SQRT_2).collect();
        let mut weights: Vec<f64> = w.iter().map(|w| w / sqrt_pi).collect();
        knots.reverse();
        weights.reverse();
        let half_log_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
        let log_density = knots.iter().map(|z| -0.5 * z * z - half_log_2pi).collect();
        Self {
            knots,
            weights,
            log_density,
        }
    }
}

/// Per level of the single scalar term: Σ deviance residuals of its observations + u².
fn deviance_by_level(pirls: &Pirls, u: &[f64], out: &mut [f64]) {
    out.copy_from_slice(&u.iter().map(|v| v * v).collect::<Vec<_>>());
    let term = &pirls.terms[0];
    let f = pirls.family;
    for i in 0..pirls.nobs() {
        out[term.refs[i] as usize] +=
            f.deviance_residual(pirls.y[i], pirls.mu[i], pirls.weights[i]);
    }
}

/// The AGQ deviance at the converged u-only PIRLS state of `pirls` (single scalar term);
/// leaves the state as it found it.
pub fn agq_deviance(pirls: &mut Pirls, rule: &GaussHermite) -> f64 {
    let q = pirls.terms[0].nlevels();
    let u0 = pirls.u[0].clone();
    let sd: Vec<f64> = pirls.factor_u.first_inverse_diagonal().to_vec();
    let log_det = pirls.factor_u.logdet_random();
    let beta = pirls.beta.clone();
    let mut devc0 = vec![0.0; q];
    deviance_by_level(pirls, &u0, &mut devc0);
    let mut mult = vec![0.0; q];
    let mut devc = vec![0.0; q];
    for k in 0..rule.knots.len() {
        let z = rule.knots[k];
        let uk: Vec<f64> = u0.iter().zip(&sd).map(|(u, s)| u + z * s).collect();
        pirls.linear_predictor(&beta, std::slice::from_ref(&uk));
        deviance_by_level(pirls, &uk, &mut devc);
        // The ratio of the integrand to the normal kernel exp(−z²/2): 1 at every knot when
        // the integrand is exactly Gaussian, so that one knot is the Laplace approximation.
        for l in 0..q {
            mult[l] += rule.weights[k] * (-0.5 * (devc[l] - devc0[l]) + 0.5 * z * z).exp();
        }
    }
    pirls.linear_predictor(&beta, std::slice::from_ref(&u0));
    devc0.iter().sum::<f64>() + log_det - 2.0 * mult.iter().map(|m| m.ln()).sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_integrate_normal_moments() {
        for n in [1usize, 2, 3, 5, 10, 25] {
            let r = GaussHermite::new(n);
            let m0: f64 = r.weights.iter().sum();
            let m2: f64 = r.weights.iter().zip(&r.knots).map(|(w, z)| w * z * z).sum();
            assert!((m0 - 1.0).abs() < 1e-13, "{n}: {m0}");
            if n >= 2 {
                assert!((m2 - 1.0).abs() < 1e-12, "{n}: {m2}");
            }
            if n >= 3 {
                let m4: f64 = r
                    .weights
                    .iter()
                    .zip(&r.knots)
                    .map(|(w, z)| w * z.powi(4))
                    .sum();
                assert!((m4 - 3.0).abs() < 1e-11, "{n}: {m4}");
            }
        }
        let r3 = GaussHermite::new(3);
        assert!((r3.knots[2] - 3f64.sqrt()).abs() < 1e-14);
        assert!((r3.weights[1] - 2.0 / 3.0).abs() < 1e-14);
    }
}
