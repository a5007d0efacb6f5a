//! [`LinearMixedModel`]: the model state. Owns the cross-products and the factor and
//! evaluates the profiled objective at any θ (the user's, lme4's) or θ̃ (the internal,
//! standardised one of [`super::scaling`]); [`super::strategy`] runs the optimisers over θ̃
//! and [`super::assemble`] turns the factor at θ̂ into a [`FitResult`](super::FitResult).

use crate::design::ModelMatrices;
use crate::linalg::cholesky_checked;
use crate::lmm::crossprod::CrossProducts;
use crate::lmm::deviance::{Criterion, ProfiledDeviance};
use crate::lmm::factor::BlockedCholesky;
use crate::lmm::large_fixed::LowRankFixed;
use crate::lmm::profiled_tail::TailProfile;
use crate::lmm::scaling::ThetaScaling;
use crate::lmm::theta::ThetaLayout;
use crate::lmm::ModelError;

/// lme4's `isSingular` tolerance on diagonal θ elements.
pub const SINGULAR_TOLERANCE: f64 = 1e-4;

/// Rejects a rank-deficient X, and a response that X fits exactly, before any optimisation:
/// both make the `[X y]` block singular for every θ. Pivots of the Cholesky factor of
/// `[X y]'[X y]` below `1e-12` of their column's sum of squares count as zero. Returns that
/// factor (lower, column-major).
fn check_fixed_effects(cp: &CrossProducts, names: &[String]) -> Result<Vec<f64>, ModelError> {
    let p1 = cp.p + 1;
    let mut l = cp.fixed.clone();
    cholesky_checked(&mut l, p1, 1e-12).map_err(|j| {
        ModelError::NotPositiveDefinite(if j < cp.p {
            format!(
                "fixed-effects column {} is (numerically) a linear combination of the \
                 columns before it",
                names.get(j).map_or("?", String::as_str)
            )
        } else {
            "the response is an exact linear combination of the fixed-effects columns".to_string()
        })
    })?;
    Ok(l)
}

/// Names carried from the model matrices to the result.
#[derive(Debug, Clone)]
pub(super) struct TermLabels {
    pub(super) group: String,
    pub(super) columns: Vec<String>,
    pub(super) levels: Vec<String>,
}

/// A linear mixed model ready to be fitted: cross-products formed, factor allocated.
pub struct LinearMixedModel {
    pub(super) factor: BlockedCholesky,
    pub(super) layout: ThetaLayout,
    pub(super) response: String,
    pub(super) fixed_names: Vec<String>,
    pub(super) dropped_fixed: Vec<String>,
    pub(super) rows_dropped: usize,
    /// Per term, formula order.
    pub(super) labels: Vec<TermLabels>,
    pub(super) nobs: usize,
    /// θ the factor currently holds (None before the first update or after a failure).
    pub(super) factored_at: Vec<f64>,
    /// Whether the factor holds a full factorisation at `factored_at`.
    pub(super) factored: bool,
    /// θ ↔ θ̃.
    pub(super) scaling: ThetaScaling,
    /// Scratch for the user θ of an internal evaluation.
    user_theta: Vec<f64>,
    /// The profiled-tail state of the current fit, when it profiles trailing terms out.
    pub(super) tail_profile: Option<TailProfile>,
    /// The low-rank objective for many fixed effects ([`super::large_fixed`]), when it pays.
    pub(super) low_rank: Option<LowRankFixed>,
}

impl LinearMixedModel {
    /// Validates the model matrices and forms the cross-products (the only pass over the
    /// observations).
    pub fn new(mm: &ModelMatrices) -> Result<Self, ModelError> {
        let cross_products = CrossProducts::new(mm)?;
        let fixed_factor = check_fixed_effects(&cross_products, &mm.fixed_names)?;
        let layout = ThetaLayout::for_terms(&mm.terms);
        let layout_len = layout.len();
        let scaling = ThetaScaling::new(&cross_products, &layout);
        let low_rank = LowRankFixed::new(&cross_products, Some(fixed_factor));
        Ok(Self {
            low_rank,
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
            scaling,
            user_theta: vec![0.0; layout_len],
            tail_profile: None,
        })
    }

    /// Per θ element, the power of two it is multiplied by on the internal scale the
    /// optimisers and the convergence certificate work on (see the crate documentation):
    /// θ̃ = scale · θ, the scale of λ's row — its column's root mean square, rounded.
    pub fn internal_scale(&self) -> &[f64] {
        self.scaling.scales()
    }

    /// The objective at internal θ̃ (see [`LinearMixedModel::objective`]).
    pub(super) fn objective_internal(&mut self, internal: &[f64], criterion: Criterion) -> f64 {
        if let Some(f) = self.low_rank_objective(internal, criterion) {
            return f;
        }
        let mut user = std::mem::take(&mut self.user_theta);
        self.scaling.user_into(internal, &mut user);
        let f = self.objective(&user, criterion);
        self.user_theta = user;
        f
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
    pub(super) fn refactor(&mut self, theta: &[f64]) -> Result<(), ModelError> {
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
        if let Some(profile) = self.tail_profile.as_mut() {
            profile.invalidate();
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::RandomEffectsTerm;
    use crate::options::{FitOptions, OptimizerChoice};
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
            weights: None,
            notes: vec![],
        }
    }

    #[test]
    fn profiling_the_tail_reaches_the_plain_bobyqa_optimum() {
        let mm = mini_insteval();
        let mut model = LinearMixedModel::new(&mm).unwrap();
        assert_eq!(model.profiled_tail_start(), Some(2));
        for criterion in [Criterion::Ml, Criterion::Reml] {
            let profiled = model
                .fit(&FitOptions::default().with_criterion(criterion))
                .unwrap();
            assert!(
                profiled.message.contains("profiled out"),
                "{}",
                profiled.message
            );
            let plain = model
                .fit(&FitOptions {
                    criterion,
                    optimizer: OptimizerChoice::Bobyqa,
                    ..FitOptions::default()
                })
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
            .fit_with_progress(
                &FitOptions::default().with_criterion(Criterion::Ml),
                |e, f| {
                    calls += 1;
                    assert_eq!(e, calls);
                    assert!(f.is_finite());
                },
            )
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
            model.fit(&bad.clone().with_criterion(Criterion::Ml)),
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
        let fit = model
            .fit(&options.clone().with_criterion(Criterion::Ml))
            .unwrap();
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
