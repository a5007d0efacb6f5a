//! [`LinearMixedModel`]: the public face of the engine. Owns the cross-products and the
//! factor, evaluates the profiled objective at any θ, runs the optimiser and assembles the
//! [`FitResult`].

use crate::design::ModelMatrices;

use super::cholesky::BlockedCholesky;
use super::crossprod::CrossProducts;
use super::dense::cholesky_small_checked;
use super::deviance::{Criterion, ProfiledDeviance};
use super::estimates;
use super::gradient::SingleTermGradient;
use super::optimizer::{minimize_bobyqa, FitOptions, OptimizerChoice, OptimizerOutcome};
use super::profiled_tail::ProfiledTail;
use super::quasi_newton::{minimize_projected_bfgs, BfgsSettings};
use super::result::{
    ConditionalModes, FitResult, FixedEffect, GroupingFactor, InformationCriteria,
    VarianceComponent,
};
use super::theta::{relative_covariance, ThetaLayout};
use super::ModelError;

/// lme4's `isSingular` tolerance on diagonal θ elements.
pub const SINGULAR_TOLERANCE: f64 = 1e-4;

/// A dense block with at least this many random effects makes evaluations expensive enough
/// for profiling out the terms after it.
pub const PROFILE_MIN_DENSE: usize = 256;

/// Largest trailing system (trailing random effects + p + 1) that is profiled out.
pub const PROFILE_MAX_TAIL: usize = 96;

/// Rejects a rank-deficient X, and a response that X fits exactly, before any optimisation:
/// both make the `[X y]` block singular for every θ. Pivots of the Cholesky factor of
/// `[X y]'[X y]` below `1e-12` of their column's sum of squares count as zero.
fn check_fixed_effects(cp: &CrossProducts, names: &[String]) -> Result<(), ModelError> {
    let p1 = cp.p + 1;
    let mut l = cp.fixed.clone();
    cholesky_small_checked(&mut l, p1, p1, 1e-12).map_err(|j| {
        ModelError::NotPositiveDefinite(if j < cp.p {
            format!(
                "fixed-effects column {} is (numerically) a linear combination of the \
                 columns before it",
                names.get(j).map_or("?", String::as_str)
            )
        } else {
            "the response is an exact linear combination of the fixed-effects columns".to_string()
        })
    })
}

/// Names carried from the model matrices to the result.
#[derive(Debug, Clone)]
struct TermLabels {
    group: String,
    columns: Vec<String>,
    levels: Vec<String>,
}

/// A linear mixed model ready to be fitted: cross-products formed, factor allocated.
pub struct LinearMixedModel {
    factor: BlockedCholesky,
    layout: ThetaLayout,
    response: String,
    fixed_names: Vec<String>,
    dropped_fixed: Vec<String>,
    rows_dropped: usize,
    /// Per term, formula order.
    labels: Vec<TermLabels>,
    nobs: usize,
    /// θ the factor currently holds (None before the first update or after a failure).
    factored_at: Vec<f64>,
    /// Whether the factor holds a full factorisation at `factored_at`.
    factored: bool,
}

impl LinearMixedModel {
    /// Validates the model matrices and forms the cross-products (the only pass over the
    /// observations).
    pub fn new(mm: &ModelMatrices) -> Result<Self, ModelError> {
        let cross_products = CrossProducts::new(mm)?;
        check_fixed_effects(&cross_products, &mm.fixed_names)?;
        let layout = ThetaLayout::for_terms(&mm.terms);
        let layout_len = layout.len();
        Ok(Self {
            factor: BlockedCholesky::new(cross_products, layout.clone()),
            layout,
            response: mm.response.clone(),
            fixed_names: mm.fixed_names.clone(),
            dropped_fixed: mm.dropped_fixed.clone(),
            rows_dropped: mm.rows_dropped,
            labels: mm
                .terms
                .iter()
                .map(|t| TermLabels {
                    group: t.group.clone(),
                    columns: t.columns.clone(),
                    levels: t.levels.clone(),
                })
                .collect(),
            nobs: mm.nobs(),
            factored_at: vec![f64::NAN; layout_len],
            factored: false,
        })
    }

    /// The θ layout (formula order).
    pub fn theta_layout(&self) -> &ThetaLayout {
        &self.layout
    }

    /// Number of observations.
    pub fn nobs(&self) -> usize {
        self.nobs
    }

    /// Number of fixed-effects parameters.
    pub fn nfixed(&self) -> usize {
        self.fixed_names.len()
    }

    /// The profiled objective at `theta` (formula order): the deviance for ML, the REML
    /// criterion for REML. NaN when `theta` has the wrong length, +∞ when the fixed-effects
    /// block is not positive definite (see [`LinearMixedModel::try_objective`]).
    pub fn objective(&mut self, theta: &[f64], criterion: Criterion) -> f64 {
        match self.try_objective(theta, criterion) {
            Ok(v) => v,
            Err(ModelError::ThetaLength { .. }) => f64::NAN,
            Err(_) => f64::INFINITY,
        }
    }

    /// The profiled objective at `theta`, with the reason when it cannot be computed.
    pub fn try_objective(
        &mut self,
        theta: &[f64],
        criterion: Criterion,
    ) -> Result<f64, ModelError> {
        self.refactor(theta)?;
        Ok(ProfiledDeviance::from_factor(&self.factor).objective(criterion))
    }

    /// Brings the factor to `theta`.
    fn refactor(&mut self, theta: &[f64]) -> Result<(), ModelError> {
        if theta.len() != self.layout.len() {
            return Err(ModelError::ThetaLength {
                got: theta.len(),
                expected: self.layout.len(),
            });
        }
        if self.factored && self.factored_at == theta {
            return Ok(());
        }
        self.factored = false;
        let m = self.factor.terms().len();
        if theta.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite("theta".to_string()));
        }
        self.factor.update(theta).map_err(|e| {
            ModelError::NotPositiveDefinite(if e.block == m {
                "X is rank deficient given the random effects, or y is fitted exactly".to_string()
            } else {
                format!("random-effects block {}", e.block)
            })
        })?;
        // Non-finite logs (r = 0, exact fit) are reported as not positive definite too.
        let pd = ProfiledDeviance::from_factor(&self.factor);
        if !(pd.pwrss > 0.0 && pd.logdet_fixed.is_finite() && pd.logdet_random.is_finite()) {
            return Err(ModelError::NotPositiveDefinite(
                "the penalised residual sum of squares is zero: y is fitted exactly".to_string(),
            ));
        }
        self.factored_at.copy_from_slice(theta);
        self.factored = true;
        Ok(())
    }

    /// Fits the model by ML or REML.
    pub fn fit(
        &mut self,
        criterion: Criterion,
        options: &FitOptions,
    ) -> Result<FitResult, ModelError> {
        self.fit_with_progress(criterion, options, |_, _| {})
    }

    /// Fits the model, calling `progress(evaluations, objective)` after every objective
    /// evaluation (for a CLI progress display).
    ///
    /// Which optimiser runs (see [`super::optimizer`] for the measurements behind the choice):
    /// single-term models use a projected BFGS with the exact gradient; models whose largest
    /// dense block is followed by small terms use BOBYQA over the leading θ with the trailing
    /// θ profiled out ([`super::profiled_tail`]); all others plain BOBYQA.
    pub fn fit_with_progress<P: FnMut(usize, f64)>(
        &mut self,
        criterion: Criterion,
        options: &FitOptions,
        mut progress: P,
    ) -> Result<FitResult, ModelError> {
        let start = match &options.initial_theta {
            Some(t) => t.clone(),
            None => self.layout.initial(),
        };
        if start.len() != self.layout.len() {
            return Err(ModelError::ThetaLength {
                got: start.len(),
                expected: self.layout.len(),
            });
        }
        let mut evaluations = 0usize;
        let automatic = options.optimizer != OptimizerChoice::Bobyqa;
        let mut found = None;
        let mut bobyqa_start = start.clone();
        if automatic && self.factor.terms().len() == 1 {
            let o =
                self.fit_single_term(criterion, options, &start, &mut evaluations, &mut progress);
            let singular = self.layout.is_singular(&o.theta, SINGULAR_TOLERANCE);
            if o.converged && !singular || evaluations >= options.max_evaluations {
                found = Some(o);
            } else if o.converged {
                // Singular optima of vector terms can be local: the rank-deficient covariances
                // form a non-convex set. Let BOBYQA search from lme4's start as well and keep
                // the better optimum (on random noise designs this recovers the cases where the
                // gradient search stops in the worse of two boundary optima).
                let lower = self.layout.lower_bounds();
                let second = minimize_bobyqa(
                    |theta| {
                        let f = self.objective(theta, criterion);
                        evaluations += 1;
                        progress(evaluations, f);
                        f
                    },
                    &start,
                    &lower,
                    options,
                );
                found = Some(match second {
                    Ok(b) if b.objective < o.objective => OptimizerOutcome {
                        evaluations,
                        message: format!(
                            "BOBYQA (after a projected BFGS search ended on a singular optimum \
                             with a higher objective): {}",
                            b.message
                        ),
                        ..b
                    },
                    _ => OptimizerOutcome { evaluations, ..o },
                });
            } else if o.objective.is_finite() {
                // BOBYQA takes over from where the gradient search stopped.
                bobyqa_start = o.theta;
            }
        } else if let Some(tail) = self.profiled_tail_start().filter(|_| automatic) {
            found = self
                .fit_profiled_tail(
                    criterion,
                    options,
                    &start,
                    tail,
                    &mut evaluations,
                    &mut progress,
                )
                .ok();
        }
        let mut outcome = match found {
            Some(o) => o,
            None => {
                let lower = self.layout.lower_bounds();
                let bobyqa = minimize_bobyqa(
                    |theta| {
                        let f = self.objective(theta, criterion);
                        evaluations += 1;
                        progress(evaluations, f);
                        f
                    },
                    &bobyqa_start,
                    &lower,
                    options,
                );
                match bobyqa {
                    Ok(mut o) => {
                        o.evaluations = evaluations;
                        o.message = format!("BOBYQA: {}", o.message);
                        o
                    }
                    Err(e) => {
                        // Say why the objective is not finite when there is a precise reason.
                        self.try_objective(&start, criterion)?;
                        return Err(e);
                    }
                }
            }
        };

        // lme4's boundary check: diagonal elements within `boundary_tolerance` of 0 are tried
        // at exactly 0 and kept there when that is no worse.
        let diagonal = self.layout.diagonal_mask();
        let near: Vec<usize> = (0..outcome.theta.len())
            .filter(|&i| {
                diagonal[i]
                    && outcome.theta[i] > 0.0
                    && outcome.theta[i] < options.boundary_tolerance
            })
            .collect();
        if !near.is_empty() {
            let mut candidate = outcome.theta.clone();
            for &i in &near {
                candidate[i] = 0.0;
            }
            let f = self.objective(&candidate, criterion);
            evaluations += 1;
            progress(evaluations, f);
            if f <= outcome.objective {
                outcome.theta = candidate;
                outcome.objective = f;
            }
        }

        self.refactor(&outcome.theta)?;
        let objective = ProfiledDeviance::from_factor(&self.factor).objective(criterion);
        Ok(self.assemble(
            criterion,
            outcome.theta,
            objective,
            evaluations,
            outcome.converged,
            outcome.message,
        ))
    }

    /// Projected BFGS with the exact gradient (single-term models).
    fn fit_single_term<P: FnMut(usize, f64)>(
        &mut self,
        criterion: Criterion,
        options: &FitOptions,
        start: &[f64],
        evaluations: &mut usize,
        progress: &mut P,
    ) -> OptimizerOutcome {
        let term = &self.factor.terms()[0];
        let mut gradient = SingleTermGradient::new(term.width, self.fixed_names.len());
        let settings = BfgsSettings {
            max_evaluations: options.max_evaluations,
            ..BfgsSettings::default()
        };
        let lower = self.layout.lower_bounds();
        let partners = self.layout.column_partners();
        let result = minimize_projected_bfgs(
            |theta, grad| {
                let f = self.objective(theta, criterion);
                if f.is_finite() {
                    gradient.compute(&self.factor, criterion, grad);
                } else {
                    grad.fill(0.0);
                }
                *evaluations += 1;
                progress(*evaluations, f);
                f
            },
            start,
            &lower,
            &partners,
            &settings,
        );
        OptimizerOutcome {
            theta: result.x,
            objective: result.f,
            evaluations: *evaluations,
            converged: result.converged,
            message: format!("projected BFGS with exact gradient: {}", result.message),
        }
    }

    /// The first internal term to profile out, if profiling pays: the last large dense block
    /// (≥ [`PROFILE_MIN_DENSE`] random effects) is followed by terms whose trailing system
    /// (with `[X y]`) has at most [`PROFILE_MAX_TAIL`] rows.
    fn profiled_tail_start(&self) -> Option<usize> {
        let terms = self.factor.terms();
        let m = terms.len();
        let last_big = (1..m)
            .rev()
            .find(|&j| terms[j].nranef() >= PROFILE_MIN_DENSE)?;
        let tail = last_big + 1;
        let size: usize = terms[tail.min(m)..]
            .iter()
            .map(|t| t.nranef())
            .sum::<usize>()
            + self.nfixed()
            + 1;
        (tail < m && size <= PROFILE_MAX_TAIL).then_some(tail)
    }

    /// BOBYQA over the θ of the head terms; each evaluation factors the head once and
    /// minimises over the trailing θ exactly (BOBYQA on the small trailing system, warm
    /// started from the previous evaluation's optimum).
    fn fit_profiled_tail<P: FnMut(usize, f64)>(
        &mut self,
        criterion: Criterion,
        options: &FitOptions,
        start: &[f64],
        tail: usize,
        evaluations: &mut usize,
        progress: &mut P,
    ) -> Result<OptimizerOutcome, ModelError> {
        let mut profiled = ProfiledTail::new(&self.factor, &self.layout, tail);
        let tail_idx = profiled.theta_indices();
        let head_idx: Vec<usize> = (0..start.len()).filter(|i| !tail_idx.contains(i)).collect();
        let lower = self.layout.lower_bounds();
        let head_lower: Vec<f64> = head_idx.iter().map(|&i| lower[i]).collect();
        let tail_lower: Vec<f64> = tail_idx.iter().map(|&i| lower[i]).collect();
        let head_start: Vec<f64> = head_idx.iter().map(|&i| start[i]).collect();
        let mut warm: Vec<f64> = tail_idx.iter().map(|&i| start[i]).collect();
        let mut first_inner = true;
        let mut inner_evaluations = 0usize;
        let mut best = (f64::INFINITY, start.to_vec());
        let mut full = start.to_vec();
        let factor = &mut self.factor;
        self.factored = false;
        let outer = minimize_bobyqa(
            |head| {
                for (&i, &v) in head_idx.iter().zip(head) {
                    full[i] = v;
                }
                let f = if factor.update_head(&full, tail).is_ok() {
                    profiled.load(factor);
                    let scale = warm.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                    let inner_options = FitOptions {
                        rho_begin: if first_inner {
                            options.rho_begin
                        } else {
                            (0.5 * scale).clamp(0.02, options.rho_begin)
                        },
                        rho_end: 1e-10,
                        ftol_abs: None,
                        max_evaluations: 2_000,
                        ..FitOptions::default()
                    };
                    let mut inner_full = full.clone();
                    let inner = minimize_bobyqa(
                        |t| {
                            for (&i, &v) in tail_idx.iter().zip(t) {
                                inner_full[i] = v;
                            }
                            profiled.objective(&inner_full, criterion)
                        },
                        &warm,
                        &tail_lower,
                        &inner_options,
                    );
                    match inner {
                        Ok(o) => {
                            inner_evaluations += o.evaluations;
                            first_inner = false;
                            warm.clone_from(&o.theta);
                            if o.objective < best.0 {
                                let mut theta = full.clone();
                                for (&i, &v) in tail_idx.iter().zip(&o.theta) {
                                    theta[i] = v;
                                }
                                best = (o.objective, theta);
                            }
                            o.objective
                        }
                        Err(_) => f64::INFINITY,
                    }
                } else {
                    f64::INFINITY
                };
                *evaluations += 1;
                progress(*evaluations, f);
                f
            },
            &head_start,
            &head_lower,
            &FitOptions {
                // The outer problem is smaller and better conditioned than the full one: a
                // ten times larger final radius still reaches the optimum to ~1e-8 (see the
                // measurements in `optimizer`).
                rho_end: (10.0 * options.rho_end).min(options.rho_begin),
                ..options.clone()
            },
        )?;
        if !best.0.is_finite() {
            return Err(ModelError::Optimizer(
                "the objective was not finite at any θ tried".to_string(),
            ));
        }
        Ok(OptimizerOutcome {
            theta: best.1,
            objective: best.0,
            evaluations: *evaluations,
            converged: outer.converged,
            message: format!(
                "BOBYQA over the leading terms' θ with the trailing terms' θ profiled out \
                 ({inner_evaluations} inner evaluations on the small trailing system): {}",
                outer.message
            ),
        })
    }

    /// Builds the result from the factor at θ̂.
    fn assemble(
        &self,
        criterion: Criterion,
        theta: Vec<f64>,
        objective: f64,
        evaluations: usize,
        converged: bool,
        message: String,
    ) -> FitResult {
        let pd = ProfiledDeviance::from_factor(&self.factor);
        let sigma2 = pd.sigma_squared(criterion);
        let p = self.fixed_names.len();
        let (beta, linv) = estimates::fixed_effects(&self.factor);
        let fixed_covariance = estimates::fixed_covariance(&linv, p, sigma2);
        let fixed = self
            .fixed_names
            .iter()
            .enumerate()
            .map(|(i, name)| FixedEffect {
                name: name.clone(),
                estimate: beta[i],
                std_error: fixed_covariance[i * p + i].sqrt(),
            })
            .collect();

        let u = estimates::spherical_modes(&self.factor, &beta);
        let modes = estimates::conditional_modes(&self.factor, &u);
        let covariances = estimates::conditional_covariances(&self.factor, sigma2);
        // Internal order → formula order.
        let mut internal_of = vec![0usize; self.labels.len()];
        for (t, term) in self.factor.terms().iter().enumerate() {
            internal_of[term.formula_index] = t;
        }

        let mut variance_components = Vec::with_capacity(self.labels.len());
        let mut random_effects = Vec::with_capacity(self.labels.len());
        let mut groups: Vec<GroupingFactor> = Vec::new();
        for (f, labels) in self.labels.iter().enumerate() {
            let t = internal_of[f];
            let k = labels.columns.len();
            let mut lambda = vec![0.0; k * k];
            self.layout.fill_lambda(f, &theta, &mut lambda);
            let rel = relative_covariance(k, &lambda);
            let variances: Vec<f64> = (0..k).map(|i| sigma2 * rel[i + i * k]).collect();
            let std_devs: Vec<f64> = variances.iter().map(|v| v.sqrt()).collect();
            let mut correlations = vec![0.0; k * k];
            for i in 0..k {
                for j in 0..k {
                    correlations[i * k + j] = if i == j {
                        1.0
                    } else {
                        let d = (rel[i + i * k] * rel[j + j * k]).sqrt();
                        if d > 0.0 {
                            rel[i + j * k] / d
                        } else {
                            0.0
                        }
                    };
                }
            }
            variance_components.push(VarianceComponent {
                group: labels.group.clone(),
                columns: labels.columns.clone(),
                variances,
                std_devs,
                correlations,
            });
            let cov = &covariances[t];
            let conditional_sd = cov
                .chunks_exact(k * k)
                .flat_map(|c| (0..k).map(move |j| c[j + j * k].max(0.0).sqrt()))
                .collect();
            random_effects.push(ConditionalModes {
                group: labels.group.clone(),
                columns: labels.columns.clone(),
                levels: labels.levels.clone(),
                modes: modes[t].clone(),
                conditional_sd,
            });
            if !groups.iter().any(|g| g.name == labels.group) {
                groups.push(GroupingFactor {
                    name: labels.group.clone(),
                    levels: labels.levels.len(),
                });
            }
        }

        let dof = p + theta.len() + 1;
        let ic = InformationCriteria::new(objective, dof, self.nobs);
        FitResult {
            criterion,
            response: self.response.clone(),
            nobs: self.nobs,
            singular: self.layout.is_singular(&theta, SINGULAR_TOLERANCE),
            theta,
            fixed,
            fixed_covariance,
            sigma: sigma2.sqrt(),
            objective,
            loglik: ic.loglik,
            aic: ic.aic,
            aicc: ic.aicc,
            bic: ic.bic,
            dof,
            variance_components,
            random_effects,
            groups,
            converged,
            evaluations,
            message,
            dropped_fixed: self.dropped_fixed.clone(),
            rows_dropped: self.rows_dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::RandomEffectsTerm;
    use faer::Mat;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A crossed design with a dense block big enough (300 lectures) for the trailing small
    /// term (5 departments) to be profiled out, like a miniature InstEval.
    fn mini_insteval() -> ModelMatrices {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let (ns, nd, ndept) = (400usize, 300usize, 5usize);
        let dept_of: Vec<u32> = (0..nd).map(|d| (d % ndept) as u32).collect();
        let se: Vec<f64> = (0..ns).map(|_| rng.random_range(-0.5..0.5)).collect();
        let de: Vec<f64> = (0..nd).map(|_| rng.random_range(-0.8..0.8)).collect();
        let (mut s, mut d, mut k, mut y, mut x) = (vec![], vec![], vec![], vec![], vec![]);
        for (st, &effect) in se.iter().enumerate() {
            for j in 0..6 {
                let lec = if st * 6 + j < nd {
                    st * 6 + j
                } else {
                    rng.random_range(0..nd)
                };
                s.push(st as u32);
                d.push(lec as u32);
                k.push(dept_of[lec]);
                let service = f64::from(rng.random_bool(0.3));
                x.push(service);
                y.push(
                    3.0 + effect + de[lec] + 0.1 * dept_of[lec] as f64 - 0.1 * service
                        + rng.random_range(-1.5..1.5),
                );
            }
        }
        let n = y.len();
        let term = |g: &str, nlev: usize, refs: Vec<u32>| RandomEffectsTerm {
            group: g.into(),
            columns: vec!["(Intercept)".into()],
            levels: (0..nlev).map(|l| format!("{g}{l}")).collect(),
            refs,
            z: vec![1.0; n],
        };
        ModelMatrices {
            response: "y".into(),
            x: Mat::from_fn(n, 2, |i, j| if j == 0 { 1.0 } else { x[i] }),
            y,
            fixed_names: vec!["(Intercept)".into(), "service".into()],
            dropped_fixed: vec![],
            terms: vec![term("s", ns, s), term("d", nd, d), term("dept", ndept, k)],
            rows_dropped: 0,
        }
    }

    #[test]
    fn profiling_the_tail_reaches_the_plain_bobyqa_optimum() {
        let mm = mini_insteval();
        let mut model = LinearMixedModel::new(&mm).unwrap();
        assert_eq!(model.profiled_tail_start(), Some(2));
        for criterion in [Criterion::Ml, Criterion::Reml] {
            let profiled = model.fit(criterion, &FitOptions::default()).unwrap();
            assert!(
                profiled.message.contains("profiled out"),
                "{}",
                profiled.message
            );
            let plain = model
                .fit(
                    criterion,
                    &FitOptions {
                        optimizer: OptimizerChoice::Bobyqa,
                        ..FitOptions::default()
                    },
                )
                .unwrap();
            assert!(profiled.converged && plain.converged);
            assert!(
                (profiled.objective - plain.objective).abs() < 1e-6,
                "{criterion}: profiled {} plain {}",
                profiled.objective,
                plain.objective
            );
            for (a, b) in profiled.theta.iter().zip(&plain.theta) {
                assert!(
                    (a - b).abs() < 1e-3 * (1.0 + b.abs()),
                    "{:?} {:?}",
                    profiled.theta,
                    plain.theta
                );
            }
            assert!(profiled.evaluations < plain.evaluations);
        }
    }

    #[test]
    fn progress_reports_every_evaluation_and_bad_theta_is_rejected() {
        let mm = mini_insteval();
        let mut model = LinearMixedModel::new(&mm).unwrap();
        let mut calls = 0;
        let fit = model
            .fit_with_progress(Criterion::Ml, &FitOptions::default(), |e, f| {
                calls += 1;
                assert_eq!(e, calls);
                assert!(f.is_finite());
            })
            .unwrap();
        assert_eq!(calls, fit.evaluations);
        assert!(model.objective(&[1.0], Criterion::Ml).is_nan());
        assert_eq!(
            model.try_objective(&[1.0], Criterion::Ml),
            Err(ModelError::ThetaLength {
                got: 1,
                expected: 3
            })
        );
        let bad = FitOptions {
            initial_theta: Some(vec![1.0]),
            ..FitOptions::default()
        };
        assert!(matches!(
            model.fit(Criterion::Ml, &bad),
            Err(ModelError::ThetaLength { .. })
        ));
    }

    #[test]
    fn evaluation_budget_exhaustion_is_reported() {
        let mm = mini_insteval();
        let mut model = LinearMixedModel::new(&mm).unwrap();
        let options = FitOptions {
            max_evaluations: 8,
            optimizer: OptimizerChoice::Bobyqa,
            ..FitOptions::default()
        };
        let fit = model.fit(Criterion::Ml, &options).unwrap();
        assert!(!fit.converged);
        assert!(fit.message.contains("maximum"), "{}", fit.message);
    }

    #[test]
    fn rank_deficient_fixed_effects_are_an_error() {
        let mut mm = mini_insteval();
        let n = mm.y.len();
        mm.x = Mat::from_fn(n, 2, |_, _| 1.0);
        match LinearMixedModel::new(&mm) {
            Err(ModelError::NotPositiveDefinite(msg)) => assert!(msg.contains("service"), "{msg}"),
            other => panic!("expected a rank error, got {:?}", other.err()),
        }
        // y = 2 + 3·service exactly.
        let mut mm = mini_insteval();
        mm.y = (0..n).map(|i| 2.0 + 3.0 * mm.x[(i, 1)]).collect();
        assert!(matches!(
            LinearMixedModel::new(&mm),
            Err(ModelError::NotPositiveDefinite(_))
        ));
    }
}
