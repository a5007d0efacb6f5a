//! [`Pirls`]: penalised iteratively reweighted least squares for the conditional modes of a
//! GLMM at given θ (and β, or with β estimated jointly, lme4's `nAGQ = 0`), on the LMM's
//! blocked Cholesky factor.
//!
//! Each iteration is one weighted linear mixed-model solve (lme4's `glmerWrkIter`,
//! MixedModels.jl's `pirls!`): with working weights `Wᵢ = wᵢ μ'(ηᵢ)²/V(μᵢ)` and working
//! response `zᵢ = ηᵢ − oᵢ + (yᵢ − μᵢ)/μ'(ηᵢ)`, the weighted cross-products of Z (and X,
//! when β is estimated) and the working response are refilled in place
//! ([`Reweighter`], the one pass over the rows) and the factor of `Λ'Z'WZΛ + I` refreshed; the new modes solve the penalised least-squares problem. A step
//! that increases the penalised deviance `Σ devresid + ‖u‖²` is halved (up to ten times), as
//! lme4 does. Iterations stop when the Newton step is below [`STEP_TOLERANCE`] — much
//! tighter than lme4's default `tolPwrss = 1e-7` on the change of the penalised deviance
//! (a relative change of 1e-12 still allows steps of 1e-4 in u), so that the Laplace
//! objective is smooth in (θ, β) and the log-likelihood is the one lme4 reports at full
//! convergence.

use faer::Mat;

use crate::design::{GlmResponse, ModelMatrices, RandomEffectsTerm};
use crate::lmm::crossprod::CrossProducts;
use crate::lmm::estimates::{fixed_effects, spherical_modes};
use crate::lmm::factor::BlockedCholesky;
use crate::lmm::theta::ThetaLayout;

use super::family::Family;
use super::reweight::Reweighter;

/// Largest Newton step (in u and in β, each relative to its size, at least 1) at which
/// PIRLS stops.
pub const STEP_TOLERANCE: f64 = 1e-10;
/// Relative increase of the penalised deviance that counts as rounding at the mode.
pub const PIRLS_TOLERANCE: f64 = 1e-12;
/// Most PIRLS iterations per evaluation. Fisher scoring converges only linearly for the
/// non-canonical links, and to `STEP_TOLERANCE` that took more than 100 iterations for a
/// cloglog random-slope case of the property test (θ = (0.05, 0, 0.87)); canonical links
/// need a handful.
pub const PIRLS_MAX_ITERATIONS: usize = 500;
/// Most step halvings per iteration (lme4's `maxstephalfit`).
const MAX_HALVINGS: usize = 10;

/// Why PIRLS produced no modes.
#[derive(Debug, Clone, PartialEq)]
pub enum PirlsFailure {
    /// The weighted system lost positive definiteness (X rank deficient under the weights,
    /// typically because fitted probabilities reached 0 or 1: separation).
    NotPositiveDefinite,
    /// The penalised deviance became NaN or step halving could not reduce it.
    StepHalvingFailed,
    /// The iteration limit was reached.
    NotConverged,
}

/// The data of a GLMM and the PIRLS state.
#[derive(Clone)]
pub struct Pirls {
    pub(crate) family: Family,
    pub(crate) y: Vec<f64>,
    pub(crate) weights: Vec<f64>,
    pub(crate) offset: Vec<f64>,
    pub(crate) x: Mat<f64>,
    pub(crate) terms: Vec<RandomEffectsTerm>,
    pub(crate) layout: ThetaLayout,
    /// Fills the factors' cross-products for new weights.
    pub(crate) reweighter: Reweighter,
    /// Working weights and working response of the last refactorisation.
    work_w: Vec<f64>,
    work_r: Vec<f64>,
    pub(crate) factor_u: BlockedCholesky,
    pub(crate) factor_joint: BlockedCholesky,
    /// Per term (formula order): λ (k×k column-major).
    lambda: Vec<Vec<f64>>,
    /// θ, β and the spherical modes u (formula order, level-major) of the current state.
    pub(crate) theta: Vec<f64>,
    pub(crate) beta: Vec<f64>,
    pub(crate) u: Vec<Vec<f64>>,
    /// Linear predictor (offset included), mean and √W at the current state.
    pub(crate) eta: Vec<f64>,
    pub(crate) mu: Vec<f64>,
    /// dμ/dη and the random part Σ Z_t Λ_t u_t of η at the current state.
    pub(crate) mu_eta: Vec<f64>,
    eta_random: Vec<f64>,
    /// Scratch for Λu per term.
    b_scratch: Vec<Vec<f64>>,
    /// offset + Xβ and the β it was computed for.
    eta_fixed: Vec<f64>,
    eta_fixed_beta: Option<Vec<f64>>,
    /// PIRLS iterations so far (all evaluations).
    pub(crate) iterations: usize,
    /// Whether the current state is a converged PIRLS solution (a warm start).
    warm: bool,
    /// Whether it is a converged u-only solution, with `factor_u` at its weights.
    pub(crate) u_only_state: bool,
    /// Steps taken in the current run.
    iterations_here: usize,
}

impl Pirls {
    /// Sets up PIRLS for model matrices already validated and their GLM response.
    pub fn new(mm: &ModelMatrices, response: &GlmResponse, family: Family) -> Self {
        let n = mm.nobs();
        let p = mm.x.ncols();
        let layout = ThetaLayout::for_terms(&mm.terms);
        let mut work_u = mm.clone();
        work_u.x = Mat::zeros(n, 0);
        work_u.fixed_names = Vec::new();
        work_u.weights = None;
        let mut work_joint = mm.clone();
        work_joint.weights = None;
        let cp_u = CrossProducts::build(&work_u);
        let reweighter = Reweighter::new(&cp_u, &mm.terms);
        let factor_u = BlockedCholesky::new(cp_u, layout.clone());
        let factor_joint = BlockedCholesky::new(CrossProducts::build(&work_joint), layout.clone());
        let lambda = mm
            .terms
            .iter()
            .map(|t| vec![0.0; t.width() * t.width()])
            .collect();
        let u = mm.terms.iter().map(|t| vec![0.0; t.nranef()]).collect();
        Self {
            family,
            y: response.y.clone(),
            weights: response.weights.clone(),
            offset: response.offset.clone(),
            x: mm.x.clone(),
            terms: mm.terms.clone(),
            theta: layout.initial(),
            layout,
            reweighter,
            work_w: vec![0.0; n],
            work_r: vec![0.0; n],
            factor_u,
            factor_joint,
            lambda,
            beta: vec![0.0; p],
            u,
            eta: vec![0.0; n],
            mu: vec![0.0; n],
            mu_eta: vec![0.0; n],
            eta_random: vec![0.0; n],
            b_scratch: mm.terms.iter().map(|t| vec![0.0; t.nranef()]).collect(),
            eta_fixed: vec![0.0; n],
            eta_fixed_beta: None,
            iterations: 0,
            warm: false,
            u_only_state: false,
            iterations_here: 0,
        }
    }

    /// Number of observations.
    pub fn nobs(&self) -> usize {
        self.y.len()
    }

    /// Forgets the warm start: the next solve starts from u = 0 (and, for the joint solve,
    /// from R's `mustart`).
    pub fn reset(&mut self) {
        self.warm = false;
        self.u_only_state = false;
    }

    /// Σ deviance residuals at the current μ.
    pub fn deviance_residuals(&self) -> f64 {
        let f = self.family;
        (0..self.nobs())
            .map(|i| f.deviance_residual(self.y[i], self.mu[i], self.weights[i]))
            .sum()
    }

    /// ‖u‖².
    pub fn u_squared(&self) -> f64 {
        self.u.iter().flatten().map(|v| v * v).sum()
    }

    fn fill_lambda(&mut self) {
        for t in 0..self.terms.len() {
            self.layout.fill_lambda(t, &self.theta, &mut self.lambda[t]);
        }
    }

    /// η = offset + Xβ + Σ Z_t Λ_t u_t and μ, for the given β and u.
    pub(crate) fn linear_predictor(&mut self, beta: &[f64], u: &[Vec<f64>]) {
        let n = self.nobs();
        let link = self.family.link();
        // offset + Xβ, recomputed only when β changes (never within a u-only PIRLS run).
        if self.eta_fixed_beta.as_deref() != Some(beta) {
            self.eta_fixed.copy_from_slice(&self.offset);
            for (j, b) in beta.iter().enumerate() {
                if *b == 0.0 {
                    continue;
                }
                let col = self.x.col(j);
                for (e, x) in self.eta_fixed.iter_mut().zip(col.iter()) {
                    *e += x * b;
                }
            }
            self.eta_fixed_beta = Some(beta.to_vec());
        }
        self.eta.copy_from_slice(&self.eta_fixed);
        self.eta_random.iter_mut().for_each(|v| *v = 0.0);
        for (t, term) in self.terms.iter().enumerate() {
            let k = term.width();
            let lambda = &self.lambda[t];
            // b = Λu, level-major.
            let b = &mut self.b_scratch[t];
            for (bl, ul) in b.chunks_exact_mut(k).zip(u[t].chunks_exact(k)) {
                for r in 0..k {
                    bl[r] = (0..=r).map(|c| lambda[r + c * k] * ul[c]).sum();
                }
            }
            if k == 1 {
                for i in 0..n {
                    self.eta_random[i] += term.z[i] * b[term.refs[i] as usize];
                }
            } else {
                for i in 0..n {
                    let l = term.refs[i] as usize * k;
                    let zi = &term.z[i * k..(i + 1) * k];
                    self.eta_random[i] += (0..k).map(|j| zi[j] * b[l + j]).sum::<f64>();
                }
            }
        }
        for i in 0..n {
            self.eta[i] += self.eta_random[i];
            let (mu, me) = link.inverse_and_derivative(self.eta[i]);
            self.mu[i] = mu;
            self.mu_eta[i] = me;
        }
    }

    /// Penalised deviance at the current η and u.
    fn penalised_deviance(&self) -> f64 {
        self.deviance_residuals() + self.u_squared()
    }

    /// Refactors the weighted system at the current μ and solves it. `joint`: for (β, u), with
    /// working response η − o; otherwise for u at the current β, with η − o − Xβ. Returns the
    /// new (β, u).
    fn solve(&mut self, joint: bool) -> Result<(Vec<f64>, Vec<Vec<f64>>), PirlsFailure> {
        self.refactor(joint)?;
        let factor = if joint {
            &self.factor_joint
        } else {
            &self.factor_u
        };
        let beta = if joint {
            fixed_effects(factor).0
        } else {
            self.beta.clone()
        };
        let internal = spherical_modes(factor, if joint { &beta } else { &[] });
        let mut u: Vec<Vec<f64>> = self.terms.iter().map(|t| vec![0.0; t.nranef()]).collect();
        for (t, shape) in factor.terms().iter().enumerate() {
            u[shape.formula_index] = internal[t].clone();
        }
        Ok((beta, u))
    }

    /// Refreshes the u-only (`joint == false`) or joint factor at the working weights of the
    /// current state, leaving the state unchanged.
    pub(crate) fn refactor(&mut self, joint: bool) -> Result<(), PirlsFailure> {
        let n = self.nobs();
        for i in 0..n {
            let me = self.mu_eta[i];
            self.work_w[i] = self.weights[i] * me * me / self.family.variance(self.mu[i]);
            // The working response without the offset (joint) or without offset + Xβ (u only).
            let base = if joint {
                self.eta[i] - self.offset[i]
            } else {
                self.eta_random[i]
            };
            self.work_r[i] = base + (self.y[i] - self.mu[i]) / me;
        }
        if self
            .work_w
            .iter()
            .chain(&self.work_r)
            .any(|v| !v.is_finite())
        {
            return Err(PirlsFailure::StepHalvingFailed);
        }
        let factor = if joint {
            &mut self.factor_joint
        } else {
            &mut self.factor_u
        };
        self.reweighter.fill(
            factor.cross_products_mut(),
            &self.terms,
            joint.then_some(&self.x),
            &self.work_w,
            &self.work_r,
        );
        factor
            .update(&self.theta)
            .map_err(|_| PirlsFailure::NotPositiveDefinite)
    }

    /// Runs PIRLS at `theta` — for u at fixed `beta` (`Some`), or for (β, u) jointly
    /// (`None`) — and leaves the converged state in `self`: the factor of the solve that
    /// produced it holds log|L|² at that state's weights. Returns the penalised deviance.
    pub fn run(&mut self, theta: &[f64], beta: Option<&[f64]>) -> Result<f64, PirlsFailure> {
        self.run_to(theta, beta, STEP_TOLERANCE)
    }

    /// [`Pirls::run`] stopping once the Newton step is below `step_tolerance` (relative, as
    /// [`STEP_TOLERANCE`]): a looser one when the solution is only a starting point.
    pub fn run_to(
        &mut self,
        theta: &[f64],
        beta: Option<&[f64]>,
        step_tolerance: f64,
    ) -> Result<f64, PirlsFailure> {
        let joint = beta.is_none();
        self.theta.copy_from_slice(theta);
        self.fill_lambda();
        if let Some(b) = beta {
            self.beta.copy_from_slice(b);
        }
        let cold = !self.warm;
        if cold {
            for u in &mut self.u {
                u.iter_mut().for_each(|v| *v = 0.0);
            }
        }
        if joint && cold {
            // R's mustart: the first working response is taken at μ from the data.
            let link = self.family.link();
            for i in 0..self.nobs() {
                let mu = match self.family {
                    Family::Binomial(_) => {
                        (self.weights[i] * self.y[i] + 0.5) / (self.weights[i] + 1.0)
                    }
                    Family::Poisson(_) => self.y[i] + 0.1,
                    // MASS's negative.binomial()$initialize.
                    Family::NegativeBinomial(..) => {
                        self.y[i] + if self.y[i] == 0.0 { 1.0 / 6.0 } else { 0.0 }
                    }
                    Family::Gaussian | Family::Gamma(_) => self.y[i],
                };
                self.mu[i] = mu;
                self.eta[i] = link_function(link, mu);
                self.mu_eta[i] = link.mu_eta(self.eta[i]);
            }
        } else {
            let (b, u) = (self.beta.clone(), std::mem::take(&mut self.u));
            self.linear_predictor(&b, &u);
            self.u = u;
        }
        self.warm = false;
        self.u_only_state = false;
        self.iterations_here = 0;
        // From R's mustart there is no (β, u) to compare with: the first step is taken whole.
        let mut old = if joint && cold {
            f64::INFINITY
        } else {
            self.penalised_deviance()
        };
        if old.is_nan() {
            old = f64::INFINITY;
        }
        for _ in 0..PIRLS_MAX_ITERATIONS {
            self.iterations += 1;
            let (beta_new, u_new) = self.solve(joint)?;
            // Converged when the Newton step is negligible. The step is not taken, so the
            // factor (log|L|², the conditional variances) is exactly at the state's weights and
            // the objective is a smooth function of (θ, β); the state is within `STEP_TOLERANCE`
            // of the mode, so the Laplace deviance is within O(STEP_TOLERANCE²) of its value there.
            // u and β each relative to their own size: β's units (an intercept of 3·10⁵ on
            // an identity link) must not loosen the test on the unit-free u.
            let relative = |new: &mut dyn Iterator<Item = (&f64, &f64)>| {
                let (step, size) = new.fold((0.0f64, 1.0f64), |(m, s), (a, b)| {
                    (m.max((a - b).abs()), s.max(b.abs()))
                });
                step / size
            };
            let step = relative(&mut beta_new.iter().zip(&self.beta)).max(relative(
                &mut u_new.iter().flatten().zip(self.u.iter().flatten()),
            ));
            if step <= step_tolerance && !(joint && cold && self.iterations_here == 0) {
                self.warm = true;
                self.u_only_state = !joint;
                return Ok(old);
            }
            self.iterations_here += 1;
            let (beta_old, u_old) = (self.beta.clone(), std::mem::replace(&mut self.u, u_new));
            self.beta.copy_from_slice(&beta_new);
            let mut step = 1.0;
            let mut pdev = f64::NAN;
            for halving in 0..=MAX_HALVINGS {
                if halving > 0 {
                    step *= 0.5;
                    for (j, b) in self.beta.iter_mut().enumerate() {
                        *b = beta_old[j] + step * (beta_new[j] - beta_old[j]);
                    }
                    // Halving the step toward the old modes: u ← (u + u_old)/2.
                    for (t, a) in self.u.iter_mut().zip(&u_old) {
                        for (t, a) in t.iter_mut().zip(a) {
                            *t = 0.5 * (*t + a);
                        }
                    }
                }
                let (b, u) = (std::mem::take(&mut self.beta), std::mem::take(&mut self.u));
                self.linear_predictor(&b, &u);
                (self.beta, self.u) = (b, u);
                pdev = self.penalised_deviance();
                if pdev.is_finite() && pdev <= old * (1.0 + 1e-14) + 1e-14 {
                    break;
                }
            }
            if !pdev.is_finite() {
                return Err(PirlsFailure::StepHalvingFailed);
            }
            if pdev > old * (1.0 + 1e-14) + 1e-14 {
                // No decrease along the Newton direction: at the optimum up to rounding when
                // the change is at rounding level, a failure otherwise.
                if (pdev - old).abs() <= PIRLS_TOLERANCE * old.abs().max(1.0) {
                    self.warm = true;
                    return Ok(pdev);
                }
                return Err(PirlsFailure::StepHalvingFailed);
            }
            old = pdev;
        }
        Err(PirlsFailure::NotConverged)
    }
}

/// g(μ).
fn link_function(link: super::link::Link, mu: f64) -> f64 {
    use super::link::Link;
    match link {
        Link::Logit => (mu / (1.0 - mu)).ln(),
        // Only a starting point: the logistic approximation of Φ⁻¹ (PIRLS converges from it).
        Link::Probit => (mu / (1.0 - mu)).ln() / 1.7,
        Link::Cloglog => (-(-mu).ln_1p()).ln(),
        Link::Log => mu.ln(),
        Link::Identity => mu,
        Link::Inverse => 1.0 / mu,
    }
}
