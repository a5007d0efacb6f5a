//! Seeded simulation of the article's random-intercept design: N observations in each of n
//! groups, p standard-normal covariates plus an intercept, β ~ N(0, 1), b ~ N(0, σ_b²),
//! ε ~ N(0, σ²). ChaCha8 makes the draws identical on every platform for a given seed.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

/// Design constants of the article's small test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RandomInterceptDesign {
    /// Observations per group (the article's N).
    pub per_group: usize,
    /// Number of groups (the article's n).
    pub groups: usize,
    /// Number of standard-normal covariates besides the intercept (the article's p).
    pub covariates: usize,
    /// Between-group variance σ_b².
    pub sigma_b2: f64,
    /// Residual variance σ².
    pub sigma2: f64,
}

impl RandomInterceptDesign {
    /// The article's design: N = 30, n = 100, p = 10, σ_b² = 3, σ² = 1.
    pub const ARTICLE: Self = Self {
        per_group: 30,
        groups: 100,
        covariates: 10,
        sigma_b2: 3.0,
        sigma2: 1.0,
    };

    /// Total number of observations.
    pub fn nobs(&self) -> usize {
        self.per_group * self.groups
    }
}

/// One simulated data set; rows are grouped (group 0's N rows first), like the article's
/// `kron(I, 1_N)` random-effects matrix.
#[derive(Debug, Clone)]
pub struct SimulatedData {
    /// Row-major n × (p + 1) fixed-effects design, first column the intercept.
    pub x: Vec<Vec<f64>>,
    /// Group of each row.
    pub group: Vec<usize>,
    pub y: Vec<f64>,
    /// The drawn fixed effects.
    pub beta: Vec<f64>,
    /// The drawn random intercepts.
    pub b: Vec<f64>,
}

impl RandomInterceptDesign {
    /// Draws one data set. The order of draws (X, then β, then b, then ε) follows the article.
    pub fn simulate(&self, seed: u64) -> SimulatedData {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
        let n = self.nobs();
        let x: Vec<Vec<f64>> = (0..n)
            .map(|_| {
                std::iter::once(1.0)
                    .chain((0..self.covariates).map(|_| normal()))
                    .collect()
            })
            .collect();
        let beta: Vec<f64> = (0..=self.covariates).map(|_| normal()).collect();
        let b: Vec<f64> = (0..self.groups)
            .map(|_| self.sigma_b2.sqrt() * normal())
            .collect();
        let group: Vec<usize> = (0..n).map(|i| i / self.per_group).collect();
        let y = (0..n)
            .map(|i| {
                let xb: f64 = x[i].iter().zip(&beta).map(|(a, c)| a * c).sum();
                xb + b[group[i]] + self.sigma2.sqrt() * normal()
            })
            .collect();
        SimulatedData {
            x,
            group,
            y,
            beta,
            b,
        }
    }
}
