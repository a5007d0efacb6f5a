//! A Bayesian fit of the post's random-intercept model by a seeded, deterministic Gibbs sampler.
//!
//! # Model and priors
//!
//! y = Xβ + Zb + ε with b_j ~ N(0, σ_b²) for each of the m groups and ε_i ~ N(0, σ²); on the
//! gasoline panel n = 342, p = 4 fixed effects ((Intercept), Time, LIncomeP, LRPMG) and m = 18
//! countries. Priors, weakly informative on the scale of the data (every variable of the panel
//! is a natural log, so effects of size 10 or variances of size 25 are already implausible):
//!
//! * β_k ~ N(0, 10²), independently ([`BETA_PRIOR_SD`]). On the log scale a prior sd of 10 is
//!   flat over every plausible coefficient: the ML intercept is 6.7 with standard error 0.73,
//!   the slopes are below 3, and the prior moves the posterior mean of the intercept by about
//!   (0.73/10)² ≈ 0.5% of its distance to zero.
//! * σ ~ half-Cauchy(0, A_e) and σ_b ~ half-Cauchy(0, A_b), with A_e = A_b = 5
//!   ([`HALF_CAUCHY_SCALE`]), the prior Gelman (2006) recommends for the standard deviation of
//!   a variance component. On the log scale a scale of 5 is wide: it puts the prior median of
//!   each standard deviation at 5 (a factor e⁵ ≈ 150 in cars per capita), and the prior
//!   probability that σ_b is below its ML estimate 1.28 is (2/π)·atan(1.28/5) ≈ 0.16 (0.02 for
//!   σ below 0.17). The half-Cauchy density is finite and non-zero at zero, so, unlike
//!   InvGamma(ε, ε) on σ_b², it neither forbids nor favours a small σ_b and the answer does not
//!   hinge on an arbitrary ε.
//!
//! The half-Cauchy priors are written through the auxiliary-variable representation of Wand,
//! Ormerod, Padoan and Frühwirth (2011, *Bayesian Analysis* 6, "Mean field variational Bayes for
//! elaborate distributions", result 5): σ² | a ~ InvGamma(1/2, 1/a) with a ~ InvGamma(1/2, 1/A²)
//! gives σ ~ half-Cauchy(0, A), and keeps every full conditional conjugate.
//!
//! # Sampler
//!
//! One iteration, in this order (InvGamma(α, β) has density ∝ x^{−α−1} e^{−β/x}):
//!
//! 1. (β, b) jointly from their Gaussian full conditional, with precision
//!    Q = D'D/σ² + diag(1/10² for β, 1/σ_b² for b), D = [X Z], and mean Q⁻¹D'y/σ²;
//! 2. σ² ~ InvGamma(n/2 + 1/2, ‖y − Dθ‖²/2 + 1/a_e), then a_e ~ InvGamma(1, 1/σ² + 1/A_e²);
//! 3. σ_b² ~ InvGamma(m/2 + 1/2, ‖b‖²/2 + 1/a_b), then a_b ~ InvGamma(1, 1/σ_b² + 1/A_b²).
//!
//! D'D, D'y and y'y are computed once; the residual sum of squares of step 2 comes from them
//! (y'y − 2θ'D'y + θ'D'Dθ), so an iteration never touches the n rows.
//!
//! Step 1 does not factor the (p + m)-square Q densely. Because every row belongs to exactly one
//! group, Z'Z is diagonal, so Q is an "arrow" matrix: a diagonal m × m block for b bordered by p
//! rows and columns for β. Its Cholesky factor with b ordered first is the block elimination
//! used here: β is drawn from N(S⁻¹r, S⁻¹) with S the p × p Schur complement
//! X'X/σ² + I/10² − Σ_j (x̄_j x̄_j')/(σ⁴ d_j) (x̄_j the sum of group j's rows of X,
//! d_j = n_j/σ² + 1/σ_b²), and then b_j | β independently from N((z_j'y − x̄_j'β)/(σ² d_j), 1/d_j).
//! That is exactly a draw from the joint conditional (not an extra Gibbs step), at O(p²m) work
//! instead of O((p + m)³): no matter for the gasoline panel (22 × 22), an order of magnitude for
//! the simulation design (111 × 111) the tests use. A unit test checks the block mean and covariance
//! against a dense inverse of Q.
//!
//! The joint (β, b) draw matters: the intercept and the mean of b are confounded (only their sum
//! is well determined), and drawing them in separate blocks would make the chain crawl along
//! that ridge. σ² and σ_b² are drawn given θ; with 19 observations per country σ_b² is
//! well determined by b, so this "centred" parametrisation mixes well here.
//!
//! # Chains and reproducibility
//!
//! Chain k uses `ChaCha8Rng::seed_from_u64(seed)` switched to stream k (`set_stream`), which
//! gives non-overlapping streams of the same generator, so every chain is fixed by (seed, k)
//! alone. Chains start over-dispersed at fixed, distinct variances spread over four orders of
//! magnitude around the sample variance s_y² of y: chain k of K has σ² = s_y² · 10^{−3 + 3u_k}
//! and σ_b² = s_y² · 10^{1 − 3u_k} with u_k = k/(K − 1), so the chains approach the posterior
//! from opposite corners (tiny σ² with huge σ_b² and the reverse). No ML fit is needed to start.
//! The first `warmup` iterations of every chain are discarded.
//!
//! Chains run in parallel with rayon, but each chain is one serial computation, the chains are
//! collected in chain order and every summary is a serial sum in that order, so the output is
//! bit-identical for any thread count. Across machines the draws can differ in the last bits
//! (the gamma and normal generators call `ln` and `exp`), far below the six significant digits
//! written to `results.json`.
//!
//! # Diagnostics
//!
//! Per parameter: split-R̂ (BDA3) and the bulk effective sample size (ESS of the rank-normalised
//! split chains, Geyer's initial monotone sequence, as Stan computes it); see [`diagnostics`].

mod chain;
pub mod diagnostics;
#[cfg(test)]
mod tests;

use rayon::prelude::*;
use serde::Serialize;

use crate::io::GasolinePanel;
use crate::report::rounding::rounded;

use chain::*;

/// Prior standard deviation of every fixed effect.
pub const BETA_PRIOR_SD: f64 = 10.0;
/// Scale A of the half-Cauchy priors on σ and σ_b.
pub const HALF_CAUCHY_SCALE: f64 = 5.0;
/// Names of the gasoline model's fixed effects, in the order of
/// [`GasolinePanel::fixed_design`].
pub const GASOLINE_FIXED_EFFECTS: [&str; 4] = ["(Intercept)", "Time", "LIncomeP", "LRPMG"];
/// Summary name of the residual variance σ².
pub const SIGMA2: &str = "sigma2";
/// Summary name of the between-group variance σ_b².
pub const SIGMA_B2: &str = "sigma_b2";

/// Why the sampler could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BayesError {
    /// The configuration cannot be run (no chains, no draws after warmup, a non-positive prior
    /// scale).
    #[error("invalid sampler configuration: {0}")]
    InvalidConfig(String),
    /// The data cannot describe the model (ragged rows, a group index out of range, non-finite
    /// values, constant response).
    #[error("invalid model data: {0}")]
    InvalidData(String),
    /// The Schur complement of the coefficients' precision was not numerically positive
    /// definite (only possible for extreme scales).
    #[error("chain {chain}, iteration {iteration}: coefficient precision not positive definite")]
    NotPositiveDefinite { chain: usize, iteration: usize },
}

/// Sampler settings.
#[derive(Debug, Clone, PartialEq)]
pub struct GibbsConfig {
    /// Number of chains (two or more for a meaningful R̂).
    pub chains: usize,
    /// Iterations per chain, warmup included.
    pub iterations: usize,
    /// Leading iterations of every chain that are discarded.
    pub warmup: usize,
    /// Base seed; chain k uses stream k of this seed.
    pub seed: u64,
    /// Prior sd of each β ([`BETA_PRIOR_SD`]).
    pub beta_prior_sd: f64,
    /// Half-Cauchy scale A_e of σ ([`HALF_CAUCHY_SCALE`]).
    pub sigma_scale: f64,
    /// Half-Cauchy scale A_b of σ_b ([`HALF_CAUCHY_SCALE`]).
    pub sigma_b_scale: f64,
}

impl Default for GibbsConfig {
    /// 4 chains × 2,500 iterations with 500 of warmup: 8,000 kept draws, a bulk-ESS of several
    /// thousand for every parameter of the gasoline model, in a few milliseconds.
    fn default() -> Self {
        GibbsConfig {
            chains: 4,
            iterations: 2_500,
            warmup: 500,
            seed: 20_240_601,
            beta_prior_sd: BETA_PRIOR_SD,
            sigma_scale: HALF_CAUCHY_SCALE,
            sigma_b_scale: HALF_CAUCHY_SCALE,
        }
    }
}

impl GibbsConfig {
    /// Kept draws per chain.
    pub fn kept(&self) -> usize {
        self.iterations.saturating_sub(self.warmup)
    }

    fn validate(&self) -> Result<(), BayesError> {
        let fail = |m: String| Err(BayesError::InvalidConfig(m));
        if self.chains == 0 {
            return fail("no chains".into());
        }
        if self.kept() < 6 {
            return fail(format!(
                "{} iterations with {} warmup leave fewer than 6 draws per chain",
                self.iterations, self.warmup
            ));
        }
        for (name, v) in [
            ("beta_prior_sd", self.beta_prior_sd),
            ("sigma_scale", self.sigma_scale),
            ("sigma_b_scale", self.sigma_b_scale),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return fail(format!("{name} = {v} is not a positive number"));
            }
        }
        Ok(())
    }
}

/// Data of a random-intercept model: a dense fixed-effects design and one group per row.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomInterceptModel {
    /// Names of the p fixed effects (columns of `x`).
    pub fixed_names: Vec<String>,
    /// The n rows of X, each of length p.
    pub x: Vec<Vec<f64>>,
    /// Group of each row, in 0..groups.
    pub group: Vec<usize>,
    /// Number of groups m.
    pub groups: usize,
    /// Response, length n.
    pub y: Vec<f64>,
}

impl RandomInterceptModel {
    /// The post's gasoline model: LCarPCap on [1, Time, LIncomeP, LRPMG] with a random
    /// intercept per country.
    pub fn gasoline(panel: &GasolinePanel) -> Self {
        RandomInterceptModel {
            fixed_names: GASOLINE_FIXED_EFFECTS.map(String::from).to_vec(),
            x: panel.fixed_design().iter().map(|r| r.to_vec()).collect(),
            group: panel.country_index.clone(),
            groups: panel.countries.len(),
            y: panel.lcarpcap.clone(),
        }
    }

    fn validate(&self) -> Result<(), BayesError> {
        let fail = |m: String| Err(BayesError::InvalidData(m));
        let n = self.y.len();
        let p = self.fixed_names.len();
        if n < 2 || p == 0 || self.groups == 0 {
            return fail(format!(
                "n = {n}, p = {p}, m = {}: need two rows, one fixed effect and one group",
                self.groups
            ));
        }
        if self.x.len() != n || self.group.len() != n {
            return fail(format!(
                "{n} responses but {} design rows and {} group indices",
                self.x.len(),
                self.group.len()
            ));
        }
        if let Some(i) = self.x.iter().position(|r| r.len() != p) {
            return fail(format!("row {i} has {} columns, not {p}", self.x[i].len()));
        }
        if let Some(i) = self.group.iter().position(|&g| g >= self.groups) {
            return fail(format!(
                "row {i}: group {} of {}",
                self.group[i], self.groups
            ));
        }
        let finite = self
            .y
            .iter()
            .chain(self.x.iter().flatten())
            .all(|v| v.is_finite());
        if !finite {
            return fail("non-finite value in y or X".into());
        }
        // Finite after the check above, so `<=` also catches nothing but a zero variance.
        if sample_variance(&self.y) <= 0.0 {
            return fail("the response is constant".into());
        }
        Ok(())
    }
}

/// The priors, stated for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Priors {
    pub beta: String,
    pub sigma: String,
    pub sigma_b: String,
    /// How the half-Cauchy priors are sampled.
    pub representation: String,
}

/// Posterior summary of one parameter over all kept draws of all chains.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParameterSummary {
    /// A fixed-effect name, [`SIGMA2`] or [`SIGMA_B2`].
    pub name: String,
    #[serde(serialize_with = "rounded")]
    pub median: f64,
    /// 2.5% quantile.
    #[serde(serialize_with = "rounded")]
    pub lower: f64,
    /// 97.5% quantile.
    #[serde(serialize_with = "rounded")]
    pub upper: f64,
    #[serde(serialize_with = "rounded")]
    pub mean: f64,
    #[serde(serialize_with = "rounded")]
    pub sd: f64,
    /// Split-R̂.
    #[serde(serialize_with = "rounded")]
    pub rhat: f64,
    /// Bulk effective sample size.
    #[serde(serialize_with = "rounded")]
    pub ess: f64,
}

/// Kept draws of the two variances, all chains pooled in chain order (chain 0's draws first).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VarianceDraws {
    pub sigma2: Vec<f64>,
    pub sigma_b2: Vec<f64>,
}

/// The sampler's output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Posterior {
    pub method: String,
    pub priors: Priors,
    pub chains: usize,
    /// Iterations per chain, warmup included.
    pub iterations: usize,
    pub warmup: usize,
    pub seed: u64,
    /// Kept draws over all chains.
    pub draws: usize,
    /// The fixed effects in design order, then [`SIGMA2`] and [`SIGMA_B2`].
    pub parameters: Vec<ParameterSummary>,
    /// For the figure; not written to `results.json`.
    #[serde(skip)]
    pub variance_draws: VarianceDraws,
}

impl Posterior {
    /// The summary of the parameter called `name`.
    pub fn parameter(&self, name: &str) -> Option<&ParameterSummary> {
        self.parameters.iter().find(|s| s.name == name)
    }
}

/// Samples the posterior of the gasoline model ([`RandomInterceptModel::gasoline`]).
pub fn run(panel: &GasolinePanel, config: &GibbsConfig) -> Result<Posterior, BayesError> {
    sample(&RandomInterceptModel::gasoline(panel), config)
}

/// Samples the posterior of any random-intercept model.
pub fn sample(model: &RandomInterceptModel, config: &GibbsConfig) -> Result<Posterior, BayesError> {
    config.validate()?;
    model.validate()?;
    let cp = CrossProducts::new(model);
    let vy = sample_variance(&model.y);
    let chains: Vec<ChainDraws> = (0..config.chains)
        .into_par_iter()
        .map(|k| run_chain(&cp, config, k, vy))
        .collect::<Result<_, _>>()?;

    let p = cp.p;
    let mut parameters = Vec::with_capacity(p + 2);
    for (index, name) in model
        .fixed_names
        .iter()
        .map(String::as_str)
        .chain([SIGMA2, SIGMA_B2])
        .enumerate()
    {
        let per_chain: Vec<&[f64]> = chains.iter().map(|c| c.column(index)).collect();
        parameters.push(summarise(name, &per_chain));
    }
    let pooled = |index: usize| -> Vec<f64> {
        chains
            .iter()
            .flat_map(|c| c.column(index).iter().copied())
            .collect()
    };
    Ok(Posterior {
        method: "blocked Gibbs sampler: (β, b) jointly, then σ² and σ_b² through the \
                 half-Cauchy auxiliary variables"
            .into(),
        priors: Priors {
            beta: format!(
                "β_k ~ N(0, {}²) independently",
                format_number(config.beta_prior_sd)
            ),
            sigma: format!("σ ~ half-Cauchy(0, {})", format_number(config.sigma_scale)),
            sigma_b: format!(
                "σ_b ~ half-Cauchy(0, {})",
                format_number(config.sigma_b_scale)
            ),
            representation: "σ² | a ~ InvGamma(1/2, 1/a), a ~ InvGamma(1/2, 1/A²) \
                             (Wand et al. 2011)"
                .into(),
        },
        chains: config.chains,
        iterations: config.iterations,
        warmup: config.warmup,
        seed: config.seed,
        draws: config.chains * config.kept(),
        parameters,
        variance_draws: VarianceDraws {
            sigma2: pooled(p),
            sigma_b2: pooled(p + 1),
        },
    })
}

/// A prior constant for the prior texts: integers without a decimal point.
fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn sample_variance(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)
}

fn summarise(name: &str, per_chain: &[&[f64]]) -> ParameterSummary {
    let mut sorted: Vec<f64> = per_chain.iter().flat_map(|c| c.iter().copied()).collect();
    let count = sorted.len() as f64;
    let mean = sorted.iter().sum::<f64>() / count;
    let sd = (sorted.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (count - 1.0)).sqrt();
    sorted.sort_by(f64::total_cmp);
    ParameterSummary {
        name: name.to_string(),
        median: diagnostics::quantile_sorted(&sorted, 0.5),
        lower: diagnostics::quantile_sorted(&sorted, 0.025),
        upper: diagnostics::quantile_sorted(&sorted, 0.975),
        mean,
        sd,
        rhat: diagnostics::split_rhat(per_chain),
        ess: diagnostics::bulk_ess(per_chain),
    }
}
