//! The Laplace approximation to the GLMM deviance on lme4's scale: at the conditional modes
//! û (PIRLS converged),
//!
//! ```text
//!   d(θ, β) = −2 Σᵢ log p(yᵢ | μᵢ) + log|L|² + ‖û‖²,
//! ```
//!
//! where `p` is the family's full density (binomial coefficients and `log y!` included,
//! R's `family$aic()`), `L` the factor of `Λ'Z'WZΛ + I` at the working weights. lme4's
//! `logLik()` of a Laplace (or `nAGQ = 0`) fit is `−d/2` (glmResp's `Laplace()`).

use crate::design::GlmResponse;

use super::family::{ln_choose, ln_gamma, Family};

/// The conditional log-density of the response, with its μ-free constant precomputed.
#[derive(Debug, Clone)]
pub struct ConditionalDensity {
    family: Family,
    /// Binomial: successes round(m·y); Poisson: y.
    count: Vec<f64>,
    /// Binomial: trials round(m); Poisson: unused.
    trials: Vec<f64>,
    /// Multiplier of each observation's log-density (binomial: weights/m; Poisson: weights).
    multiplier: Vec<f64>,
    /// Σ multiplier · log C(m, k) (binomial) or −Σ multiplier · log y! (Poisson).
    constant: f64,
}

impl ConditionalDensity {
    /// The density of `response` under `family` (R's `binomial()$aic`, `poisson()$aic`,
    /// MASS's `negative.binomial(theta)$aic`; a negative binomial needs its θ set).
    pub fn new(response: &GlmResponse, family: Family) -> Self {
        let n = response.y.len();
        let (mut count, mut trials, mut multiplier) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let mut constant = 0.0;
        for i in 0..n {
            match family {
                Family::Binomial(_) => {
                    let m = response.trials[i];
                    count[i] = (m * response.y[i]).round();
                    trials[i] = m.round();
                    multiplier[i] = if m > 0.0 {
                        response.weights[i] / m
                    } else {
                        0.0
                    };
                    constant += multiplier[i] * ln_choose(trials[i], count[i]);
                }
                Family::Gamma(_) => {
                    count[i] = response.y[i];
                    multiplier[i] = response.weights[i];
                }
                _ => {
                    count[i] = response.y[i];
                    multiplier[i] = response.weights[i];
                    constant -= multiplier[i] * ln_gamma(count[i] + 1.0);
                    if let Some(theta) = family.shape() {
                        // MASS's negative.binomial()$aic: lgamma(θ + y) − lgamma(θ) + θ log θ.
                        constant += multiplier[i]
                            * (ln_gamma(theta + count[i]) - ln_gamma(theta) + theta * theta.ln());
                    }
                }
            }
        }
        Self {
            family,
            count,
            trials,
            multiplier,
            constant,
        }
    }

    /// The same density over groups of rows that share μ (`group[i] < groups`): per group
    /// the summed coefficients of log μ and log(1 − μ) (binomial) or of log μ and μ
    /// (Poisson), and the original constant, so that it equals this density whenever rows of
    /// a group have the same μ.
    pub(crate) fn aggregate(&self, group: &[u32], groups: usize) -> Self {
        let mut count = vec![0.0; groups];
        let mut trials = vec![0.0; groups];
        let mut multiplier = vec![0.0; groups];
        for (i, &g) in group.iter().enumerate() {
            let (g, c) = (g as usize, self.multiplier[i]);
            match self.family {
                Family::Binomial(_) => {
                    count[g] += c * self.count[i];
                    trials[g] += c * self.trials[i];
                    multiplier[g] = 1.0;
                }
                _ => {
                    count[g] += c * self.count[i];
                    multiplier[g] += c;
                }
            }
        }
        if !matches!(self.family, Family::Binomial(_)) {
            for (k, c) in count.iter_mut().zip(&multiplier) {
                if *c > 0.0 {
                    *k /= c;
                }
            }
        }
        Self {
            family: self.family,
            count,
            trials,
            multiplier,
            constant: self.constant,
        }
    }

    /// R's `Gamma()$aic`, which lme4 adds up as the Gamma's −2 log-density: the dispersion is
    /// the deviance per unit weight at μ, `φ = Σ devᵢ / Σ wᵢ`, and the density is
    /// `dgamma(y, shape = 1/φ, scale = μφ)`; R adds 2 (for φ).
    fn gamma_minus_two_log_density(&self, mu: &[f64]) -> f64 {
        let n: f64 = self.multiplier.iter().sum();
        let dev: f64 = mu
            .iter()
            .zip(&self.count)
            .zip(&self.multiplier)
            .map(|((&m, &y), &w)| self.family.deviance_residual(y, m, w))
            .sum();
        let shape = n / dev;
        let lg = ln_gamma(shape);
        let s: f64 = mu
            .iter()
            .zip(&self.count)
            .zip(&self.multiplier)
            .map(|((&m, &y), &w)| {
                w * ((shape - 1.0) * y.ln() - shape * y / m - lg - shape * (m / shape).ln())
            })
            .sum();
        -2.0 * s + 2.0
    }

    /// −2 Σ log p(yᵢ | μᵢ) (lme4's `aic()` of the response module).
    pub fn minus_two_log_density(&self, mu: &[f64]) -> f64 {
        if let Family::Gamma(_) = self.family {
            return self.gamma_minus_two_log_density(mu);
        }
        let mut s = self.constant;
        match self.family {
            Family::Binomial(_) => {
                for (((&mu, &k), &m), &c) in mu
                    .iter()
                    .zip(&self.count)
                    .zip(&self.trials)
                    .zip(&self.multiplier)
                {
                    if c == 0.0 {
                        continue;
                    }
                    let mut l = 0.0;
                    if k > 0.0 {
                        l += k * mu.ln();
                    }
                    if m - k > 0.0 {
                        l += (m - k) * (-mu).ln_1p();
                    }
                    s += c * l;
                }
            }
            Family::NegativeBinomial(..) => {
                let theta = self.family.shape().unwrap_or(f64::INFINITY);
                for ((&mu, &y), &c) in mu.iter().zip(&self.count).zip(&self.multiplier) {
                    let l =
                        if y > 0.0 { y * mu.ln() } else { 0.0 } - (theta + y) * (theta + mu).ln();
                    s += c * l;
                }
            }
            _ => {
                for ((&mu, &y), &c) in mu.iter().zip(&self.count).zip(&self.multiplier) {
                    let l = if y > 0.0 { y * mu.ln() } else { 0.0 } - mu;
                    s += c * l;
                }
            }
        }
        -2.0 * s
    }
}
