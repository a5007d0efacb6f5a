//! [`ProfiledDeviance`]: the profiled objective of Bates et al. (2015), read off a
//! [`BlockedCholesky`] factor.
//!
//! ```text
//! ML:   d(θ)   = log|L|² + n (1 + log(2π r²/n))
//! REML: d_R(θ) = log|L|² + log|R_X|² + (n − p)(1 + log(2π r²/(n − p)))
//! ```
//!
//! where `L` is the random-effects part of the factor, `R_X` the fixed-effects part and `r`
//! the last diagonal element (`r²` = penalised residual sum of squares). These equal lme4's
//! `deviance()` (ML) and REML criterion.

use serde::Serialize;

use crate::lmm::factor::BlockedCholesky;

/// Which likelihood the fit maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Criterion {
    /// Maximum likelihood: minimise the deviance −2 log L.
    #[serde(rename = "ML")]
    Ml,
    /// Restricted maximum likelihood: minimise the REML criterion.
    #[serde(rename = "REML")]
    Reml,
}

impl Criterion {
    /// "ML" or "REML".
    pub fn label(self) -> &'static str {
        match self {
            Criterion::Ml => "ML",
            Criterion::Reml => "REML",
        }
    }
}

impl std::fmt::Display for Criterion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// The pieces of the profiled objective at one θ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProfiledDeviance {
    /// `log|L|²` over the random-effects blocks.
    pub logdet_random: f64,
    /// `log|R_X|²`.
    pub logdet_fixed: f64,
    /// Penalised residual sum of squares `r²`.
    pub pwrss: f64,
    /// Number of observations.
    pub nobs: usize,
    /// Number of fixed-effects parameters.
    pub p: usize,
    /// Σ log wᵢ of the prior weights (0 without).
    pub sum_log_weights: f64,
}

impl ProfiledDeviance {
    /// Reads the pieces off a freshly updated factor.
    pub fn from_factor(factor: &BlockedCholesky) -> Self {
        let fixed = factor.fixed_block();
        let p = fixed.rows - 1;
        let logdet_fixed = 2.0 * (0..p).map(|i| fixed.get(i, i).ln()).sum::<f64>();
        let r = fixed.get(p, p);
        Self {
            logdet_random: factor.logdet_random(),
            logdet_fixed,
            pwrss: r * r,
            nobs: factor.cross_products().nobs,
            p,
            sum_log_weights: factor.cross_products().sum_log_weights,
        }
    }

    /// Degrees of freedom of the residual variance estimate: n (ML) or n − p (REML).
    pub fn sigma_dof(&self, criterion: Criterion) -> f64 {
        match criterion {
            Criterion::Ml => self.nobs as f64,
            Criterion::Reml => (self.nobs - self.p) as f64,
        }
    }

    /// The objective (deviance for ML, REML criterion for REML). With prior weights `w` the
    /// pieces are those of the √w-scaled model, whose objective exceeds the weighted model's
    /// by Σ log wᵢ (the Jacobian of the scaling), as in lme4.
    pub fn objective(&self, criterion: Criterion) -> f64 {
        let dof = self.sigma_dof(criterion);
        let base = self.logdet_random
            + dof * (1.0 + (2.0 * std::f64::consts::PI * self.pwrss / dof).ln())
            - self.sum_log_weights;
        match criterion {
            Criterion::Ml => base,
            Criterion::Reml => base + self.logdet_fixed,
        }
    }

    /// Profiled residual variance σ̂² = r²/n (ML) or r²/(n − p) (REML).
    pub fn sigma_squared(&self, criterion: Criterion) -> f64 {
        self.pwrss / self.sigma_dof(criterion)
    }
}
