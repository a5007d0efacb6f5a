//! The article's own estimator for a random-intercept model, kept deliberately close to its
//! structure: D = [X Z] held densely, D'D and D'y formed once, and for every candidate
//! (σ, σ_b) the penalised normal equations solved from scratch; Nelder–Mead over log(σ, σ_b)
//! starting from (1, 1).
//!
//! Two objectives are offered. [`LogDetWeight::AsPublished`] is the article's `loglik!` exactly,
//! log-determinant counted twice and `m log 2π` as the constant; [`LogDetWeight::Corrected`]
//! counts the log-determinant once, which makes the function the true marginal deviance (up to
//! that constant) and its optimum the maximum-likelihood estimate.

use argmin::core::{CostFunction, Executor, State, TerminationReason, TerminationStatus};
use argmin::solver::neldermead::NelderMead;
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use serde::Serialize;

/// How many times the objective counts log|Z'Z/σ² + I/σ_b²|.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LogDetWeight {
    /// Twice, as the article's `loglik!` does (`2*logdetθ` inside a halved sum).
    AsPublished,
    /// Once: the marginal deviance.
    Corrected,
}

impl LogDetWeight {
    /// The multiplier of the log-determinant term.
    pub fn weight(self) -> f64 {
        match self {
            LogDetWeight::AsPublished => 2.0,
            LogDetWeight::Corrected => 1.0,
        }
    }

    /// Short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            LogDetWeight::AsPublished => "as published",
            LogDetWeight::Corrected => "corrected",
        }
    }
}

/// Why the article's estimator could not run.
#[derive(Debug, thiserror::Error)]
pub enum ArticleError {
    #[error(
        "the design has {rows} rows but {cols} columns in [X Z]; the estimator needs more rows"
    )]
    TooFewRows { rows: usize, cols: usize },
    #[error("group index {index} at row {row} is out of range for {groups} groups")]
    BadGroup {
        row: usize,
        index: usize,
        groups: usize,
    },
    #[error("the optimiser failed: {0}")]
    Optimiser(String),
    #[error("the penalised normal equations are not positive definite at the optimum (is X rank deficient?)")]
    NotPositiveDefinite,
}

/// The dense problem: D = [X Z], its cross-products, and the response.
#[derive(Debug, Clone)]
pub struct DenseRandomIntercept {
    d: Mat<f64>,
    dtd: Mat<f64>,
    dty: Mat<f64>,
    y: Mat<f64>,
    p: usize,
    groups: usize,
}

/// Everything the estimator returns.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleFit {
    pub weight: LogDetWeight,
    /// Fixed effects β.
    pub beta: Vec<f64>,
    /// Residual standard deviation σ.
    pub sigma: f64,
    /// Random-intercept standard deviation σ_b.
    pub sigma_b: f64,
    /// Random effects b (one per group).
    pub b: Vec<f64>,
    /// The article's function value at the optimum (its constant is `m log 2π` where the
    /// marginal likelihood has `n log 2π`).
    pub objective: f64,
    /// −2 log-likelihood of the marginal model at this (β, σ, σ_b): the true deviance, whatever
    /// objective was minimised.
    pub deviance: f64,
    pub optimiser: OptimiserSummary,
}

/// What the optimiser did.
#[derive(Debug, Clone, Serialize)]
pub struct OptimiserSummary {
    pub method: String,
    pub iterations: u64,
    pub evaluations: u64,
    pub termination: String,
    pub converged: bool,
    pub final_objective: f64,
}

/// Options for [`DenseRandomIntercept::fit`].
#[derive(Debug, Clone, Copy)]
pub struct NelderMeadOptions {
    /// Stop when the standard deviation of the simplex's function values falls below this
    /// multiple of max(1, |f(start)|). Relative, because the attainable precision of f is a
    /// few ulps of its magnitude: an absolute 1e-13 is unreachable for an objective near 2000.
    pub relative_sd_tolerance: f64,
    /// Iteration limit.
    pub max_iterations: u64,
    /// Edge of the initial simplex in log(σ, σ_b) (Optim.jl's default offsets 0.5 from 0).
    pub initial_step: f64,
}

impl Default for NelderMeadOptions {
    fn default() -> Self {
        Self {
            relative_sd_tolerance: 1e-15,
            max_iterations: 2000,
            initial_step: 0.5,
        }
    }
}

impl DenseRandomIntercept {
    /// Builds D = [X Z] from a row-major fixed design `x` (n rows of p values), the group index
    /// of each row (`0..groups`) and the response.
    pub fn new(
        x: &[Vec<f64>],
        group: &[usize],
        groups: usize,
        y: &[f64],
    ) -> Result<Self, ArticleError> {
        let n = y.len();
        let p = x.first().map_or(0, Vec::len);
        if n <= p + groups {
            return Err(ArticleError::TooFewRows {
                rows: n,
                cols: p + groups,
            });
        }
        if let Some((row, &index)) = group.iter().enumerate().find(|(_, &g)| g >= groups) {
            return Err(ArticleError::BadGroup { row, index, groups });
        }
        let d = Mat::from_fn(n, p + groups, |i, j| {
            if j < p {
                x[i][j]
            } else if group[i] == j - p {
                1.0
            } else {
                0.0
            }
        });
        let y = Mat::from_fn(n, 1, |i, _| y[i]);
        let dtd = d.transpose() * &d;
        let dty = d.transpose() * &y;
        Ok(Self {
            d,
            dtd,
            dty,
            y,
            p,
            groups,
        })
    }

    /// Number of observations.
    pub fn nobs(&self) -> usize {
        self.y.nrows()
    }

    /// Solves the penalised normal equations at (σ, σ_b) and evaluates the article's
    /// objective with the given weight. Returns `(objective, [β; b], logdet)`; `None` when the
    /// system is not positive definite.
    fn evaluate(
        &self,
        sigma: f64,
        sigma_b: f64,
        weight: LogDetWeight,
    ) -> Option<(f64, Mat<f64>, f64)> {
        let (p, m, n) = (self.p, self.groups, self.nobs());
        let s2 = sigma * sigma;
        let sb2 = sigma_b * sigma_b;
        let k = p + m;
        let lhs = Mat::from_fn(k, k, |i, j| {
            self.dtd[(i, j)] / s2 + if i == j && i >= p { 1.0 / sb2 } else { 0.0 }
        });
        let rhs = Mat::from_fn(k, 1, |i, _| self.dty[(i, 0)] / s2);
        let coef = lhs.llt(Side::Lower).ok()?.solve(&rhs);
        let zz = lhs.submatrix(p, p, m, m).to_owned();
        let logdet = log_det_spd(&zz)?;
        let fitted = &self.d * &coef;
        let rss: f64 = (0..n)
            .map(|i| (self.y[(i, 0)] - fitted[(i, 0)]).powi(2))
            .sum();
        let penalty: f64 = (p..k).map(|i| coef[(i, 0)].powi(2)).sum();
        let two_pi = std::f64::consts::TAU;
        let nll = rss / s2
            + penalty / sb2
            + weight.weight() * logdet
            + m as f64 * sb2.ln()
            + n as f64 * s2.ln()
            + m as f64 * two_pi.ln();
        Some((nll / 2.0, coef, logdet))
    }

    /// The article's objective at `log_theta = (log σ, log σ_b)`; +∞ where undefined.
    pub fn objective(&self, log_theta: [f64; 2], weight: LogDetWeight) -> f64 {
        self.evaluate(log_theta[0].exp(), log_theta[1].exp(), weight)
            .map_or(f64::INFINITY, |(f, _, _)| f)
    }

    /// log|Z'Z/σ² + I/σ_b²|, the term the published objective counts twice; NaN where the
    /// system is not positive definite.
    pub fn log_det_precision(&self, sigma: f64, sigma_b: f64) -> f64 {
        self.evaluate(sigma, sigma_b, LogDetWeight::Corrected)
            .map_or(f64::NAN, |(_, _, logdet)| logdet)
    }

    /// −2 log-likelihood of the marginal model y ~ N(Xβ, σ²I + σ_b² ZZ') at (σ, σ_b), with β
    /// and b at their conditional optimum: the corrected objective with the right constant.
    pub fn deviance(&self, sigma: f64, sigma_b: f64) -> f64 {
        let n = self.nobs() as f64;
        let m = self.groups as f64;
        self.evaluate(sigma, sigma_b, LogDetWeight::Corrected)
            .map_or(f64::INFINITY, |(f, _, _)| {
                2.0 * f + (n - m) * std::f64::consts::TAU.ln()
            })
    }

    /// Fits both variants, as published then corrected, with the same options.
    pub fn fit_both(&self, options: NelderMeadOptions) -> Result<[ArticleFit; 2], ArticleError> {
        Ok([
            self.fit(LogDetWeight::AsPublished, options)?,
            self.fit(LogDetWeight::Corrected, options)?,
        ])
    }

    /// Minimises the chosen objective with Nelder–Mead from log θ0 = (0, 0).
    pub fn fit(
        &self,
        weight: LogDetWeight,
        options: NelderMeadOptions,
    ) -> Result<ArticleFit, ArticleError> {
        let start = vec![0.0, 0.0];
        let simplex = vec![
            start.clone(),
            vec![options.initial_step, 0.0],
            vec![0.0, options.initial_step],
        ];
        let scale = self.objective([0.0, 0.0], weight).abs().max(1.0);
        let solver = NelderMead::new(simplex)
            .with_sd_tolerance(options.relative_sd_tolerance * scale)
            .map_err(|e| ArticleError::Optimiser(e.to_string()))?;
        let problem = ArticleObjective {
            model: self,
            weight,
        };
        let result = Executor::new(problem, solver)
            .configure(|state| state.max_iters(options.max_iterations).counting(true))
            .run()
            .map_err(|e| ArticleError::Optimiser(e.to_string()))?;
        let state = result.state();
        let best = state
            .get_best_param()
            .ok_or_else(|| ArticleError::Optimiser("no best parameter".into()))?;
        let (sigma, sigma_b) = (best[0].exp(), best[1].exp());
        let (objective, coef, _) = self
            .evaluate(sigma, sigma_b, weight)
            .ok_or(ArticleError::NotPositiveDefinite)?;
        let evaluations = state
            .get_func_counts()
            .get("cost_count")
            .copied()
            .unwrap_or(0);
        let status = state.get_termination_status();
        let converged = matches!(
            status,
            TerminationStatus::Terminated(TerminationReason::SolverConverged)
        );
        let termination = match status {
            TerminationStatus::Terminated(reason) => reason.text().to_owned(),
            TerminationStatus::NotTerminated => "not terminated".to_owned(),
        };
        Ok(ArticleFit {
            weight,
            beta: (0..self.p).map(|i| coef[(i, 0)]).collect(),
            sigma,
            sigma_b,
            b: (self.p..self.p + self.groups)
                .map(|i| coef[(i, 0)])
                .collect(),
            objective,
            deviance: self.deviance(sigma, sigma_b),
            optimiser: OptimiserSummary {
                method: "Nelder-Mead (argmin)".into(),
                iterations: state.get_iter(),
                evaluations,
                termination,
                converged,
                final_objective: state.get_best_cost(),
            },
        })
    }
}

/// log-determinant of a symmetric positive-definite matrix via its Cholesky factor.
fn log_det_spd(a: &Mat<f64>) -> Option<f64> {
    let llt = a.llt(Side::Lower).ok()?;
    let l = llt.L();
    Some((0..a.nrows()).map(|i| 2.0 * l[(i, i)].ln()).sum())
}

struct ArticleObjective<'a> {
    model: &'a DenseRandomIntercept,
    weight: LogDetWeight,
}

impl CostFunction for ArticleObjective<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, param: &Self::Param) -> Result<f64, argmin::core::Error> {
        Ok(self.model.objective([param[0], param[1]], self.weight))
    }
}
